/**
 * The Node host with `data.tftensor`, over REST and gRPC: the class gets the same rows an ndarray
 * gives it, and the reply is a tftensor holding the same numbers the ndarray reply holds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { fromProto, readTfTensor, tfTensorElements, toProto, type SeldonMessage } from '../protocol/index.ts';
import type { Features, SeldonComponent } from './contract.ts';
import { createDispatcher } from './dispatch.ts';
import { serveComponentGrpc, type ComponentGrpcServer } from './grpc-server.ts';
import { serveComponent, type ComponentServer } from './server.ts';

/** Scores each row: its sum and its mean, and remembers what it was given. */
class RowStats implements SeldonComponent {
  readonly seen: Features[] = [];
  predict(X: Features): Features {
    this.seen.push(X);
    return (X as number[][]).map((row) => {
      const sum = row.reduce((a, b) => a + b, 0);
      return [sum, sum / row.length];
    });
  }
}

const model = new RowStats();
let rest: ComponentServer;
let served: ComponentGrpcServer;
let client: grpc.Client;

before(async () => {
  rest = await serveComponent(model, { port: 0 });
  served = await serveComponentGrpc(model, createDispatcher(model), { port: 0 });
  client = new grpc.Client(`127.0.0.1:${served.port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await Promise.all([rest.close(), served.close()]);
});

function viaGrpc(message: SeldonMessage): Promise<SeldonMessage> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/seldon.protos.Model/Predict',
      (value: SeldonMessage) => Buffer.from(toProto('SeldonMessage', value)),
      (bytes: Buffer) => fromProto('SeldonMessage', bytes),
      message,
      (err, reply) => (err === null ? resolve(reply!) : reject(err)),
    );
  });
}

async function viaRest(message: unknown): Promise<SeldonMessage> {
  const res = await fetch(`http://127.0.0.1:${rest.port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as SeldonMessage;
}

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.2, 3.4, 5.4, 2.3],
];
const FLOATS = Buffer.from(new Float32Array(ROWS.flat()).buffer).toString('base64');
const shape = { dim: [{ size: '2' }, { size: '4' }] };

/** The same rows as tftensors, in the forms senders use. */
const TFTENSORS: Record<string, unknown> = {
  'DT_DOUBLE double_val (snake_case, as ParseDict also takes)': { dtype: 'DT_DOUBLE', tensor_shape: shape, double_val: ROWS.flat() },
  'DT_FLOAT tensor_content (what make_tensor_proto writes)': { dtype: 'DT_FLOAT', tensorShape: shape, tensorContent: FLOATS },
  'DT_INT32 intVal': { dtype: 'DT_INT32', tensorShape: shape, intVal: [1, 2, 3, 4, 5, 6, 7, 8] },
};

for (const [name, tftensor] of Object.entries(TFTENSORS)) {
  test(`a tftensor (${name}) over REST and gRPC answers a tftensor of the ndarray reply's numbers`, async () => {
    const request = { data: { names: ['a', 'b', 'c', 'd'], tftensor } };
    const rows = tfTensorElements(readTfTensor(tftensor));
    const ndarray = [rows.slice(0, 4), rows.slice(4)];
    const expected = await viaRest({ data: { names: ['a', 'b', 'c', 'd'], ndarray } });
    model.seen.length = 0;
    for (const reply of [await viaRest(request), await viaGrpc(request)]) {
      assert.deepEqual(reply.data?.names, expected.data?.names);
      assert.equal(reply.data?.ndarray, undefined);
      const out = readTfTensor(reply.data?.tftensor);
      assert.equal(out.dtype, 'DT_DOUBLE');
      assert.deepEqual(out.shape, [2, 2]);
      assert.deepEqual(tfTensorElements(out), (expected.data?.ndarray as number[][]).flat());
    }
    // The class got the rows as an ndarray would give them, both times.
    assert.deepEqual(model.seen, [ndarray, ndarray]);
  });
}

test('a bad tftensor is refused over both, naming the field', async () => {
  const request = { data: { tftensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 'two' }] } } } };
  const res = await fetch(`http://127.0.0.1:${rest.port}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
  assert.equal(res.status, 400);
  const info = ((await res.json()) as { status: { info: string } }).status.info;
  assert.match(info, /data\.tftensor\.tensorShape\.dim\[0\]\.size: expected an integer, got "two"/);
  // gRPC's codec refuses the size before the host sees it: int64 fields take only integers.
  await assert.rejects(viaGrpc(request), /dim\[0\]\.size/);
  // What the codec carries but the host refuses is INVALID_ARGUMENT with REST's words.
  await assert.rejects(viaGrpc({ data: { tftensor: { dtype: 'DT_FLOAT', floatVal: [1], doubleVal: [2] } } }), (err: grpc.ServiceError) => {
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /^data\.tftensor\.doubleVal: a DT_FLOAT tensor's values go in float_val/);
    return true;
  });
});
