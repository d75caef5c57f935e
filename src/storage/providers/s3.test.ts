import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { AwsClient } from 'aws4fetch';
import { s3Provider, s3Settings } from './s3.ts';
import { CONTRACT_FILES, emulator, freePort, readAll, rejection, start, storeContract, type Running } from './cloud-testing.ts';
import { encodeSegments } from './cloud-objects.ts';

const VERSITYGW = emulator('versitygw', 'TRANTOR_VERSITYGW', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0');
const IRIS = readFileSync(new URL('../../../examples/iris/model/model.joblib', import.meta.url));
const KEY = 'AKIATRANTORTEST';
const SECRET = 'trantor-test-secret-key';

describe('s3 provider against versitygw (a real S3 gateway)', { skip: VERSITYGW.skip }, () => {
  let root: string;
  let server: Running;
  let endpoint: string;
  const env = (): Record<string, string> => ({ AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, S3_ENDPOINT: endpoint.replace('http://', ''), S3_USE_HTTPS: '0' });
  // No key, and nothing else in the default chain either (no ~/.aws, no instance role even on EC2).
  const anonymous = (): Record<string, string> => ({ S3_ENDPOINT: endpoint, HOME: root, AWS_EC2_METADATA_DISABLED: 'true' });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'trantor-s3-'));
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    server = await start(VERSITYGW.path, ['--access', KEY, '--secret', SECRET, '--port', `127.0.0.1:${port}`, 'posix', root], /listening on/);
    const client = new AwsClient({ accessKeyId: KEY, secretAccessKey: SECRET, service: 's3', region: 'us-east-1' });
    const put = async (path: string, body?: Uint8Array | string): Promise<void> => {
      const response = await client.fetch(`${endpoint}/${path}`, { method: 'PUT', ...(body === undefined ? {} : { body }) });
      assert.equal(response.status, 200, `PUT ${path}: ${await response.text()}`);
    };
    await put('models');
    await put('models/iris/model.joblib', IRIS);
    for (const [name, body] of Object.entries(CONTRACT_FILES)) await put(`models/${encodeSegments(name)}`, body);
    // A public bucket: a policy letting anyone list it and read its objects.
    await put('public');
    await put('public/iris/model.joblib', IRIS);
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::public', 'arn:aws:s3:::public/*'] }] };
    const policed = await client.fetch(`${endpoint}/public?policy`, { method: 'PUT', body: JSON.stringify(policy) });
    assert.equal(policed.status, 204, await policed.text());
    for (let first = 0; first < 1005; first += 67) {
      await Promise.all(Array.from({ length: Math.min(67, 1005 - first) }, (_, i) => put(`models/many/${String(first + i).padStart(4, '0')}`, 'x')));
    }
  });
  after(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });

  storeContract(() => ({ provider: s3Provider({ env: env() }), uri: (path) => new URL(`s3://models/${path}`), iris: new URL('s3://models/iris'), model: IRIS }));

  test('a listing longer than one page (1005 objects) is followed to its end', async () => {
    const objects = await s3Provider({ env: env() }).list(new URL('s3://models/many/'), AbortSignal.timeout(30_000));
    assert.equal(objects.length, 1005);
    assert.equal(objects.at(-1)?.key, '1004');
  });

  test('a read of an object that changed since its listing is refused (If-Match on the ETag)', async () => {
    const provider = s3Provider({ env: env() });
    const uri = new URL('s3://models/multi/a.txt');
    const [object] = await provider.list(uri, AbortSignal.timeout(10_000));
    const err = await rejection(readAll(provider, uri, { ...object!, version: '"0123456789abcdef0123456789abcdef"' }));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /changed while it was being fetched/);
  });

  test('a public bucket is listed and read with no credentials (unsigned requests)', async () => {
    const provider = s3Provider({ env: anonymous() });
    const uri = new URL('s3://public/iris');
    const [object] = await provider.list(uri, AbortSignal.timeout(10_000));
    assert.equal(object?.key, 'model.joblib');
    assert.deepEqual(await readAll(provider, uri, object, 100), IRIS.subarray(100));
  });

  test('a wrong secret is UNAUTHORIZED, naming the variables used and the fix', async () => {
    const err = await rejection(s3Provider({ env: { ...env(), AWS_SECRET_ACCESS_KEY: 'wrong' } }).list(new URL('s3://models/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'UNAUTHORIZED');
    assert.match(err.message, /s3:\/\/models\/iris/);
    assert.match(err.message, /AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/);
    assert.match(err.message, /envSecretRefName/);
  });

  test('no credentials against a private bucket is UNAUTHORIZED, saying the request was anonymous', async () => {
    const err = await rejection(s3Provider({ env: anonymous() }).list(new URL('s3://models/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'UNAUTHORIZED');
    assert.match(err.message, /anonymous; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  test('a missing bucket or object is NOT_FOUND naming the URI', async () => {
    const provider = s3Provider({ env: env() });
    const bucket = await rejection(provider.list(new URL('s3://nosuchbucket/iris'), AbortSignal.timeout(10_000)));
    assert.equal(bucket.code, 'NOT_FOUND');
    assert.match(bucket.message, /^s3:\/\/nosuchbucket\/iris: no bucket nosuchbucket at http:\/\/127\.0\.0\.1:\d+/);
    const object = await rejection(readAll(provider, new URL('s3://models/gone'), { key: '', size: 1, version: undefined }));
    assert.equal(object.code, 'NOT_FOUND');
    assert.match(object.message, /no object gone in bucket models/);
  });

  test("a self-signed HTTPS endpoint is refused, naming S3_VERIFY_SSL=0, which then reads it", async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(root, '..', `${basename(root)}.key`), '-out', join(root, '..', `${basename(root)}.crt`)], { stdio: 'ignore' });
    const port = await freePort();
    const tls = await start(VERSITYGW.path, ['--access', KEY, '--secret', SECRET, '--port', `127.0.0.1:${port}`, '--cert', join(root, '..', `${basename(root)}.crt`), '--key', join(root, '..', `${basename(root)}.key`), 'posix', root], /listening on/);
    try {
      const secure = { ...env(), S3_ENDPOINT: `https://127.0.0.1:${port}` };
      const err = await rejection(s3Provider({ env: secure }).list(new URL('s3://models/iris'), AbortSignal.timeout(10_000)));
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /certificate was not accepted; for a store with a self-signed certificate set S3_VERIFY_SSL=0/);
      const provider = s3Provider({ env: { ...secure, S3_VERIFY_SSL: '0' } });
      const [object] = await provider.list(new URL('s3://models/iris'), AbortSignal.timeout(10_000));
      assert.deepEqual(await readAll(provider, new URL('s3://models/iris'), object!), IRIS);
    } finally {
      await tls.stop();
      rmSync(join(root, '..', `${basename(root)}.key`), { force: true });
      rmSync(join(root, '..', `${basename(root)}.crt`), { force: true });
    }
  });

  test('a bucket name the store refuses (400) is BAD_MANIFEST naming its reason', async () => {
    const err = await rejection(s3Provider({ env: env() }).list(new URL('s3://b/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'BAD_MANIFEST');
    assert.match(err.message, /^s3:\/\/b\/iris: the S3 store at http:\/\/127\.0\.0\.1:\d+ refused the request \(400 InvalidBucketName/);
  });

  test('a dead endpoint is UNAVAILABLE naming it', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const err = await rejection(s3Provider({ env: { ...env(), S3_ENDPOINT: dead } }).list(new URL('s3://models/iris'), AbortSignal.timeout(10_000)));
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, new RegExp(`cannot reach http://${dead.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
  });
});

describe('s3 settings from the environment', () => {
  test('S3_ENDPOINT without a scheme is https unless S3_USE_HTTPS=0', () => {
    assert.equal(s3Settings({ S3_ENDPOINT: 'minio:9000' }).endpoint?.href, 'https://minio:9000/');
    assert.equal(s3Settings({ S3_ENDPOINT: 'minio:9000', S3_USE_HTTPS: '0' }).endpoint?.href, 'http://minio:9000/');
  });

  test('AWS_ENDPOINT_URL wins over S3_ENDPOINT; AWS_DEFAULT_REGION over AWS_REGION; S3_VERIFY_SSL=0 turns checks off', () => {
    const settings = s3Settings({ AWS_ENDPOINT_URL: 'http://a:1', S3_ENDPOINT: 'b:2', AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'us-west-2', S3_VERIFY_SSL: '0' });
    assert.equal(settings.endpoint?.href, 'http://a:1/');
    assert.equal(settings.region, 'eu-west-1');
    assert.equal(settings.verifyTls, false);
    assert.equal(s3Settings({}).region, 'us-east-1');
  });

  test('a key without its secret is refused, naming the missing variable', () => {
    assert.throws(() => s3Settings({ AWS_ACCESS_KEY_ID: 'AKIA' }), /AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY/);
  });

  test('a bad S3 variable does not stop the provider being built (only its use fails)', async () => {
    const provider = s3Provider({ env: { S3_ENDPOINT: 'ftp://x' } });
    assert.equal(provider.matches(new URL('s3://b/k')), true);
    assert.equal(provider.matches(new URL('gs://b/k')), false);
    const err = await rejection(provider.list(new URL('s3://b/k'), AbortSignal.timeout(1000)));
    assert.match(err.message, /not http:\/\/ or https:\/\//);
  });
});
