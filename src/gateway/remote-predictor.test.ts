/**
 * The gateway in front of remote predictors: stand-in executors (small HTTP servers answering
 * Seldon's executor API at their root) behind a real gateway, as `trantor gateway` wires them.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { EXECUTOR_DEFAULTS, Metrics } from '../executor/index.ts';
import { answerJson, standIn, type ComponentBehaviour, type StandIn } from '../executor/testing.ts';
import { decodeV2Request, decodeV2Response, encodeV2Request, INFERENCE_HEADER_CONTENT_LENGTH } from '../protocol/index.ts';
import { createGateway } from './server.ts';
import { remoteDeployment, type RemoteDeployment, type RemotePredictorSpec } from './remote-predictor.ts';
import { MapDeploymentTable } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface StubState {
  ready: boolean;
}

/** An executor whose graph is the one node `node`: it echoes predictions with its meta, as `trantor executor` answers. */
function executor(node: string, state: StubState): ComponentBehaviour {
  return (request, res) => {
    const puid = String(request.headers['seldon-puid'] ?? 'none');
    if (request.path === '/ready') return state.ready ? answerJson(res, 200, { status: 'ready' }) : answerJson(res, 503, { status: { code: 503, info: `not every component answers yet: ${node}`, reason: 'MICROSERVICE_UNAVAILABLE', status: 'FAILURE' } });
    if (request.path === '/api/v1.0/predictions') {
      const message = JSON.parse(request.body) as { data?: unknown; strData?: string };
      if (message.strData === 'fail') return answerJson(res, 422, { status: { code: 422, info: 'the model refused it', reason: 'MODEL_SAYS_NO', status: 'FAILURE' } });
      return answerJson(res, 200, { ...message, meta: { puid, requestPath: { [node]: `example/${node}` } } });
    }
    if (request.path === '/api/v1.0/feedback') return answerJson(res, 200, { data: { ndarray: [] }, meta: { puid, requestPath: { [node]: `example/${node}` } } });
    if (request.path === '/api/v1.0/metadata/classifier') return answerJson(res, 200, { name: node, versions: ['v1'] });
    if (request.path === '/api/v1.0/health/status') return answerJson(res, 200, { status: { status: 'SUCCESS' }, node });
    answerJson(res, 404, { status: { code: 404, info: `no such path: ${request.path}`, reason: 'NOT_FOUND', status: 'FAILURE' } });
  };
}

interface Setup {
  base: string;
  root: string;
  stubs: Record<string, StandIn>;
  states: Record<string, StubState>;
  deployment: RemoteDeployment;
}

async function setup(predictors: { name: string; traffic: number; shadow?: boolean; nodes?: string[]; node: string }[], metrics?: Metrics): Promise<Setup> {
  const stubs: Record<string, StandIn> = {};
  const states: Record<string, StubState> = {};
  const specs: RemotePredictorSpec[] = [];
  for (const p of predictors) {
    states[p.name] = { ready: true };
    const stub = await standIn(executor(p.node, states[p.name]!));
    cleanup.push(() => stub.close());
    stubs[p.name] = stub;
    specs.push({ name: p.name, traffic: p.traffic, shadow: p.shadow ?? false, url: new URL(`http://127.0.0.1:${stub.port}`), nodes: p.nodes ?? [], protocol: 'seldon' });
  }
  const deployment = remoteDeployment({ namespace: 'models', name: 'pair', predictors: specs, executor: { ...EXECUTOR_DEFAULTS, retryWindow: 300 }, timeoutMs: 5_000, ...(metrics === undefined ? {} : { metrics }) });
  cleanup.push(() => deployment.close());
  const table = new MapDeploymentTable();
  table.entries.set('models/pair', deployment.entry);
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, limits: { bodyLimit: 1024 }, deployments: table, ready: () => deployment.notReady(1_000), ...(metrics === undefined ? {} : { metrics }) });
  cleanup.push(() => gateway.close());
  return { base: `${gateway.url}/seldon/models/pair`, root: gateway.url, stubs, states, deployment };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

async function post(url: string, body: string, headers: Record<string, string> = JSON_HEADERS): Promise<{ status: number; puid: string | null; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, puid: res.headers.get('seldon-puid'), json: JSON.parse(await res.text()) as Record<string, unknown> };
}

test("a prediction goes to the predictor's executor with the request's puid, and its answer comes back whole", async () => {
  const { base, stubs } = await setup([{ name: 'main', traffic: 100, node: 'classifier' }]);
  const answer = await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[[1,2]]}}', { ...JSON_HEADERS, 'seldon-puid': 'given-puid-1' });
  assert.equal(answer.status, 200);
  assert.equal(answer.puid, 'given-puid-1');
  assert.deepEqual(answer.json, { data: { ndarray: [[1, 2]] }, meta: { puid: 'given-puid-1', requestPath: { classifier: 'example/classifier' } } });
  const received = stubs['main']!.received.find((r) => r.path === '/api/v1.0/predictions')!;
  assert.equal(received.method, 'POST');
  assert.equal(received.headers['content-type'], 'application/json');
});

test("an executor's failure is answered with its own status, reason and text", async () => {
  const { base } = await setup([{ name: 'main', traffic: 100, node: 'classifier' }]);
  const answer = await post(`${base}/api/v1.0/predictions`, '{"strData":"fail"}');
  assert.equal(answer.status, 422);
  assert.deepEqual(answer.json, { status: { code: 422, info: 'the model refused it', reason: 'MODEL_SAYS_NO', status: 'FAILURE' } });
});

test("the gateway's own checks come first: a body past its limit is its 413, and the executor never sees it", async () => {
  const { base, stubs } = await setup([{ name: 'main', traffic: 100, node: 'classifier' }]);
  const answer = await post(`${base}/api/v1.0/predictions`, JSON.stringify({ strData: 'x'.repeat(2048) }));
  assert.equal(answer.status, 413);
  assert.equal((answer.json['status'] as { reason: string }).reason, 'PAYLOAD_TOO_LARGE');
  assert.equal(stubs['main']!.received.length, 0);
});

test('a shadow gets a copy of each prediction, with the same puid; its answer is not the one returned', async () => {
  const { base, stubs } = await setup([
    { name: 'main', traffic: 100, node: 'classifier' },
    { name: 'mirror', traffic: 0, shadow: true, node: 'candidate' },
  ]);
  const answer = await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[[3]]}}', { ...JSON_HEADERS, 'seldon-puid': 'shadowed-1' });
  assert.deepEqual(answer.json['meta'], { puid: 'shadowed-1', requestPath: { classifier: 'example/classifier' } });
  const deadline = Date.now() + 10_000;
  while (!stubs['mirror']!.received.some((r) => r.path === '/api/v1.0/predictions')) {
    assert.ok(Date.now() < deadline, 'the shadow got no copy');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const copy = stubs['mirror']!.received.find((r) => r.path === '/api/v1.0/predictions')!;
  assert.equal(copy.headers['seldon-puid'], 'shadowed-1');
  assert.deepEqual(JSON.parse(copy.body), { data: { ndarray: [[3]] } });
});

test("/ready answers 503 naming each non-shadow predictor whose executor is not ready, 200 once all are", async () => {
  const { root, states, stubs } = await setup([
    { name: 'main', traffic: 75, node: 'a' },
    { name: 'canary', traffic: 25, node: 'b' },
    { name: 'mirror', traffic: 0, shadow: true, node: 'c' },
  ]);
  states['mirror']!.ready = false;
  assert.equal((await fetch(`${root}/ready`)).status, 200, 'a shadow does not hold readiness back');
  states['canary']!.ready = false;
  const waiting = await fetch(`${root}/ready`);
  assert.equal(waiting.status, 503);
  const text = await waiting.text();
  assert.match(text, /canary \(HTTP 503: not every component answers yet: b\)/);
  assert.doesNotMatch(text, /main|mirror/);
  states['canary']!.ready = true;
  await stubs['main']!.close();
  const gone = await fetch(`${root}/ready`);
  assert.equal(gone.status, 503);
  assert.match(await gone.text(), /main \(/);
  assert.equal((await fetch(`${root}/live`)).status, 200);
});

test('feedback goes to the predictor whose graph made the prediction, when the nodes are known', async () => {
  const { base, stubs } = await setup([
    { name: 'main', traffic: 50, node: 'a', nodes: ['a'] },
    { name: 'canary', traffic: 50, node: 'b', nodes: ['b'] },
  ]);
  for (let i = 0; i < 6; i++) {
    const answer = await post(`${base}/api/v1.0/feedback`, JSON.stringify({ response: { meta: { requestPath: { b: 'example/b' } } }, reward: 1 }));
    assert.equal(answer.status, 200);
  }
  assert.equal(stubs['canary']!.received.filter((r) => r.path === '/api/v1.0/feedback').length, 6);
  assert.equal(stubs['main']!.received.length, 0);
});

test("metadata and health are the primary predictor's executor's answers; skip-logging is passed on", async () => {
  const { base, stubs } = await setup([{ name: 'main', traffic: 100, node: 'classifier' }]);
  assert.deepEqual(await (await fetch(`${base}/api/v1.0/metadata/classifier`)).json(), { name: 'classifier', versions: ['v1'] });
  assert.deepEqual(await (await fetch(`${base}/api/v1.0/health/status`)).json(), { status: { status: 'SUCCESS' }, node: 'classifier' });
  const missing = await fetch(`${base}/api/v1.0/status/nothing`);
  assert.equal(missing.status, 404);
  await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[1]}}', { ...JSON_HEADERS, 'seldon-skip-logging': 'true' });
  assert.equal(stubs['main']!.received.at(-1)!.headers['seldon-skip-logging'], 'true');
});

test('an executor that is not there is a 503 naming the predictor', async () => {
  const { base, stubs } = await setup([{ name: 'main', traffic: 100, node: 'classifier' }]);
  await stubs['main']!.close();
  const answer = await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[1]}}');
  assert.equal(answer.status, 503);
  assert.match(String((answer.json['status'] as { info: string }).info), /predictor main of models\/pair/);
});

test("requests are timed under Seldon's metric name, per predictor", async () => {
  const metrics = new Metrics();
  const { base, root } = await setup([{ name: 'main', traffic: 100, node: 'classifier' }], metrics);
  await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[1]}}');
  const text = await (await fetch(`${root}/prometheus`)).text();
  assert.match(text, /seldon_api_executor_server_requests_seconds_count\{deployment_name="pair",predictor_name="main",[^}]*service="predictions"[^}]*\} 1/);
});

// ---- V2: a protocol: v2 predictor's executor, as the gateway forwards to it ----

interface RawRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A stand-in `trantor executor` of a protocol: v2 predictor: records each request's raw bytes, answers with `answer`. */
async function v2Executor(answer: (request: RawRequest, res: ServerResponse) => void): Promise<{ url: URL; received: RawRequest[] }> {
  const received: RawRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      received.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`), received };
}

/** The executor's V2 answers: `double` doubles FP32 inputs; `refuse` is the executor's 422; `hang` never answers. */
function v2Answers(request: RawRequest, res: ServerResponse): void {
  if (request.path === '/v2/health/ready') return answerJson(res, 200, { ready: true });
  if (request.path === '/v2/models/double/ready' || request.path === '/v2/models/double/versions/7/ready') return answerJson(res, 200, { name: 'double', ready: true });
  if (request.path === '/v2/models/loading/ready') return answerJson(res, 503, { error: 'model "loading" of SeldonDeployment models/pair is not ready' });
  if (request.path === '/v2/models/double') return answerJson(res, 200, { name: 'double', versions: ['7'], platform: 'trantor-test', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [] });
  if (request.path.startsWith('/v2/models/hang/')) return;
  if (request.path.startsWith('/v2/models/refuse/')) return answerJson(res, 422, { error: 'input rows must have 4 columns' });
  if (request.path === '/v2/models/double/infer' || request.path === '/v2/models/double/versions/7/infer') {
    const length = request.headers[INFERENCE_HEADER_CONTENT_LENGTH];
    const decoded = decodeV2Request(request.body, length === undefined ? undefined : Number(length));
    const outputs = decoded.tensors.map((t) => ({ name: t.name, shape: t.shape, datatype: 'FP32', data: [...(t.values as Float32Array)].map((v) => v * 2) }));
    return answerJson(res, 200, { model_name: 'double', model_version: '7', id: decoded.message.id, outputs });
  }
  answerJson(res, 404, { error: `no model at ${request.path}` });
}

async function v2Setup(requestTimeout = 5_000): Promise<{ base: string; received: RawRequest[]; shadowReceived: RawRequest[] }> {
  const executorStandIn = await v2Executor(v2Answers);
  const shadowStandIn = await v2Executor(v2Answers);
  const specs: RemotePredictorSpec[] = [
    { name: 'main', traffic: 100, shadow: false, url: executorStandIn.url, nodes: ['double'], protocol: 'v2' },
    { name: 'mirror', traffic: 0, shadow: true, url: shadowStandIn.url, nodes: ['double'], protocol: 'v2' },
  ];
  const deployment = remoteDeployment({ namespace: 'models', name: 'pair', predictors: specs, executor: { ...EXECUTOR_DEFAULTS, retryWindow: 300 }, timeoutMs: requestTimeout });
  cleanup.push(() => deployment.close());
  const table = new MapDeploymentTable();
  table.entries.set('models/pair', deployment.entry);
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, limits: { bodyLimit: 1 << 20, requestTimeout }, deployments: table });
  cleanup.push(() => gateway.close());
  return { base: `${gateway.url}/seldon/models/pair`, received: executorStandIn.received, shadowReceived: shadowStandIn.received };
}

test('V2: an inference goes to the same path at the executor, JSON inputs as JSON with their text, the puid and skip-logging passed on', async () => {
  const { base, received } = await v2Setup();
  const body = '{"id":"r1","inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[0.1,1.5]}]}';
  for (const path of ['/v2/models/double/infer', '/v2/models/double/versions/7/infer']) {
    const res = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'seldon-puid': 'v2-remote-1', 'seldon-skip-logging': 'true' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('seldon-puid'), 'v2-remote-1');
    const answer = (await res.json()) as { id: string; model_version: string; outputs: { name: string; data: number[] }[] };
    assert.equal(answer.id, 'r1');
    assert.equal(answer.outputs[0]!.name, 'x');
    assert.equal(answer.outputs[0]!.data[1], 3);
    const sent = received.at(-1)!;
    assert.equal(sent.path, path);
    assert.equal(sent.headers['seldon-puid'], 'v2-remote-1');
    assert.equal(sent.headers['seldon-skip-logging'], 'true');
    assert.equal(sent.headers[INFERENCE_HEADER_CONTENT_LENGTH], undefined);
    assert.equal(sent.body.toString(), body, 'the JSON request goes on as it came');
  }
});

test("V2: a shadow predictor's executor gets a copy of each inference, with the same puid", async () => {
  const { base, shadowReceived } = await v2Setup();
  const res = await fetch(`${base}/v2/models/double/infer`, { method: 'POST', body: '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[2]}]}', headers: { 'seldon-puid': 'v2-shadowed' } });
  assert.equal(res.status, 200);
  const deadline = Date.now() + 10_000;
  while (!shadowReceived.some((r) => r.path === '/v2/models/double/infer')) {
    assert.ok(Date.now() < deadline, 'the shadow got no copy');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(shadowReceived.find((r) => r.path === '/v2/models/double/infer')!.headers['seldon-puid'], 'v2-shadowed');
});

test('V2: binary inputs stay binary to the executor; binary outputs asked of the gateway come back binary', async () => {
  const { base, received } = await v2Setup();
  const { body, headerLength } = encodeV2Request({ id: 'b1', parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'FP32', shape: [3], values: new Float32Array([0.5, 1, 1e30]) }]);
  const res = await fetch(`${base}/v2/models/double/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(headerLength) } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const length = res.headers.get('inference-header-content-length');
  assert.ok(length !== null, 'the answer has a binary part');
  const answer = decodeV2Response(new Uint8Array(await res.arrayBuffer()), Number(length));
  assert.deepEqual([...(answer.tensors[0]!.values as Float32Array)], [1, 2, 2e30].map(Math.fround));
  const sent = received.at(-1)!;
  assert.ok(sent.headers[INFERENCE_HEADER_CONTENT_LENGTH] !== undefined, 'the input went as binary data');
  const forwarded = decodeV2Request(sent.body, Number(sent.headers[INFERENCE_HEADER_CONTENT_LENGTH]));
  assert.deepEqual([...(forwarded.tensors[0]!.values as Float32Array)], [0.5, 1, Math.fround(1e30)]);
  // The executor is asked for JSON: the gateway writes the binary answer itself.
  assert.equal(forwarded.message.parameters?.['binary_data_output'], undefined);
});

test("V2: the executor's failure keeps its status and message; a call past the time limit is a 504", async () => {
  const { base } = await v2Setup(400);
  const inference = '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}';
  const refused = await fetch(`${base}/v2/models/refuse/infer`, { method: 'POST', body: inference });
  assert.equal(refused.status, 422);
  assert.deepEqual(await refused.json(), { error: 'input rows must have 4 columns' });
  const missing = await fetch(`${base}/v2/models/nothing`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'no model at /v2/models/nothing' });
  const slow = await fetch(`${base}/v2/models/hang/infer`, { method: 'POST', body: inference });
  assert.equal(slow.status, 504);
  // The time left when the call went out: the 400 ms limit less what the request took to get there.
  const waited = /\(predictor main of models\/pair\) did not answer within (\d+) ms/.exec(((await slow.json()) as { error: string }).error);
  assert.ok(waited !== null && Number(waited[1]) <= 400 && Number(waited[1]) > 200, `a 504 naming the time it waited: ${waited?.[0]}`);
});

test('V2: readiness and metadata are the executor\'s; a model not ready is a 503', async () => {
  const { base, received } = await v2Setup();
  assert.deepEqual(await (await fetch(`${base}/v2/health/ready`)).json(), { ready: true });
  assert.equal(received.at(-1)!.path, '/v2/health/ready');
  assert.deepEqual(await (await fetch(`${base}/v2/models/double/ready`)).json(), { name: 'double', ready: true });
  assert.equal((await fetch(`${base}/v2/models/double/versions/7/ready`)).status, 200);
  assert.equal(received.at(-1)!.path, '/v2/models/double/versions/7/ready');
  const loading = await fetch(`${base}/v2/models/loading/ready`);
  assert.equal(loading.status, 503);
  assert.match(((await loading.json()) as { error: string }).error, /model "loading" of SeldonDeployment models\/pair is not ready/);
  assert.equal((await fetch(`${base}/v2/models/nothing/ready`)).status, 404);
  const metadata = (await (await fetch(`${base}/v2/models/double`)).json()) as { name: string; versions: string[] };
  assert.deepEqual([metadata.name, metadata.versions], ['double', ['7']]);
  // A V2 deployment's Seldon paths are refused by the gateway: the executor never sees them.
  const before = received.length;
  assert.equal((await fetch(`${base}/api/v1.0/predictions`, { method: 'POST', body: '{"data":{"ndarray":[1]}}', headers: JSON_HEADERS })).status, 404);
  assert.equal(received.length, before);
});
