import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerView, TriggerView } from '../manifest/index.ts';
import { brokerTable, spansNamespaces, triggerTable } from './tables.ts';

const NOW = Date.parse('2020-03-17T22:30:00Z');

function trigger(name: string, subscriberUri: string, createdAt: string, namespace = 'default'): TriggerView {
  return {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Trigger',
    metadata: { name, namespace, labels: {}, annotations: {}, creationTimestamp: createdAt },
    spec: { broker: 'default', filter: {}, subscriber: { uri: subscriberUri } },
    status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }], ready: true, subscriberUri, createdAt },
  };
}

test('triggers print with kubectl get trigger columns, as in the streaming example', () => {
  const items = [
    trigger('event-display', 'http://event-display.default.svc.cluster.local/', '2020-03-17T22:29:52Z'),
    trigger('seldon-eventing-sklearn-trigger', 'http://simple-iris-deployment-simple-iris-predictor:8000/api/v1.0/predictions', '2020-03-17T22:21:34Z'),
  ];
  assert.equal(
    triggerTable(items, { now: NOW }),
    [
      'NAME                              READY   REASON   BROKER    SUBSCRIBER_URI                                                                  AGE   DELIVERED   RETRIED   DEAD_LETTERED   DROPPED',
      'event-display                     True             default   http://event-display.default.svc.cluster.local/                                 8s',
      'seldon-eventing-sklearn-trigger   True             default   http://simple-iris-deployment-simple-iris-predictor:8000/api/v1.0/predictions   8m',
    ].join('\n'),
  );
});

test('a trigger that is not ready shows False, its reason, and no subscriber URI', () => {
  const t = trigger('t', '', '2020-03-17T22:29:00Z');
  t.status = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'BrokerDoesNotExist' }], ready: false, reason: 'BrokerDoesNotExist', createdAt: '2020-03-17T22:29:00Z' };
  assert.equal(
    triggerTable([t], { now: NOW }),
    ['NAME   READY   REASON               BROKER    SUBSCRIBER_URI   AGE   DELIVERED   RETRIED   DEAD_LETTERED   DROPPED', 't      False   BrokerDoesNotExist   default                    60s'].join('\n'),
  );
});

test('a trigger shows what became of its events: delivered, retried, dead-lettered, dropped', () => {
  const t = trigger('t', 'http://x/', '2020-03-17T22:29:00Z');
  t.status.deliveries = { delivered: 3, retried: 2, deadLettered: 1, dropped: 0 };
  assert.equal(
    triggerTable([t], { now: NOW }),
    [
      'NAME   READY   REASON   BROKER    SUBSCRIBER_URI   AGE   DELIVERED   RETRIED   DEAD_LETTERED   DROPPED',
      't      True             default   http://x/        60s   3           2         1               0',
    ].join('\n'),
  );
});

test('the NAMESPACE column comes first when asked for, as with --all-namespaces', () => {
  const items = [trigger('a', 'http://x/', '2020-03-17T22:29:00Z'), trigger('b', 'http://y/', '2020-03-17T22:29:00Z', 'ml')];
  assert.equal(spansNamespaces(items), true);
  assert.equal(spansNamespaces(items.slice(0, 1)), false);
  assert.equal(
    triggerTable(items, { now: NOW, namespaces: true }),
    [
      'NAMESPACE   NAME   READY   REASON   BROKER    SUBSCRIBER_URI   AGE   DELIVERED   RETRIED   DEAD_LETTERED   DROPPED',
      'default     a      True             default   http://x/        60s',
      'ml          b      True             default   http://y/        60s',
    ].join('\n'),
  );
});

test('brokers print with kubectl get broker columns', () => {
  const broker: BrokerView = {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Broker',
    metadata: { name: 'default', namespace: 'default', labels: {}, annotations: {}, creationTimestamp: '2020-03-16T22:30:00Z' },
    spec: {},
    status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }], ready: true, address: { url: 'http://127.0.0.1:8000/default/default' }, createdAt: '2020-03-16T22:30:00Z' },
  };
  assert.equal(
    brokerTable([broker], { now: NOW }),
    ['NAME      URL                                     AGE   READY   REASON', 'default   http://127.0.0.1:8000/default/default   24h   True'].join('\n'),
  );
});
