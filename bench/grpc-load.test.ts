/**
 * The gRPC load generators against a real grpc-js server that decodes each call with our codecs
 * and answers it: both forms of a bench call (ghz's protobuf JSON, the grpc-js client's bytes)
 * must reach the server as the same message with the routing metadata, every answered call must
 * be counted, and a server's errors must be counted as errors, never as speed.
 * `node --import tsx --test bench/grpc-load.test.ts` (the ghz cases skip when ghz is not at hand).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeModelInferRequest, fromProto, toProto, v2MessageType } from '../src/protocol/index.ts';
import { ghzAtHand, ghzLoad, nodeLoad, type GrpcCall, type GrpcLoadFigures, type GrpcLoadOptions } from './grpc-load.ts';
import { seldonCall, v2Call } from './grpc-v2.ts';

interface Seen {
  calls: number;
  messages: unknown[];
  routes: string[];
}

const seen: Seen = { calls: 0, messages: [], routes: [] };
/** The server refuses every call while set. */
let refusing = false;
let server: grpc.Server;
let target: string;

const identity = (b: Buffer): Buffer => b;
const route = (metadata: grpc.Metadata): string => `${String(metadata.get('seldon')[0] ?? '')}/${String(metadata.get('namespace')[0] ?? '')}`;

function unary(answer: (request: Buffer) => Uint8Array): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    seen.calls++;
    if (refusing) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'refused by the test server' });
    seen.routes.push(route(call.metadata));
    try {
      callback(null, Buffer.from(answer(call.request)));
    } catch (error) {
      callback({ code: grpc.status.INTERNAL, details: (error as Error).message });
    }
  };
}

const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

before(async () => {
  server = new grpc.Server();
  server.addService(
    { Predict: method('/seldon.protos.Seldon/Predict') },
    {
      // The sum of the row's features: an answer computed from what arrived.
      Predict: unary((request) => {
        const message = fromProto('SeldonMessage', request);
        seen.messages.push(message);
        const rows = (message as { data?: { ndarray?: number[][] } }).data?.ndarray ?? [];
        return toProto('SeldonMessage', { data: { names: ['sum'], ndarray: rows.map((row) => [row.reduce((a, b) => a + b, 0)]) } });
      }),
    },
  );
  server.addService(
    { ModelInfer: method('/inference.GRPCInferenceService/ModelInfer') },
    {
      ModelInfer: unary((request) => {
        const decoded = decodeModelInferRequest(request);
        seen.messages.push({ model: decoded.modelName, inputs: decoded.message.inputs, values: [...(decoded.tensors[0]?.values as Float32Array)] });
        const type = v2MessageType('ModelInferResponse');
        return type.encode(type.fromObject({ model_name: decoded.modelName, outputs: [{ name: 'predict', datatype: 'INT64', shape: [1, 1], contents: { int64_contents: [2] } }] })).finish();
      }),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  target = `127.0.0.1:${port}`;
});

after(() => server.forceShutdown());

function reset(): void {
  seen.calls = 0;
  seen.messages = [];
  seen.routes = [];
  refusing = false;
}

const options: GrpcLoadOptions = { concurrency: 4, seconds: 1 };

function checkAnswered(figures: GrpcLoadFigures): void {
  assert.equal(figures.errors, 0, figures.firstError);
  assert.ok(figures.requests > 0, 'some calls answered');
  // The server may have seen a few more calls than were answered: none that it answered went uncounted.
  assert.ok(seen.calls >= figures.requests, `${seen.calls} calls served, ${figures.requests} counted`);
  assert.ok(figures.requestsPerSecond > 0);
  assert.ok(figures.p50 > 0 && figures.p50 <= figures.p99, `p50 ${figures.p50} p99 ${figures.p99}`);
  assert.ok(Number.isFinite(figures.clientCpu) && figures.clientCpu > 0, `client CPU ${figures.clientCpu}`);
}

const SELDON_MESSAGE = { data: { ndarray: [[1, 2, 3, 4]] } };
const V2_MESSAGE = { model: 'classifier', inputs: [{ name: 'predict', datatype: 'FP32', shape: [1, 4] }], values: [1, 2, 3, 4] };

const generators: [string, ((call: GrpcCall, o: GrpcLoadOptions) => Promise<GrpcLoadFigures>) | undefined][] = [
  ['grpc-js client', nodeLoad],
  ['ghz', ((binary) => (binary === null ? undefined : (call: GrpcCall, o: GrpcLoadOptions) => ghzLoad(binary, call, o)))(ghzAtHand())],
];

for (const [name, generate] of generators) {
  describe(`the ${name} load`, { skip: generate === undefined ? 'ghz is not at hand (BENCH_GHZ, PATH, or the bench cache)' : false }, () => {
    it('sends the Seldon Predict call the bench sends, routed by the seldon and namespace metadata', async () => {
      reset();
      checkAnswered(await generate!(seldonCall(target), options));
      assert.deepEqual(seen.messages[0], SELDON_MESSAGE);
      assert.ok(seen.messages.every((m) => JSON.stringify(m) === JSON.stringify(SELDON_MESSAGE)));
      assert.ok(seen.routes.every((r) => r === 'iris-model/seldon'), seen.routes[0]);
    });

    it('sends the V2 ModelInfer call with the FP32 row and the model name', async () => {
      reset();
      checkAnswered(await generate!(v2Call(target, 'classifier', { seldon: 'iris-v2', namespace: 'seldon' }), options));
      assert.deepEqual(seen.messages[0], V2_MESSAGE);
      assert.ok(seen.routes.every((r) => r === 'iris-v2/seldon'), seen.routes[0]);
    });

    it('sends a message too long for a command line (ghz gets it as a file of its bytes) whole', async () => {
      reset();
      const large = { data: { ndarray: [Array.from({ length: 40_000 }, (_, i) => i)] } };
      assert.ok(JSON.stringify(large).length > 128 * 1024);
      checkAnswered(await generate!(seldonCall(target, { namespace: 'seldon', name: 'sum' }, large), options));
      assert.deepEqual(seen.messages[0], large);
      assert.ok(seen.routes.every((r) => r === 'sum/seldon'), seen.routes[0]);
    });

    it('counts refused calls as errors, with the status message', async () => {
      reset();
      refusing = true;
      const figures = await generate!(seldonCall(target), options);
      assert.ok(figures.errors > 0);
      assert.equal(figures.requests, 0);
      assert.equal(figures.requestsPerSecond, 0);
      assert.match(figures.firstError ?? '', /refused by the test server/);
    });
  });
}
