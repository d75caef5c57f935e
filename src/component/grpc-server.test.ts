import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { fromProto, toProto, type SeldonProtoKind, type SeldonProtoMessages } from '../protocol/index.ts';
import type { Features, SeldonComponent } from './contract.ts';
import { createDispatcher } from './dispatch.ts';
import { MicroserviceError } from './errors.ts';
import { serveComponentGrpc, type ComponentGrpcServer } from './grpc-server.ts';
import { healthService } from '../grpc/index.ts';
import { askReflection } from '../grpc/testing.ts';
import { serveComponent, type ComponentServer } from './server.ts';

/** A model that echoes its input, and fails on the inputs the tests name. */
class Echo implements SeldonComponent {
  readonly rewards: number[] = [];
  predict(X: Features): Features {
    if (X === 'boom') throw new RangeError('kaboom');
    if (X === 'warming') throw new MicroserviceError('still warming up', 503);
    if (X === 'wrong') throw new MicroserviceError('expected 4 features', 400);
    if (X === 'grow') return 'x'.repeat(LIMIT + 1);
    return X;
  }
  sendFeedback(_X: Features, _names: string[], reward: number): Features {
    this.rewards.push(reward);
    return [];
  }
}

const LIMIT = 64 * 1024;
const model = new Echo();
let rest: ComponentServer;
let served: ComponentGrpcServer;
let client: grpc.Client;

before(async () => {
  rest = await serveComponent(model, { port: 0, maxBodyBytes: LIMIT, onModelError: () => {} });
  served = await serveComponentGrpc(model, createDispatcher(model, { onModelError: () => {} }), { port: 0, maxMessageBytes: LIMIT });
  client = new grpc.Client(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await Promise.all([rest.close(), served.close()]);
});

/** A unary call with the codec's serializers, as any client of seldon.proto makes it. */
function call<I extends SeldonProtoKind>(path: string, kind: I, json: SeldonProtoMessages[I]): Promise<SeldonProtoMessages['SeldonMessage']> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (value: SeldonProtoMessages[I]) => Buffer.from(toProto(kind, value)),
      (bytes: Buffer) => fromProto('SeldonMessage', bytes),
      json,
      (err, reply) => (err === null ? resolve(reply!) : reject(err)),
    );
  });
}

async function restAnswer(path: string, json: unknown): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${rest.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  assert.equal(res.status, 200);
  return res.json();
}

/** Rejects unless `promise` fails with `code` and a message matching `message`. */
async function failsWith(promise: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: grpc.ServiceError) => {
    assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    assert.match(err.details, message);
    return true;
  });
}

const PAYLOADS: Record<string, SeldonProtoMessages['SeldonMessage']> = {
  ndarray: { data: { names: ['a', 'b'], ndarray: [[1, 2.5], [3, -4]] }, meta: { puid: 'p1', tags: { k: 'v' } } },
  tensor: { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0.5, 1, 1e300] } } },
  strData: { strData: 'hello, gRPC' },
  jsonData: { jsonData: { nested: { list: [1, 'two', true, null] }, n: 7 } },
  binData: { binData: Buffer.from([0, 1, 2, 254, 255]).toString('base64') },
};

for (const [name, payload] of Object.entries(PAYLOADS)) {
  test(`Model.Predict with ${name} answers what REST answers for the same input`, async () => {
    const viaGrpc = await call('/seldon.protos.Model/Predict', 'SeldonMessage', payload);
    const viaRest = await restAnswer('/predict', payload);
    assert.deepEqual(JSON.parse(JSON.stringify(viaGrpc)), viaRest);
    // And it is the model's echo, not an empty message both sides agree on.
    assert.notDeepEqual(viaRest, { meta: {} });
  });
}

test('Generic.TransformInput of a model without it is the identity, as REST', async () => {
  const payload = PAYLOADS['ndarray']!;
  assert.deepEqual(JSON.parse(JSON.stringify(await call('/seldon.protos.Generic/TransformInput', 'SeldonMessage', payload))), await restAnswer('/transform-input', payload));
});

test("Model.SendFeedback reaches the model's sendFeedback with the reward", async () => {
  const before = model.rewards.length;
  const reply = await call('/seldon.protos.Model/SendFeedback', 'Feedback', { request: { data: { ndarray: [[1]] } }, reward: 0.75 });
  assert.deepEqual(model.rewards.slice(before), [0.75]);
  assert.deepEqual(reply, { data: { ndarray: [] }, meta: {} });
});

test('a method the model lacks is UNIMPLEMENTED with the message REST gives', async () => {
  await failsWith(call('/seldon.protos.Router/Route', 'SeldonMessage', { strData: 'x' }), grpc.status.UNIMPLEMENTED, /^Echo has no route method/);
  await failsWith(call('/seldon.protos.Combiner/Aggregate', 'SeldonMessageList', { seldonMessages: [{ strData: 'x' }] }), grpc.status.UNIMPLEMENTED, /^Echo has no aggregate method/);
});

test("a model's failures keep REST's message under the matching gRPC status", async () => {
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', { strData: 'boom' }), grpc.status.INTERNAL, /^RangeError: kaboom$/);
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', { strData: 'warming' }), grpc.status.UNAVAILABLE, /^still warming up$/);
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', { strData: 'wrong' }), grpc.status.INVALID_ARGUMENT, /^expected 4 features$/);
});

test('a payload that does not follow the protocol is INVALID_ARGUMENT naming the field', async () => {
  const badTensor = { data: { tensor: { shape: [2, 2], values: [1] } } };
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', badTensor), grpc.status.INVALID_ARGUMENT, /data\.tensor/);
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', {}), grpc.status.INVALID_ARGUMENT, /expected one of data, binData, strData or jsonData/);
});

test('bytes that are not a SeldonMessage are INVALID_ARGUMENT', async () => {
  const garbage = new Promise((resolve, reject) => {
    client.makeUnaryRequest('/seldon.protos.Model/Predict', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x1a, 0x05, 0x01]), (err, r) => (err === null ? resolve(r) : reject(err)));
  });
  await failsWith(garbage, grpc.status.INVALID_ARGUMENT, /^not a protobuf SeldonMessage: /);
});

test('a message over the body limit is RESOURCE_EXHAUSTED; one under it is answered', async () => {
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', { strData: 'x'.repeat(LIMIT + 1) }), grpc.status.RESOURCE_EXHAUSTED, /larger than max/i);
  assert.equal((await call('/seldon.protos.Model/Predict', 'SeldonMessage', { strData: 'x'.repeat(LIMIT - 100) })).strData?.length, LIMIT - 100);
});

test('an answer over the limit is RESOURCE_EXHAUSTED, not sent', async () => {
  await failsWith(call('/seldon.protos.Model/Predict', 'SeldonMessage', { strData: 'grow' }), grpc.status.RESOURCE_EXHAUSTED, /Sent message larger than max/);
});

function health(method: 'Check', service: string): Promise<number> {
  const schema = healthService();
  const request = schema.lookupType('HealthCheckRequest');
  const response = schema.lookupType('HealthCheckResponse');
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/grpc.health.v1.Health/${method}`,
      (value: { service: string }) => Buffer.from(request.encode(value).finish()),
      (bytes: Buffer) => (response.decode(bytes) as unknown as { status: number }).status,
      { service },
      (err, status) => (err === null ? resolve(status!) : reject(err)),
    );
  });
}

test('grpc.health.v1 Check answers SERVING for the server and its services, NOT_FOUND for others', async () => {
  assert.equal(await health('Check', ''), 1);
  assert.equal(await health('Check', 'seldon.protos.Model'), 1);
  await failsWith(health('Check', 'no.such.Service'), grpc.status.NOT_FOUND, /no\.such\.Service/);
});

test('grpc.health.v1 Watch sends SERVING, then NOT_SERVING when the server stops', async () => {
  const own = await serveComponentGrpc(model, createDispatcher(model), { port: 0 });
  const watcher = new grpc.Client(`127.0.0.1:${own.port}`, grpc.credentials.createInsecure());
  try {
    const schema = healthService();
    const request = schema.lookupType('HealthCheckRequest');
    const response = schema.lookupType('HealthCheckResponse');
    const stream = watcher.makeServerStreamRequest(
      '/grpc.health.v1.Health/Watch',
      (value: { service: string }) => Buffer.from(request.encode(value).finish()),
      (bytes: Buffer) => (response.decode(bytes) as unknown as { status: number }).status,
      { service: '' },
    );
    const statuses: number[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (status: number) => {
        statuses.push(status);
        if (statuses.length === 1) void own.close();
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    await ended;
    assert.deepEqual(statuses, [1, 2]);
  } finally {
    watcher.close();
    await own.close();
  }
});

test('reflection lists the component services and health, and describes them', async () => {
  const [listed, file] = await askReflection(client, 'v1alpha', [{ list_services: '*' }, { file_containing_symbol: 'seldon.protos.Model.Predict' }]);
  const names = (listed!.list_services_response as { service: { name: string }[] }).service.map((s) => s.name).sort();
  assert.deepEqual(names, [
    'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection', 'inference.GRPCInferenceService',
    'seldon.protos.Combiner', 'seldon.protos.Generic', 'seldon.protos.Model', 'seldon.protos.OutputTransformer', 'seldon.protos.Router', 'seldon.protos.Transformer',
  ]);
  assert.equal((file!.file_descriptor_response as { file_descriptor_proto: Uint8Array[] }).file_descriptor_proto.length, 5, 'seldon.proto and its four imports');
});
