import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { TrantorError } from '../../protocol/index.ts';
import { loadManifests } from '../../manifest/index.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import { StaticEndpoints, transportAnswering } from '../testing.ts';
import { ByEndpointTransport, endpointTransport, endpointTypeIn, grpcEndpoints } from './by-endpoint.ts';
import type { EndpointType } from './by-endpoint.ts';
import type { ReplicaAddress, UnitKey } from './endpoints.ts';
import type { Transport } from './transport.ts';

const call = { idempotent: true, timeoutMs: 2000 };
const message = { data: { ndarray: [[1]] } };

function unitOf(node: string): UnitKey {
  return Object.freeze({ namespace: 'seldon', deployment: 'pair', predictor: 'default', node });
}

/** A transport that answers with its own name, and records which node and method it was asked. */
function named(name: string, calls: string[]): Transport {
  return transportAnswering((unit, method) => {
    calls.push(`${name} ${unit.node} ${method}`);
    return Promise.resolve({ status: 200, message: { strData: name } });
  });
}

const replica: ReplicaAddress = { id: 'r1', host: '127.0.0.1', port: 9000, grpcPort: 9500 };

test('each node goes to the transport its endpoint.type names; health always over REST', async () => {
  const types: Record<string, EndpointType | undefined> = { a: 'GRPC', b: 'REST', c: undefined };
  const calls: string[] = [];
  const endpoints = new StaticEndpoints();
  for (const node of ['a', 'b', 'c']) endpoints.set(node, [replica]);
  const transport = new ByEndpointTransport({ endpointTypeOf: (unit) => types[unit.node], rest: named('rest', calls), grpc: named('grpc', calls), endpoints });
  const [a, b, c] = ['a', 'b', 'c'].map(unitOf) as [UnitKey, UnitKey, UnitKey];
  await transport.predict(a, message, call);
  await transport.predict(b, message, call);
  await transport.predict(c, message, call);
  await transport.aggregate(a, [message], call);
  await transport.sendFeedback(a, { reward: 1 }, call);
  await transport.metadata(a, call);
  await transport.health(a, call);
  assert.deepEqual(calls, ['grpc a predict', 'rest b predict', 'rest c predict', 'grpc a aggregate', 'grpc a sendFeedback', 'grpc a metadata', 'rest a health']);
});

test('the choice is made once per unit object: a new object (a re-applied deployment) is chosen afresh', async () => {
  let type: EndpointType = 'GRPC';
  let asked = 0;
  const calls: string[] = [];
  const endpoints = new StaticEndpoints();
  endpoints.set('a', [replica]);
  const transport = new ByEndpointTransport({
    endpointTypeOf: () => {
      asked++;
      return type;
    },
    rest: named('rest', calls),
    grpc: named('grpc', calls),
    endpoints,
  });
  const first = unitOf('a');
  await transport.predict(first, message, call);
  type = 'REST';
  await transport.predict(first, message, call);
  assert.equal(asked, 1);
  await transport.predict(unitOf('a'), message, call);
  assert.equal(asked, 2);
  assert.deepEqual(calls, ['grpc a predict', 'grpc a predict', 'rest a predict']);
});

test('close closes both transports', async () => {
  const closed: string[] = [];
  const closing = (name: string): Transport => Object.assign(transportAnswering(() => Promise.reject(new Error('unused'))), { close: () => Promise.resolve(void closed.push(name)) });
  await new ByEndpointTransport({ endpointTypeOf: () => 'REST', rest: closing('rest'), grpc: closing('grpc'), endpoints: new StaticEndpoints() }).close();
  assert.deepEqual(closed.sort(), ['grpc', 'rest']);
});

test('grpcEndpoints offers each replica at its gRPC port, the same list object while the source list is unchanged', () => {
  const endpoints = new StaticEndpoints();
  const list = Object.freeze([replica, { id: 'r2', host: '127.0.0.1', port: 9001 }]);
  endpoints.set('a', list);
  const grpc = grpcEndpoints(endpoints);
  const first = grpc.replicasOf(unitOf('a'));
  assert.deepEqual(first, [{ id: 'r1', host: '127.0.0.1', port: 9500 }]);
  assert.equal(grpc.replicasOf(unitOf('a')), first);
  endpoints.set('a', [{ ...replica, grpcPort: 9600 }]);
  assert.deepEqual(grpc.replicasOf(unitOf('a')), [{ id: 'r1', host: '127.0.0.1', port: 9600 }]);
});

test('a GRPC node whose replicas have no gRPC port fails UNAVAILABLE naming the node, without a call', async () => {
  const calls: string[] = [];
  const endpoints = new StaticEndpoints();
  endpoints.set('a', [{ id: 'r1', host: '127.0.0.1', port: 9000 }]);
  const transport = new ByEndpointTransport({ endpointTypeOf: () => 'GRPC', rest: named('rest', calls), grpc: named('grpc', calls), endpoints });
  await assert.rejects(transport.predict(unitOf('a'), message, call), (err: unknown) => {
    assert.ok(err instanceof TrantorError);
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /node "a" .* has endpoint\.type GRPC, but its replicas were given no gRPC port/);
    return true;
  });
  assert.deepEqual(calls, []);
});

test('a GRPC node whose host serves no gRPC fails UNAVAILABLE saying so, over the real gRPC transport', async () => {
  // A port that was free a moment ago: nothing listens there, as on a host that ignores its gRPC port.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const endpoints = new StaticEndpoints();
  endpoints.set('a', [{ id: 'r1', host: '127.0.0.1', port: 1, grpcPort: closedPort }]);
  const transport = endpointTransport(endpoints, () => 'GRPC', { ...EXECUTOR_DEFAULTS, retryWindow: 50 });
  try {
    await assert.rejects(transport.predict(unitOf('a'), message, call), (err: unknown) => {
      assert.ok(err instanceof TrantorError);
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /node "a" .* has endpoint\.type GRPC, but its host serves no gRPC/);
      return true;
    });
  } finally {
    await transport.close();
  }
});

test("endpointTypeIn reads the node's type, spec.transport being the default", () => {
  const yaml = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: { name: pair, namespace: seldon }
spec:
  transport: grpc
  predictors:
    - name: default
      graph:
        name: a
        implementation: SKLEARN_SERVER
        modelUri: file:///tmp/m
        children:
          - name: b
            implementation: SKLEARN_SERVER
            modelUri: file:///tmp/m
            endpoint: { type: REST }
`;
  const deployment = loadManifests(yaml, { source: 'test.yaml' }).deployments[0]!;
  const types = ['a', 'b', 'z'].map((node) => endpointTypeIn(deployment, unitOf(node)));
  assert.deepEqual(types, ['GRPC', 'REST', undefined]);
  assert.equal(endpointTypeIn(undefined, unitOf('a')), undefined);
  assert.equal(endpointTypeIn(deployment, { ...unitOf('a'), predictor: 'other' }), undefined);
});
