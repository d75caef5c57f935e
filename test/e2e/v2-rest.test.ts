/**
 * The Open Inference Protocol (V2) over REST through `trantor up`: the iris example as a
 * `protocol: v2` SKLEARN_SERVER deployment, asked at its V2 paths as a KServe or Triton client
 * asks (JSON and the binary_data extension). Answers are checked against scikit-learn itself.
 *
 * The gateway and executor speak V2 to the component at `/v2/models/classifier/…`; until the
 * Python host serves those paths (it answers 404), the inference tests skip saying so.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeV2Response, encodeV2Request } from '../../src/protocol/index.ts';
import { ROOT, Trantor, postJson, sklearnPredictProba } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-v2-rest-'));
const MANIFEST = join(dir, 'iris-v2.yaml');
const CHAIN = join(dir, 'noop-chain-v2.yaml');
const NOOP = join(ROOT, 'examples', 'noop-ts');
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];
const REQUEST = { id: 'iris-1', inputs: [{ name: 'predict', shape: [2, 4], datatype: 'FP64', data: ROWS }] };
/** Why the inference tests skip; undefined when the component answers V2. */
let notServed: string | undefined;

before(async () => {
  writeFileSync(
    MANIFEST,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris-v2, namespace: seldon}
spec:
  protocol: v2
  predictors:
  - name: default
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: ${JSON.stringify(join(ROOT, 'examples', 'iris', 'model'))}}
`,
  );
  // A chain of two TypeScript components in the Node host: its V2 face runs with or without Python.
  const container = (name: string, type: string): string =>
    `        - {name: ${name}, command: [trantor-node-microservice, NoopModel], args: [--service-type, ${type}], workingDir: ${JSON.stringify(NOOP)}}\n`;
  writeFileSync(
    CHAIN,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: noop-chain, namespace: seldon}
spec:
  protocol: v2
  predictors:
  - name: default
    graph: {name: pre, type: TRANSFORMER, children: [{name: noop, type: MODEL}]}
    componentSpecs:
    - spec:
        containers:
${container('pre', 'TRANSFORMER')}${container('noop', 'MODEL')}`,
  );
  await trantor.up();
  trantor.applyAndWait(MANIFEST);
  trantor.applyAndWait(CHAIN);
  const probe = await postJson(trantor.url('seldon', 'iris-v2', 'v2/models/classifier/infer'), REQUEST);
  if (probe.status === 404 && !JSON.stringify(probe.body).includes('protocol')) {
    notServed = `the Python host does not serve V2 yet: /v2/models/classifier/infer answered 404 ${JSON.stringify(probe.body)}`;
  }
});

after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

function servedOrSkip(t: TestContext): boolean {
  if (notServed === undefined) return true;
  t.skip(notServed);
  return false;
}

/** The class scikit-learn picks for each row. */
function classes(rows: number[][]): number[] {
  return sklearnPredictProba(rows).map((p) => p.indexOf(Math.max(...p)));
}

interface V2Answer {
  model_name: string;
  id?: string;
  outputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[];
}

test('the gateway answers V2 health and server metadata for a protocol: v2 deployment', async () => {
  const live = await fetch(trantor.url('seldon', 'iris-v2', 'v2/health/live'));
  assert.equal(live.status, 200);
  const server = (await (await fetch(trantor.url('seldon', 'iris-v2', 'v2'))).json()) as { extensions: string[] };
  assert.ok(server.extensions.includes('binary_tensor_data'));
  const seldonPath = await postJson(trantor.url('seldon', 'iris-v2'), { data: { ndarray: ROWS } });
  assert.equal(seldonPath.status, 404);
  assert.match(JSON.stringify(seldonPath.body), /protocol: v2/);
});

test('a chain of Node components answers V2 through the gateway: JSON, binary data, readiness, metadata, errors', async () => {
  const infer = trantor.url('seldon', 'noop-chain', 'v2/models/noop/infer');
  const res = await postJson(infer, { id: 'n1', inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP64', data: [1.5, 2, 3, 4] }] }, { 'seldon-puid': 'chain-puid' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body, { model_name: 'noop', id: 'n1', outputs: [{ name: 'predict', shape: [2, 2], datatype: 'FP64', data: [1.5, 2, 3, 4] }] });
  assert.equal(res.headers.get('seldon-puid'), 'chain-puid');

  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'x', shape: [1, 3], datatype: 'FP32', values: Float32Array.of(0.25, 0.5, 1) }]);
  const binary = await fetch(infer, { method: 'POST', body: encoded.body, headers: { 'inference-header-content-length': String(encoded.headerLength) } });
  assert.equal(binary.status, 200);
  const answer = decodeV2Response(new Uint8Array(await binary.arrayBuffer()), Number(binary.headers.get('inference-header-content-length')));
  assert.deepEqual(Array.from(answer.tensors[0]!.values as Float64Array), [0.25, 0.5, 1]);

  assert.equal((await fetch(trantor.url('seldon', 'noop-chain', 'v2/health/ready'))).status, 200);
  assert.equal((await fetch(trantor.url('seldon', 'noop-chain', 'v2/models/pre/ready'))).status, 200);
  assert.equal(((await (await fetch(trantor.url('seldon', 'noop-chain', 'v2/models/noop'))).json()) as { name: string }).name, 'noop');
  const missing = await fetch(trantor.url('seldon', 'noop-chain', 'v2/models/nope/ready'));
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /no model named "nope".*pre, noop/);
  const bad = await postJson(infer, { inputs: [{ name: 'x', shape: [3], datatype: 'FP64', data: [1, 2] }] });
  assert.equal(bad.status, 400);
  assert.match((bad.body as { error: string }).error, /inputs\[0\]/);
});

test('V2 JSON inference gets the classes scikit-learn predicts, outputs named as MLServer names them', async (t) => {
  if (!servedOrSkip(t)) return;
  const res = await postJson(trantor.url('seldon', 'iris-v2', 'v2/models/classifier/infer'), REQUEST);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const answer = res.body as V2Answer;
  assert.equal(answer.id, 'iris-1');
  const predict = answer.outputs.find((o) => o.name === 'predict');
  assert.ok(predict !== undefined, JSON.stringify(answer.outputs));
  assert.deepEqual(predict.data.flat(), classes(ROWS));
  assert.match(res.headers.get('seldon-puid') ?? '', /^[a-z0-9]{26}$/);
});

test('V2 binary_data inference gets the same answer as JSON', async (t) => {
  if (!servedOrSkip(t)) return;
  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'predict', shape: [2, 4], datatype: 'FP64', values: Float64Array.from(ROWS.flat()) }]);
  const res = await fetch(trantor.url('seldon', 'iris-v2', 'v2/models/classifier/infer'), {
    method: 'POST',
    body: encoded.body,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(encoded.headerLength) },
  });
  assert.equal(res.status, 200);
  const answer = decodeV2Response(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get('inference-header-content-length')));
  const index = answer.message.outputs.findIndex((o) => o.name === 'predict');
  assert.deepEqual(Array.from(answer.tensors[index]!.values as ArrayLike<number | bigint>, Number), classes(ROWS));
});

test('V2 model readiness and metadata come from the component; bad input is a 400 naming the field', async (t) => {
  if (!servedOrSkip(t)) return;
  assert.equal((await fetch(trantor.url('seldon', 'iris-v2', 'v2/models/classifier/ready'))).status, 200);
  assert.equal((await fetch(trantor.url('seldon', 'iris-v2', 'v2/health/ready'))).status, 200);
  const metadata = (await (await fetch(trantor.url('seldon', 'iris-v2', 'v2/models/classifier'))).json()) as { name: string };
  assert.equal(typeof metadata.name, 'string');
  const bad = await postJson(trantor.url('seldon', 'iris-v2', 'v2/models/classifier/infer'), { inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3] }] });
  assert.equal(bad.status, 400);
  assert.match((bad.body as { error: string }).error, /inputs\[0\]/);
});
