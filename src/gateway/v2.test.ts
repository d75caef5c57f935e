import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HttpTransport, HttpV2Transport, Metrics, PredictorExecutor } from '../executor/index.ts';
import { StaticEndpoints, V2_MODEL_ERROR, graphNode, predictorOf, v2StandIn, type StandIn } from '../executor/testing.ts';
import type { GraphNode, Predictor } from '../manifest/index.ts';
import { decodeV2Response, encodeV2Request } from '../protocol/index.ts';
import { createGateway, type Gateway, type GatewayOptions } from './server.ts';
import { MapDeploymentTable } from './testing.ts';

let server: StandIn;
const endpoints = new StaticEndpoints();
let http: HttpTransport;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  server = await v2StandIn();
  http = new HttpTransport({ endpoints, retryWindowMs: 50 });
});

after(async () => {
  for (const c of cleanup.reverse()) await c();
  await http.close();
  await server.close();
});

function executorOf(predictor: Predictor, protocol: 'seldon' | 'v2', metrics?: Metrics): PredictorExecutor {
  const visit = (node: GraphNode): void => {
    if (node.implementation === undefined) endpoints.set(node.name, [server.replica()]);
    node.children.forEach(visit);
  };
  visit(predictor.graph);
  return new PredictorExecutor({
    namespace: 'seldon',
    deployment: 'iris',
    predictor,
    transport: http,
    v2Transport: new HttpV2Transport(http),
    protocol,
    ...(metrics === undefined ? {} : { metrics }),
  });
}

/** A gateway serving seldon/iris with `predictors`; returns the deployment's base URL. */
async function gatewayOf(predictors: Predictor[], protocol: 'seldon' | 'v2' = 'v2', options: Partial<GatewayOptions> = {}): Promise<{ gateway: Gateway; base: string }> {
  const table = new MapDeploymentTable();
  const executors = predictors.map((p) => executorOf(p, protocol, options.metrics));
  table.entries.set('seldon/iris', { namespace: 'seldon', name: 'iris', executors });
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, limits: { bodyLimit: 16 * 1024 * 1024, requestTimeout: 30_000 }, deployments: table, ...options });
  cleanup.push(() => gateway.close());
  return { gateway, base: `${gateway.url}/seldon/seldon/iris` };
}

const ROW = JSON.stringify({ id: 'q1', inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [[5.1, 3.5, 1.4, 0.2]] }] });

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; json: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
}

const postJson = (url: string, body: string): Promise<{ status: number; headers: Headers; json: unknown }> =>
  call(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'seldon-puid': 'puid-9' } });

test('V2 infer runs the chain and answers JSON with the puid; the versioned path is the same', async () => {
  const { base } = await gatewayOf([predictorOf('default', graphNode('plus-pre', { type: 'TRANSFORMER', children: [graphNode('double-m')] }))]);
  for (const path of ['/v2/models/double-m/infer', '/v2/models/double-m/versions/1/infer']) {
    const answer = await postJson(base + path, ROW);
    assert.equal(answer.status, 200, path);
    assert.equal(answer.headers.get('seldon-puid'), 'puid-9');
    assert.deepEqual(answer.json, { model_name: 'double-m', model_version: '1', id: 'q1', outputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [[12.2, 9, 4.8, 2.4]] }] });
  }
});

test('health, server metadata, model metadata and readiness answer at their V2 paths', async () => {
  const { base } = await gatewayOf([predictorOf('default', graphNode('double-h', { children: [graphNode('plus-h')] }))]);
  assert.deepEqual((await call(`${base}/v2/health/live`)).json, { live: true });
  assert.deepEqual(await call(`${base}/v2/health/ready`).then((a) => [a.status, a.json]), [200, { ready: true }]);
  const server = (await call(`${base}/v2`)).json as { name: string; extensions: string[] };
  assert.equal(server.name, 'trantor');
  assert.ok(server.extensions.includes('binary_tensor_data'));
  assert.equal(((await call(`${base}/v2/models/plus-h`)).json as { name: string }).name, 'plus-h');
  assert.equal(((await call(`${base}/v2/models/plus-h/versions/1`)).json as { name: string }).name, 'plus-h');
  assert.deepEqual((await call(`${base}/v2/models/double-h/ready`)).json, { name: 'double-h', ready: true });
  const missing = await call(`${base}/v2/models/nope/ready`);
  assert.equal(missing.status, 404);
  assert.match((missing.json as { error: string }).error, /no model named "nope".*double-h, plus-h/);
});

test('a graph with a node that is not ready: server and model ready answer 503 with a V2 error', async () => {
  const { base } = await gatewayOf([predictorOf('default', graphNode('double-n', { children: [graphNode('down-n')] }))]);
  const server = await call(`${base}/v2/health/ready`);
  assert.equal(server.status, 503);
  assert.match((server.json as { error: string }).error, /not every model of its graph answers ready/);
  assert.equal((await call(`${base}/v2/models/down-n/ready`)).status, 503);
  assert.equal((await call(`${base}/v2/models/double-n/ready`)).status, 200);
});

test('bad input is a 400 V2 error naming the field; a component error keeps its status and message', async () => {
  const { base } = await gatewayOf([predictorOf('default', graphNode('fail-e'))]);
  const bad = await postJson(`${base}/v2/models/fail-e/infer`, '{"inputs":[{"name":"x","shape":[2],"datatype":"FP33","data":[1,2]}]}');
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: string }).error, /inputs\[0\]\.datatype/);
  const notJson = await postJson(`${base}/v2/models/fail-e/infer`, '{"inputs": [');
  assert.equal(notJson.status, 400);
  assert.equal(typeof (notJson.json as { error: unknown }).error, 'string');
  const deep = await postJson(`${base}/v2/models/fail-e/infer`, `{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":${'['.repeat(100_000)}1${']'.repeat(100_000)}}]}`);
  assert.equal(deep.status, 400);
  assert.match((deep.json as { error: string }).error, /JSON nests deeper than 512 levels/);
  const failed = await postJson(`${base}/v2/models/fail-e/infer`, ROW);
  assert.deepEqual([failed.status, failed.json], [422, { error: V2_MODEL_ERROR }]);
  const wrongMethod = await call(`${base}/v2/models/fail-e/infer`);
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
});

test('a multi-MB binary tensor goes in and comes back as binary data when asked; over the body limit is 413', async () => {
  const { base } = await gatewayOf([predictorOf('default', graphNode('double-b'))]);
  const count = 1_000_000;
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = i / 4;
  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'x', shape: [1000, 1000], datatype: 'FP32', values }]);
  const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(encoded.headerLength) };
  const res = await fetch(`${base}/v2/models/double-b/infer`, { method: 'POST', body: encoded.body, headers });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const headerLength = Number(res.headers.get('inference-header-content-length'));
  const answer = decodeV2Response(new Uint8Array(await res.arrayBuffer()), headerLength);
  const doubled = answer.tensors[0]!.values as Float32Array;
  assert.equal(doubled.length, count);
  assert.equal(doubled[count - 1], ((count - 1) / 4) * 2);
  assert.equal(answer.message.outputs[0]!.parameters?.['binary_data_size'], count * 4);

  const small = await gatewayOf([predictorOf('default', graphNode('double-b'))], 'v2', { limits: { bodyLimit: 1024 * 1024 } });
  const refused = await fetch(`${small.base}/v2/models/double-b/infer`, { method: 'POST', body: encoded.body, headers });
  assert.equal(refused.status, 413);
  assert.equal(typeof ((await refused.json()) as { error: unknown }).error, 'string');
});

test('a Seldon deployment answers V2 paths 404 naming protocol: v2, and a V2 deployment the Seldon predictions path likewise', async () => {
  const seldon = await gatewayOf([predictorOf('default', graphNode('double-s'))], 'seldon');
  const v2Infer = await postJson(`${seldon.base}/v2/models/double-s/infer`, ROW);
  assert.equal(v2Infer.status, 404);
  assert.match((v2Infer.json as { error: string }).error, /protocol: seldon.*spec\.protocol: v2/);
  const v2 = await gatewayOf([predictorOf('default', graphNode('double-s'))], 'v2');
  const predictions = await postJson(`${v2.base}/api/v1.0/predictions`, '{"data":{"ndarray":[[1]]}}');
  assert.equal(predictions.status, 404);
  assert.match(JSON.stringify(predictions.json), /protocol: v2.*\/v2\/models\/<model>\/infer/);
});

test('traffic goes to the serving predictor and a copy to the shadow; the request is timed as predictions', async () => {
  const metrics = new Metrics();
  const { base } = await gatewayOf(
    [predictorOf('main', graphNode('double-t')), predictorOf('copy', graphNode('plus-shadow'), { shadow: true, traffic: 0 })],
    'v2',
    { metrics },
  );
  server.received.length = 0;
  const answer = await postJson(`${base}/v2/models/double-t/infer`, ROW);
  assert.equal((answer.json as { model_name: string }).model_name, 'double-t');
  // The shadow's call is on its way; wait for the stand-in to have it, without a fixed sleep.
  for (let turns = 0; !server.received.some((r) => r.path === '/v2/models/plus-shadow/infer'); turns++) {
    assert.ok(turns < 10_000, 'the shadow never got the request');
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(server.received.find((r) => r.path === '/v2/models/plus-shadow/infer')?.headers['seldon-puid'], 'puid-9');
  assert.match(await metrics.text(), /seldon_api_executor_server_requests_seconds_count\{[^}]*predictor_name="main"[^}]*service="predictions",method="POST",code="200"\} 1/);
});

test('in pod mode the V2 paths answer at the root too', async () => {
  const { gateway } = await gatewayOf([predictorOf('default', graphNode('double-p'))], 'v2', { pod: { namespace: 'seldon', name: 'iris', ready: () => Promise.resolve(undefined) } });
  const answer = await postJson(`${gateway.url}/v2/models/double-p/infer`, ROW);
  assert.equal(answer.status, 200);
  const missing = await call(`${gateway.url}/v2/models/nope`);
  assert.equal(missing.status, 404);
  assert.match((missing.json as { error: string }).error, /no model named "nope"/);
});
