import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { JsonNumber, TrantorError, decodeV2Request, encodeV2Request, stringifyJson } from '../../protocol/index.ts';
import type { V2DecodedBody, V2InferenceRequest } from '../../protocol/index.ts';
import { PredictorExecutor } from '../executor.ts';
import { Metrics } from '../metrics.ts';
import type { RequestLogger } from '../request-logger.ts';
import { graphNode, predictorOf, StaticEndpoints, type StandIn } from '../testing.ts';
import { HttpTransport } from '../transport/http.ts';
import type { GraphNode } from '../../manifest/index.ts';
import { HttpV2Transport } from './transport.ts';
import { V2_MODEL_ERROR, v2StandIn } from './testing.ts';

let server: StandIn;
const endpoints = new StaticEndpoints();
let http: HttpTransport;

before(async () => {
  server = await v2StandIn();
  http = new HttpTransport({ endpoints, retryWindowMs: 50 });
});

after(async () => {
  await http.close();
  await server.close();
});

/** A v2 executor over the stand-in; every node of `graph` is served by it. */
function executorOf(graph: GraphNode, extra: { metrics?: Metrics; requestLogger?: RequestLogger; timeoutMs?: number } = {}): PredictorExecutor {
  const visit = (node: GraphNode): void => {
    if (node.implementation === undefined) endpoints.set(node.name, [server.replica()]);
    node.children.forEach(visit);
  };
  visit(graph);
  return new PredictorExecutor({
    namespace: 'seldon',
    deployment: 'chain',
    predictor: predictorOf('default', graph),
    transport: http,
    v2Transport: new HttpV2Transport(http),
    protocol: 'v2',
    ...extra,
  });
}

function jsonRequest(value: unknown): V2DecodedBody<V2InferenceRequest> {
  return decodeV2Request(new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)), undefined);
}

const ROW = { id: 'r1', inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP64', data: [1, 2] }] };

test('a chain runs input transformer, model, output transformer in order, each at its own model name with the puid', async () => {
  const graph = graphNode('plus-pre', { type: 'TRANSFORMER', children: [graphNode('double-m', { type: 'MODEL', children: [graphNode('plus-post', { type: 'OUTPUT_TRANSFORMER' })] })] });
  server.received.length = 0;
  const answer = await executorOf(graph).v2!.infer('plus-pre', undefined, jsonRequest(ROW), 'puid-1');
  // ((x + 1) * 2) + 1
  assert.deepEqual(answer.message.outputs[0]?.data, [5, 7]);
  assert.equal(answer.message.model_name, 'plus-post');
  assert.equal(answer.message.id, 'r1');
  assert.deepEqual(Array.from(answer.tensors[0]!.values as Float64Array), [5, 7]);
  assert.deepEqual(server.received.map((r) => `${r.method} ${r.path}`), ['POST /v2/models/plus-pre/infer', 'POST /v2/models/double-m/infer', 'POST /v2/models/plus-post/infer']);
  assert.deepEqual(server.received.map((r) => r.headers['seldon-puid']), ['puid-1', 'puid-1', 'puid-1']);
  assert.equal((JSON.parse(server.received[1]!.body) as V2InferenceRequest).inputs[0]?.name, 'x');
});

test("the request's outputs go to the node whose answer is the graph's, not to those before it", async () => {
  const graph = graphNode('plus-o', { type: 'TRANSFORMER', children: [graphNode('double-o')] });
  server.received.length = 0;
  const request = { ...ROW, outputs: [{ name: 'x', parameters: { binary_data: true } }] };
  await executorOf(graph).v2!.infer('double-o', undefined, jsonRequest(request), 'p');
  const bodies = server.received.map((r) => JSON.parse(r.body) as V2InferenceRequest);
  assert.deepEqual(bodies.map((b) => b.outputs), [undefined, [{ name: 'x' }]]);
  const post = graphNode('plus-a', { type: 'OUTPUT_TRANSFORMER', children: [graphNode('double-a')] });
  server.received.length = 0;
  await executorOf(post).v2!.infer('plus-a', undefined, jsonRequest(request), 'p');
  assert.deepEqual(server.received.map((r) => [r.path, (JSON.parse(r.body) as V2InferenceRequest).outputs]), [
    ['/v2/models/double-a/infer', undefined],
    ['/v2/models/plus-a/infer', [{ name: 'x' }]],
  ]);
});

test('INT64 beyond 2^53 reaches the component and comes back with every digit', async () => {
  const executor = executorOf(graphNode('same'));
  const answer = await executor.v2!.infer('same', undefined, jsonRequest('{"inputs":[{"name":"n","shape":[2],"datatype":"INT64","data":[9007199254740993,-9223372036854775808]}]}'), 'p');
  assert.equal(stringifyJson(answer.message.outputs[0]!.data), '[9007199254740993,-9223372036854775808]');
  assert.ok(answer.message.outputs[0]!.data![0] instanceof JsonNumber);
});

test('inputs that came as binary data go to the component as JSON data, with no binary parameters', async () => {
  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'x', shape: [2], datatype: 'FP32', values: Float32Array.of(1.5, -2) }]);
  server.received.length = 0;
  const answer = await executorOf(graphNode('double-bin')).v2!.infer('double-bin', undefined, decodeV2Request(encoded.body, encoded.headerLength), 'p');
  const sent: unknown = JSON.parse(server.received[0]!.body);
  assert.deepEqual(sent, { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1.5, -2] }] });
  assert.deepEqual(Array.from(answer.tensors[0]!.values as Float32Array), [3, -4]);
});

test("a component's V2 error keeps its status and message", async () => {
  const executor = executorOf(graphNode('plus-a', { type: 'TRANSFORMER', children: [graphNode('fail-b')] }));
  await assert.rejects(executor.v2!.infer('plus-a', undefined, jsonRequest(ROW), 'p'), (err: unknown) => {
    assert.ok(err instanceof TrantorError);
    assert.deepEqual([err.code, err.status, err.message], ['COMPONENT_FAILURE', 422, V2_MODEL_ERROR]);
    return true;
  });
});

test('the request time covers the chain: a component that does not answer is UPSTREAM_TIMEOUT naming it', async () => {
  const executor = executorOf(graphNode('hang-c'), { timeoutMs: 150 });
  await assert.rejects(executor.v2!.infer('hang-c', undefined, jsonRequest(ROW), 'p'), (err: unknown) => {
    assert.ok(err instanceof TrantorError);
    assert.equal(err.code, 'UPSTREAM_TIMEOUT');
    assert.match(err.message, /node "hang-c"/);
    return true;
  });
});

test('model readiness and metadata go to the named node; an unknown model is NOT_FOUND naming it; the server is ready when every node is', async () => {
  const executor = executorOf(graphNode('double-r', { children: [graphNode('down-s')] }));
  const v2 = executor.v2!;
  assert.equal(await v2.modelReady('double-r', undefined), true);
  assert.equal(await v2.modelReady('down-s', undefined), false);
  assert.equal(await v2.serverReady(), false);
  assert.equal(await executorOf(graphNode('double-q')).v2!.serverReady(), true);
  assert.equal((await v2.modelMetadata('double-r', '1')).name, 'double-r');
  await assert.rejects(v2.modelMetadata('down-s', undefined), (err: unknown) => err instanceof TrantorError && err.status === 503 && /not ready/.test(err.message));
  await assert.rejects(v2.modelReady('nope', undefined), (err: unknown) => err instanceof TrantorError && err.status === 404 && /no model named "nope".*double-r, down-s/.test(err.message));
});

test('SIMPLE_MODEL answers V2 in the executor itself; a seldon executor has no V2 face', async () => {
  const executor = executorOf(graphNode('simple', { implementation: 'SIMPLE_MODEL' }));
  const answer = await executor.v2!.infer('simple', undefined, jsonRequest(ROW), 'p');
  assert.deepEqual(answer.message.outputs, [{ name: 'predict', shape: [1, 3], datatype: 'FP64', data: [0.1, 0.9, 0.5] }]);
  assert.deepEqual(await executor.v2!.modelMetadata('simple', undefined), { name: 'simple', versions: [], platform: 'SIMPLE_MODEL', inputs: [], outputs: [] });
  const seldon = new PredictorExecutor({ namespace: 'n', deployment: 'd', predictor: predictorOf('p', graphNode('m', { implementation: 'SIMPLE_MODEL' })), transport: http });
  assert.equal(seldon.v2, undefined);
});

test('each V2 call is timed in the client histogram under its path and status', async () => {
  const metrics = new Metrics();
  const executor = executorOf(graphNode('double-t', { children: [graphNode('fail-t')] }), { metrics });
  await assert.rejects(executor.v2!.infer('double-t', undefined, jsonRequest(ROW), 'p'));
  await executor.v2!.modelReady('double-t', undefined);
  const text = await metrics.text();
  assert.match(text, /seldon_api_executor_client_requests_seconds_count\{[^}]*model_name="double-t"[^}]*service="\/v2\/models\/double-t\/infer",method="POST",code="200"\} 1/);
  assert.match(text, /seldon_api_executor_client_requests_seconds_count\{[^}]*service="\/v2\/models\/fail-t\/infer",method="POST",code="422"\} 1/);
  assert.match(text, /service="\/v2\/models\/double-t\/ready",method="GET",code="200"\} 1/);
});

test("a node's request logger gets its V2 request and response as JSON, unless the request skips logging", async () => {
  const logged: [string, string, unknown][] = [];
  const sink = { log: (_node: unknown, kind: string, puid: string, message: unknown) => logged.push([kind, puid, message]) } as unknown as RequestLogger;
  const executor = executorOf(graphNode('double-l', { logger: { url: 'http://127.0.0.1:1/log', mode: 'all' } }), { requestLogger: sink });
  await executor.v2!.infer('double-l', undefined, jsonRequest(ROW), 'puid-l');
  assert.deepEqual(logged.map(([kind, puid]) => [kind, puid]), [['request', 'puid-l'], ['response', 'puid-l']]);
  assert.deepEqual((logged[0]![2] as V2InferenceRequest).inputs[0]?.data, [1, 2]);
  assert.deepEqual((logged[1]![2] as { outputs: { data: unknown }[] }).outputs[0]?.data, [2, 4]);
  await executor.v2!.infer('double-l', undefined, jsonRequest(ROW), 'puid-l', { skipLogging: true });
  assert.equal(logged.length, 2);
});

test('BYTES that are not text go to the component as binary data; with binaryFromBytes set, large tensors do too', async () => {
  const bodies: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];
  const raw = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const answer = JSON.stringify({ model_name: 'raw', outputs: [{ name: 'y', shape: [1], datatype: 'INT32', data: [1] }] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  const rawPort = (raw.address() as AddressInfo).port;
  const rawEndpoints = new StaticEndpoints();
  rawEndpoints.set('raw', [{ id: 'raw', host: '127.0.0.1', port: rawPort }]);
  const rawHttp = new HttpTransport({ endpoints: rawEndpoints, retryWindowMs: 50 });
  try {
    const unit = { namespace: 'n', deployment: 'd', predictor: 'p', node: 'raw' };
    const options = { idempotent: true, timeoutMs: 2000 };
    const image = Uint8Array.of(0xff, 0xd8, 0x00, 0x01);
    const bytes = { message: { inputs: [{ name: 'img', shape: [1], datatype: 'BYTES' as const }] }, tensors: [{ name: 'img', shape: [1], datatype: 'BYTES' as const, values: [image] }] };
    await new HttpV2Transport(rawHttp).infer(unit, bytes, options);
    const headerLength = Number(bodies[0]!.headers['inference-header-content-length']);
    const sent = decodeV2Request(new Uint8Array(bodies[0]!.body), headerLength);
    assert.deepEqual(sent.tensors[0]!.values, [image]);

    const floats = jsonRequest({ inputs: [{ name: 'x', shape: [4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    await new HttpV2Transport(rawHttp).infer(unit, floats, options);
    assert.equal(bodies[1]!.headers['inference-header-content-length'], undefined);
    await new HttpV2Transport(rawHttp, { binaryFromBytes: 16 }).infer(unit, floats, options);
    const big = decodeV2Request(new Uint8Array(bodies[2]!.body), Number(bodies[2]!.headers['inference-header-content-length']));
    assert.deepEqual(Array.from(big.tensors[0]!.values as Float32Array), [1, 2, 3, 4]);
    assert.equal(big.message.inputs[0]!.parameters?.['binary_data_size'], 16);
  } finally {
    await rawHttp.close();
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  }
});
