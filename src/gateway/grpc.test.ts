import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';
import { HttpTransport, InProcessTransport, Metrics, PredictorExecutor } from '../executor/index.ts';
import type { CallLimits, LocalComponent } from '../executor/index.ts';
import { graphNode, predictorOf } from '../executor/testing.ts';
import { decodeModelInferResponse, decodeModelMetadataResponse, decodeServerMetadataResponse, encodeModelInferRequest, fromProto, toProto, v2MessageType } from '../protocol/index.ts';
import type { Feedback, SeldonMessage, SeldonProtoKind, SeldonProtoMessages, V2DecodedBody, V2InferenceRequest, V2InferenceResponse, V2ModelMetadata } from '../protocol/index.ts';
import type { Predictor } from '../manifest/index.ts';
import { healthService } from '../grpc/index.ts';
import { askReflection } from '../grpc/testing.ts';
import { createGateway, type Gateway, type GatewayOptions } from './server.ts';
import { MapDeploymentTable } from './testing.ts';
import type { GatewayPredictor, V2Predictor } from './predictor.ts';
import type { RequestTap, TappedRequest } from './request-tap.ts';

// ---- the deployments: real executors over in-process components, and a real V2 predictor ----

/** Calls each node got, by node name. */
const calls = new Map<string, { method: string; payload: unknown }[]>();
/** Each node's answer to a predict; `doubler` doubles its ndarray, the split nodes name themselves. */
const NODES: Record<string, (message: SeldonMessage) => unknown> = {
  doubler: (message) => ({ data: { names: ['t'], ndarray: (message.data?.ndarray as number[][]).map((row) => row.map((x) => x * 2)) } }),
  echo: (message) => message,
  a: () => ({ strData: 'a' }),
  b: () => ({ strData: 'b' }),
  shadow: () => ({ strData: 'shadow' }),
};
const NODE_METADATA = { name: 'doubler', versions: ['v1'], platform: 'trantor', inputs: [{ messagetype: 'ndarray', schema: { names: ['x'], shape: [4] } }], outputs: [{ messagetype: 'ndarray', schema: { shape: [4] } }] };

function component(node: string): LocalComponent {
  return {
    handle(method, payload) {
      (calls.get(node) ?? calls.set(node, []).get(node)!).push({ method, payload });
      if (method === 'predict') return Promise.resolve({ status: 200, body: NODES[node]!(payload as SeldonMessage) });
      if (method === 'sendFeedback') return Promise.resolve({ status: 200, body: { data: { ndarray: [] } } });
      if (method === 'metadata') return Promise.resolve({ status: 200, body: { ...NODE_METADATA, name: node } });
      return Promise.resolve({ status: 200, body: { status: 'ok' } });
    },
  };
}

/** Sums each row of its FP32 input `x` ([n, 4]) into `sum` ([n, 1]); echoes an INT64 input `big` as it came. */
class SumPredictor implements V2Predictor {
  readonly seen: { model: string; version: string | undefined; puid: string; limits: CallLimits | undefined }[] = [];

  infer(model: string, version: string | undefined, request: V2DecodedBody<V2InferenceRequest>, puid: string, limits?: CallLimits): Promise<V2DecodedBody<V2InferenceResponse>> {
    this.seen.push({ model, version, puid, limits });
    const x = request.tensors.find((t) => t.name === 'x');
    if (x === undefined || x.datatype !== 'FP32') return Promise.reject(new Error('inputs: expected an FP32 input named x'));
    const rows = x.shape[0]!;
    const width = x.shape[1]!;
    const values = x.values as Float32Array;
    const sums = new Float32Array(rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) sums[r]! += values[r * width + c]!;
    const outputs = [{ name: 'sum', datatype: 'FP32' as const, shape: [rows, 1], values: sums }];
    const big = request.tensors.find((t) => t.name === 'big');
    if (big !== undefined) outputs.push({ ...big, name: 'big' } as never);
    const message: V2InferenceResponse = { model_name: model, id: request.message.id ?? '', outputs: outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })) };
    if (version !== undefined) message.model_version = version;
    return Promise.resolve({ message, tensors: outputs });
  }

  modelReady(model: string): Promise<boolean> {
    return Promise.resolve(model === 'sum');
  }

  modelMetadata(model: string): Promise<V2ModelMetadata> {
    if (model !== 'sum') return Promise.reject(new Error(`no model named ${model}`));
    return Promise.resolve({ name: 'sum', versions: ['1'], platform: 'trantor', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1, 1] }] });
  }

  serverReady(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** A V2 deployment's predictor: the gateway's contract with a predictor that has a V2 face. */
function v2Predictor(v2: V2Predictor): GatewayPredictor {
  const seldonOnly = (): Promise<never> => Promise.reject(new Error('this predictor speaks V2'));
  return {
    name: 'default', traffic: 100, shadow: false, metrics: undefined, nodeNames: ['sum'], plan: { nodes: new Set(['sum']) },
    protocol: 'v2', v2, predict: seldonOnly, feedback: seldonOnly, metadata: seldonOnly, health: seldonOnly, status: seldonOnly,
  };
}

/** Records the limits each predict was given, and answers at once. */
function limitsRecorder(seen: (CallLimits | undefined)[]): GatewayPredictor {
  return {
    ...v2Predictor(new SumPredictor()),
    protocol: 'seldon', v2: undefined,
    predict: (message, _puid, limits) => {
      seen.push(limits);
      return Promise.resolve(message);
    },
  };
}

const metrics = new Metrics();
const transport = new InProcessTransport({ componentOf: (unit) => component(unit.node) }, new HttpTransport({ endpoints: { replicasOf: () => [] }, retryWindowMs: 50 }));
const executorFor = (deployment: string, predictor: Predictor): PredictorExecutor => new PredictorExecutor({ namespace: 'seldon', deployment, predictor, transport, metrics });
const sumPredictor = new SumPredictor();
const seenLimits: (CallLimits | undefined)[] = [];
const table = new MapDeploymentTable();
table.entries.set('seldon/iris', { namespace: 'seldon', name: 'iris', executors: [executorFor('iris', predictorOf('default', graphNode('doubler'), { labels: { version: 'v1' } }))] });
table.entries.set('seldon/ab', {
  namespace: 'seldon',
  name: 'ab',
  executors: [
    executorFor('ab', predictorOf('pa', graphNode('a'), { traffic: 50 })),
    executorFor('ab', predictorOf('pb', graphNode('b'), { traffic: 50 })),
    executorFor('ab', predictorOf('ps', graphNode('shadow'), { shadow: true })),
  ],
});
table.entries.set('default/echo', { namespace: 'default', name: 'echo', executors: [executorFor('echo', predictorOf('default', graphNode('echo')))] });
table.entries.set('seldon/sum', { namespace: 'seldon', name: 'sum', executors: [v2Predictor(sumPredictor)] });
table.entries.set('seldon/faceless', { namespace: 'seldon', name: 'faceless', executors: [{ ...v2Predictor(sumPredictor), v2: undefined }] });
table.entries.set('seldon/limits', { namespace: 'seldon', name: 'limits', executors: [limitsRecorder(seenLimits)] });

const BODY_LIMIT = 64 * 1024;
const cleanup: (() => Promise<void> | void)[] = [];
let gateway: Gateway;
let client: grpc.Client;

async function startGateway(options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  const started = await createGateway({ host: '127.0.0.1', port: 0, limits: { bodyLimit: BODY_LIMIT, requestTimeout: 30_000 }, deployments: table, metrics, ...options });
  cleanup.push(() => started.close());
  return started;
}

function clientOf(address: string, options: grpc.ChannelOptions = {}): grpc.Client {
  const made = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, ...options });
  cleanup.push(() => made.close());
  return made;
}

before(async () => {
  gateway = await startGateway();
  client = clientOf(`127.0.0.1:${gateway.port}`);
});

after(async () => {
  for (const c of cleanup.reverse()) await c();
  await transport.close();
});

// ---- calling ----

interface Answer<T> {
  value: T;
  /** The answer's initial metadata. */
  headers: grpc.Metadata;
}

function metadataOf(values: Record<string, string>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(values)) metadata.set(key, value);
  return metadata;
}

/** A unary call with raw bytes both ways; rejects with the ServiceError (its initial metadata on `.headers`). */
function callBytes(path: string, request: Uint8Array, metadata: Record<string, string>, options: grpc.CallOptions = {}, via: grpc.Client = client): Promise<Answer<Buffer>> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    const call = via.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(request), metadataOf(metadata), options, (err, value) => {
      if (err !== null) reject(Object.assign(err, { headers }));
      else resolve({ value: value!, headers });
    });
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
  });
}

const SELDON = { seldon: 'iris', namespace: 'seldon' };

async function seldonCall<I extends SeldonProtoKind, O extends SeldonProtoKind>(method: string, input: I, value: SeldonProtoMessages[I], output: O, metadata: Record<string, string> = SELDON, options: grpc.CallOptions = {}, via?: grpc.Client): Promise<Answer<SeldonProtoMessages[O]>> {
  const answer = await callBytes(`/seldon.protos.Seldon/${method}`, toProto(input, value), metadata, options, via);
  return { value: fromProto(output, answer.value), headers: answer.headers };
}

const predict = (message: SeldonMessage, metadata: Record<string, string> = SELDON, options: grpc.CallOptions = {}, via?: grpc.Client): Promise<Answer<SeldonMessage>> =>
  seldonCall('Predict', 'SeldonMessage', message, 'SeldonMessage', metadata, options, via);

async function failsWith(work: Promise<unknown>, code: grpc.status, details: RegExp | string): Promise<grpc.ServiceError & { headers: grpc.Metadata }> {
  try {
    await work;
  } catch (err) {
    const failure = err as grpc.ServiceError & { headers: grpc.Metadata };
    assert.equal(grpc.status[failure.code], grpc.status[code], failure.details);
    if (typeof details === 'string') assert.equal(failure.details, details);
    else assert.match(failure.details, details);
    return failure;
  }
  assert.fail(`expected ${grpc.status[code]}`);
}

async function rest(path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${gateway.url}${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: await res.json() };
}

// ---- Seldon's service ----

test('Predict on the HTTP port answers what REST answers, with the puid sent back as seldon-puid', async () => {
  const message = { data: { ndarray: [[1, 2.5, 3, 4]] } };
  const { value, headers } = await predict(message, { ...SELDON, 'seldon-puid': 'my-puid-1' });
  assert.deepEqual(value.data, { names: ['t'], ndarray: [[2, 5, 6, 8]] });
  assert.equal(value.meta?.puid, 'my-puid-1');
  assert.deepEqual(headers.get('seldon-puid'), ['my-puid-1']);
  const viaRest = await rest('/seldon/seldon/iris/api/v1.0/predictions', message);
  assert.equal(viaRest.status, 200);
  const { meta: _restMeta, ...restRest } = viaRest.json as SeldonMessage;
  const { meta: _grpcMeta, ...grpcRest } = value;
  assert.deepEqual(grpcRest, restRest);
});

test('the puid comes from meta.puid without metadata, is generated without either, and a bad one is INVALID_ARGUMENT', async () => {
  const fromMeta = await predict({ data: { ndarray: [[1]] }, meta: { puid: 'from-meta' } });
  assert.deepEqual(fromMeta.headers.get('seldon-puid'), ['from-meta']);
  const generated = await predict({ data: { ndarray: [[1]] } });
  const puid = generated.headers.get('seldon-puid')[0];
  assert.equal(typeof puid, 'string');
  assert.equal(generated.value.meta?.puid, puid);
  const failure = await failsWith(predict({ data: { ndarray: [[1]] } }, { ...SELDON, 'seldon-puid': 'has a space' }), grpc.status.INVALID_ARGUMENT, 'seldon-puid metadata: expected 1-128 visible ASCII characters');
  assert.equal(failure.headers.get('seldon-puid').length, 1, 'a failure carries a puid too');
});

test('routing: `seldon` and `namespace` metadata, namespace defaulting to default; NOT_FOUND and INVALID_ARGUMENT say what is wrong', async () => {
  assert.equal((await predict({ strData: 'hi' }, { seldon: 'echo' })).value.strData, 'hi');
  const restMissing = await rest('/seldon/seldon/nobody/api/v1.0/predictions', { strData: 'x' });
  const restInfo = (restMissing.json as { status: { info: string } }).status.info;
  await failsWith(predict({ strData: 'x' }, { seldon: 'nobody', namespace: 'seldon' }), grpc.status.NOT_FOUND, restInfo);
  await failsWith(predict({ strData: 'x' }, {}), grpc.status.INVALID_ARGUMENT, /send the SeldonDeployment's name as `seldon` metadata/);
});

test('a message REST refuses is refused with the same message', async () => {
  for (const refused of [{ data: { tensor: { shape: [2, 2], values: [1, 2, 3] } } }, { strData: 'x', meta: { puid: 'has space' } }]) {
    const viaRest = await rest('/seldon/default/echo/api/v1.0/predictions', refused);
    assert.equal(viaRest.status, 400, JSON.stringify(viaRest.json));
    await failsWith(predict(refused, { seldon: 'echo' }), grpc.status.INVALID_ARGUMENT, (viaRest.json as { status: { info: string } }).status.info);
  }
  await failsWith(callBytes('/seldon.protos.Seldon/Predict', Buffer.from([0x1a, 0x05, 0x01]), SELDON), grpc.status.INVALID_ARGUMENT, /^not a protobuf SeldonMessage: /);
});

test('traffic is split by weight, shadows get a copy, feedback goes to the predictor that answered', async () => {
  calls.delete('shadow');
  const seen = new Set<string>();
  for (let i = 0; i < 40; i++) seen.add((await predict({ strData: 'x' }, { seldon: 'ab', namespace: 'seldon' })).value.strData!);
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  assert.equal(calls.get('shadow')?.filter((c) => c.method === 'predict').length, 40);

  calls.delete('a');
  calls.delete('b');
  const feedback: Feedback = { request: { strData: 'x' }, response: { strData: 'b', meta: { puid: 'answered-1', requestPath: { b: 'img' } } }, reward: 1 };
  for (let i = 0; i < 5; i++) {
    const { headers } = await seldonCall('SendFeedback', 'Feedback', feedback, 'SeldonMessage', { seldon: 'ab', namespace: 'seldon' });
    assert.deepEqual(headers.get('seldon-puid'), ['answered-1']);
  }
  assert.equal(calls.get('b')?.filter((c) => c.method === 'sendFeedback').length, 5);
  assert.equal(calls.get('a'), undefined);
});

test('ModelMetadata and GraphMetadata answer what REST answers', async () => {
  const model = await seldonCall('ModelMetadata', 'SeldonModelMetadataRequest', { name: 'doubler' }, 'SeldonModelMetadata');
  assert.deepEqual(model.value, (await rest('/seldon/seldon/iris/api/v1.0/metadata/doubler')).json);
  const graph = await seldonCall('GraphMetadata', 'SeldonModelMetadataRequest', {}, 'SeldonGraphMetadata');
  const { graphinputs, graphoutputs, ...restGraph } = (await rest('/seldon/seldon/iris/api/v1.0/metadata')).json as Record<string, unknown>;
  assert.deepEqual(graph.value, { ...restGraph, inputs: graphinputs, outputs: graphoutputs });
  const missing = await rest('/seldon/seldon/iris/api/v1.0/metadata/nope');
  await failsWith(seldonCall('ModelMetadata', 'SeldonModelMetadataRequest', { name: 'nope' }, 'SeldonModelMetadata'), grpc.status.NOT_FOUND, (missing.json as { status: { info: string } }).status.info);
  await failsWith(seldonCall('ModelMetadata', 'SeldonModelMetadataRequest', {}, 'SeldonModelMetadata'), grpc.status.INVALID_ARGUMENT, /^name: /);
});

test('the call\'s deadline becomes the request\'s time limit when sooner; seldon-skip-logging is passed on', async () => {
  seenLimits.length = 0;
  await predict({ strData: 'x' }, { seldon: 'limits', namespace: 'seldon' }, { deadline: Date.now() + 2_000 });
  await predict({ strData: 'x' }, { seldon: 'limits', namespace: 'seldon', 'seldon-skip-logging': 'true' });
  const [withDeadline, without] = seenLimits;
  assert.ok(withDeadline!.timeoutMs! <= 2_000 && withDeadline!.timeoutMs! > 1_000, `timeoutMs ${withDeadline!.timeoutMs}`);
  assert.equal(withDeadline!.skipLogging, undefined);
  assert.equal(without!.timeoutMs, 30_000);
  assert.equal(without!.skipLogging, true);
});

test('a message over the body limit is RESOURCE_EXHAUSTED; one under it is answered', async () => {
  await failsWith(predict({ strData: 'x'.repeat(BODY_LIMIT + 1) }, { seldon: 'echo' }), grpc.status.RESOURCE_EXHAUSTED, /larger than max/i);
  assert.equal((await predict({ strData: 'x'.repeat(BODY_LIMIT - 100) }, { seldon: 'echo' })).value.strData?.length, BODY_LIMIT - 100);
});

test('calls are timed in the predictor\'s histogram under the full method, as Seldon labels gRPC', async () => {
  await predict({ data: { ndarray: [[1]] } });
  const text = await metrics.text();
  const line = text.split('\n').find((l) => l.startsWith('seldon_api_executor_server_requests_seconds_count{') && l.includes('service="/seldon.protos.Seldon/Predict"') && l.includes('deployment_name="iris"'));
  assert.ok(line, text);
  assert.match(line, /method="unary"/);
  assert.match(line, /code="OK"/);
});

test('the Host rule applies: a call for another host name is refused, as REST refuses it', async () => {
  const elsewhere = clientOf(`127.0.0.1:${gateway.port}`, { 'grpc.default_authority': 'evil.example' });
  await failsWith(predict({ strData: 'x' }, SELDON, {}, elsewhere), grpc.status.INVALID_ARGUMENT, /^Host "evil\.example" is not this server's/);
});

test('a port of its own (--grpc_port) serves the same services, and a pod serves its deployment without metadata', async () => {
  const pod = await startGateway({ grpcPort: 0, pod: { namespace: 'default', name: 'echo', ready: () => Promise.resolve(undefined) } });
  assert.ok(pod.grpcPort !== undefined && pod.grpcPort !== pod.port);
  for (const port of [pod.grpcPort, pod.port]) {
    const own = clientOf(`127.0.0.1:${port}`);
    assert.equal((await predict({ strData: 'pod' }, {}, {}, own)).value.strData, 'pod');
    assert.deepEqual((await predict({ data: { ndarray: [[1]] } }, SELDON, {}, own)).value.data?.ndarray, [[2]]);
  }
});

// ---- V2 ----

const V2 = { seldon: 'sum', namespace: 'seldon' };

function v2Bytes(typeName: string, fields: Record<string, unknown>): Uint8Array {
  const type = v2MessageType(typeName);
  return type.encode(type.fromObject(fields)).finish();
}

async function v2Call(method: string, requestType: string, fields: Record<string, unknown>, responseType: string, metadata: Record<string, string> = V2): Promise<Record<string, unknown>> {
  const { value } = await callBytes(`/inference.GRPCInferenceService/${method}`, v2Bytes(requestType, fields), metadata);
  const type = v2MessageType(responseType);
  return type.toObject(type.decode(value));
}

test('V2: ServerLive, ServerReady, ModelReady, ServerMetadata and ModelMetadata', async () => {
  assert.deepEqual(await v2Call('ServerLive', 'ServerLiveRequest', {}, 'ServerLiveResponse'), { live: true });
  assert.deepEqual(await v2Call('ServerReady', 'ServerReadyRequest', {}, 'ServerReadyResponse'), { ready: true });
  assert.deepEqual(await v2Call('ModelReady', 'ModelReadyRequest', { name: 'sum' }, 'ModelReadyResponse'), { ready: true });
  assert.deepEqual(await v2Call('ModelReady', 'ModelReadyRequest', { name: 'other' }, 'ModelReadyResponse'), {});
  const server = decodeServerMetadataResponse((await callBytes('/inference.GRPCInferenceService/ServerMetadata', v2Bytes('ServerMetadataRequest', {}), V2)).value);
  assert.equal(server.name, 'trantor');
  const model = decodeModelMetadataResponse((await callBytes('/inference.GRPCInferenceService/ModelMetadata', v2Bytes('ModelMetadataRequest', { name: 'sum' }), V2)).value);
  assert.deepEqual(model, await sumPredictor.modelMetadata('sum'));
  await failsWith(callBytes('/inference.GRPCInferenceService/ModelReady', v2Bytes('ModelReadyRequest', {}), V2), grpc.status.INVALID_ARGUMENT, /^name: /);
});

test('V2: ModelInfer runs the predictor with typed tensors, INT64 kept exact, the puid and deadline passed on', async () => {
  sumPredictor.seen.length = 0;
  const big = 9_007_199_254_740_993n;
  const request = encodeModelInferRequest({ name: 'sum', version: '1' }, { id: 'req-1' }, [
    { name: 'x', datatype: 'FP32', shape: [2, 4], values: new Float32Array([1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5]) },
    { name: 'big', datatype: 'INT64', shape: [1], values: new BigInt64Array([big]) },
  ]);
  const { value, headers } = await callBytes('/inference.GRPCInferenceService/ModelInfer', request, { ...V2, 'seldon-puid': 'v2-puid' }, { deadline: Date.now() + 5_000 });
  const answer = decodeModelInferResponse(value);
  assert.equal(answer.message.model_name, 'sum');
  assert.equal(answer.message.model_version, '1');
  assert.equal(answer.message.id, 'req-1');
  assert.deepEqual([...(answer.tensors[0]!.values as Float32Array)], [10, 2]);
  assert.deepEqual([...(answer.tensors[1]!.values as BigInt64Array)], [big]);
  assert.deepEqual(headers.get('seldon-puid'), ['v2-puid']);
  assert.equal(sumPredictor.seen[0]!.puid, 'v2-puid');
  assert.ok(sumPredictor.seen[0]!.limits!.timeoutMs! <= 5_000);
});

test('V2 on a deployment speaking Seldon\'s protocol is UNIMPLEMENTED naming protocol: v2; a predictor\'s failure keeps its message', async () => {
  const request = encodeModelInferRequest({ name: 'doubler' }, {}, [{ name: 'x', datatype: 'FP32', shape: [1, 1], values: new Float32Array([1]) }]);
  await failsWith(callBytes('/inference.GRPCInferenceService/ModelInfer', request, SELDON), grpc.status.UNIMPLEMENTED, /speaks Seldon's protocol; .*`protocol: v2`/);
  await failsWith(callBytes('/inference.GRPCInferenceService/ServerReady', v2Bytes('ServerReadyRequest', {}), { seldon: 'faceless', namespace: 'seldon' }), grpc.status.UNIMPLEMENTED, /has `protocol: v2` but no V2 face here yet/);
  const wrong = encodeModelInferRequest({ name: 'sum' }, {}, [{ name: 'y', datatype: 'FP32', shape: [1, 1], values: new Float32Array([1]) }]);
  await failsWith(callBytes('/inference.GRPCInferenceService/ModelInfer', wrong, V2), grpc.status.INTERNAL, 'inputs: expected an FP32 input named x');
});

// ---- health and reflection ----

function healthCheck(service: string): Promise<number> {
  const schema = healthService();
  const request = schema.lookupType('HealthCheckRequest');
  const response = schema.lookupType('HealthCheckResponse');
  return callBytes('/grpc.health.v1.Health/Check', request.encode({ service }).finish(), {}).then(({ value }) => (response.decode(value) as unknown as { status: number }).status);
}

// ---- the dashboard's request inspector ----

/** A RequestTap that keeps what it is handed, while `active`. */
class KeepingTap implements RequestTap {
  active = true;
  readonly kept: TappedRequest[] = [];
  record(request: TappedRequest): void {
    this.kept.push(request);
  }
}

const asText = (body: string | Uint8Array): string => (typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));

test('the request tap gets Predict, SendFeedback and ModelInfer calls as JSON, with their gRPC status; not other methods, nor while inactive', async () => {
  const tap = new KeepingTap();
  const tapped = await startGateway({ requestTap: tap });
  const via = clientOf(`127.0.0.1:${tapped.port}`);
  const message = { data: { ndarray: [[1, 2, 3, 4]] } };
  const { value } = await predict(message, { ...SELDON, 'seldon-puid': 'tap-1' }, {}, via);
  const [record] = tap.kept;
  assert.ok(record !== undefined);
  assert.deepEqual(
    { puid: record.puid, namespace: record.namespace, deployment: record.deployment, predictor: record.predictor, method: record.method, path: record.path, status: record.status, grpcStatus: record.grpcStatus },
    { puid: 'tap-1', namespace: 'seldon', deployment: 'iris', predictor: 'default', method: 'gRPC', path: '/seldon.protos.Seldon/Predict', status: 200, grpcStatus: 'OK' },
  );
  assert.deepEqual(JSON.parse(asText(record.request)), message);
  // The answer before its protobuf form, which leaves out empty fields (tags, routing, metrics).
  const answered = JSON.parse(asText(record.response)) as SeldonMessage;
  assert.deepEqual(answered.data, value.data);
  assert.deepEqual(answered.meta?.requestPath, value.meta?.requestPath);
  assert.deepEqual(record.requestPath, value.meta?.requestPath);
  assert.ok(record.latencyMs >= 0);

  await seldonCall('SendFeedback', 'Feedback', { request: message, response: value, reward: 1 }, 'SeldonMessage', SELDON, {}, via);
  assert.equal(tap.kept[1]?.path, '/seldon.protos.Seldon/SendFeedback');
  assert.equal((JSON.parse(asText(tap.kept[1].request)) as Feedback).reward, 1);

  const refused = { data: { tensor: { shape: [2, 2], values: [1, 2, 3] } } };
  const failure = await failsWith(predict(refused, { seldon: 'echo' }, {}, via), grpc.status.INVALID_ARGUMENT, /tensor/);
  const failed = tap.kept[2]!;
  assert.deepEqual({ status: failed.status, grpcStatus: failed.grpcStatus, deployment: failed.deployment }, { status: 400, grpcStatus: 'INVALID_ARGUMENT', deployment: 'echo' });
  assert.equal(asText(failed.response), `INVALID_ARGUMENT: ${failure.details}`);

  const infer = encodeModelInferRequest({ name: 'sum' }, { id: 'tap-v2' }, [{ name: 'x', datatype: 'FP32', shape: [1, 4], values: new Float32Array([1, 2, 3, 4.5]) }]);
  await callBytes('/inference.GRPCInferenceService/ModelInfer', infer, V2, {}, via);
  const inferred = tap.kept[3]!;
  assert.equal(inferred.path, '/inference.GRPCInferenceService/ModelInfer');
  assert.deepEqual(JSON.parse(asText(inferred.request)), { id: 'tap-v2', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4.5] }] });
  assert.deepEqual((JSON.parse(asText(inferred.response)) as V2InferenceResponse).outputs, [{ name: 'sum', datatype: 'FP32', shape: [1, 1], data: [10.5] }]);

  // Past 4,096 elements the record names the tensors without writing their data out.
  const large = encodeModelInferRequest({ name: 'sum' }, { id: 'tap-large' }, [{ name: 'x', datatype: 'FP32', shape: [1, 5000], values: new Float32Array(5000).fill(1) }]);
  await callBytes('/inference.GRPCInferenceService/ModelInfer', large, V2, {}, via);
  assert.deepEqual(JSON.parse(asText(tap.kept[4]!.request)), { id: 'tap-large', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 5000] }] });

  await seldonCall('ModelMetadata', 'SeldonModelMetadataRequest', { name: 'doubler' }, 'SeldonModelMetadata', SELDON, {}, via);
  tap.active = false;
  await predict(message, SELDON, {}, via);
  assert.equal(tap.kept.length, 5, 'metadata is not tapped, nor anything while the tap is inactive');
});

test('grpc.health.v1: SERVING for the server and its services, NOT_FOUND for others', async () => {
  assert.equal(await healthCheck(''), 1);
  assert.equal(await healthCheck('seldon.protos.Seldon'), 1);
  assert.equal(await healthCheck('inference.GRPCInferenceService'), 1);
  await failsWith(healthCheck('no.such.Service'), grpc.status.NOT_FOUND, /no\.such\.Service/);
});

test('reflection (v1 and v1alpha) lists the services and gives each file with its imports, enough to rebuild the schema', async () => {
  for (const version of ['v1', 'v1alpha'] as const) {
    const [listed, file, missing] = await askReflection(client, version, [{ list_services: '' }, { file_containing_symbol: 'seldon.protos.Seldon' }, { file_containing_symbol: 'no.Such' }]);
    const names = (listed!.list_services_response as { service: { name: string }[] }).service.map((s) => s.name);
    for (const name of ['seldon.protos.Seldon', 'inference.GRPCInferenceService', 'grpc.health.v1.Health', `grpc.reflection.${version}.ServerReflection`]) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    const protos = (file!.file_descriptor_response as { file_descriptor_proto: Uint8Array[] }).file_descriptor_proto.map((bytes) => descriptor.FileDescriptorProto.decode(bytes) as unknown as { name: string; dependency: string[] });
    assert.equal(protos[0]!.name, 'seldon.proto');
    assert.deepEqual([...protos[0]!.dependency].sort(), ['google/protobuf/any.proto', 'google/protobuf/empty.proto', 'google/protobuf/struct.proto', 'tensorflow.proto']);
    const rebuilt = protobuf.Root.fromDescriptor({ file: protos });
    const seldon = rebuilt.lookupService('seldon.protos.Seldon');
    assert.deepEqual(seldon.methodsArray.map((m) => m.name), ['Predict', 'SendFeedback', 'ModelMetadata', 'GraphMetadata']);
    // The rebuilt schema reads our bytes: a SeldonMessage with a tftensor round-trips through it.
    const bytes = toProto('SeldonMessage', { data: { ndarray: [[1, 2]] }, meta: { puid: 'p' } });
    assert.equal((rebuilt.lookupType('seldon.protos.SeldonMessage').decode(bytes) as unknown as { meta: { puid: string } }).meta.puid, 'p');
    assert.equal((missing!.error_response as { error_code: number }).error_code, grpc.status.NOT_FOUND);
  }
  const [byName] = await askReflection(client, 'v1', [{ file_by_filename: 'v2.proto' }]);
  const v2 = descriptor.FileDescriptorProto.decode((byName!.file_descriptor_response as { file_descriptor_proto: Uint8Array[] }).file_descriptor_proto[0]!) as unknown as { package: string };
  assert.equal(v2.package, 'inference');
});

// ---- one port for both: the HTTP/2 preface decides ----

/** Opens a raw connection to the gateway and writes `pieces` one after another (each flushed before the next). */
async function rawConnection(port: number, pieces: string[]): Promise<{ socket: Socket; text: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const text = new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (chunk: Buffer) => (got += chunk.toString('latin1')));
    socket.on('close', () => resolve(got));
  });
  for (const piece of pieces) await new Promise<void>((resolve, reject) => socket.write(piece, (err) => (err ? reject(err) : resolve())));
  return { socket, text };
}

test('an HTTP/1.1 request arriving a byte at a time, its first ones shared with the preface, is answered by REST', async () => {
  const head = ` /live HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nConnection: close\r\n\r\n`;
  const request = `GET${head}`;
  const { text } = await rawConnection(gateway.port, ['P', 'U', `T${head}`]);
  assert.match(await text, /^HTTP\/1\.1 405 /);
  const whole = await rawConnection(gateway.port, [...request.slice(0, 3)].concat([request.slice(3)]));
  assert.match(await whole.text, /^HTTP\/1\.1 200 /);
});

test('a connection that ends inside the preface is closed; one that sends nothing does not hold the gateway\'s close', { timeout: 10_000 }, async () => {
  const partial = await rawConnection(gateway.port, ['PRI * HTTP/2']);
  partial.socket.end();
  assert.equal(await partial.text, '');
  const own = await startGateway();
  const silent = await rawConnection(own.port, []);
  await own.close();
  assert.equal(await silent.text, '');
});
