import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { azureAccess, azureProvider } from './azure.ts';
import { CONTRACT_FILES, freePort, readAll, rejection, start, storeContract, type Running } from './cloud-testing.ts';

const IRIS = readFileSync(new URL('../../../examples/iris/model/model.joblib', import.meta.url));
// Azurite, Microsoft's emulator, is a devDependency; its well-known development account and key.
const AZURITE = fileURLToPath(new URL('../../../node_modules/.bin/azurite-blob', import.meta.url));
const ACCOUNT = 'devstoreaccount1';
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const skip = existsSync(AZURITE) ? false : `azurite-blob not found at ${AZURITE} (npm ci installs it)`;
if (skip !== false && process.env['CI'] === 'true') throw new Error(`under CI the emulator must be there: ${skip}`);

describe('azure provider against Azurite', { skip }, () => {
  let root: string;
  let server: Running;
  let blobEndpoint: string;
  const connection = (key = KEY): string => `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${key};BlobEndpoint=${blobEndpoint};`;
  const env = (): Record<string, string> => ({ AZURE_STORAGE_CONNECTION_STRING: connection() });
  const uri = (path: string): URL => new URL(`https://${ACCOUNT}.blob.core.windows.net/${path}`);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'trantor-azurite-'));
    const port = await freePort();
    blobEndpoint = `http://127.0.0.1:${port}/${ACCOUNT}`;
    server = await start(
      AZURITE,
      ['--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', root, '--disableTelemetry', '--skipApiVersionCheck', '--loose'],
      /successfully listens/,
    );
    const service = BlobServiceClient.fromConnectionString(connection());
    const models = service.getContainerClient('models');
    await models.create();
    const put = async (container: typeof models, name: string, body: Uint8Array | string): Promise<void> => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await container.getBlockBlobClient(name).upload(bytes, bytes.length);
    };
    await put(models, 'iris/model.joblib', IRIS);
    for (const [name, body] of Object.entries(CONTRACT_FILES)) await put(models, name, body);
    const open = service.getContainerClient('public');
    await open.create({ access: 'container' });
    await put(open, 'iris/model.joblib', IRIS);
  });
  after(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  storeContract(() => ({ provider: azureProvider({ env: env() }), uri: (path) => uri(`models/${path}`), iris: uri('models/iris'), model: IRIS }));

  test('a read of a blob that changed since its listing is refused (If-Match on the ETag)', async () => {
    const provider = azureProvider({ env: env() });
    const [object] = await provider.list(uri('models/multi/a.txt'), AbortSignal.timeout(10_000));
    const err = await rejection(readAll(provider, uri('models/multi/a.txt'), { ...object!, version: '"0x8D000000000000"' }));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /changed while it was being fetched/);
  });

  test('a public container is read anonymously (a connection string with only BlobEndpoint)', async () => {
    const provider = azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint}` } });
    const [object] = await provider.list(uri('public/iris'), AbortSignal.timeout(10_000));
    assert.deepEqual(await readAll(provider, uri('public/iris'), object!), IRIS);
  });

  test('an anonymous request for a private container is refused, saying it was anonymous and what to set', async () => {
    const err = await rejection(azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint}` } }).list(uri('models/iris'), AbortSignal.timeout(10_000)));
    assert.ok(err.code === 'UNAUTHORIZED' || err.code === 'NOT_FOUND', err.message);
    assert.match(err.message, /anonymous.*set AZURE_STORAGE_ACCESS_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING/);
  });

  test('a SAS from the connection string authorises a private container', async () => {
    const sas = generateBlobSASQueryParameters(
      { containerName: 'models', permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3_600_000) },
      new StorageSharedKeyCredential(ACCOUNT, KEY),
    ).toString();
    const provider = azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint};SharedAccessSignature=${sas}` } });
    const [object] = await provider.list(uri('models/iris'), AbortSignal.timeout(10_000));
    assert.deepEqual(await readAll(provider, uri('models/iris'), object!), IRIS);
    const inUri = azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${blobEndpoint}` } });
    const missing = await rejection(inUri.list(new URL(`${uri('models/nothing').href}?${sas}`), AbortSignal.timeout(10_000)));
    assert.equal(missing.code, 'NOT_FOUND', 'the SAS in the URI authorised the listing');
    assert.match(missing.message, /^https:\/\/devstoreaccount1\.blob\.core\.windows\.net\/models\/nothing: no object is named "nothing"/);
    assert.doesNotMatch(missing.message, /sig=/);
  });

  test('a wrong account key is UNAUTHORIZED, naming the variable used', async () => {
    const wrong = Buffer.alloc(64, 7).toString('base64');
    const err = await rejection(azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: connection(wrong) } }).list(uri('models/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'UNAUTHORIZED');
    assert.match(err.message, /^https:\/\/devstoreaccount1\.blob\.core\.windows\.net\/models\/iris: the Blob service at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 refused access \(403/);
    assert.match(err.message, /the request used AZURE_STORAGE_CONNECTION_STRING \(account devstoreaccount1, key BwcH…/);
  });

  test('a missing container or blob is NOT_FOUND naming the URI', async () => {
    const provider = azureProvider({ env: env() });
    const container = await rejection(provider.list(uri('nocontainer/iris'), AbortSignal.timeout(10_000)));
    assert.equal(container.code, 'NOT_FOUND');
    assert.match(container.message, /nocontainer\/iris: no container nocontainer at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1 \(404 ContainerNotFound\)/);
    const blob = await rejection(readAll(provider, uri('models/gone'), { key: '', size: 1, version: undefined }));
    assert.equal(blob.code, 'NOT_FOUND');
    assert.match(blob.message, /no blob gone in container models/);
  });

  test('a dead endpoint is UNAVAILABLE naming it', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/${ACCOUNT}`;
    const err = await rejection(
      azureProvider({ env: { AZURE_STORAGE_CONNECTION_STRING: `AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${dead}` } }).list(uri('models/iris'), AbortSignal.timeout(10_000)),
    );
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, new RegExp(`cannot reach ${dead.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
  });
});

describe('azure credentials from the environment', () => {
  const uri = new URL('https://acct.blob.core.windows.net/models/iris?sv=2024&sig=abc');

  test('AZURE_STORAGE_ACCESS_KEY signs for the account in the host; a SAS in the URI is used when no key is set', () => {
    assert.deepEqual(azureAccess(uri, { AZURE_STORAGE_ACCESS_KEY: 'k' }), {
      endpoint: 'https://acct.blob.core.windows.net', account: 'acct', sharedKey: 'k', sas: undefined, principal: undefined, from: ['AZURE_STORAGE_ACCESS_KEY'],
    });
    assert.equal(azureAccess(uri, {}).sas, 'sv=2024&sig=abc');
    assert.equal(azureAccess(uri, { AZURE_STORAGE_SAS_TOKEN: '?sv=1&sig=x' }).sas, 'sv=1&sig=x');
  });

  test('a service principal from AZURE_* or KServe\'s AZ_* names; half of one is refused, naming what is missing', () => {
    const bare = new URL('https://acct.blob.core.windows.net/m/i');
    assert.deepEqual(azureAccess(bare, { AZ_TENANT_ID: 't', AZ_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's' }).principal, {
      tenantId: 't', clientId: 'c', clientSecret: 's', authorityHost: undefined, from: ['AZ_TENANT_ID', 'AZ_CLIENT_ID', 'AZURE_CLIENT_SECRET'],
    });
    // A key or SAS wins over a principal, as it needs no sign-in.
    assert.equal(azureAccess(bare, { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's', AZURE_STORAGE_ACCESS_KEY: 'k' }).principal, undefined);
    assert.throws(() => azureAccess(bare, { AZ_CLIENT_ID: 'id' }), /needs a tenant, a client ID and a client secret: AZ_CLIENT_ID set, AZURE_TENANT_ID, AZURE_CLIENT_SECRET missing/);
    assert.throws(
      () => azureAccess(bare, { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's', AZURE_STORAGE_CONNECTION_STRING: 'BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1' }),
      /BlobEndpoint http:\/\/127\.0\.0\.1:10000\/devstoreaccount1 is http, and a service principal's token .* is sent over https only/,
    );
  });

  test('only <account>.blob.core.windows.net URIs with a container are Azure', () => {
    const provider = azureProvider({ env: {} });
    assert.equal(provider.matches(new URL('https://acct.blob.core.windows.net/c/p')), true);
    assert.equal(provider.matches(new URL('https://example.com/c/p')), false);
    assert.throws(() => azureAccess(new URL('https://acct.blob.core.windows.net/'), {}), /write Azure Blob URIs as/);
  });
});
