import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { parse, stringify } from 'yaml';
import { Eventing, SqliteEventStore } from '../eventing/index.ts';
import { testLimits } from '../eventing/testing.ts';
import type { Transport, V2Transport } from '../executor/index.ts';
import type { ApplyResponse, Runtime } from '../manifest/index.ts';
import { ControlPlane } from './control-plane.ts';
import { EventingControl } from './eventing-control.ts';
import { ManifestStore } from './store.ts';
import { brokerStatus, triggerStatus } from './views.ts';
import { EVENT_DISPLAY_DEPLOYMENT, IRIS_MODEL_DEPLOYMENT, IRIS_URI_TRIGGER, NOTEBOOK_DEPLOYMENT, NOTEBOOK_EVENT_DISPLAY_TRIGGER, NOTEBOOK_TRIGGER } from '../../test/seed-manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const home = mkdtempSync(join(tmpdir(), 'trantor-views-'));
after(() => rmSync(home, { recursive: true, force: true }));

// The seeds' manifests, as they are (the streaming example's trigger with its `subscriber:` line
// restored); two triggers renamed so that all load together.
const SEEDS = [
  IRIS_MODEL_DEPLOYMENT,
  NOTEBOOK_DEPLOYMENT,
  NOTEBOOK_TRIGGER,
  NOTEBOOK_EVENT_DISPLAY_TRIGGER.replace('name: event-display\n', 'name: event-display-v1alpha1\n'),
  IRIS_URI_TRIGGER.replace('name: seldon-eventing-sklearn-trigger\n', 'name: seldon-eventing-uri-trigger\n'),
  EVENT_DISPLAY_DEPLOYMENT,
];

/** A broker and trigger with every field the readers reshape: delivery durations, both filter dialects, a dead-letter sink. */
const SHAPES = `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: b, namespace: ml}
spec:
  delivery: {retry: 3, backoffPolicy: linear, backoffDelay: PT1.5S, timeout: PT2M, deadLetterSink: {uri: "http://127.0.0.1:9/dead"}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t, namespace: ml, labels: {team: a}}
spec:
  broker: b
  filter: {attributes: {type: a.b, source: ""}}
  filters: [{any: [{prefix: {type: x}}, {not: {suffix: {source: y}}}]}]
  subscriber: {uri: "http://127.0.0.1:9/"}
  delivery: {retry: 1, deadLetterSink: {ref: {apiVersion: v1, kind: Service, name: dead}}}
`;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // An MLflow model folder's conda.yaml and python_env.yaml are not manifests.
    if (statSync(path).isDirectory()) return existsSync(join(path, 'MLmodel')) ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

let opened = 0;

/** A control plane with real eventing over a fresh home, whose runtime starts nothing. */
function controlPlane(): { plane: ControlPlane; eventing: Eventing } {
  const dir = join(home, String(opened++));
  const logger = pino({ level: 'silent' });
  const store = new ManifestStore(join(dir, 'manifests'));
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(dir, 'events.db') }), limits: testLimits() });
  // Called only once both exist, as in the control plane.
  const deploymentAddress = (ns: string, name: string): string | undefined => (plane.get(ns, name) === undefined ? undefined : `http://127.0.0.1:9/seldon/${ns}/${name}`);
  const control = new EventingControl({ eventing, store, logger, deploymentAddress, gatewayUrl: () => 'http://127.0.0.1:9' });
  const runtime: Runtime = { apply: async () => {}, remove: async () => {}, status: () => undefined, logs: () => [], watch: () => () => {}, close: async () => {} };
  const transport = {} as Transport;
  const v2Transport = {} as V2Transport;
  const plane = new ControlPlane({ runtime, transport, v2Transport, store, logger, requestTimeoutMs: 1000, eventing: control, gatewayUrl: () => 'http://127.0.0.1:9' });
  return { plane, eventing };
}

/** Every object `trantor get -o yaml` would print, as one List, and each on its own. */
function everything(plane: ControlPlane): unknown[] {
  const eventing = plane.eventing!;
  return [...plane.list(), ...eventing.brokers(), ...eventing.triggers(), ...eventing.services(), ...eventing.kubeDeployments()];
}

/** What must not change: everything but the live status. */
function manifests(objects: unknown[]): unknown[] {
  return objects.map((o) => {
    const { status: _status, ...rest } = o as Record<string, unknown>;
    return rest;
  });
}

test('every example and seed manifest, read back with get -o yaml and applied again from elsewhere, is unchanged', async () => {
  const texts = [
    ...[...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'bench', 'manifests'))].map((file) => ({ text: readFileSync(file, 'utf8'), where: file })),
    ...SEEDS.map((text, i) => ({ text, where: join(ROOT, `seed-${i}.yaml`) })),
    { text: SHAPES, where: join(ROOT, 'shapes.yaml') },
  ];
  let objects = 0;
  for (const { text, where } of texts) {
    const { plane, eventing } = controlPlane();
    try {
      const first = await plane.apply(text, where, dirname(where));
      const before = everything(plane);
      assert.equal(before.length, first.applied.length + before.filter((o) => (o as { kind: string }).kind === 'Broker' && !first.applied.some((a) => a.kind === 'Broker')).length);
      // Each object alone (get KIND NAME -o yaml), then all of them as a List (get all -o yaml).
      const outputs = [...before.map((o) => stringify(o)), stringify({ apiVersion: 'v1', kind: 'List', items: before })];
      for (const output of outputs) {
        const again: ApplyResponse = await plane.apply(output, 'stdin', join(tmpdir(), 'somewhere-else'));
        assert.ok(again.applied.length > 0, `${where}: nothing applied from\n${output}`);
        for (const a of again.applied) assert.equal(a.action, 'unchanged', `${where}: ${a.kind} ${a.namespace}/${a.name} changed when its own output was applied:\n${output}`);
      }
      assert.deepEqual(manifests(everything(plane)), manifests(before), where);
      objects += first.applied.length;
    } finally {
      await eventing.close();
    }
  }
  assert.ok(objects >= 25, `only ${objects} objects`);
});

test('a trigger reads back with spec.filter.attributes and a status in Knative\'s shape', async () => {
  const { plane, eventing } = controlPlane();
  try {
    await plane.apply(SHAPES, 'shapes.yaml', ROOT);
    const [trigger] = plane.eventing!.triggers();
    const printed = parse(stringify(trigger)) as Record<string, Record<string, unknown>>;
    assert.deepEqual(printed['spec'], {
      broker: 'b',
      filter: { attributes: { type: 'a.b', source: '' } },
      filters: [{ any: [{ prefix: { type: 'x' } }, { not: { suffix: { source: 'y' } } }] }],
      subscriber: { uri: 'http://127.0.0.1:9/' },
      delivery: { retry: 1, backoffPolicy: 'exponential', format: 'binary', deadLetterSink: { ref: { apiVersion: 'v1', kind: 'Service', name: 'dead', namespace: 'ml' } }, backoffDelay: 'PT0.2S' },
    });
    assert.match(String(printed['metadata']?.['creationTimestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const status = printed['status'] as { conditions: { type: string; status: string; reason?: string }[]; subscriberUri?: string; observedGeneration: number };
    assert.equal(status.subscriberUri, 'http://127.0.0.1:9/');
    assert.equal(status.observedGeneration, 1);
    assert.deepEqual(status.conditions.map((c) => c.type), ['BrokerReady', 'DeadLetterSinkResolved', 'DependencyReady', 'Ready', 'SubscriberResolved', 'SubscriptionReady']);
    // The dead-letter sink is a Service no local process serves: it does not resolve.
    assert.deepEqual(
      status.conditions.find((c) => c.type === 'DeadLetterSinkResolved'),
      { type: 'DeadLetterSinkResolved', status: 'False', reason: 'DeadLetterSinkNotResolved', message: 'Service ml/dead not found; run: trantor event-display --name dead -n ml' },
    );
    assert.equal(status.conditions.find((c) => c.type === 'SubscriberResolved')?.status, 'True');
    assert.ok(status.conditions.find((c) => c.type === 'Ready'), 'no Ready condition');

    const [broker] = plane.eventing!.brokers();
    assert.equal(broker?.status.address.url, 'http://127.0.0.1:9/ml/b');
    assert.equal(broker?.status.deadLetterSinkUri, 'http://127.0.0.1:9/dead');
    assert.deepEqual(broker?.spec, { delivery: { retry: 3, backoffPolicy: 'linear', format: 'binary', deadLetterSink: { uri: 'http://127.0.0.1:9/dead' }, backoffDelay: 'PT1.5S', timeout: 'PT2M' } });
  } finally {
    await eventing.close();
  }
});

test('a SeldonDeployment reads back with componentSpecs[].spec.containers and the folder its relative paths resolve against', async () => {
  const { plane, eventing } = controlPlane();
  try {
    const file = join(ROOT, 'examples', 'ml-score', 'ml-score.yaml');
    await plane.apply(readFileSync(file, 'utf8'), file, dirname(file));
    const [view] = plane.list();
    const printed = parse(stringify(view)) as { metadata: { annotations: Record<string, string> }; spec: { predictors: { componentSpecs: unknown[] }[] } };
    assert.deepEqual(Object.keys(printed.spec.predictors[0]?.componentSpecs[0] as object), ['spec']);
    assert.equal(printed.metadata.annotations['trantor.io/base-dir'], dirname(file));
  } finally {
    await eventing.close();
  }
});

test("a trigger's conditions say which part is not ready, and Ready carries the control plane's verdict", () => {
  const metadata = { name: 't', namespace: 'default', labels: {}, annotations: {}, generation: 4 };
  assert.deepEqual(
    triggerStatus({ metadata, broker: 'nope', brokerExists: false, subscriber: { reason: 'SeldonDeployment default/x not found' }, deadLetter: undefined, notReady: 'BrokerDoesNotExist: nope' }),
    {
      observedGeneration: 4,
      conditions: [
        { type: 'BrokerReady', status: 'False', reason: 'BrokerDoesNotExist', message: 'Broker "nope" does not exist' },
        { type: 'DeadLetterSinkResolved', status: 'True', reason: 'DeadLetterSinkNotConfigured', message: 'No dead letter sink is configured.' },
        { type: 'DependencyReady', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'BrokerDoesNotExist', message: 'nope' },
        { type: 'SubscriberResolved', status: 'False', reason: 'SubscriberNotResolved', message: 'SeldonDeployment default/x not found' },
        { type: 'SubscriptionReady', status: 'Unknown', reason: 'SubscriptionNotConfigured', message: 'Subscription has not yet been reconciled.' },
      ],
    },
  );
  assert.deepEqual(
    triggerStatus({ metadata, broker: 'default', brokerExists: true, subscriber: { uri: 'http://s/' }, deadLetter: { uri: 'http://d/' }, notReady: undefined }),
    {
      observedGeneration: 4,
      subscriberUri: 'http://s/',
      deadLetterSinkUri: 'http://d/',
      conditions: ['BrokerReady', 'DeadLetterSinkResolved', 'DependencyReady', 'Ready', 'SubscriberResolved', 'SubscriptionReady'].map((type) => ({ type, status: 'True' })),
    },
  );
});

test('a broker whose dead-letter sink does not resolve is not Ready', () => {
  const status = brokerStatus({ metadata: { name: 'b', namespace: 'default', labels: {}, annotations: {} }, deadLetter: { reason: 'Broker default/gone not found' } });
  assert.equal(status.ready, false);
  assert.equal(status.reason, 'DeadLetterSinkNotResolved: Broker default/gone not found');
  assert.deepEqual(status.conditions.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'False', reason: 'DeadLetterSinkNotResolved', message: 'Broker default/gone not found' });
  assert.deepEqual(status.conditions.map((c) => c.type), ['Addressable', 'DeadLetterSinkResolved', 'FilterReady', 'IngressReady', 'Ready', 'TriggerChannelReady']);
});
