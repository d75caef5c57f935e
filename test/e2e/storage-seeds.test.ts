/**
 * The seeds' manifests, unchanged, with `modelUri: gs://seldon-models/…`: `trantor up` runs with
 * STORAGE_EMULATOR_HOST naming a fake-gcs-server (the override Google's own client libraries
 * honour) that holds the iris model at each seed's bucket path; the seed's own curl answers with
 * scikit-learn's predict_proba. No mirror: the model really comes through the GCS JSON API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { emulator, freePort, start, type Running } from '../../src/storage/testing.ts';
import { ROOT, Trantor, postJson, sklearnPredictProba } from './harness.ts';
import { cliAsync } from './storage-support.ts';

const FAKE_GCS = emulator('fake-gcs-server', 'TRANTOR_FAKE_GCS_SERVER', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/fsouza/fake-gcs-server@v1.56.1');
const SEEDS = join(ROOT, 'test', 'e2e', 'fixtures', 'seeds');
const CURL = spawnSync('curl', ['--version']).status === 0;
if (!CURL && process.env['CI'] === 'true') throw new Error('under CI curl must be installed: the seed runs its curl command');

/** `trantor up` with STORAGE_EMULATOR_HOST in its environment. */
class EmulatedGcs extends Trantor {
  host = '';
  override get env(): NodeJS.ProcessEnv {
    return { ...super.env, STORAGE_EMULATOR_HOST: this.host };
  }
}

describe('the seeds load from gs://seldon-models through STORAGE_EMULATOR_HOST', { skip: FAKE_GCS.skip }, () => {
  const data = mkdtempSync(join(tmpdir(), 'trantor-seeds-gcs-'));
  const trantor = new EmulatedGcs();
  let gcs: Running;

  before(async () => {
    const model = readFileSync(join(ROOT, 'examples', 'iris', 'model', 'model.joblib'));
    // fake-gcs-server's -data folder: <bucket>/<object path>. Each seed's modelUri is a prefix holding model.joblib.
    for (const prefix of ['v1.11.0-dev/sklearn/iris', 'sklearn/iris']) {
      const file = join(data, 'seldon-models', prefix, 'model.joblib');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, model);
    }
    const port = await freePort();
    trantor.host = `127.0.0.1:${port}`;
    gcs = await start(FAKE_GCS.path, ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory', '-data', data], /server started at/);
    await trantor.up();
  });
  after(async () => {
    await trantor.close();
    await gcs.stop();
    rmSync(data, { recursive: true, force: true });
  });

  test("the install guide's sample.yaml (gs://seldon-models/v1.11.0-dev/sklearn/iris), unchanged, answers the guide's curl", { skip: CURL ? false : 'curl is not installed' }, async () => {
    const applied = await cliAsync(['apply', '-f', join(SEEDS, 'sample.yaml'), '--wait', '--timeout', '120s'], trantor.env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /seldondeployment\.machinelearning\.seldon\.io\/iris-model created/);
    // The guide's command as written, its ingress (http://127.0.0.1) being the gateway here.
    const command = readFileSync(join(SEEDS, 'sample-curl.sh'), 'utf8').replaceAll('http://127.0.0.1/', `${trantor.gateway}/`);
    const answer = JSON.parse(execFileSync('bash', ['-c', `set -e\n${command.replace(/^curl /m, 'curl -sS --fail-with-body ')}`], { encoding: 'utf8' })) as { data: { ndarray: number[][] } };
    assert.deepEqual(answer.data.ndarray, sklearnPredictProba([[1, 2, 3, 4]]));
  });

  test("the streaming notebook's deployment (gs://seldon-models/sklearn/iris), unchanged, serves the iris model", async () => {
    const applied = await cliAsync(['apply', '-f', join(SEEDS, 'simple-iris-deployment.yaml'), '--wait', '--timeout', '120s'], trantor.env);
    assert.equal(applied.code, 0, applied.stderr);
    const rows = [[5.1, 3.5, 1.4, 0.2]];
    const res = await postJson(trantor.url('default', 'simple-iris-deployment'), { data: { ndarray: rows } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual((res.body as { data: { ndarray: number[][] } }).data.ndarray, sklearnPredictProba(rows));
  });

  test('the model came through the emulator into the cache, not through a mirror', () => {
    assert.equal(existsSync(join(trantor.home, 'storage.json')), false);
    const manifests = readdirSync(join(trantor.home, 'models')).filter((name) => !name.includes('.'));
    const uris = manifests.map((entry) => (JSON.parse(readFileSync(join(trantor.home, 'models', entry, 'manifest.json'), 'utf8')) as { uri: string }).uri).sort();
    assert.deepEqual(uris, ['gs://seldon-models/sklearn/iris', 'gs://seldon-models/v1.11.0-dev/sklearn/iris']);
  });
});
