/**
 * V2 over gRPC against a real grpc-js server answering `inference.GRPCInferenceService` with our
 * codec (a stand-in for a V2 component's gRPC port), through the executor: a chain mixing a REST
 * node and a GRPC node, exact INT64, status codes, readiness and metadata.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  TrantorError,
  V2_GRPC_SERVICE,
  decodeModelInferRequest,
  decodeV2Request,
  encodeModelInferResponse,
  encodeModelMetadataResponse,
  v2MessageType,
  type V2Tensor,
} from '../../protocol/index.ts';
import type { GraphNode } from '../../manifest/index.ts';
import { PredictorExecutor } from '../executor.ts';
import { StaticEndpoints, graphNode, predictorOf, v2StandIn, type StandIn } from '../testing.ts';
import { GrpcTransport } from '../transport/grpc.ts';
import { HttpTransport } from '../transport/http.ts';
import { GrpcV2Transport } from './grpc-transport.ts';
import { HttpV2Transport } from './transport.ts';

const asIs = (bytes: Buffer): Buffer => bytes;
const calls: { model: string; puid: string | undefined }[] = [];
let server: grpc.Server;
let port = 0;
let rest: StandIn;
const endpoints = new StaticEndpoints();
let http: HttpTransport;
let grpcTransport: GrpcTransport;

function doubled(tensor: V2Tensor): V2Tensor {
  const values = tensor.values;
  if (values instanceof BigInt64Array) return { ...tensor, values: values.map((v) => v * 2n) };
  if (values instanceof Float64Array || values instanceof Float32Array || values instanceof Int32Array) return { ...tensor, values: values.map((v) => v * 2) as typeof values };
  return tensor;
}

const inferHandler: grpc.handleUnaryCall<Buffer, Buffer> = (rpc, done) => {
  const request = decodeModelInferRequest(rpc.request);
  const puid = rpc.metadata.get('seldon-puid')[0];
  calls.push({ model: request.modelName, puid: puid === undefined ? undefined : String(puid) });
  if (request.modelName.startsWith('fail')) return done({ code: grpc.status.INVALID_ARGUMENT, details: 'rows must have 4 columns' });
  const outputs = request.tensors.map(doubled);
  done(null, Buffer.from(encodeModelInferResponse({ model_name: request.modelName, ...(request.message.id === undefined ? {} : { id: request.message.id }) }, outputs)));
};

const readyHandler: grpc.handleUnaryCall<Buffer, Buffer> = (rpc, done) => {
  const { name } = v2MessageType('ModelReadyRequest').decode(rpc.request) as unknown as { name: string };
  const type = v2MessageType('ModelReadyResponse');
  done(null, Buffer.from(type.encode(type.fromObject({ ready: !name.startsWith('down') })).finish()));
};

const metadataHandler: grpc.handleUnaryCall<Buffer, Buffer> = (rpc, done) => {
  const { name } = v2MessageType('ModelMetadataRequest').decode(rpc.request) as unknown as { name: string };
  done(null, Buffer.from(encodeModelMetadataResponse({ name, versions: ['3'], platform: 'grpc-test', inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 2] }], outputs: [] })));
};

before(async () => {
  server = new grpc.Server();
  server.register(`/${V2_GRPC_SERVICE}/ModelInfer`, inferHandler, asIs, asIs, 'unary');
  server.register(`/${V2_GRPC_SERVICE}/ModelReady`, readyHandler, asIs, asIs, 'unary');
  server.register(`/${V2_GRPC_SERVICE}/ModelMetadata`, metadataHandler, asIs, asIs, 'unary');
  port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  rest = await v2StandIn();
  http = new HttpTransport({ endpoints, retryWindowMs: 50 });
  grpcTransport = new GrpcTransport({ endpoints, retryWindowMs: 50 });
});

after(async () => {
  await grpcTransport.close();
  await http.close();
  await rest.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

function executorOf(graph: GraphNode, withGrpc = true): PredictorExecutor {
  const visit = (node: GraphNode): void => {
    endpoints.set(node.name, [node.endpoint.type === 'GRPC' ? { id: 'grpc', host: '127.0.0.1', port } : rest.replica()]);
    node.children.forEach(visit);
  };
  visit(graph);
  return new PredictorExecutor({
    namespace: 'seldon',
    deployment: 'mixed',
    predictor: predictorOf('default', graph),
    transport: http,
    protocol: 'v2',
    v2Transport: new HttpV2Transport(http),
    ...(withGrpc ? { v2GrpcTransport: new GrpcV2Transport(grpcTransport) } : {}),
  });
}

const GRPC = { type: 'GRPC' } as const;
const json = (text: string): ReturnType<typeof decodeV2Request> => decodeV2Request(new TextEncoder().encode(text), undefined);

test('a chain of a REST transformer and a GRPC model: each node over its own endpoint, at its model name, with the puid', async () => {
  calls.length = 0;
  const executor = executorOf(graphNode('plus-pre', { type: 'TRANSFORMER', children: [graphNode('double-g', { endpoint: GRPC })] }));
  const answer = await executor.v2!.infer('plus-pre', undefined, json('{"id":"a","inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,2.5]}]}'), 'puid-g');
  assert.deepEqual(Array.from(answer.tensors[0]!.values as Float64Array), [4, 7]);
  assert.equal(answer.message.model_name, 'double-g');
  assert.equal(answer.message.id, 'a');
  assert.deepEqual(calls, [{ model: 'double-g', puid: 'puid-g' }]);
});

test('INT64 beyond 2^53 crosses gRPC exactly', async () => {
  const executor = executorOf(graphNode('double-i', { endpoint: GRPC }));
  const answer = await executor.v2!.infer('double-i', undefined, json('{"inputs":[{"name":"n","shape":[1],"datatype":"INT64","data":[4611686018427387903]}]}'), 'p');
  assert.deepEqual(Array.from(answer.tensors[0]!.values as BigInt64Array), [9223372036854775806n]);
});

test("a gRPC status keeps the component's message, with the HTTP status it stands for", async () => {
  const executor = executorOf(graphNode('fail-g', { endpoint: GRPC }));
  await assert.rejects(executor.v2!.infer('fail-g', undefined, json('{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}'), 'p'), (err: unknown) => {
    assert.ok(err instanceof TrantorError);
    assert.deepEqual([err.code, err.status, err.message], ['COMPONENT_FAILURE', 400, 'rows must have 4 columns']);
    return true;
  });
});

test('readiness and metadata over gRPC; a GRPC node without a gRPC transport fails naming itself', async () => {
  const executor = executorOf(graphNode('double-r', { endpoint: GRPC, children: [graphNode('down-r', { endpoint: GRPC })] }));
  assert.equal(await executor.v2!.modelReady('double-r', undefined), true);
  assert.equal(await executor.v2!.modelReady('down-r', undefined), false);
  assert.equal(await executor.v2!.serverReady(), false);
  assert.deepEqual(await executor.v2!.modelMetadata('double-r', undefined), { name: 'double-r', versions: ['3'], platform: 'grpc-test', inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 2] }], outputs: [] });
  const restOnly = executorOf(graphNode('double-n', { endpoint: GRPC }), false);
  await assert.rejects(restOnly.v2!.infer('double-n', undefined, json('{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}'), 'p'), /node "double-n" has endpoint.type GRPC/);
});
