import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApplyResponse, BrokerView, TriggerList } from '../manifest/index.ts';
import { fakeServer, trantor, type Answer, type Seen } from './testing.ts';
import { EVENT_DISPLAY_DEPLOYMENT, NOTEBOOK_EVENT_DISPLAY_TRIGGER } from '../../test/seed-manifests.ts';

/** The notebook's event-display trigger, the integration page's Deployment and Service, and a Broker, as one file. */
const SEED = [NOTEBOOK_EVENT_DISPLAY_TRIGGER, EVENT_DISPLAY_DEPLOYMENT, 'apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: default\n'].join('---\n');

const CREATED = new Date(Date.now() - 30_000).toISOString();

const TRIGGERS: TriggerList = {
  items: [
    {
      apiVersion: 'eventing.knative.dev/v1alpha1',
      kind: 'Trigger',
      metadata: { name: 'event-display', namespace: 'default', labels: {}, annotations: {}, creationTimestamp: CREATED },
      spec: { broker: 'default', filter: { attributes: { type: 'io.seldon.eventing.response' } }, subscriber: { ref: { apiVersion: 'v1', kind: 'Service', name: 'event-display', namespace: 'default' } } },
      status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }], ready: true, subscriberUri: 'http://127.0.0.1:4000/', createdAt: CREATED },
    },
  ],
};

const BROKER: BrokerView = {
  apiVersion: 'eventing.knative.dev/v1',
  kind: 'Broker',
  metadata: { name: 'default', namespace: 'default', labels: {}, annotations: {}, creationTimestamp: CREATED },
  spec: {},
  status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }], ready: true, address: { url: 'http://127.0.0.1:8000/default/default' }, createdAt: CREATED },
};

function api(seen: Seen): Answer {
  const path = seen.url;
  if (seen.method === 'POST' && path === '/v1/apply') {
    const applied: ApplyResponse = {
      applied: [
        { kind: 'Trigger', namespace: 'default', name: 'event-display', action: 'created' },
        { kind: 'Deployment', namespace: 'default', name: 'event-display', action: 'created' },
        { kind: 'Service', namespace: 'default', name: 'event-display', action: 'configured' },
        { kind: 'Broker', namespace: 'default', name: 'default', action: 'unchanged' },
        { kind: 'SeldonDeployment', namespace: 'default', name: 'iris', action: 'created' },
      ],
    };
    return { status: 200, body: JSON.stringify(applied) };
  }
  if (seen.method === 'GET' && path === '/v1/triggers') return { status: 200, body: JSON.stringify(TRIGGERS) };
  if (seen.method === 'GET' && path === '/v1/brokers') return { status: 200, body: JSON.stringify({ items: [BROKER] }) };
  if (seen.method === 'GET' && path === '/v1/deployments') return { status: 200, body: JSON.stringify({ items: [] }) };
  if (seen.method === 'DELETE' && path.startsWith('/v1/') && !path.endsWith('/missing')) return { status: 200, body: '{}' };
  return { status: 404, body: JSON.stringify({ status: { code: 404, info: `no API path ${seen.method} ${path}`, reason: 'NOT_FOUND', status: 'FAILURE' } }) };
}

test('apply prints each object with its kind group, as kubectl does', async () => {
  const fake = await fakeServer(api);
  try {
    const result = await trantor(fake.url, ['apply', '-f', 'HOME/seed.yaml'], { 'seed.yaml': SEED });
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      [
        'trigger.eventing.knative.dev/event-display created',
        'deployment.apps/event-display created',
        'service/event-display configured',
        'broker.eventing.knative.dev/default unchanged',
        'seldondeployment.machinelearning.seldon.io/iris created',
      ].join('\n'),
    );
    assert.equal(fake.seen[0]?.body, SEED);
  } finally {
    fake.server.close();
  }
});

test('get triggers and get brokers print kubectl tables from /v1/triggers and /v1/brokers', async () => {
  const fake = await fakeServer(api);
  try {
    const triggers = await trantor(fake.url, ['get', 'triggers']);
    assert.equal(triggers.code, 0, triggers.err);
    assert.match(triggers.out, /^NAME {12}READY {3}REASON {3}BROKER {4}SUBSCRIBER_URI {11}AGE {3}DELIVERED {3}RETRIED {3}DEAD_LETTERED {3}DROPPED\nevent-display {3}True {13}default {3}http:\/\/127\.0\.0\.1:4000\/ {3}3\ds$/);
    const one = await trantor(fake.url, ['get', 'trigger', 'event-display', '-o', 'name']);
    assert.equal(one.out, 'trigger.eventing.knative.dev/event-display');
    const missing = await trantor(fake.url, ['get', 'trigger', 'nope', '-n', 'ml']);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'error: trigger.eventing.knative.dev "nope" not found in namespace ml');
    const brokers = await trantor(fake.url, ['get', 'broker']);
    assert.match(brokers.out, /^NAME {6}URL {37}AGE {3}READY {3}REASON\ndefault {3}http:\/\/127\.0\.0\.1:8000\/default\/default {3}3\ds {3}True$/);
  } finally {
    fake.server.close();
  }
});

test('get all lists every kind the API has, skipping collections it does not serve', async () => {
  const fake = await fakeServer(api);
  try {
    const result = await trantor(fake.url, ['get', 'all']);
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(
      fake.seen.map((s) => s.url),
      ['/v1/deployments', '/v1/triggers', '/v1/brokers', '/v1/services', '/v1/kubedeployments'],
    );
    assert.match(result.out, /^NAME +READY +REASON +BROKER +SUBSCRIBER_URI +AGE +DELIVERED +RETRIED +DEAD_LETTERED +DROPPED\ntrigger\.eventing\.knative\.dev\/event-display {3}True .*\n\nNAME +URL +AGE +READY +REASON\nbroker\.eventing\.knative\.dev\/default {3}http/);
  } finally {
    fake.server.close();
  }
});

test('delete trigger, broker, service and deployment use DELETE /v1/<plural>/<ns>/<name>', async () => {
  const fake = await fakeServer(api);
  try {
    const trigger = await trantor(fake.url, ['delete', 'trigger', 'event-display']);
    assert.equal(trigger.out, 'trigger.eventing.knative.dev "event-display" deleted');
    await trantor(fake.url, ['delete', 'broker', 'default', '-n', 'ml']);
    await trantor(fake.url, ['delete', 'svc', 'event-display']);
    await trantor(fake.url, ['delete', 'deployment', 'event-display']);
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.url}`),
      ['DELETE /v1/triggers/default/event-display', 'DELETE /v1/brokers/ml/default', 'DELETE /v1/services/default/event-display', 'DELETE /v1/kubedeployments/default/event-display'],
    );
    const missing = await trantor(fake.url, ['delete', 'trigger', 'missing']);
    assert.equal(missing.code, 1);
    assert.equal(missing.err, 'error: trigger.eventing.knative.dev "missing" not found in namespace default');
  } finally {
    fake.server.close();
  }
});

test('delete -f takes folders (-R into subfolders) and several -f, as apply does, checking every file first', async () => {
  const sdep = (name: string): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}, namespace: seldon}
spec:
  predictors: [{name: default, graph: {name: m, implementation: SIMPLE_MODEL}}]
`;
  const fake = await fakeServer(api);
  try {
    const files = { 'dir/a.yaml': sdep('a'), 'dir/sub/b.yaml': sdep('b'), 'c.yaml': sdep('c') };
    const flat = await trantor(fake.url, ['delete', '-f', 'HOME/dir', '-f', 'HOME/c.yaml'], files);
    assert.equal(flat.code, 0, flat.err);
    assert.deepEqual(fake.seen.map((s) => `${s.method} ${s.url}`), ['DELETE /v1/deployments/seldon/a', 'DELETE /v1/deployments/seldon/c']);
    fake.seen.length = 0;
    const deep = await trantor(fake.url, ['delete', '-R', '-f', 'HOME/dir'], files);
    assert.equal(deep.code, 0, deep.err);
    assert.deepEqual(fake.seen.map((s) => `${s.method} ${s.url}`), ['DELETE /v1/deployments/seldon/a', 'DELETE /v1/deployments/seldon/b']);
    fake.seen.length = 0;
    const bad = await trantor(fake.url, ['delete', '-f', 'HOME/c.yaml', '-f', 'HOME/nothing.yaml'], files);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /nothing\.yaml/);
    assert.deepEqual(fake.seen, [], 'nothing is deleted when one file cannot be read');
  } finally {
    fake.server.close();
  }
});

test('delete -f deletes every object the file declares, triggers first and brokers last', async () => {
  const fake = await fakeServer(api);
  try {
    const result = await trantor(fake.url, ['delete', '-f', 'HOME/seed.yaml'], { 'seed.yaml': SEED });
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(
      fake.seen.map((s) => `${s.method} ${s.url}`),
      [
        'DELETE /v1/triggers/default/event-display',
        'DELETE /v1/kubedeployments/default/event-display',
        'DELETE /v1/services/default/event-display',
        'DELETE /v1/brokers/default/default',
      ],
    );
    assert.equal(
      result.out,
      [
        'trigger.eventing.knative.dev "event-display" deleted',
        'deployment.apps "event-display" deleted',
        'service "event-display" deleted',
        'broker.eventing.knative.dev "default" deleted',
      ].join('\n'),
    );
  } finally {
    fake.server.close();
  }
});
