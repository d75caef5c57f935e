import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeploymentList, DeploymentView, ObjectEvent, ReplicaStatus } from '../manifest/index.ts';
import { eventTable, podStatus, podsOf, podTable, restartsText } from './pods.ts';
import { fakeServer, trantor, type Answer, type Seen } from './testing.ts';

const NOW = Date.parse('2026-12-05T04:00:00Z');
const at = (secondsAgo: number): string => new Date(NOW - secondsAgo * 1000).toISOString();

const replica = (node: string, extra: Partial<ReplicaStatus> = {}): ReplicaStatus => ({
  id: `default/${node}/0`,
  predictor: 'default',
  node,
  index: 0,
  state: 'Ready',
  restarts: 0,
  createdAt: at(600),
  ...extra,
});

function deployment(name: string, namespace: string, replicas: ReplicaStatus[]): DeploymentView {
  return {
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name, namespace, labels: {}, annotations: {}, creationTimestamp: at(600) },
    spec: { name, protocol: 'seldon', transport: 'rest', annotations: {}, predictors: [] },
    status: { state: 'Available', replicas, address: { url: '' }, createdAt: at(600) },
  };
}

const CRASHING = replica('classifier', { state: 'Crashed', restarts: 4, lastExit: { reason: 'exited with code 3', exitCode: 3, finishedAt: at(5) } });

test('a pod is named <deployment>-<predictor>-<node>-<index>, even when the runtime gave no name', () => {
  assert.deepEqual(podsOf([deployment('iris', 'seldon', [replica('classifier')])]).map((p) => p.name), ['iris-default-classifier-0']);
});

test("STATUS words a replica's state as kubectl words a pod's", () => {
  assert.equal(podStatus(replica('a')), 'Running');
  assert.equal(podStatus(replica('a', { state: 'Unready' })), 'Running');
  assert.equal(podStatus(replica('a', { state: 'Starting' })), 'Starting');
  assert.equal(podStatus(CRASHING), 'CrashLoopBackOff');
  assert.equal(podStatus(replica('a', { state: 'Crashed' })), 'Error');
  assert.equal(podStatus(replica('a', { state: 'Stopped' })), 'Stopped');
});

test('RESTARTS says how long ago the last one ended, as kubectl 1.28 does', () => {
  assert.equal(restartsText(CRASHING, NOW), '4 (5s ago)');
  assert.equal(restartsText(replica('a'), NOW), '0');
});

test('the pod table has kubectl columns, and NAMESPACE only when several namespaces are shown', () => {
  const one = podsOf([deployment('iris', 'seldon', [replica('transformer'), CRASHING])]);
  assert.equal(
    podTable(one, { now: NOW }),
    [
      'NAME                         READY   STATUS             RESTARTS     AGE',
      'iris-default-transformer-0   1/1     Running            0            10m',
      'iris-default-classifier-0    0/1     CrashLoopBackOff   4 (5s ago)   10m',
    ].join('\n'),
  );
  const two = podsOf([deployment('a', 'x', [replica('n')]), deployment('b', 'y', [replica('n')])]);
  assert.match(podTable(two, { now: NOW }).split('\n')[0]!, /^NAMESPACE +NAME +READY/);
});

const EVENTS: ObjectEvent[] = [
  { type: 'Warning', reason: 'DeliveryFailed', message: 'Delivery to http://127.0.0.1:9/ failed (500)', involvedObject: { kind: 'Trigger', namespace: 'default', name: 't' }, source: 'broker', count: 11, firstTimestamp: at(20), lastTimestamp: at(10) },
  { type: 'Warning', reason: 'Crashed', message: 'Replica exited with code 3; its last output:\nboom', involvedObject: { kind: 'SeldonDeployment', namespace: 'default', name: 'iris', replica: 'iris-default-classifier-0' }, source: 'supervisor', count: 1, firstTimestamp: at(2), lastTimestamp: at(2) },
];

test("the event table has kubectl's columns, names a replica's event by its pod, and keeps a message on one line", () => {
  assert.equal(
    eventTable(EVENTS, NOW),
    [
      'LAST SEEN   TYPE      REASON           OBJECT                          MESSAGE',
      '10s         Warning   DeliveryFailed   trigger/t                       Delivery to http://127.0.0.1:9/ failed (500)',
      '2s          Warning   Crashed          pod/iris-default-classifier-0   Replica exited with code 3; its last output: ⏎ boom',
    ].join('\n'),
  );
});

function api(seen: Seen): Answer {
  const list: DeploymentList = { items: [deployment('iris', 'seldon', [replica('transformer'), CRASHING])] };
  if (seen.url === '/v1/deployments') return { status: 200, body: JSON.stringify(list) };
  if (seen.url.startsWith('/v1/events')) return { status: 200, body: JSON.stringify({ items: EVENTS }) };
  return { status: 404, body: '{}' };
}

test('trantor get pods lists every replica; get replicas is the same; -n narrows', async () => {
  const { url, server } = await fakeServer(api);
  try {
    for (const word of ['pods', 'replicas', 'po']) {
      const result = await trantor(url, ['get', word]);
      assert.equal(result.code, 0, result.err);
      assert.match(result.out, /^iris-default-classifier-0 +0\/1 +CrashLoopBackOff +4 \(\d+[smhd] ago\)/m);
    }
    const other = await trantor(url, ['get', 'pods', '-n', 'elsewhere']);
    assert.equal(other.out, '');
    assert.equal(other.err, 'No resources found');
    const named = await trantor(url, ['get', 'pod', 'nope']);
    assert.equal(named.code, 1);
    assert.equal(named.err, 'error: pods "nope" not found');
  } finally {
    server.close();
  }
});

test('trantor get events prints the table; -n reaches the API as ?namespace=', async () => {
  const { url, server, seen } = await fakeServer(api);
  try {
    const result = await trantor(url, ['get', 'events', '-n', 'default']);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$/m);
    assert.ok(seen.some((s) => s.url === '/v1/events?namespace=default'));
    const yaml = await trantor(url, ['get', 'events', '-o', 'json']);
    assert.equal((JSON.parse(yaml.out) as { items: unknown[] }).items.length, 2);
  } finally {
    server.close();
  }
});

test("a word that is no resource type and no SeldonDeployment gets kubectl's answer", async () => {
  const { url, server } = await fakeServer(api);
  try {
    const alone = await trantor(url, ['get', 'foo']);
    assert.equal(alone.code, 1);
    assert.equal(alone.err, 'error: the server doesn\'t have a resource type "foo"');
    const named = await trantor(url, ['get', 'foo', 'bar']);
    assert.equal(named.err, 'error: the server doesn\'t have a resource type "foo"');
    const described = await trantor(url, ['describe', 'foo', 'bar']);
    assert.equal(described.err, 'error: the server doesn\'t have a resource type "foo"');
  } finally {
    server.close();
  }
});
