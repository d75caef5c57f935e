/**
 * An Azure service principal end to end: Azurite over https with OAuth checks on (`--oauth basic`:
 * it checks a bearer token's issuer, audience and lifetime, not its signature), and a real https
 * server answering as Microsoft Entra ID's token endpoint does (its OpenID configuration, then the
 * client-credentials grant), at AZURE_AUTHORITY_HOST.
 *
 * Both use one self-signed certificate, so this file's process accepts any certificate
 * (NODE_TLS_REJECT_UNAUTHORIZED=0; node:test runs each test file in its own process).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { azureProvider } from './azure.ts';
import { freePort, readAll, rejection, start, type Running } from './cloud-testing.ts';

const IRIS = readFileSync(new URL('../../../examples/iris/model/model.joblib', import.meta.url));
const AZURITE = fileURLToPath(new URL('../../../node_modules/.bin/azurite-blob', import.meta.url));
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = 'a7e2f0d4-6f1e-4a6b-9d1c-6c6d0f2a9b11';
const SECRET = 'the-client-secret';
const skip = existsSync(AZURITE) ? false : `azurite-blob not found at ${AZURITE} (npm ci installs it)`;
if (skip !== false && process.env['CI'] === 'true') throw new Error(`under CI the emulator must be there: ${skip}`);

/** A JWT as Entra ID issues for Storage; Azurite reads its claims, not its signature. */
function accessToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part({ aud: 'https://storage.azure.com', iss: `https://sts.windows.net/${TENANT}/`, nbf: now - 60, iat: now - 60, exp: now + 3600, appid: CLIENT, tid: TENANT })}.c2ln`;
}

describe('azure provider with a service principal (Azurite with OAuth, a local Entra ID token endpoint)', { skip }, () => {
  let root: string;
  let azurite: Running;
  let blobEndpoint: string;
  let authority: Server;
  let authorityHost: string;
  const grants: URLSearchParams[] = [];
  const uri = new URL(`https://${ACCOUNT}.blob.core.windows.net/models/iris`);
  const env = (secret = SECRET): Record<string, string> => ({
    AZURE_TENANT_ID: TENANT,
    AZURE_CLIENT_ID: CLIENT,
    AZURE_CLIENT_SECRET: secret,
    AZURE_AUTHORITY_HOST: authorityHost,
    AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint}`,
  });
  let tlsBefore: string | undefined;

  before(async () => {
    tlsBefore = process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
    process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
    root = mkdtempSync(join(tmpdir(), 'trantor-azure-sp-'));
    const cert = join(root, 'cert.pem');
    const key = join(root, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });

    authority = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const base = `${authorityHost}/${TENANT}`;
        if (req.method === 'GET' && req.url?.startsWith(`/${TENANT}/v2.0/.well-known/openid-configuration`)) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
            token_endpoint: `${base}/oauth2/v2.0/token`,
            authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
            end_session_endpoint: `${base}/oauth2/v2.0/logout`,
            jwks_uri: `${authorityHost}/${TENANT}/discovery/v2.0/keys`,
            issuer: `${base}/v2.0`,
          }));
          return;
        }
        if (req.method === 'POST' && req.url?.startsWith(`/${TENANT}/oauth2/v2.0/token`)) {
          const form = new URLSearchParams(body);
          grants.push(form);
          if (form.get('client_id') !== CLIENT || form.get('client_secret') !== SECRET) {
            res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' }));
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken() }));
          return;
        }
        res.writeHead(404).end();
      });
    });
    authority.listen(0, '127.0.0.1');
    await once(authority, 'listening');
    authorityHost = `https://127.0.0.1:${(authority.address() as { port: number }).port}`;

    const port = await freePort();
    blobEndpoint = `https://127.0.0.1:${port}/${ACCOUNT}`;
    azurite = await start(
      AZURITE,
      ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', join(root, 'data'), '--disableTelemetry', '--skipApiVersionCheck', '--loose', '--oauth', 'basic', '--cert', cert, '--key', key],
      /successfully listens/,
    );
    const service = BlobServiceClient.fromConnectionString(`DefaultEndpointsProtocol=https;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${blobEndpoint};`);
    const models = service.getContainerClient('models');
    await models.create();
    await models.getBlockBlobClient('iris/model.joblib').upload(IRIS, IRIS.length);
  });
  after(async () => {
    await azurite.stop();
    authority.close();
    rmSync(root, { recursive: true, force: true });
    if (tlsBefore === undefined) delete process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
    else process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = tlsBefore;
  });

  test('the principal signs in (client credentials, scope storage.azure.com) and its token lists and reads; the token is kept', async () => {
    const provider = azureProvider({ env: env() });
    const objects = await provider.list(uri, AbortSignal.timeout(20_000));
    assert.deepEqual(objects.map((o) => [o.key, o.size]), [['model.joblib', IRIS.length]]);
    assert.deepEqual(await readAll(azureProvider({ env: env() }), uri, objects[0]!), IRIS);
    assert.equal(grants.length, 1, 'one sign-in for both requests');
    assert.deepEqual([grants[0]!.get('grant_type'), grants[0]!.get('scope')], ['client_credentials', 'https://storage.azure.com/.default']);
  });

  test('without the principal the request is anonymous and the private container looks missing', async () => {
    const err = await rejection(azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint}` } }).list(uri, AbortSignal.timeout(20_000)));
    assert.match(err.message, /the request was anonymous/);
  });

  test('a wrong client secret is UNAUTHORIZED naming the principal, the variables and the authority', async () => {
    const err = await rejection(azureProvider({ env: env('wrong') }).list(uri, AbortSignal.timeout(20_000)));
    assert.equal(err.code, 'UNAUTHORIZED', err.message);
    assert.match(err.message, new RegExp(`the service principal ${CLIENT} \\(tenant ${TENANT}, from AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST\\) could not sign in at https://127\\.0\\.0\\.1:\\d+ \\(.*invalid_client`));
    assert.doesNotMatch(err.message, /wrong/, 'the secret is never shown');
  });
});
