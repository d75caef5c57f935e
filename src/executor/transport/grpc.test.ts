/**
 * The gRPC transport against a real grpc-js server speaking seldon.proto over HTTP/2 (a test
 * fixture standing in for a component, as the HTTP tests stand a wrapper in): the transport
 * contract, then what is gRPC's own — which service each method calls, status codes, metadata,
 * message limits, retries.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { COMPONENT_RPC_METHODS, TrantorError, componentRpc, fromProto, stringifyJson, toProto } from '../../protocol/index.ts';
import type { SeldonMessage, SeldonProtoKind } from '../../protocol/index.ts';
import { StaticEndpoints } from '../testing.ts';
import { runTransportContract } from './contract.ts';
import type { ContractComponent, ContractReply, ContractSubject } from './contract.ts';
import type { UnitKey } from './endpoints.ts';
import { GrpcTransport } from './grpc.ts';
import type { GrpcTransportOptions } from './grpc.ts';
import type { ComponentMethod } from './transport.ts';

const unit: UnitKey = Object.freeze({ namespace: 'seldon', deployment: 'iris-model', predictor: 'default', node: 'classifier' });
const call = { idempotent: true, timeoutMs: 2000 };
const RETRY_WINDOW_MS = 300;

/** The gRPC code a component answers for an HTTP failure status, the inverse of the transport's table. */
const CODE_OF_HTTP: Readonly<Record<number, grpc.status>> = { 400: grpc.status.INVALID_ARGUMENT, 404: grpc.status.NOT_FOUND, 501: grpc.status.UNIMPLEMENTED, 503: grpc.status.UNAVAILABLE, 504: grpc.status.DEADLINE_EXCEEDED };

interface Served {
  readonly port: number;
  /** Each call's path and its `seldon-puid` metadata, in order. */
  readonly calls: { path: string; puid: string | undefined }[];
  close: () => Promise<void>;
}

/**
 * A component over gRPC: every component RPC (componentRpc) decodes its request with our codec and hands
 * it to `component`; a 2xx reply is encoded as the RPC's answer, any other one is sent as the
 * gRPC status of its HTTP status with the Seldon failure's `info` (or the body) as details.
 * `raw` answers bytes as they are, for answers that are not the protocol's.
 */
async function serveGrpc(component: ContractComponent, raw?: (path: string) => Buffer | undefined): Promise<Served> {
  const server = new grpc.Server();
  const calls: Served['calls'] = [];
  const asIs = (bytes: Buffer): Buffer => bytes;
  for (const route of COMPONENT_RPC_METHODS.map(componentRpc)) {
    const method = route.method;
    const handler: grpc.handleUnaryCall<Buffer, Buffer> = (rpc, done) => {
      const puid = rpc.metadata.get('seldon-puid')[0];
      calls.push({ path: route.path, puid: puid === undefined ? undefined : String(puid) });
      const bytes = raw?.(route.path);
      if (bytes !== undefined) return done(null, bytes);
      const payload = route.request === 'Empty' ? undefined : requestOf(route.request, rpc.request);
      component(method as ComponentMethod, payload)
        .then((reply) => answer(reply, route.answer, done))
        .catch((err: unknown) => done({ code: grpc.status.INTERNAL, details: `the fixture failed: ${String(err)}` }));
    };
    server.register(route.path, handler, asIs, asIs, 'unary');
  }
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return { port, calls, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

function requestOf(kind: SeldonProtoKind, bytes: Buffer): unknown {
  const value = fromProto(kind, bytes);
  return kind === 'SeldonMessageList' ? (value as { seldonMessages?: unknown[] }).seldonMessages ?? [] : value;
}

function answer(reply: ContractReply, kind: SeldonProtoKind, done: grpc.sendUnaryData<Buffer>): void {
  if (reply.status >= 200 && reply.status < 300) {
    done(null, Buffer.from(toProto(kind, reply.body as SeldonMessage)));
    return;
  }
  const status = (reply.body as { status?: { info?: string } } | undefined)?.status;
  done({ code: CODE_OF_HTTP[reply.status] ?? grpc.status.UNKNOWN, details: status?.info ?? stringifyJson(reply.body) });
}

runTransportContract({
  name: 'gRPC',
  // Seldon's components answer metadata with a typed message (tested below) and have no gRPC health.
  methods: ['predict', 'transformInput', 'transformOutput', 'route', 'aggregate', 'sendFeedback'],
  skip: {
    'numbers cross exactly, both ways': "ndarray travels as protobuf ListValue, whose numbers are doubles: digits beyond a double's are lost, as in Seldon's gRPC",
    'meta: the request\'s puid reaches the component and the reply\'s tags and metrics come back':
      "a COUNTER metric's type is protobuf's default value, so it comes back without `type` (read as COUNTER), as from Seldon's gRPC; meta is checked in full below",
    'a component failure passes through with its own status and body': 'gRPC carries a status code and details, not an HTTP status and body: tested below as codes mapped to HTTP statuses',
    'a failure without a Seldon status is COMPONENT_FAILURE with the component\'s status and body': 'as above: no HTTP status or body crosses gRPC',
    'a success that is not a Seldon message fails BAD_UPSTREAM naming the node; metadata and health may be any value': 'a protobuf answer is a SeldonMessage by construction: bytes that do not decode are tested below',
  },
  async newTransport(component: ContractComponent): Promise<ContractSubject> {
    const served = await serveGrpc(component);
    const endpoints = new StaticEndpoints();
    endpoints.set(unit.node, [{ id: 'a', host: '127.0.0.1', port: served.port }]);
    const transport = new GrpcTransport({ endpoints, retryWindowMs: RETRY_WINDOW_MS });
    return {
      transport,
      unit,
      takeDown: () => endpoints.set(unit.node, []),
      close: async () => {
        await transport.close();
        await served.close();
      },
    };
  },
});

// ---- gRPC's own -------------------------------------------------------------------------------

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function serve(component: ContractComponent, raw?: (path: string) => Buffer | undefined): Promise<Served> {
  const served = await serveGrpc(component, raw);
  cleanup.push(() => served.close());
  return served;
}

function transportTo(ports: readonly number[], options: Omit<GrpcTransportOptions, 'endpoints'> = {}): GrpcTransport {
  const endpoints = new StaticEndpoints();
  endpoints.set(unit.node, ports.map((port, i) => ({ id: `r${i}`, host: '127.0.0.1', port })));
  const transport = new GrpcTransport({ endpoints, retryWindowMs: RETRY_WINDOW_MS, ...options });
  cleanup.push(() => transport.close());
  return transport;
}

const echo: ContractComponent = (method, payload) => Promise.resolve({ status: 200, body: method === 'sendFeedback' ? {} : (payload ?? {}) });

test('each method calls the service Seldon\'s executor calls for it, with the request\'s puid as seldon-puid metadata', async () => {
  const served = await serve((method) => Promise.resolve({ status: 200, body: method === 'metadata' ? { name: 'iris', versions: ['v1'], platform: 'sklearn' } : { strData: method } }));
  const transport = transportTo([served.port]);
  const message: SeldonMessage = { data: { ndarray: [[1]] }, meta: { puid: 'p-1' } };
  assert.deepEqual((await transport.predict(unit, message, call)).message, { strData: 'predict' });
  await transport.transformInput(unit, message, call);
  await transport.transformOutput(unit, message, call);
  await transport.route(unit, message, call);
  await transport.aggregate(unit, [message, { strData: 'x' }], call);
  await transport.sendFeedback(unit, { request: message, reward: 1 }, call);
  assert.deepEqual((await transport.metadata(unit, call)).message, { name: 'iris', versions: ['v1'], platform: 'sklearn' });
  assert.deepEqual(served.calls, [
    { path: '/seldon.protos.Model/Predict', puid: 'p-1' },
    { path: '/seldon.protos.Transformer/TransformInput', puid: 'p-1' },
    { path: '/seldon.protos.OutputTransformer/TransformOutput', puid: 'p-1' },
    { path: '/seldon.protos.Router/Route', puid: 'p-1' },
    { path: '/seldon.protos.Combiner/Aggregate', puid: 'p-1' },
    { path: '/seldon.protos.Model/SendFeedback', puid: 'p-1' },
    { path: '/seldon.protos.Model/Metadata', puid: undefined },
  ]);
});

test('health answers NOT_IMPLEMENTED without a call: Seldon\'s components have no gRPC health method', async () => {
  const served = await serve(echo);
  const reply = await transportTo([served.port]).health(unit, call);
  assert.equal(reply.status, 501);
  assert.equal(reply.failure?.code, 'NOT_IMPLEMENTED');
  assert.equal(served.calls.length, 0);
});

test('gRPC status codes come back as the HTTP transport\'s failures: INVALID_ARGUMENT is 400 with the component\'s message', async () => {
  const served = await serve((method) =>
    Promise.resolve(
      method === 'predict'
        ? { status: 400, body: { status: { status: 'FAILURE', info: 'columns do not match' } } }
        : method === 'route'
          ? { status: 501, body: { status: { status: 'FAILURE', info: 'no route method' } } }
          : { status: 500, body: { status: { status: 'FAILURE', info: 'Exception calling application: boom' } } },
    ),
  );
  const transport = transportTo([served.port]);
  const bad = await transport.predict(unit, { data: { ndarray: [[1]] } }, call);
  assert.deepEqual([bad.status, bad.failure?.code, bad.failure?.status, bad.failure?.reason, bad.failure?.message], [400, 'COMPONENT_FAILURE', 400, 'MICROSERVICE_BAD_DATA', 'columns do not match']);
  assert.deepEqual(bad.body, { status: { status: 'FAILURE', code: 400, info: 'columns do not match', reason: '' } });
  const missing = await transport.route(unit, { data: { ndarray: [[1]] } }, call);
  assert.deepEqual([missing.status, missing.failure?.message], [501, 'no route method']);
  const broken = await transport.transformInput(unit, { data: { ndarray: [[1]] } }, call);
  assert.deepEqual([broken.status, broken.failure?.status, broken.failure?.reason], [500, 500, 'MICROSERVICE_INTERNAL_ERROR']);
});

test('a component answering UNAVAILABLE is a replica that did not answer: UNAVAILABLE once the retry window is over', async () => {
  const served = await serve(() => Promise.resolve({ status: 503, body: { status: { info: 'warming up' } } }));
  await assert.rejects(transportTo([served.port]).predict(unit, { strData: 'x' }, call), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /^no replica of node "classifier" .* answered \(last failure: warming up\)$/);
    return true;
  });
});

test('a call goes to another replica when one is down; one that is not idempotent only when it was never sent', async () => {
  const gone = await serveGrpc(echo);
  await gone.close();
  const healthy = await serve(echo);
  const transport = transportTo([gone.port, healthy.port]);
  for (let i = 0; i < 4; i++) assert.deepEqual((await transport.predict(unit, { strData: `n${i}` }, call)).message, { strData: `n${i}` });
  assert.equal(healthy.calls.length, 4);
  // A fresh transport, so the replica that is down is not ejected yet and is tried first.
  const fresh = transportTo([gone.port, healthy.port]);
  for (let i = 0; i < 2; i++) assert.equal((await fresh.sendFeedback(unit, { reward: i }, { idempotent: false, timeoutMs: 2000 })).status, 200);
  assert.equal(healthy.calls.length, 6);
  // A component that answered UNAVAILABLE may have seen the call: feedback is not sent again.
  const refusing = await serve(() => Promise.resolve({ status: 503, body: { status: { info: 'overloaded' } } }));
  const other = await serve(echo);
  await assert.rejects(transportTo([refusing.port, other.port]).sendFeedback(unit, { reward: 1 }, { idempotent: false, timeoutMs: 2000 }), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /^node "classifier" .* did not answer: overloaded$/);
    return true;
  });
  assert.equal(other.calls.length, 0);
});

test('a replica answering UNAVAILABLE consecutiveFailures times in a row is ejected', async () => {
  const refusing = await serve(() => Promise.resolve({ status: 503, body: { status: { info: 'overloaded' } } }));
  const healthy = await serve(echo);
  const transport = transportTo([refusing.port, healthy.port], { consecutiveFailures: 2, baseEjectionMs: 60_000 });
  for (let i = 0; i < 10; i++) assert.deepEqual((await transport.predict(unit, { strData: 'x' }, call)).message, { strData: 'x' });
  assert.equal(healthy.calls.length, 10);
  assert.equal(refusing.calls.length, 2, 'round-robin reached it twice, then it was left out');
});

test('meta crosses both ways: puid and tags in, tags and metrics out', async () => {
  let arrived: unknown;
  const served = await serve((_method, payload) => {
    arrived = (payload as SeldonMessage).meta;
    return Promise.resolve({ status: 200, body: { meta: { tags: { seen: 'yes' }, metrics: [{ key: 'k', type: 'GAUGE', value: 2 }] }, strData: 'ok' } });
  });
  const reply = await transportTo([served.port]).predict(unit, { meta: { puid: 'abc', tags: { a: 1 } }, strData: 'x' }, call);
  assert.deepEqual(arrived, { puid: 'abc', tags: { a: 1 } });
  assert.deepEqual((reply.message as SeldonMessage).meta, { tags: { seen: 'yes' }, metrics: [{ key: 'k', type: 'GAUGE', value: 2 }] });
});

test('a deadline from the call\'s timeout: DEADLINE_EXCEEDED is UPSTREAM_TIMEOUT naming the node', async () => {
  let release: () => void = () => undefined;
  const released = new Promise<ContractReply>((resolve) => (release = () => resolve({ status: 200, body: {} })));
  const served = await serve(() => released);
  const start = Date.now();
  await assert.rejects(transportTo([served.port]).predict(unit, { strData: 'x' }, { idempotent: true, timeoutMs: 150 }), (err: TrantorError) => {
    assert.equal(err.code, 'UPSTREAM_TIMEOUT');
    assert.match(err.message, /node "classifier" .* did not answer within 150 ms/);
    return true;
  });
  assert.ok(Date.now() - start < 1500);
  release();
});

test('messages larger than maxMessageBytes are refused, not sent', async () => {
  const served = await serve(echo);
  const reply = await transportTo([served.port], { maxMessageBytes: 100 }).predict(unit, { strData: 'x'.repeat(200) }, call);
  assert.equal(reply.status, 429);
  assert.equal(reply.failure?.code, 'COMPONENT_FAILURE');
  assert.equal(served.calls.length, 0);
});

test('an answer that is not a protobuf SeldonMessage is BAD_UPSTREAM naming the node', async () => {
  const served = await serve(echo, () => Buffer.from([0xff, 0xff, 0xff]));
  const reply = await transportTo([served.port]).predict(unit, { strData: 'x' }, call);
  assert.equal(reply.status, 200);
  assert.equal(reply.failure?.code, 'BAD_UPSTREAM');
  assert.match(reply.failure.message, /^node "classifier" answered with something that is not a SeldonMessage: /);
});

test('a message that cannot travel as protobuf is BAD_PAYLOAD naming the node, not sent', async () => {
  const served = await serve(echo);
  const reply = await transportTo([served.port]).predict(unit, { binData: 'not base64 !' }, call);
  assert.equal(reply.failure?.code, 'BAD_PAYLOAD');
  assert.match(reply.failure.message, /^the message for node "classifier" .* cannot travel as protobuf: /);
  assert.equal(served.calls.length, 0);
});
