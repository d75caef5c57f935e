import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { forgetGoogleCredentials } from '../credentials/gcs.ts';
import { gcsSettings, gsProvider, gsProviderWith, parsePage } from './gs.ts';
import { CONTRACT_FILES, emulator, freePort, readAll, rejection, start, storeContract, type Running } from './cloud-testing.ts';

const FAKE_GCS = emulator('fake-gcs-server', 'TRANTOR_FAKE_GCS_SERVER', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/fsouza/fake-gcs-server@v1.56.1');
const IRIS = readFileSync(new URL('../../../examples/iris/model/model.joblib', import.meta.url));

describe('gs provider against fake-gcs-server', { skip: FAKE_GCS.skip }, () => {
  let root: string;
  let server: Running;
  let host: string;
  const env = (): Record<string, string> => ({ STORAGE_EMULATOR_HOST: host });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'trantor-gcs-'));
    const put = (path: string, body: Uint8Array | string): void => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), body);
    };
    // The seeds' own URI, served by the emulator: gs://seldon-models/sklearn/iris.
    put('seldon-models/sklearn/iris/model.joblib', IRIS);
    for (const [name, body] of Object.entries(CONTRACT_FILES)) put(`seldon-models/${name}`, body);
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    server = await start(FAKE_GCS.path, ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-data', root], /server started at/);
  });
  after(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  // The seeds' own URI as the iris model's: gs://seldon-models/sklearn/iris.
  storeContract(() => ({ provider: gsProvider({ env: env() }), uri: (path) => new URL(`gs://seldon-models/${path}`), iris: new URL('gs://seldon-models/sklearn/iris'), model: IRIS }));

  test('a listed version is the generation', async () => {
    const objects = await gsProvider({ env: env() }).list(new URL('gs://seldon-models/sklearn/iris'), AbortSignal.timeout(10_000));
    assert.match(objects[0]?.version ?? '', /^\d+$/);
  });

  test('a read pinned to a generation that is gone is NOT_FOUND, never another generation', async () => {
    const provider = gsProvider({ env: env() });
    const uri = new URL('gs://seldon-models/multi/a.txt');
    const [object] = await provider.list(uri, AbortSignal.timeout(10_000));
    const err = await rejection(readAll(provider, uri, { ...object!, version: '1' }));
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.message, /no object multi\/a\.txt \(at the listed generation\)/);
  });

  test('a missing bucket is NOT_FOUND naming the URI and the emulator', async () => {
    const provider = gsProvider({ env: env() });
    const bucket = await rejection(provider.list(new URL('gs://no-such-bucket/iris'), AbortSignal.timeout(10_000)));
    assert.equal(bucket.code, 'NOT_FOUND');
    assert.match(bucket.message, /^gs:\/\/no-such-bucket\/iris: no bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+ \(STORAGE_EMULATOR_HOST\)/);
  });

  test('a service account key that cannot sign is UNAUTHORIZED naming GOOGLE_APPLICATION_CREDENTIALS', async () => {
    const key = join(root, 'bad-key.json');
    writeFileSync(key, JSON.stringify({ type: 'service_account', client_email: 'reader@p.iam.gserviceaccount.com', private_key: 'not a PEM key' }));
    const err = await rejection(gsProvider({ env: { ...env(), GOOGLE_APPLICATION_CREDENTIALS: key } }).list(new URL('gs://seldon-models/sklearn/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'UNAUTHORIZED');
    assert.match(err.message, new RegExp(`GOOGLE_APPLICATION_CREDENTIALS=${key.replace(/[.]/g, '\\.')} \\(reader@p\\.iam\\.gserviceaccount\\.com\\) was not accepted`));
  });

  describe('application default credentials, the token seen by a recording proxy in front of the emulator', () => {
    let proxy: Server;
    let proxied: string;
    const bearers: (string | undefined)[] = [];
    let home: string;
    const servers: Server[] = [];
    /** A real HTTP server on a free loopback port; every request is recorded. */
    const serve = async (handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ url: string; seen: { url: string; headers: IncomingMessage['headers']; body: string }[] }> => {
      const seen: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
      const made = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          seen.push({ url: req.url ?? '', headers: req.headers, body });
          handler(req, body, res);
        });
      });
      made.listen(0, '127.0.0.1');
      await once(made, 'listening');
      servers.push(made);
      const address = made.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      return { url: `http://127.0.0.1:${address.port}`, seen };
    };
    const adcEnv = (): Record<string, string> => ({ STORAGE_EMULATOR_HOST: proxied, HOME: home });
    const listIris = (provider: ReturnType<typeof gsProvider>): Promise<unknown> => provider.list(new URL('gs://seldon-models/sklearn/iris'), AbortSignal.timeout(10_000));

    before(async () => {
      proxy = createServer((req, res) => {
        bearers.push(req.headers.authorization);
        const [hostname, port] = host.split(':');
        const upstream = request({ hostname, port: Number(port), path: req.url, method: req.method, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        req.pipe(upstream);
      });
      proxy.listen(0, '127.0.0.1');
      await once(proxy, 'listening');
      proxied = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
    });
    beforeEach(() => {
      forgetGoogleCredentials();
      bearers.length = 0;
      home = mkdtempSync(join(root, 'home-'));
    });
    after(() => {
      proxy.close();
      for (const s of servers) s.close();
    });

    test("gcloud's ADC file (authorized_user): the refresh token is exchanged at the token endpoint, and the token kept", async () => {
      const tokens = await serve((_req, body, res) => {
        const form = new URLSearchParams(body);
        if (form.get('refresh_token') !== 'the-refresh-token') {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant","error_description":"Token has been expired or revoked."}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"user-access-token","expires_in":3599,"token_type":"Bearer"}');
      });
      mkdirSync(join(home, '.config', 'gcloud'), { recursive: true });
      const adc = join(home, '.config', 'gcloud', 'application_default_credentials.json');
      writeFileSync(adc, JSON.stringify({ type: 'authorized_user', client_id: 'cid.apps.googleusercontent.com', client_secret: 'csecret', refresh_token: 'the-refresh-token' }));
      const provider = gsProviderWith({ oauth2TokenUrl: `${tokens.url}/token` });
      await listIris(provider({ env: adcEnv() }));
      await listIris(provider({ env: adcEnv() }));
      assert.deepEqual(bearers, ['Bearer user-access-token', 'Bearer user-access-token']);
      assert.equal(tokens.seen.length, 1, 'the second fetch used the kept token');
      const grant = new URLSearchParams(tokens.seen[0]!.body);
      assert.deepEqual([grant.get('grant_type'), grant.get('client_id')], ['refresh_token', 'cid.apps.googleusercontent.com']);

      writeFileSync(adc, JSON.stringify({ type: 'authorized_user', client_id: 'cid', client_secret: 'csecret', refresh_token: 'revoked' }));
      const err = await rejection(listIris(provider({ env: adcEnv() })));
      assert.equal(err.code, 'UNAUTHORIZED');
      assert.match(err.message, /the authorized_user credential from gcloud's application default credentials .*application_default_credentials\.json was not accepted \(.*invalid_grant/);
    });

    test('the metadata server at GCE_METADATA_HOST gives the default service account token (Metadata-Flavor: Google)', async () => {
      const metadata = await serve((req, _body, res) => {
        if (req.headers['metadata-flavor'] !== 'Google' || req.url !== '/computeMetadata/v1/instance/service-accounts/default/token') {
          res.writeHead(403).end();
          return;
        }
        res.writeHead(200, { 'metadata-flavor': 'Google', 'content-type': 'application/json' }).end('{"access_token":"vm-token","expires_in":3599,"token_type":"Bearer"}');
      });
      const env = { ...adcEnv(), GCE_METADATA_HOST: metadata.url.replace('http://', '') };
      await listIris(gsProvider({ env }));
      await listIris(gsProvider({ env }));
      assert.deepEqual(bearers, ['Bearer vm-token', 'Bearer vm-token']);
      assert.equal(metadata.seen.length, 1);
    });

    test('a metadata server that never answers is given up within a second: anonymous; METADATA_SERVER_DETECTION=none asks nothing', async () => {
      const silent = await serve(() => undefined);
      const started = Date.now();
      await listIris(gsProvider({ env: { ...adcEnv(), GCE_METADATA_HOST: silent.url.replace('http://', '') } }));
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      assert.deepEqual(bearers, [undefined]);
      const off = await serve((_req, _body, res) => res.writeHead(500).end());
      await listIris(gsProvider({ env: { ...adcEnv(), GCE_METADATA_HOST: off.url.replace('http://', ''), METADATA_SERVER_DETECTION: 'none' } }));
      assert.equal(off.seen.length, 0);
    });
  });

  test('a dead emulator endpoint is UNAVAILABLE naming it', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const err = await rejection(gsProvider({ env: { STORAGE_EMULATOR_HOST: dead } }).list(new URL('gs://seldon-models/sklearn/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, new RegExp(`cannot reach http://${dead.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
  });
});

describe('gs settings from the environment', () => {
  test('STORAGE_EMULATOR_HOST as host:port is http; a URL keeps its scheme; /storage/v1 is dropped', () => {
    assert.equal(gcsSettings({ STORAGE_EMULATOR_HOST: 'localhost:4443' }).endpoint.href, 'http://localhost:4443/');
    assert.equal(gcsSettings({ STORAGE_EMULATOR_HOST: 'https://gcs.local:4443/storage/v1/' }).endpoint.href, 'https://gcs.local:4443/');
    assert.equal(gcsSettings({}).endpoint.href, 'https://storage.googleapis.com/');
    assert.equal(gcsSettings({}).account, undefined);
  });

  test('GOOGLE_APPLICATION_CREDENTIALS may hold the key JSON itself', () => {
    const json = JSON.stringify({ type: 'service_account', client_email: 'a@b', private_key: 'k', private_key_id: 'id1' });
    const account = gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: json }).account;
    assert.deepEqual(account, { email: 'a@b', key: 'k', keyId: 'id1', from: 'GOOGLE_APPLICATION_CREDENTIALS (the JSON itself)' });
  });

  test('a missing key file, non-JSON or a user (not service account) key is refused with the variable and the fix; other credential types are read', () => {
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' }), /GOOGLE_APPLICATION_CREDENTIALS=\/nonexistent\/key\.json: cannot read the credentials file \(ENOENT\)/);
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '{oops' }), /the credentials are not JSON/);
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '{"type":"authorized_user"}' }), /authorized_user credentials need client_id, client_secret, refresh_token/);
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '{"type":"api_key"}' }), /credentials of type "api_key" are not read; the types are service_account, authorized_user/);
  });

  test('no file: the metadata server (GCE_METADATA_HOST, else 169.254.169.254) unless METADATA_SERVER_DETECTION=none', () => {
    const home = mkdtempSync(join(tmpdir(), 'trantor-gcs-home-'));
    try {
      assert.deepEqual(gcsSettings({ HOME: home }).metadata, { origin: 'http://169.254.169.254', named: false });
      assert.deepEqual(gcsSettings({ HOME: home, GCE_METADATA_HOST: 'metadata.local:8080' }).metadata, { origin: 'http://metadata.local:8080', named: true });
      assert.equal(gcsSettings({ HOME: home, METADATA_SERVER_DETECTION: 'none' }).metadata, undefined);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('a listing page gives its objects and the next page token', () => {
    const page = parsePage('{"items":[{"name":"a/b","size":"12","generation":"1700"}],"nextPageToken":"tok"}', new URL('gs://x/a'));
    assert.deepEqual(page, { objects: [{ name: 'a/b', size: 12, version: '1700' }], next: 'tok' });
    assert.equal(parsePage('{}', new URL('gs://x/a')).next, undefined);
  });
});
