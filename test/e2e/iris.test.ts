/**
 * Journey J1 with the seed's manifest and curl commands: the iris model behind SKLEARN_SERVER.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeldonClient } from '../../src/client/index.ts';
import { ROOT, Trantor, postJson, sklearnPredictProba } from './harness.ts';

const trantor = new Trantor();
const IRIS = join(ROOT, 'examples', 'iris', 'iris.yaml');

before(async () => {
  await trantor.up(['--body-limit', '64kb']);
  const applied = trantor.cli(['apply', '-f', IRIS, '--wait']);
  assert.equal(applied.code, 0, applied.stderr);
});
after(() => trantor.close());

interface Reply {
  data: { names: string[]; ndarray: number[][] };
  meta: { puid: string; requestPath: Record<string, string> };
}

interface Failure {
  status: { code: number; info: string; reason: string; status: string };
}

test('the seed request gets predict_proba of scikit-learn itself, with t:0… names and meta', async () => {
  const res = await postJson(trantor.url('seldon', 'iris-model'), '{ "data": { "ndarray": [[1,2,3,4]] } }');
  assert.equal(res.status, 200);
  const reply = res.body as Reply;
  assert.deepEqual(reply.data.names, ['t:0', 't:1', 't:2']);
  const expected = sklearnPredictProba([[1, 2, 3, 4]]);
  reply.data.ndarray[0]!.forEach((p, i) => assert.ok(Math.abs(p - expected[0]![i]!) <= 1e-9, `column ${i}: ${p} vs ${expected[0]![i]}`));
  assert.match(reply.meta.puid, /^[a-z0-9]{26}$/);
  assert.equal(res.headers.get('seldon-puid'), reply.meta.puid);
  assert.equal(reply.meta.requestPath['classifier'], 'SKLEARN_SERVER');
});

test('several rows come back as several rows of probabilities', async () => {
  const rows = [
    [5.1, 3.5, 1.4, 0.2],
    [6.7, 3.0, 5.2, 2.3],
  ];
  const res = await postJson(trantor.url('seldon', 'iris-model', 'api/v0.1/predictions'), { data: { ndarray: rows } });
  assert.equal(res.status, 200);
  assert.deepEqual((res.body as Reply).data.ndarray, sklearnPredictProba(rows));
});

test('five features get a 400 that says four were expected', async () => {
  const res = await postJson(trantor.url('seldon', 'iris-model'), '{ "data": { "ndarray": [[1,2,3,4,5]] } }');
  assert.equal(res.status, 400);
  const failure = res.body as Failure;
  assert.equal(failure.status.status, 'FAILURE');
  assert.match(failure.status.info, /expected 4 features per row, got 5/);
});

test('malformed JSON gets a 400 that says it is not JSON', async () => {
  const res = await postJson(trantor.url('seldon', 'iris-model'), '{"data": {"ndarray": [[1,2');
  assert.equal(res.status, 400);
  assert.match((res.body as Failure).status.info, /not valid JSON/);
});

test('a content type that is neither JSON nor a form gets a 415 naming the accepted ones', async () => {
  const res = await postJson(trantor.url('seldon', 'iris-model'), '1,2,3,4', { 'content-type': 'text/csv' });
  assert.equal(res.status, 415);
  assert.match((res.body as Failure).status.info, /application\/json/);
});

test('a body over the configured limit gets a 413 that states the limit', async () => {
  const rows = Array.from({ length: 10_000 }, () => [1, 2, 3, 4]);
  const res = await postJson(trantor.url('seldon', 'iris-model'), { data: { ndarray: rows } });
  assert.equal(res.status, 413);
  assert.match((res.body as Failure).status.info, /65536|64 ?KiB|limit/i);
});

test('an unknown deployment gets a 404 that names it', async () => {
  const res = await postJson(trantor.url('seldon', 'no-such-model'), { data: { ndarray: [[1, 2, 3, 4]] } });
  assert.equal(res.status, 404);
  assert.match((res.body as Failure).status.info, /no-such-model/);
});

test('the API docs page and its OpenAPI document are served', async () => {
  const page = await fetch(trantor.url('seldon', 'iris-model', 'api/v1.0/doc/'));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /\/seldon\/seldon\/iris-model\/api\/v1\.0\/predictions/);
  const doc = await fetch(trantor.url('seldon', 'iris-model', 'api/v1.0/doc/openapi.json'));
  assert.equal(doc.status, 200);
  const openapi = (await doc.json()) as { openapi: string; paths: Record<string, unknown> };
  assert.match(openapi.openapi, /^3\./);
  assert.ok(Object.keys(openapi.paths).some((p) => p.endsWith('/api/v1.0/predictions')));
});

test('the TypeScript client predicts through the gateway, as ndarray and as tensor', async () => {
  const client = new SeldonClient({ gatewayEndpoint: trantor.gateway, namespace: 'seldon' });
  try {
    const expected = sklearnPredictProba([[5.1, 3.5, 1.4, 0.2]]);
    const asArray = await client.predict({ deploymentName: 'iris-model', data: [[5.1, 3.5, 1.4, 0.2]] });
    assert.deepEqual(asArray.data?.ndarray, expected);
    const asTensor = await client.predict({ deploymentName: 'iris-model', data: [[5.1, 3.5, 1.4, 0.2]], payloadType: 'tensor' });
    assert.deepEqual(asTensor.data?.tensor, { shape: [1, 3], values: expected[0] });
    await assert.rejects(client.predict({ deploymentName: 'iris-model', data: [[1, 2, 3, 4, 5]] }), /expected 4 features per row, got 5/);
  } finally {
    await client.close();
  }
});

test('trantor predict sends a request through the gateway', () => {
  const result = trantor.cli(['predict', 'iris-model', '-n', 'seldon', '--data', '[[1,2,3,4]]']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((JSON.parse(result.stdout) as Reply).data.names, ['t:0', 't:1', 't:2']);
});

test('trantor get shows the deployment Available with its address', () => {
  const table = trantor.cli(['get', 'sdep', '-n', 'seldon']);
  assert.match(table.stdout, /iris-model\s+Available\s+1\/1/);
  const json = trantor.cli(['get', 'sdep', 'iris-model', '-o', 'json']);
  const view = JSON.parse(json.stdout) as { status: { state: string; address: { url: string } } };
  assert.equal(view.status.state, 'Available');
  assert.equal(view.status.address.url, trantor.url('seldon', 'iris-model'));
});

test('a bad manifest is refused with the field path and nothing of it is applied', () => {
  const file = join(trantor.home, 'bad.yaml');
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: good-one, namespace: seldon}
spec:
  predictors:
  - graph: {implementation: SKLEARN_SERVER, modelUri: ${join(ROOT, 'examples', 'iris', 'model')}, name: classifier}
    name: default
---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: bad-one, namespace: seldon}
spec:
  predictors:
  - graph: {implementation: SKLEARN_SERVER, modelUri: ./model}
    name: default
`,
  );
  const result = trantor.cli(['apply', '-f', file]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /spec\.predictors\[0\]\.graph\.name: required/);
  assert.doesNotMatch(trantor.cli(['get']).stdout, /good-one/);
});

test("the seed's gs:// modelUri, unchanged, serves the local iris model through a mirror in the home's storage.json", async () => {
  writeFileSync(join(trantor.home, 'storage.json'), JSON.stringify({ mirrors: { 'gs://seldon-models/v1.11.0-dev/sklearn/iris': join(ROOT, 'examples', 'iris', 'model') } }));
  const file = join(trantor.home, 'remote.yaml');
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: remote-iris, namespace: seldon}
spec:
  name: iris
  predictors:
  - graph: {implementation: SKLEARN_SERVER, modelUri: gs://seldon-models/v1.11.0-dev/sklearn/iris, name: classifier}
    name: default
    replicas: 1
`,
  );
  const result = trantor.cli(['apply', '-f', file, '--wait']);
  assert.equal(result.code, 0, result.stderr);
  const res = await postJson(trantor.url('seldon', 'remote-iris'), { data: { ndarray: [[1, 2, 3, 4]] } });
  assert.equal(res.status, 200);
  assert.deepEqual((res.body as Reply).data.ndarray, sklearnPredictProba([[1, 2, 3, 4]]));
  assert.equal(trantor.cli(['delete', 'sdep', 'remote-iris', '-n', 'seldon']).code, 0);
});

test('a restart of trantor up brings the deployment back', async () => {
  await trantor.stop();
  await trantor.up();
  const wait = trantor.cli(['apply', '-f', IRIS, '--wait']);
  assert.equal(wait.code, 0, wait.stderr);
  assert.match(wait.stdout, /iris-model unchanged/);
  const res = await postJson(trantor.url('seldon', 'iris-model'), { data: { ndarray: [[1, 2, 3, 4]] } });
  assert.equal(res.status, 200);
});
