/**
 * examples/storage/publish.sh, run as a user runs it: it publishes the iris model to a real local
 * S3-compatible server (versitygw, checking SigV4 signatures) and to a real GCS-compatible one
 * (fake-gcs-server), writes the deployment's envSecretRefName file and applies the manifest that
 * loads the model from there; the deployment then answers as scikit-learn does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emulator, freePort, start, type Running } from '../../src/storage/testing.ts';
import { ROOT, TRANTOR, Trantor, postJson, sklearnPredictProba, type CliResult } from './harness.ts';

const VERSITYGW = emulator('versitygw', 'TRANTOR_VERSITYGW', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0');
const FAKE_GCS = emulator('fake-gcs-server', 'TRANTOR_FAKE_GCS_SERVER', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/fsouza/fake-gcs-server@v1.56.1');
const PUBLISH = join(ROOT, 'examples', 'storage', 'publish.sh');
const KEY = 'AKIAEXAMPLETEST';
const SECRET = 'example-secret-key';

/** `publish.sh STORE` with `env`, the `trantor` it calls being this checkout's. */
function publish(store: string, env: Record<string, string>, home: string): Promise<CliResult> {
  const child = spawn(PUBLISH, [store], { env: { ...process.env, ...env, TRANTOR: TRANTOR, TRANTOR_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

async function assertIris(trantor: Trantor, name: string): Promise<void> {
  const rows = [[6.2, 2.9, 4.3, 1.3]];
  const res = await postJson(trantor.url('seldon', name), { data: { ndarray: rows } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual((res.body as { data: { ndarray: number[][] } }).data.ndarray, sklearnPredictProba(rows));
}

describe('examples/storage/publish.sh', { skip: VERSITYGW.skip || FAKE_GCS.skip }, () => {
  const data = mkdtempSync(join(tmpdir(), 'trantor-examples-stores-'));
  const trantor = new Trantor();
  const servers: Running[] = [];
  let s3Endpoint = '';
  let gcsHost = '';

  before(async () => {
    const [s3Port, gcsPort] = [await freePort(), await freePort()];
    s3Endpoint = `http://127.0.0.1:${s3Port}`;
    gcsHost = `127.0.0.1:${gcsPort}`;
    servers.push(await start(VERSITYGW.path, ['--access', KEY, '--secret', SECRET, '--port', `127.0.0.1:${s3Port}`, 'posix', data], /listening on/));
    servers.push(await start(FAKE_GCS.path, ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(gcsPort), '-backend', 'memory'], /server started at/));
    await trantor.up();
  });
  after(async () => {
    await trantor.close();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(data, { recursive: true, force: true });
  });

  test('publish.sh s3 uploads the model to the S3 server and the applied deployment serves it', async () => {
    const result = await publish('s3', { S3_ENDPOINT: s3Endpoint, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET }, trantor.home);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /published s3:\/\/models\/iris\/model\.joblib/);
    assert.match(result.stderr, /seldon\/iris-s3: Available/);
    // The bytes really went to the S3 server's disk (versitygw's posix backend: <root>/<bucket>/<key>).
    assert.deepEqual(readFileSync(join(data, 'models', 'iris', 'model.joblib')), readFileSync(join(ROOT, 'examples', 'iris', 'model', 'model.joblib')));
    await assertIris(trantor, 'iris-s3');
  });

  test('publish.sh s3 run again is fine (the bucket exists), and a wrong key fails naming the server', async () => {
    const again = await publish('s3', { S3_ENDPOINT: s3Endpoint, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET }, trantor.home);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const wrong = await publish('s3', { S3_ENDPOINT: s3Endpoint, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, trantor.home);
    assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, new RegExp(`error: creating the bucket ${s3Endpoint}/models: the server answered 403`));
  });

  test('publish.sh gcs uploads the model to the GCS server and the applied deployment serves it', async () => {
    const result = await publish('gcs', { STORAGE_EMULATOR_HOST: gcsHost }, trantor.home);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /published gs:\/\/models\/iris\/model\.joblib/);
    assert.match(result.stderr, /seldon\/iris-gcs: Available/);
    const listed = (await (await fetch(`http://${gcsHost}/storage/v1/b/models/o?prefix=iris/`)).json()) as { items: { name: string }[] };
    assert.deepEqual(listed.items.map((i) => i.name), ['iris/model.joblib']);
    await assertIris(trantor, 'iris-gcs');
  });

  test('publish.sh with a store it does not know prints its usage', async () => {
    const result = await publish('azure', {}, trantor.home);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage: .*publish\.sh s3\|gcs/);
  });
});
