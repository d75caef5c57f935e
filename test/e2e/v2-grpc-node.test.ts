/**
 * A `protocol: v2` deployment whose TypeScript nodes have `endpoint.type: GRPC`, through
 * `trantor up`: the executor calls the Node host's inference.GRPCInferenceService, and the
 * gateway's V2 answers are the ones the same deployment gives when its nodes speak REST.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeV2Response, encodeV2Request } from '../../src/protocol/index.ts';
import { ROOT, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-v2-grpc-node-'));
const MANIFEST = join(dir, 'noop-chains.yaml');
const NOOP = join(ROOT, 'examples', 'noop-ts');

/** The same chain (a transformer, then a model) with its nodes over REST or over gRPC. */
function chain(name: string, endpoint: 'REST' | 'GRPC'): string {
  const container = (node: string, type: string): string =>
    `        - {name: ${node}, command: [trantor-node-microservice, NoopModel], args: [--service-type, ${type}], workingDir: ${JSON.stringify(NOOP)}}\n`;
  return `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}, namespace: seldon}
spec:
  protocol: v2
  predictors:
  - name: default
    graph: {name: pre, type: TRANSFORMER, endpoint: {type: ${endpoint}}, children: [{name: noop, type: MODEL, endpoint: {type: ${endpoint}}}]}
    componentSpecs:
    - spec:
        containers:
${container('pre', 'TRANSFORMER')}${container('noop', 'MODEL')}`;
}

before(async () => {
  writeFileSync(MANIFEST, `${chain('noop-rest', 'REST')}---\n${chain('noop-grpc', 'GRPC')}`);
  await trantor.up();
  trantor.applyAndWait(MANIFEST);
});

after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

test('V2 JSON inference, readiness and metadata answer the same over gRPC nodes as over REST nodes', async () => {
  const request = { id: 'g1', inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP64', data: [1.5, 2, 3, 4] }] };
  const rest = await postJson(trantor.url('seldon', 'noop-rest', 'v2/models/noop/infer'), request);
  const grpc = await postJson(trantor.url('seldon', 'noop-grpc', 'v2/models/noop/infer'), request);
  assert.equal(rest.status, 200, JSON.stringify(rest.body));
  assert.equal(grpc.status, 200, JSON.stringify(grpc.body));
  assert.deepEqual(grpc.body, rest.body);
  assert.deepEqual(grpc.body, { model_name: 'noop', id: 'g1', outputs: [{ name: 'predict', shape: [2, 2], datatype: 'FP64', data: [1.5, 2, 3, 4] }] });

  const ask = async (name: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(trantor.url('seldon', name, path));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  assert.deepEqual(await ask('noop-grpc', 'v2/models/pre/ready'), await ask('noop-rest', 'v2/models/pre/ready'));
  const metadata = await ask('noop-grpc', 'v2/models/noop');
  // proto3 cannot tell an empty `versions` from none: over gRPC an empty list arrives absent.
  assert.deepEqual({ ...metadata, body: { versions: [], ...metadata.body } }, await ask('noop-rest', 'v2/models/noop'));
});

test('binary tensors (FP32 in, FP64 out) and INT64 digits come back the same over gRPC nodes', async () => {
  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'x', shape: [1, 3], datatype: 'FP32', values: Float32Array.of(0.25, 0.5, 1) }]);
  const answers = [];
  for (const name of ['noop-rest', 'noop-grpc']) {
    const res = await fetch(trantor.url('seldon', name, 'v2/models/noop/infer'), { method: 'POST', body: encoded.body, headers: { 'inference-header-content-length': String(encoded.headerLength) } });
    assert.equal(res.status, 200, name);
    answers.push(decodeV2Response(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get('inference-header-content-length'))).tensors);
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.deepEqual(Array.from(answers[1]![0]!.values as Float64Array), [0.25, 0.5, 1]);

  const ints = '{"inputs":[{"name":"n","shape":[2],"datatype":"INT64","data":[9007199254740993,-5]}]}';
  const texts = [];
  for (const name of ['noop-rest', 'noop-grpc']) {
    const res = await fetch(trantor.url('seldon', name, 'v2/models/noop/infer'), { method: 'POST', body: ints, headers: { 'content-type': 'application/json' } });
    texts.push({ status: res.status, body: await res.text() });
  }
  assert.deepEqual(texts[1], texts[0]);
  assert.match(texts[1]!.body, /9007199254740993,-5/);
});

test("a bad request is the same 400 over gRPC nodes, naming the field", async () => {
  const bad = { inputs: [{ name: 'x', shape: [3], datatype: 'FP64', data: [1, 2] }] };
  const rest = await postJson(trantor.url('seldon', 'noop-rest', 'v2/models/noop/infer'), bad);
  const grpc = await postJson(trantor.url('seldon', 'noop-grpc', 'v2/models/noop/infer'), bad);
  assert.equal(grpc.status, 400);
  assert.deepEqual(grpc.body, rest.body);
  assert.match((grpc.body as { error: string }).error, /inputs\[0\]/);
});
