import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BrokerView, ConfigMapView, DeploymentView, GraphNode, KubeDeploymentView, ObjectEvent, ServiceView, TriggerView } from '../manifest/index.ts';
import { describeBroker, describeConfigMap, describeDeployment, describeKubeDeployment, describePod, describeService, describeTarget, describeTrigger, eventsSection, graphTree } from './describe.ts';
import { podsOf } from './pods.ts';

const NOW = Date.parse('2026-12-05T04:00:00Z');
const at = (secondsAgo: number): string => new Date(NOW - secondsAgo * 1000).toISOString();
const meta = (name: string, namespace = 'default') => ({ name, namespace, labels: {}, annotations: {}, creationTimestamp: at(300) });

const node = (name: string, extra: Partial<GraphNode> = {}, children: GraphNode[] = []): GraphNode => ({ name, endpoint: { type: 'REST' }, parameters: [], children, ...extra });

const CRASHED: ObjectEvent = {
  type: 'Warning',
  reason: 'Crashed',
  message: 'Replica exited with code 3; its last output:\nloading\nboom',
  involvedObject: { kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris', replica: 'iris-default-classifier-0' },
  source: 'supervisor',
  count: 3,
  firstTimestamp: at(120),
  lastTimestamp: at(5),
};

const CREATED: ObjectEvent = {
  type: 'Normal',
  reason: 'Created',
  message: 'SeldonDeployment iris created from sample.yaml',
  involvedObject: { kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris' },
  source: 'control-plane',
  count: 1,
  firstTimestamp: at(300),
  lastTimestamp: at(300),
};

const IRIS: DeploymentView = {
  apiVersion: 'machinelearning.seldon.io/v1',
  kind: 'SeldonDeployment',
  metadata: { ...meta('iris', 'seldon'), labels: { team: 'ml' } },
  spec: {
    name: 'iris',
    protocol: 'seldon',
    transport: 'rest',
    annotations: {},
    predictors: [
      {
        name: 'default',
        replicas: 1,
        traffic: 100,
        shadow: false,
        labels: {},
        annotations: {},
        componentSpecs: [{ spec: { containers: [{ name: 'transformer', command: ['python', 'transform.py'], env: [] }] } }],
        graph: node('transformer', { type: 'TRANSFORMER' }, [node('classifier', { type: 'MODEL', implementation: 'SKLEARN_SERVER', modelUri: 'gs://seldon-models/sklearn/iris' })]),
      },
    ],
  },
  status: {
    state: 'Creating',
    description: 'restarting default/classifier/0 (exited with code 3; restarting in 2 s)',
    address: { url: 'http://127.0.0.1:8000/seldon/seldon/iris/api/v1.0/predictions' },
    createdAt: at(300),
    replicas: [
      { id: 'default/transformer/0', name: 'iris-default-transformer-0', predictor: 'default', node: 'transformer', index: 0, state: 'Ready', restarts: 0, pid: 101, port: 9000, createdAt: at(300) },
      {
        id: 'default/classifier/0',
        name: 'iris-default-classifier-0',
        predictor: 'default',
        node: 'classifier',
        index: 0,
        state: 'Crashed',
        restarts: 2,
        message: 'exited with code 3; restarting in 2 s',
        createdAt: at(300),
        lastExit: { reason: 'exited with code 3', exitCode: 3, finishedAt: at(5) },
      },
    ],
  },
};

test('describe of a SeldonDeployment: head, spec, graph tree, status, replicas with restarts and last exit, events', () => {
  const text = describeDeployment(IRIS, [CREATED, CRASHED], NOW);
  const expected = [
    'Name:         iris',
    'Namespace:    seldon',
    'Labels:       team=ml',
    'Annotations:  <none>',
    'API Version:  machinelearning.seldon.io/v1',
    'Kind:         SeldonDeployment',
    `Created:      ${at(300)} (5m ago)`,
    'Spec:',
    '  Protocol:   seldon',
    '  Transport:  rest',
    '  Predictors:',
    '    default:',
    '      Replicas:  1',
    '      Traffic:   100%',
    '      Graph:',
    '        transformer (TRANSFORMER, python transform.py)',
    '        └─ classifier (MODEL, SKLEARN_SERVER, gs://seldon-models/sklearn/iris)',
    'Status:',
    '  State:        Creating',
    '  Description:  restarting default/classifier/0 (exited with code 3; restarting in 2 s)',
    '  Address:      http://127.0.0.1:8000/seldon/seldon/iris/api/v1.0/predictions',
    'Replicas:',
    '  NAME                         NODE                  STATUS             READY   RESTARTS     LAST EXIT                     MESSAGE',
    '  iris-default-transformer-0   default/transformer   Running            1/1     0',
    '  iris-default-classifier-0    default/classifier    CrashLoopBackOff   0/1     2 (5s ago)   exited with code 3 (5s ago)   exited with code 3; restarting in 2 s',
    'Events:',
    '  Type      Reason    Age               From                        Message',
    '  ----      ------    ----              ----                        -------',
    '  Normal    Created   5m                control-plane               SeldonDeployment iris created from sample.yaml',
    '  Warning   Crashed   5s (x3 over 2m)   iris-default-classifier-0   Replica exited with code 3; its last output:',
    '                                                                    loading',
    '                                                                    boom',
  ].join('\n');
  assert.equal(text, expected);
});

test('a failed SeldonDeployment shows its description, which says the fix, under Status', () => {
  const failed: DeploymentView = { ...IRIS, status: { ...IRIS.status, state: 'Failed', description: 'spec.predictors[0].graph.modelUri: cannot fetch the model: 404; check the URI', replicas: [] } };
  const text = describeDeployment(failed, [], NOW);
  assert.match(text, /^Status:\n {2}State: {8}Failed\n {2}Description: {2}spec\.predictors\[0\]\.graph\.modelUri: cannot fetch the model: 404; check the URI$/m);
  assert.match(text, /^Replicas: {2}<none>$/m);
  assert.match(text, /^Events: {2}<none>$/m);
});

test('the graph tree draws every child under its parent', () => {
  const root = node('router', { type: 'ROUTER' }, [node('a', {}, [node('a1')]), node('b')]);
  assert.deepEqual(graphTree(root), ['router (ROUTER)', '├─ a', '│  └─ a1', '└─ b']);
});

test('describe of a Trigger: broker, filter, subscriber, delivery, why it is not ready, counts, conditions', () => {
  const trigger: TriggerView = {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Trigger',
    metadata: meta('t'),
    spec: {
      broker: 'default',
      filter: { attributes: { type: 'com.example' } },
      subscriber: { uri: 'http://127.0.0.1:9/' },
      delivery: { retry: 2, backoffPolicy: 'linear', backoffDelay: 'PT0.1S', format: 'binary', deadLetterSink: { ref: { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'dls' } } },
    },
    status: {
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'False', reason: 'DeadLetterSinkResolveFailed', message: 'Service default/dls has no sink; start trantor event-display' }],
      ready: false,
      reason: 'DeadLetterSinkResolveFailed',
      message: 'Service default/dls has no sink; start trantor event-display',
      subscriberUri: 'http://127.0.0.1:9/',
      deliveries: { delivered: 1, retried: 2, deadLettered: 0, dropped: 1 },
      createdAt: at(300),
    },
  };
  const event: ObjectEvent = { type: 'Warning', reason: 'DeliveryFailed', message: 'Delivery to http://127.0.0.1:9/ failed (500)', involvedObject: { kind: 'Trigger', namespace: 'default', name: 't' }, source: 'broker', count: 1, firstTimestamp: at(1), lastTimestamp: at(1) };
  const text = describeTrigger(trigger, [event], NOW);
  assert.equal(
    text,
    [
      'Name:         t',
      'Namespace:    default',
      'Labels:       <none>',
      'Annotations:  <none>',
      'API Version:  eventing.knative.dev/v1',
      'Kind:         Trigger',
      `Created:      ${at(300)} (5m ago)`,
      'Spec:',
      '  Broker:      default',
      '  Filter:      type=com.example',
      '  Subscriber:  http://127.0.0.1:9/',
      '  Delivery:',
      '    Retry:             2',
      '    Backoff:           linear, PT0.1S',
      '    Dead Letter Sink:  Service default/dls',
      '    Format:            binary',
      'Status:',
      '  Ready:           False',
      '  Reason:          DeadLetterSinkResolveFailed',
      '  Message:         Service default/dls has no sink; start trantor event-display',
      '  Subscriber URI:  http://127.0.0.1:9/',
      '  Deliveries:      1 delivered, 2 retried, 0 dead-lettered, 1 dropped',
      '  Conditions:',
      '    Type    Status   Reason                        Message',
      '    Ready   False    DeadLetterSinkResolveFailed   Service default/dls has no sink; start trantor event-display',
      'Events:',
      '  Type      Reason           Age    From     Message',
      '  ----      ------           ----   ----     -------',
      '  Warning   DeliveryFailed   1s     broker   Delivery to http://127.0.0.1:9/ failed (500)',
    ].join('\n'),
  );
});

test('describe of a Broker: its delivery, address and readiness', () => {
  const broker: BrokerView = {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Broker',
    metadata: meta('default'),
    spec: {},
    status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }], ready: true, address: { url: 'http://127.0.0.1:8000/default/default' }, createdAt: at(300) },
  };
  const text = describeBroker(broker, [], NOW);
  assert.match(text, /^Kind: {9}Broker$/m);
  assert.match(text, /^Spec:\n {2}Delivery: {2}the broker's \(or the broker defaults\)$/m);
  assert.match(text, /^ {2}Ready: {4}True\n {2}Address: {2}http:\/\/127\.0\.0\.1:8000\/default\/default$/m);
  assert.match(text, /^ {4}Ready {3}True$/m);
});

test('describe of a Service says when no process receives its events, and how to start one', () => {
  const service: ServiceView = { apiVersion: 'v1', kind: 'Service', metadata: meta('event-display'), spec: { selector: { app: 'event-display' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }, status: { createdAt: at(300) } };
  const text = describeService(service, [], NOW);
  assert.match(text, /^ {2}Selector: {2}app=event-display\n {2}Ports: {5}80 -> 8080\/TCP$/m);
  assert.match(text, /^ {2}Sink: {2}<none>: no process receives its events; start one with trantor event-display$/m);
});

test('describe of an apps/v1 Deployment: its containers and ready replicas', () => {
  const deployment: KubeDeploymentView = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('event-display'),
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'event-display' } },
      template: { metadata: { labels: { app: 'event-display' } }, spec: { containers: [{ name: 'event-display', image: 'gcr.io/knative-releases/event_display', env: [] }] } },
    },
    status: { readyReplicas: 1, createdAt: at(300) },
  };
  const text = describeKubeDeployment(deployment, [], NOW);
  assert.match(text, /^ {2}Containers:\n {4}event-display:\n {6}Image: {2}gcr\.io\/knative-releases\/event_display$/m);
  assert.match(text, /^ {2}Ready Replicas: {2}1\/1$/m);
});

test('describe of a ConfigMap prints its data as kubectl does', () => {
  const map: ConfigMapView = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'config-br-defaults', namespace: 'knative-eventing', labels: {}, annotations: {} }, data: { 'default-br-config': 'clusterDefault:\n  delivery: {retry: 3}\n' }, status: { createdAt: at(60) } };
  const text = describeConfigMap(map, [], NOW);
  assert.match(text, /^Data\n====\ndefault-br-config:\n----\nclusterDefault:\n {2}delivery: \{retry: 3\}$/m);
});

test('describe of a pod: state, restarts and its last termination with the exit code', () => {
  const pod = podsOf([IRIS])[1]!;
  const text = describePod(pod, [CRASHED], NOW);
  assert.match(text, /^Name: +iris-default-classifier-0$/m);
  assert.match(text, /^Status: +CrashLoopBackOff$/m);
  assert.match(text, /^Restart Count: +2$/m);
  assert.match(text, /^Last State: {2}Terminated\n {2}Reason: {5}exited with code 3\n {2}Exit Code: {2}3\n/m);
  assert.match(text, /Warning {3}Crashed/);
});

test('an Events section with no events says <none>', () => {
  assert.equal(eventsSection([], NOW), 'Events:  <none>');
});

test('describe takes TYPE NAME, TYPE/NAME, a bare SeldonDeployment name, or a bare type', () => {
  assert.deepEqual(describeTarget('trigger', 't'), { word: 'trigger', name: 't' });
  assert.deepEqual(describeTarget('trigger.eventing.knative.dev/t', undefined), { word: 'trigger.eventing.knative.dev', name: 't' });
  assert.deepEqual(describeTarget('iris', undefined), { word: 'sdep', name: 'iris' });
  assert.deepEqual(describeTarget('triggers', undefined), { word: 'triggers', name: undefined });
  assert.deepEqual(describeTarget('pods', undefined), { word: 'pods', name: undefined });
  assert.throws(() => describeTarget('sdep/iris', 'x'), /not both/);
  assert.throws(() => describeTarget('sdep/', undefined), /no name after the slash/);
});
