import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gcsSettings, gsProvider, parsePage } from './gs.ts';
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

  test('a missing key file, non-JSON or a user (not service account) key is refused with the variable and the fix', () => {
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' }), /GOOGLE_APPLICATION_CREDENTIALS=\/nonexistent\/key\.json: cannot read the service account key \(ENOENT\)/);
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '{oops' }), /is not JSON/);
    assert.throws(() => gcsSettings({ GOOGLE_APPLICATION_CREDENTIALS: '{"type":"authorized_user"}' }), /not a service account key \(type "authorized_user"/);
  });

  test('a listing page gives its objects and the next page token', () => {
    const page = parsePage('{"items":[{"name":"a/b","size":"12","generation":"1700"}],"nextPageToken":"tok"}', new URL('gs://x/a'));
    assert.deepEqual(page, { objects: [{ name: 'a/b', size: 12, version: '1700' }], next: 'tok' });
    assert.equal(parsePage('{}', new URL('gs://x/a')).next, undefined);
  });
});
