import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { Eventing, SqliteEventStore } from '../eventing/index.ts';
import { decodeStructured, TrantorError } from '../protocol/index.ts';
import { startSubscriber, testLimits, until } from '../eventing/testing.ts';
import { loadManifests, type ObjectEventRecord } from '../manifest/index.ts';
import { EventingControl } from './eventing-control.ts';
import { ManifestStore } from './store.ts';

const home = mkdtempSync(join(tmpdir(), 'trantor-eventing-control-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** A control plane's eventing over the home's stores; the subscriber (a SeldonDeployment) never resolves. */
function open(): { eventing: Eventing; control: EventingControl } {
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(home, 'events.db') }), limits: testLimits() });
  const control = new EventingControl({ eventing, store: new ManifestStore(join(home, 'manifests')), logger: pino({ level: 'silent' }), deploymentAddress: () => undefined, gatewayUrl: () => 'http://127.0.0.1:9' });
  return { eventing, control };
}

const TRIGGERS = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: kept}
spec:
  subscriber: {ref: {apiVersion: machinelearning.seldon.io/v1, kind: SeldonDeployment, name: later}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: good}
spec:
  subscriber: {uri: "http://127.0.0.1:9/"}
  filter: {attributes: {type: none.of.these}}
`;

test('a stored trigger that cannot be restored is named and skipped, its pending deliveries kept until it is deleted', async () => {
  const first = open();
  await first.control.restore();
  await first.control.apply(loadManifests(TRIGGERS));
  await first.eventing.publish('default', 'default', { specversion: '1.0', id: 'e1', source: 'tests', type: 'tests.kept', extensions: {} });
  assert.equal((await first.eventing.triggerCounts('default/kept')).pending, 1);
  await first.eventing.close();

  const file = join(home, 'manifests', 'triggers', 'default', 'kept.json');
  writeFileSync(file, '{"object": {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger", "metadata": {"name": "kept"}, "spec": {}}}');
  const second = open();
  const report = await second.control.restore();
  assert.equal(report.restored, 1);
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0]?.file, file);
  assert.match(report.skipped[0]?.reason ?? '', /spec\.subscriber: required/);
  assert.deepEqual(second.control.triggers().map((t) => t.metadata.name), ['good']);
  assert.equal((await second.eventing.triggerCounts('default/kept')).pending, 1, 'the skipped trigger lost its pending delivery');

  assert.equal(await second.control.remove('triggers', 'default', 'kept'), true);
  assert.equal(existsSync(file), false);
  assert.equal((await second.eventing.triggerCounts('default/kept')).pending, 0);
  await second.eventing.close();
});

test("a broker's tail writes each event on one line with its data's numbers exactly as sent", async () => {
  const { eventing, control } = open();
  const sent = '{\n  "n": 12345678901234567890\n}';
  await eventing.publish('default', 'default', decodeStructured(`{"specversion":"1.0","id":"exact","source":"tests","type":"tests.exact","data":${sent}}`));
  const abort = new AbortController();
  let line = '';
  for await (const text of control.tail('default', 'default', 0, abort.signal)) {
    if ((JSON.parse(text) as { id: string }).id !== 'exact') continue;
    line = text;
    abort.abort();
  }
  await eventing.close();
  assert.equal(line.includes('\n'), false, line);
  assert.ok(line.endsWith('"data":{"n":12345678901234567890}}'), line);
});

test('a trigger whose dead-letter sink does not resolve is not Ready until it does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-dls-ready-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(dir, 'events.db') }), limits: testLimits() });
  const control = new EventingControl({ eventing, store: new ManifestStore(join(dir, 'manifests')), logger: pino({ level: 'silent' }), deploymentAddress: () => undefined, gatewayUrl: () => 'http://127.0.0.1:9' });
  try {
    await control.restore();
    await control.apply(loadManifests(`apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: guarded}
spec:
  subscriber: {uri: "http://127.0.0.1:9/"}
  delivery:
    deadLetterSink: {ref: {apiVersion: v1, kind: Service, name: failures}}
`));
    const [held] = control.triggers();
    assert.equal(held?.status.ready, false);
    assert.equal(held?.status.reason, 'DeadLetterSinkResolveFailed');
    assert.match(held?.status.message ?? '', /Service default\/failures not found/);
    assert.equal(held?.status.deadLetterSinkUri, undefined);

    await control.registerSink('default', 'failures', 'http://127.0.0.1:10/');
    const [ready] = control.triggers();
    assert.equal(ready?.status.ready, true);
    assert.equal(ready?.status.reason, undefined);
    assert.equal(ready?.status.deadLetterSinkUri, 'http://127.0.0.1:10/');
    assert.deepEqual(ready?.status.deliveries, { delivered: 0, retried: 0, deadLettered: 0, dropped: 0 });
  } finally {
    await eventing.close();
  }
});

test('an applied config-br-defaults sets the delivery of triggers whose broker sets none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-br-defaults-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const sub = await startSubscriber(() => ({ status: 503 }));
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(dir, 'events.db') }), limits: testLimits() });
  const control = new EventingControl({ eventing, store: new ManifestStore(join(dir, 'manifests')), logger: pino({ level: 'silent' }), deploymentAddress: () => undefined, gatewayUrl: () => 'http://127.0.0.1:9' });
  try {
    await control.restore();
    const applied = await control.apply(loadManifests(`apiVersion: v1
kind: ConfigMap
metadata: {name: config-br-defaults, namespace: knative-eventing}
data:
  default-br-config: |
    clusterDefault:
      brokerClass: MTChannelBasedBroker
      delivery: {retry: 2, backoffPolicy: linear, backoffDelay: PT0.01S}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: plain}
spec:
  subscriber: {uri: "${sub.url}"}
`));
    assert.deepEqual(applied.map((a) => `${a.kind} ${a.namespace}/${a.name} ${a.action}`), ['ConfigMap knative-eventing/config-br-defaults created', 'Trigger default/plain created']);
    assert.equal(control.configMaps().length, 1);
    await eventing.publish('default', 'default', { specversion: '1.0', id: 'e1', source: 'tests', type: 'tests.plain', extensions: {} });
    await until(() => eventing.deliveryCounters('default/plain').dropped === 1);
    assert.equal(sub.received.length, 3, 'one attempt and the two retries the ConfigMap asks for');
    assert.deepEqual(control.triggers()[0]?.status.deliveries, { delivered: 0, retried: 2, deadLettered: 0, dropped: 1 });
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a deletion and a sink (un)registration are recorded as Events on the object', async () => {
  const recorded: ObjectEventRecord[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'trantor-eventing-events-'));
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(dir, 'events.db') }), limits: testLimits() });
  const control = new EventingControl({
    eventing,
    store: new ManifestStore(join(dir, 'manifests')),
    logger: pino({ level: 'silent' }),
    deploymentAddress: () => undefined,
    gatewayUrl: () => 'http://127.0.0.1:9',
    recorder: { record: (e) => recorded.push(e) },
  });
  try {
    await control.apply(loadManifests('apiVersion: v1\nkind: Service\nmetadata: {name: display}\nspec: {ports: [{port: 80}]}\n'));
    await control.registerSink('default', 'display', 'http://127.0.0.1:4000/');
    await control.unregisterSink('default', 'display');
    assert.equal(await control.remove('services', 'default', 'display'), true);
    assert.deepEqual(
      recorded.map((e) => [e.reason, e.involvedObject.kind, e.involvedObject.name, e.message]),
      [
        ['SinkRegistered', 'Service', 'display', 'Events for Service display now go to http://127.0.0.1:4000/'],
        ['SinkUnregistered', 'Service', 'display', 'Events for Service display go nowhere now: its event display stopped'],
        ['Deleted', 'Service', 'display', 'Service display deleted'],
      ],
    );
  } finally {
    await eventing.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second event display for a Service whose first one still answers is refused (409); a dead one is replaced; the Deployment behind a sink is ready', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-eventing-sinks-'));
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(dir, 'events.db') }), limits: testLimits() });
  const control = new EventingControl({ eventing, store: new ManifestStore(join(dir, 'manifests')), logger: pino({ level: 'silent' }), deploymentAddress: () => undefined, gatewayUrl: () => 'http://127.0.0.1:9' });
  const live = createServer((_req, res) => res.end());
  await new Promise<void>((resolve) => live.listen(0, '127.0.0.1', resolve));
  const liveUrl = `http://127.0.0.1:${(live.address() as AddressInfo).port}/`;
  try {
    await control.apply(
      loadManifests(`apiVersion: v1
kind: Service
metadata: {name: display}
spec: {selector: {app: display}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: display}
spec:
  replicas: 1
  selector: {matchLabels: {app: display}}
  template:
    metadata: {labels: {app: display}}
    spec: {containers: [{name: display, image: example/event-display}]}
`),
    );
    assert.equal(control.kubeDeployments()[0]?.status.readyReplicas, 0, 'no sink: nothing serves it');
    await control.registerSink('default', 'display', liveUrl);
    assert.equal(control.kubeDeployments()[0]?.status.readyReplicas, 1, 'the registered event display serves it');
    await assert.rejects(control.registerSink('default', 'display', 'http://127.0.0.1:4001/'), (err: unknown) => err instanceof TrantorError && err.status === 409 && err.message.includes(liveUrl) && /stop it first/.test(err.message));
    assert.equal(control.services()[0]?.status.sinkUrl, liveUrl, 'the first registration is kept');
    await control.registerSink('default', 'display', liveUrl);
    await new Promise<void>((resolve) => live.close(() => resolve()));
    await control.registerSink('default', 'display', 'http://127.0.0.1:4001/');
    assert.equal(control.services()[0]?.status.sinkUrl, 'http://127.0.0.1:4001/', 'a registration nothing answers for is replaced');
  } finally {
    live.close();
    await eventing.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
