/**
 * The client over gRPC, against a real grpc-js server standing in for the gateway: Seldon's
 * `seldon.protos.Seldon` and V2's `inference.GRPCInferenceService`, answering computed values and
 * recording the metadata each call carried; and V2 over REST against an HTTP stand-in.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  decodeModelInferRequest,
  decodeV2Request,
  encodeModelInferResponse,
  encodeModelMetadataResponse,
  encodeV2Response,
  binaryOutputsWanted,
  fromProto,
  parseInferenceHeaderLength,
  toProto,
  v2MessageType,
  type SeldonMessage,
  type V2Tensor,
} from '../protocol/index.ts';
import { SeldonClient, SeldonClientError } from './index.ts';

const asIs = (bytes: Buffer): Buffer => bytes;

interface Seen {
  path: string;
  seldon: string | undefined;
  namespace: string | undefined;
  puid: string | undefined;
  authorization: string | undefined;
}

/** Every FP64 value doubled, as a new tensor named `doubled`. */
function doubled(input: V2Tensor): V2Tensor {
  const values = Float64Array.from(input.values as Float64Array, (v) => v * 2);
  return { name: 'doubled', shape: input.shape, datatype: 'FP64', values };
}

/** A stand-in for the gateway's gRPC face. */
class FakeGrpcGateway {
  readonly seen: Seen[] = [];
  private readonly server = new grpc.Server();
  port = 0;

  async start(): Promise<void> {
    const unary = (path: string, handle: (request: Buffer, metadata: grpc.Metadata) => Buffer): void => {
      const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, done) => {
        const one = (name: string): string | undefined => {
          const value = call.metadata.get(name)[0];
          return value === undefined ? undefined : String(value);
        };
        this.seen.push({ path, seldon: one('seldon'), namespace: one('namespace'), puid: one('seldon-puid'), authorization: one('authorization') });
        if (one('seldon') === 'missing') {
          done({ code: grpc.status.NOT_FOUND, details: 'no deployment seldon/missing' });
          return;
        }
        try {
          done(null, handle(call.request, call.metadata));
        } catch (err) {
          done({ code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message });
        }
      };
      this.server.register(path, handler, asIs, asIs, 'unary');
    };
    unary('/seldon.protos.Seldon/Predict', (bytes) => {
      const request = fromProto('SeldonMessage', bytes);
      const rows = request.data?.ndarray as number[][] | undefined;
      if (rows === undefined) throw new Error('expected data.ndarray (data)');
      const answer: SeldonMessage = { data: { names: ['sum'], ndarray: rows.map((row) => [row.reduce((a, b) => a + b, 0)]) }, meta: { puid: 'puid-7', tags: request.meta?.tags ?? {} } };
      return Buffer.from(toProto('SeldonMessage', answer));
    });
    unary('/seldon.protos.Seldon/SendFeedback', (bytes) => {
      const feedback = fromProto('Feedback', bytes);
      return Buffer.from(toProto('SeldonMessage', { data: { ndarray: [[feedback.reward ?? 0]] } }));
    });
    unary('/seldon.protos.Seldon/ModelMetadata', (bytes) => {
      const { name } = fromProto('SeldonModelMetadataRequest', bytes);
      return Buffer.from(toProto('SeldonModelMetadata', { name, platform: 'seldon', versions: ['v1'] }));
    });
    unary('/seldon.protos.Seldon/GraphMetadata', () => Buffer.from(toProto('SeldonGraphMetadata', { name: 'default', models: { classifier: { name: 'classifier', platform: 'seldon' } } })));
    unary('/inference.GRPCInferenceService/ModelInfer', (bytes) => {
      const request = decodeModelInferRequest(bytes);
      const output = doubled(request.tensors[0]!);
      return Buffer.from(encodeModelInferResponse({ model_name: request.modelName, model_version: request.modelVersion, ...(request.message.id === undefined ? {} : { id: request.message.id }) }, [output]));
    });
    const ready = (requestType: string, responseType: string, isReady: (fields: { name?: string }) => boolean) => (bytes: Buffer): Buffer => {
      const type = v2MessageType(requestType);
      const fields = type.toObject(type.decode(bytes)) as { name?: string };
      const answer = v2MessageType(responseType);
      return Buffer.from(answer.encode(answer.fromObject({ ready: isReady(fields) })).finish());
    };
    unary('/inference.GRPCInferenceService/ModelReady', ready('ModelReadyRequest', 'ModelReadyResponse', (f) => f.name === 'classifier'));
    unary('/inference.GRPCInferenceService/ServerReady', ready('ServerReadyRequest', 'ServerReadyResponse', () => true));
    unary('/inference.GRPCInferenceService/ModelMetadata', (bytes) => {
      const type = v2MessageType('ModelMetadataRequest');
      const { name } = type.toObject(type.decode(bytes)) as { name?: string };
      return Buffer.from(encodeModelMetadataResponse({ name: name ?? '', platform: 'trantor', versions: ['1'], inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }], outputs: [{ name: 'doubled', datatype: 'FP64', shape: [-1, 4] }] }));
    });
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
  }

  get last(): Seen {
    const seen = this.seen.at(-1);
    assert.ok(seen, 'the gateway saw no call');
    return seen;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}

/** A stand-in for the gateway's V2 REST face: infer doubles FP64 inputs, JSON or binary. */
class FakeV2Rest {
  readonly seen: { url: string; headers: Record<string, unknown>; body: Buffer }[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = req.url ?? '';
        this.seen.push({ url, headers: req.headers, body });
        const json = (status: number, value: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (url === '/seldon/seldon/iris/v2/models/classifier/infer') {
          let decoded;
          try {
            decoded = decodeV2Request(body, parseInferenceHeaderLength(req.headers['inference-header-content-length']));
          } catch (err) {
            json(400, { error: (err as Error).message });
            return;
          }
          const encoded = encodeV2Response({ model_name: 'classifier', id: decoded.message.id ?? '' }, [doubled(decoded.tensors[0]!)], binaryOutputsWanted(decoded.message));
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (encoded.headerLength !== undefined) headers['inference-header-content-length'] = String(encoded.headerLength);
          res.writeHead(200, headers);
          res.end(encoded.body);
          return;
        }
        if (url === '/seldon/seldon/iris/v2/models/classifier/ready' || url === '/seldon/seldon/iris/v2/health/ready') {
          json(200, {});
          return;
        }
        if (url === '/seldon/seldon/iris/v2/models/classifier/versions/2') {
          json(200, { name: 'classifier', versions: ['2'], platform: 'trantor', inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }], outputs: [] });
          return;
        }
        json(404, { error: `no model at ${url}` });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get last(): FakeV2Rest['seen'][number] {
    const seen = this.seen.at(-1);
    assert.ok(seen, 'the gateway saw no request');
    return seen;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const grpcGateway = new FakeGrpcGateway();
const restGateway = new FakeV2Rest();
let overGrpc: SeldonClient;
let overRest: SeldonClient;

before(async () => {
  await Promise.all([grpcGateway.start(), restGateway.start()]);
  overGrpc = new SeldonClient({ gatewayEndpoint: `127.0.0.1:${grpcGateway.port}`, transport: 'grpc', namespace: 'seldon', deploymentName: 'iris', headers: { Authorization: 'Bearer t' } });
  overRest = new SeldonClient({ gatewayEndpoint: `http://127.0.0.1:${restGateway.port}`, namespace: 'seldon', deploymentName: 'iris' });
});

after(async () => {
  await overGrpc.close();
  await overRest.close();
  await Promise.all([grpcGateway.stop(), restGateway.stop()]);
});

async function failureOf(promise: Promise<unknown>): Promise<SeldonClientError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SeldonClientError, `expected a SeldonClientError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

test('predict over gRPC calls Seldon/Predict naming the deployment in metadata, and reads the computed answer', async () => {
  const prediction = await overGrpc.predict({ data: [[1, 2, 3], [4, 5, 6.5]], meta: { tags: { from: 'test' } } });
  assert.deepEqual(grpcGateway.last, { path: '/seldon.protos.Seldon/Predict', seldon: 'iris', namespace: 'seldon', puid: undefined, authorization: 'Bearer t' });
  assert.deepEqual(prediction.data, { names: ['sum'], ndarray: [[6], [15.5]] });
  assert.deepEqual(prediction.meta?.tags, { from: 'test' });
  assert.equal(prediction.puid, 'puid-7');
});

test('feedback over gRPC sends the reward with the response puid as seldon-puid; metadata reads the model or the graph', async () => {
  const request = { data: { ndarray: [[1, 2]] } };
  const response = await overGrpc.predict({ data: request.data.ndarray, deploymentName: 'other', namespace: 'team' });
  assert.deepEqual([grpcGateway.last.seldon, grpcGateway.last.namespace], ['other', 'team']);
  const answer = await overGrpc.feedback({ request, response, reward: 0.5 });
  assert.deepEqual(answer.data?.ndarray, [[0.5]]);
  assert.equal(grpcGateway.last.path, '/seldon.protos.Seldon/SendFeedback');
  assert.equal(grpcGateway.last.puid, 'puid-7');
  const model = await overGrpc.metadata({ model: 'classifier' });
  assert.equal(grpcGateway.last.path, '/seldon.protos.Seldon/ModelMetadata');
  assert.deepEqual([model.name, model.platform, model.versions], ['classifier', 'seldon', ['v1']]);
  const graph = await overGrpc.metadata();
  assert.equal(grpcGateway.last.path, '/seldon.protos.Seldon/GraphMetadata');
  assert.equal(graph.models?.['classifier']?.platform, 'seldon');
});

test("a gRPC failure carries the gateway's words, its code and the HTTP status it stands for", async () => {
  const bad = await failureOf(overGrpc.predict({ message: { strData: 'no rows' } }));
  assert.equal(bad.code, 'FAILURE');
  assert.equal(bad.grpcCode, grpc.status.INVALID_ARGUMENT);
  assert.equal(bad.status, 400);
  assert.equal(bad.info, 'expected data.ndarray (data)');
  assert.equal(bad.message, '/seldon.protos.Seldon/Predict: INVALID_ARGUMENT expected data.ndarray (data)');
  const missing = await failureOf(overGrpc.predict({ data: [[1]], deploymentName: 'missing' }));
  assert.equal(missing.status, 404);
  assert.equal(missing.info, 'no deployment seldon/missing');
});

test('a gRPC gateway that is not there fails with CONNECTION; a deadline with TIMEOUT', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const nowhere = new SeldonClient({ gatewayEndpoint: `127.0.0.1:${port}`, transport: 'grpc', deploymentName: 'iris', timeoutMs: 2_000 });
  try {
    const err = await failureOf(nowhere.predict({ data: [[1]] }));
    assert.equal(err.code, 'CONNECTION');
    assert.match(err.message, /ECONNREFUSED|No connection established/);
  } finally {
    await nowhere.close();
  }
  // The REST stand-in never answers HTTP/2: the call waits for its deadline.
  const http1 = new SeldonClient({ gatewayEndpoint: `127.0.0.1:${restGateway.port}`, transport: 'grpc', deploymentName: 'iris', timeoutMs: 300 });
  try {
    const err = await failureOf(http1.predict({ data: [[1]] }));
    assert.ok(err.code === 'TIMEOUT' || err.code === 'CONNECTION', `${err.code}: ${err.message}`);
  } finally {
    await http1.close();
  }
});

const ROWS = { name: 'x', shape: [2, 2], datatype: 'FP64' as const, data: [1.5, -2, 3, 1e300] };

test('infer over gRPC sends a ModelInferRequest and reads the computed outputs, as JSON and typed', async () => {
  const result = await overGrpc.infer('classifier', [ROWS], { id: 'req-1', version: '3' });
  assert.equal(grpcGateway.last.path, '/inference.GRPCInferenceService/ModelInfer');
  assert.deepEqual([grpcGateway.last.seldon, grpcGateway.last.namespace], ['iris', 'seldon']);
  assert.equal(result.response.model_name, 'classifier');
  assert.equal(result.response.model_version, '3');
  assert.equal(result.response.id, 'req-1');
  assert.deepEqual(result.response.outputs, [{ name: 'doubled', shape: [2, 2], datatype: 'FP64', data: [3, -4, 6, 2e300] }]);
  assert.deepEqual(Array.from(result.tensors[0]!.values as Float64Array), [3, -4, 6, 2e300]);
});

test('readiness and model metadata over gRPC', async () => {
  assert.equal(await overGrpc.serverReady(), true);
  assert.equal(await overGrpc.modelReady('classifier'), true);
  assert.equal(grpcGateway.last.path, '/inference.GRPCInferenceService/ModelReady');
  assert.equal(await overGrpc.modelReady('other'), false);
  const metadata = await overGrpc.modelMetadata('classifier');
  assert.deepEqual(metadata, { name: 'classifier', platform: 'trantor', versions: ['1'], inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }], outputs: [{ name: 'doubled', datatype: 'FP64', shape: [-1, 4] }] });
});

test('infer over REST posts V2 JSON to the deployment path and reads the answer', async () => {
  const result = await overRest.infer('classifier', [ROWS], { outputs: ['doubled'] });
  assert.equal(restGateway.last.url, '/seldon/seldon/iris/v2/models/classifier/infer');
  assert.equal(restGateway.last.headers['inference-header-content-length'], undefined);
  assert.deepEqual(JSON.parse(restGateway.last.body.toString('utf8')), { outputs: [{ name: 'doubled' }], inputs: [ROWS] });
  assert.deepEqual(result.response.outputs, [{ name: 'doubled', shape: [2, 2], datatype: 'FP64', data: [3, -4, 6, 2e300] }]);
});

test('infer over REST with binary sends the binary_data extension both ways', async () => {
  const result = await overRest.infer('classifier', [{ name: 'x', shape: [1, 2], datatype: 'FP64', values: Float64Array.of(0.1, 0.25) }], { binary: true });
  const seen = restGateway.last;
  const headerLength = Number(seen.headers['inference-header-content-length']);
  assert.equal(seen.body.length, headerLength + 16, 'two FP64 values after the JSON header');
  const header = JSON.parse(seen.body.subarray(0, headerLength).toString('utf8')) as { parameters?: unknown; inputs: { parameters?: unknown }[] };
  assert.deepEqual(header.parameters, { binary_data_output: true });
  assert.deepEqual(header.inputs[0]!.parameters, { binary_data_size: 16 });
  assert.deepEqual(result.response.outputs, [{ name: 'doubled', shape: [1, 2], datatype: 'FP64', data: [0.2, 0.5] }]);
  assert.deepEqual(Array.from(result.tensors[0]!.values as Float64Array), [0.2, 0.5]);
});

test("V2 over REST: readiness, versioned metadata, and a failure's error words", async () => {
  assert.equal(await overRest.serverReady(), true);
  assert.equal(await overRest.modelReady('classifier'), true);
  assert.equal(await overRest.modelReady('other'), false);
  const metadata = await overRest.modelMetadata('classifier', { version: '2' });
  assert.equal(restGateway.last.url, '/seldon/seldon/iris/v2/models/classifier/versions/2');
  assert.deepEqual(metadata.versions, ['2']);
  const err = await failureOf(overRest.infer('other', [ROWS]));
  assert.equal(err.code, 'FAILURE');
  assert.equal(err.status, 404);
  assert.equal(err.info, 'no model at /seldon/seldon/iris/v2/models/other/infer');
});

test('bad inputs are reported before anything is sent', async () => {
  const count = restGateway.seen.length + grpcGateway.seen.length;
  await assert.rejects(overRest.infer('classifier', []), /at least one input/);
  await assert.rejects(overGrpc.infer('classifier', [{ name: 'x', shape: [3], datatype: 'FP64', data: [1, 2] }]), /inputs\[0\]/);
  assert.throws(() => new SeldonClient({ gatewayEndpoint: 'http://h:1/prefix', transport: 'grpc' }), /gRPC calls take no path prefix/);
  assert.equal(restGateway.seen.length + grpcGateway.seen.length, count);
});
