/**
 * `endpoint.type: GRPC` through `trantor up`: the executor calls such a node over Seldon's gRPC
 * component services at the replica's gRPC port, and the answer is the one the same model gives
 * over REST. What tells the two paths apart from outside is protobuf itself: an integer a double
 * cannot hold travels over REST (JSON keeps its digits) but is refused before a gRPC call (a
 * protobuf Value is a double), naming the node.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const FIXTURES = join(import.meta.dirname, 'fixtures', 'grpc-endpoint');

interface Reply {
  data?: { names?: string[]; ndarray?: unknown[][]; tensor?: { shape: number[]; values: number[] } };
  meta?: { tags?: Record<string, unknown>; requestPath?: Record<string, string> };
  status?: { code: number; info: string; reason: string };
}

before(async () => {
  await trantor.up();
  trantor.applyAndWait(join(FIXTURES, 'deployments.yaml'));
});
after(() => trantor.close());

/** A prediction of `data` (a string is sent as the whole body, as it is). */
async function predict(name: string, data: unknown): Promise<{ status: number; body: Reply }> {
  const res = await postJson(trantor.url('default', name), typeof data === 'string' ? data : { data });
  return { status: res.status, body: res.body as Reply };
}

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, -3.0, 0.125, 2.3],
];

test('a TypeScript model with endpoint.type GRPC answers what the same model answers over REST', async () => {
  for (const data of [{ ndarray: ROWS }, { names: ['a', 'b'], tensor: { shape: [2, 2], values: [1, 2.5, -4, 1e-3] } }]) {
    const rest = await predict('scale-rest', data);
    const grpc = await predict('scale-grpc', data);
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal(grpc.status, 200, JSON.stringify(grpc.body));
    assert.deepEqual(grpc.body.data, rest.body.data);
    assert.deepEqual(grpc.body.meta?.requestPath, rest.body.meta?.requestPath);
  }
  const { body } = await predict('scale-grpc', { ndarray: ROWS });
  assert.deepEqual(body.data?.ndarray, ROWS.map((row) => row.map((v) => v * 3)));
  // Calls over gRPC are timed into the client histogram labelled as Seldon's executor labels them:
  // the full RPC path, unary, and the code's Go name.
  const metrics = await (await fetch(`${trantor.gateway}/prometheus`)).text();
  const count = /seldon_api_executor_client_requests_seconds_count\{deployment_name="scale-grpc",[^}]*model_name="scale",[^}]*service="\/seldon\.protos\.Model\/Predict",method="unary",code="OK"\} (\d+)/.exec(metrics);
  assert.ok(count !== null && Number(count[1]) >= 3, `no client-call series for the gRPC node in:\n${metrics.split('\n').filter((l) => l.includes('client_requests_seconds_count')).join('\n')}`);
});

/** Sent as text (postJson passes a string as it is): JSON.stringify would round the integer. */
const BEYOND_DOUBLE = '{"data":{"ndarray":[[12345678901234567890]]}}';

test('the GRPC node is reached over protobuf: an integer no double holds is refused naming the node, while REST carries it', async () => {
  const rest = await predict('scale-rest', BEYOND_DOUBLE);
  assert.equal(rest.status, 200, JSON.stringify(rest.body));
  const grpc = await predict('scale-grpc', BEYOND_DOUBLE);
  assert.equal(grpc.status, 400, JSON.stringify(grpc.body));
  assert.match(grpc.body.status?.info ?? '', /node "scale" .*cannot travel as protobuf: data\.ndarray\[0\]\[0\]/);
});

test('a graph mixing a GRPC node and a REST node: spec.transport grpc is the default, a node may say REST', async () => {
  const { status, body } = await predict('mixed', { ndarray: ROWS });
  assert.equal(status, 200, JSON.stringify(body));
  // double (gRPC) then its child triple (REST).
  assert.deepEqual(body.data?.ndarray, ROWS.map((row) => row.map((v) => v * 2 * 3)));
  assert.deepEqual(Object.keys(body.meta?.requestPath ?? {}).sort(), ['double', 'triple']);
  // The root is the gRPC one: what protobuf cannot hold is refused there.
  const refused = await predict('mixed', BEYOND_DOUBLE);
  assert.equal(refused.status, 400);
  assert.match(refused.body.status?.info ?? '', /node "double" .*cannot travel as protobuf/);
});

test('a Python node with endpoint.type GRPC: answered over gRPC when its host serves it, else UNAVAILABLE saying the host serves no gRPC', async () => {
  const { status, body } = await predict('tagger-grpc', { ndarray: ROWS });
  if (status === 200) {
    assert.deepEqual(body.data?.ndarray, ROWS);
    assert.deepEqual(body.meta?.tags, { common: 0, grpc: 'yes' });
    return;
  }
  assert.equal(status, 503, JSON.stringify(body));
  assert.match(body.status?.info ?? '', /node "tagger" .* has endpoint\.type GRPC, but its host serves no gRPC on its gRPC port/);
});
