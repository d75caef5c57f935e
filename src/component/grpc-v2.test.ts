/**
 * The Node host's inference.GRPCInferenceService: every method against a real TypeScript model
 * class, each answer checked against the same host's V2 REST answer for the same input.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  decodeModelInferResponse,
  decodeModelMetadataResponse,
  decodeServerMetadataResponse,
  decodeV2Response,
  encodeModelInferRequest,
  v2MessageType,
  type V2DecodedBody,
  type V2InferenceResponse,
  type V2Tensor,
} from '../protocol/index.ts';
import { askReflection } from '../grpc/testing.ts';
import type { Features } from './contract.ts';
import { createDispatcher } from './dispatch.ts';
import { MicroserviceError } from './errors.ts';
import { serveComponentGrpc, type ComponentGrpcServer } from './grpc-server.ts';
import { serveComponent, type ComponentServer } from './server.ts';

const NODE = 'doubler';

/** Doubles numbers (echoes an input named "same"); refuses rows of 5 as a model checking its input would. */
class Doubler {
  predict(X: Features, names: string[]): Features {
    if (names[0] === 'same') return X;
    if (Array.isArray(X) && X.some((row) => Array.isArray(row) && row.length === 5)) throw new MicroserviceError('expected 4 features per row, got 5', 400);
    return double(X) as Features;
  }

  transformInput(X: Features): Features {
    return (X as number[][]).map((row) => row.map((v) => v + 1));
  }

  init_metadata(): Record<string, unknown> {
    return { name: 'doubler', versions: ['7'], platform: 'node-test', inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }], outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1, 4] }] };
  }
}

function double(value: unknown): unknown {
  return Array.isArray(value) ? value.map(double) : typeof value === 'number' ? value * 2 : value;
}

let rest: ComponentServer;
let served: ComponentGrpcServer;
let transformer: ComponentGrpcServer;
let client: grpc.Client;
let transformerClient: grpc.Client;

before(async () => {
  const model = new Doubler();
  rest = await serveComponent(model, { port: 0 });
  served = await serveComponentGrpc(model, createDispatcher(model, { onModelError: () => {} }), { port: 0, node: NODE });
  transformer = await serveComponentGrpc(model, createDispatcher(model), { port: 0, serviceType: 'TRANSFORMER' });
  client = new grpc.Client(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure());
  transformerClient = new grpc.Client(`127.0.0.1:${transformer.port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  transformerClient.close();
  await Promise.all([rest.close(), served.close(), transformer.close()]);
});

const pass = (bytes: Uint8Array): Buffer => Buffer.from(bytes);

function call(method: string, request: Uint8Array, on = client): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    on.makeUnaryRequest(`/inference.GRPCInferenceService/${method}`, pass, (b: Buffer) => b, request, (err, reply) => (err === null ? resolve(reply!) : reject(err)));
  });
}

function small(type: string, fields: Record<string, unknown>): Uint8Array {
  const message = v2MessageType(type);
  return message.encode(message.fromObject(fields)).finish();
}

function read(type: string, bytes: Uint8Array): Record<string, unknown> {
  const message = v2MessageType(type);
  return message.toObject(message.decode(bytes), { defaults: true });
}

async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const err = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e as grpc.ServiceError,
  );
  return err;
}

async function restGet(path: string): Promise<unknown> {
  return (await fetch(`http://127.0.0.1:${rest.port}${path}`)).json();
}

/** REST's answer to the same request (JSON), decoded to typed outputs as a client reads it. */
async function restInfer(body: unknown): Promise<{ status: number; json: unknown; decoded?: V2DecodedBody<V2InferenceResponse> }> {
  const res = await fetch(`http://127.0.0.1:${rest.port}/v2/models/${NODE}/infer`, { method: 'POST', body: JSON.stringify(body) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, json: JSON.parse(Buffer.from(bytes).toString('utf8')), ...(res.status === 200 ? { decoded: decodeV2Response(bytes, undefined) } : {}) };
}

/** A ModelInferResponse's wire form: which contents carry its tensors. */
function carriedIn(bytes: Uint8Array): 'raw' | 'typed' {
  const object = read('ModelInferResponse', bytes) as { raw_output_contents: Uint8Array[] };
  return object.raw_output_contents.length > 0 ? 'raw' : 'typed';
}

function infer(inputs: V2Tensor[], options: { raw: boolean; id?: string; model?: string }): Promise<Buffer> {
  return call('ModelInfer', encodeModelInferRequest({ name: options.model ?? NODE }, options.id === undefined ? {} : { id: options.id }, inputs, { raw: options.raw }));
}

test('ServerLive, ServerReady, ModelReady and ServerMetadata answer as REST does', async () => {
  assert.deepEqual(read('ServerLiveResponse', await call('ServerLive', new Uint8Array())), { live: true });
  assert.deepEqual(read('ServerReadyResponse', await call('ServerReady', new Uint8Array())), { ready: true });
  assert.deepEqual(read('ModelReadyResponse', await call('ModelReady', small('ModelReadyRequest', { name: NODE }))), { ready: true });
  assert.deepEqual(decodeServerMetadataResponse(await call('ServerMetadata', new Uint8Array())), await restGet('/v2'));
});

test('ModelMetadata is the user class metadata, as REST gives it', async () => {
  const answer = decodeModelMetadataResponse(await call('ModelMetadata', small('ModelMetadataRequest', { name: NODE })));
  assert.deepEqual(answer, await restGet(`/v2/models/${NODE}`));
  assert.equal(answer.platform, 'node-test');
});

test('typed FP64 contents: the answer is typed too and equals REST', async () => {
  const rows = [1, 2.5, 3, 4, 5, 6, 7, 8.25];
  const bytes = await infer([{ name: 'x', shape: [2, 4], datatype: 'FP64', values: new Float64Array(rows) }], { raw: false, id: 'r1' });
  assert.equal(carriedIn(bytes), 'typed');
  const answer = decodeModelInferResponse(bytes);
  const same = await restInfer({ id: 'r1', inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP64', data: rows }] });
  assert.equal(same.status, 200);
  assert.deepEqual(answer.tensors, same.decoded!.tensors);
  assert.deepEqual([...(answer.tensors[0]!.values as Float64Array)], [2, 5, 6, 8, 10, 12, 14, 16.5]);
  assert.equal(answer.message.id, 'r1');
  assert.equal(answer.message.model_name, NODE);
});

test('raw FP32 contents: the answer is raw and equals REST', async () => {
  const values = new Float32Array([0.5, 1.25, -3, 4]);
  const bytes = await infer([{ name: 'x', shape: [1, 4], datatype: 'FP32', values }], { raw: true });
  assert.equal(carriedIn(bytes), 'raw');
  const answer = decodeModelInferResponse(bytes);
  const same = await restInfer({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0.5, 1.25, -3, 4] }] });
  assert.deepEqual(answer.tensors, same.decoded!.tensors);
  assert.equal(answer.tensors[0]!.datatype, 'FP64');
  assert.deepEqual(Array.from(answer.tensors[0]!.values as ArrayLike<number>), [1, 2.5, -6, 8]);
});

test('INT64 beyond 2^53 comes back exact, raw or typed, as REST answers it', async () => {
  const values = new BigInt64Array([9007199254740993n, -9223372036854775807n, 3n]);
  // REST's JSON keeps the digits given: the same request as text answers the same tensors.
  const res = await fetch(`http://127.0.0.1:${rest.port}/v2/models/${NODE}/infer`, {
    method: 'POST',
    body: '{"inputs":[{"name":"same","shape":[3],"datatype":"INT64","data":[9007199254740993,-9223372036854775807,3]}]}',
  });
  assert.equal(res.status, 200);
  const same = decodeV2Response(new Uint8Array(await res.arrayBuffer()), undefined);
  for (const raw of [true, false]) {
    const bytes = await infer([{ name: 'same', shape: [3], datatype: 'INT64', values }], { raw });
    assert.equal(carriedIn(bytes), raw ? 'raw' : 'typed');
    const answer = decodeModelInferResponse(bytes);
    assert.deepEqual(answer.tensors, same.tensors);
    assert.deepEqual([...(answer.tensors[0]!.values as BigInt64Array)], [9007199254740993n, -9223372036854775807n, 3n]);
  }
});

test("a model's refusal is INVALID_ARGUMENT with REST's words", async () => {
  const rows = [1, 2, 3, 4, 5];
  const err = await failure(infer([{ name: 'x', shape: [1, 5], datatype: 'FP64', values: new Float64Array(rows) }], { raw: true }));
  const same = await restInfer({ inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP64', data: rows }] });
  assert.equal(same.status, 400);
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(err.details, (same.json as { error: string }).error);
  assert.equal(err.details, 'expected 4 features per row, got 5');
});

test('a request whose contents do not fit its shape is INVALID_ARGUMENT naming the field', async () => {
  const bytes = small('ModelInferRequest', { model_name: NODE, inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 2], contents: { fp64_contents: [1, 2, 3] } }] });
  const err = await failure(call('ModelInfer', bytes));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /inputs\[0\]/);
});

test('another model is NOT_FOUND; none named is INVALID_ARGUMENT', async () => {
  const x: V2Tensor = { name: 'x', shape: [1], datatype: 'FP64', values: new Float64Array([1]) };
  const err = await failure(infer([x], { raw: true, model: 'other' }));
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.match(err.details, /"other" is not served here; this host serves "doubler"/);
  assert.equal((await failure(call('ModelReady', small('ModelReadyRequest', { name: 'other' })))).code, grpc.status.NOT_FOUND);
  assert.equal((await failure(call('ModelMetadata', small('ModelMetadataRequest', { name: 'other' })))).code, grpc.status.NOT_FOUND);
  const unnamed = await failure(call('ModelReady', small('ModelReadyRequest', {})));
  assert.equal(unnamed.code, grpc.status.INVALID_ARGUMENT);
  assert.match(unnamed.details, /^name: /);
});

test("a TRANSFORMER's inference is its transformInput", async () => {
  const bytes = await call('ModelInfer', encodeModelInferRequest({ name: 'any' }, {}, [{ name: 'x', shape: [1, 2], datatype: 'FP64', values: new Float64Array([1, 2]) }]), transformerClient);
  assert.deepEqual(Array.from(decodeModelInferResponse(bytes).tensors[0]!.values as ArrayLike<number>), [2, 3]);
});

test('reflection lists the V2 service and describes it', async () => {
  const [listed, file] = await askReflection(client, 'v1', [{ list_services: '*' }, { file_containing_symbol: 'inference.GRPCInferenceService' }]);
  const names = (listed!.list_services_response as { service: { name: string }[] }).service.map((s) => s.name);
  assert.ok(names.includes('inference.GRPCInferenceService'), names.join());
  assert.ok((file!.file_descriptor_response as { file_descriptor_proto: Uint8Array[] }).file_descriptor_proto.length >= 1);
});
