import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerDefaultsOf, defaultDeliveryFor, loadManifests, ManifestError, objectKey, type LoadedManifests } from './index.ts';
import {
  EVENT_DISPLAY_AS_PRINTED,
  EVENT_DISPLAY_DEPLOYMENT,
  IRIS_TRIGGER,
  IRIS_URI_TRIGGER,
  NOTEBOOK_EVENT_DISPLAY_TRIGGER,
  NOTEBOOK_TRIGGER,
  NOTEBOOK_TRIGGER_AS_PRINTED,
} from '../../test/seed-manifests.ts';

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_MANIFEST');
    return err.message;
  }
  assert.fail('expected loadManifests to throw');
}

function only<T>(list: T[]): T {
  assert.equal(list.length, 1);
  return list[0]!;
}

function empty(): LoadedManifests {
  return { deployments: [], brokers: [], triggers: [], services: [], kubeDeployments: [], configMaps: [] };
}

test('the seed v1beta1 trigger loads, its ref taking the trigger namespace', () => {
  const loaded = loadManifests(NOTEBOOK_TRIGGER);
  assert.deepEqual(loaded, {
    ...empty(),
    triggers: [
      {
        apiVersion: 'eventing.knative.dev/v1beta1',
        kind: 'Trigger',
        metadata: { name: 'seldon-eventing-sklearn-trigger', namespace: 'default', labels: {}, annotations: {} },
        spec: {
          broker: 'default',
          attributes: { type: 'io.seldon.eventing.request' },
          filters: [],
          subscriber: { ref: { apiVersion: 'v1', kind: 'SeldonDeployment', name: 'simple-iris-deployment', namespace: 'default' } },
        },
      },
    ],
  });
});

test('the seed v1 triggers load: a ref to a SeldonDeployment, and a uri override', () => {
  const byRef = only(loadManifests(IRIS_TRIGGER).triggers);
  assert.equal(byRef.apiVersion, 'eventing.knative.dev/v1');
  assert.deepEqual(byRef.spec.subscriber, {
    ref: { apiVersion: 'machinelearning.seldon.io/v1', kind: 'SeldonDeployment', name: 'iris-deployment', namespace: 'default' },
  });
  assert.deepEqual(byRef.spec.attributes, { type: 'seldon.iris-deployment.default.request' });
  const byUri = only(loadManifests(IRIS_URI_TRIGGER).triggers);
  assert.deepEqual(byUri.spec.subscriber, { uri: 'http://istio-ingressgateway/seldon/default/iris-deployment/api/v1.0/predicions' });
});

test('the seed v1alpha1 event-display trigger loads', () => {
  const trigger = only(loadManifests(NOTEBOOK_EVENT_DISPLAY_TRIGGER).triggers);
  assert.equal(trigger.apiVersion, 'eventing.knative.dev/v1alpha1');
  assert.deepEqual(trigger.spec.attributes, { type: 'io.seldon.eventing.response', source: 'io.seldon.eventing.seldondeployment' });
  assert.deepEqual(trigger.spec.subscriber.ref, { apiVersion: 'v1', kind: 'Service', name: 'event-display', namespace: 'default' });
});

test('the seed event-display Deployment and Service load with Kubernetes defaults, YAML anchors resolved', () => {
  const loaded = loadManifests(EVENT_DISPLAY_DEPLOYMENT, { baseDir: '/apps' });
  assert.deepEqual(only(loaded.kubeDeployments), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'event-display', namespace: 'default', labels: {}, annotations: {} },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'event-display' } },
      template: {
        metadata: { labels: { app: 'event-display' } },
        spec: {
          containers: [{ name: 'helloworld-python', image: 'gcr.io/knative-releases/github.com/knative/eventing-sources/cmd/event_display', env: [] }],
        },
      },
    },
    baseDir: '/apps',
  });
  assert.deepEqual(only(loaded.services), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'event-display', namespace: 'default', labels: {}, annotations: {} },
    spec: { selector: { app: 'event-display' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
  });
  assert.equal(loaded.deployments.length, 0);
});

test('every seed kind loads from one text, each into its own list', () => {
  const text = [NOTEBOOK_TRIGGER, NOTEBOOK_EVENT_DISPLAY_TRIGGER, EVENT_DISPLAY_DEPLOYMENT, 'apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default}\n'].join('\n---\n');
  const loaded = loadManifests(text);
  assert.deepEqual(loaded.triggers.map((t) => t.metadata.name), ['seldon-eventing-sklearn-trigger', 'event-display']);
  assert.deepEqual(loaded.brokers, [
    { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', metadata: { name: 'default', namespace: 'default', labels: {}, annotations: {} }, spec: {} },
  ]);
  assert.equal(loaded.services.length, 1);
  assert.equal(loaded.kubeDeployments.length, 1);
});

test('the damaged seed trigger gets a syntax error naming the document and the misplaced field', () => {
  assert.equal(
    problemOf(() => loadManifests(`${NOTEBOOK_TRIGGER_AS_PRINTED}---\n${NOTEBOOK_EVENT_DISPLAY_TRIGGER}`, { source: 'seldon-knative-trigger.yaml' })),
    'seldon-knative-trigger.yaml: document 1 (Trigger seldon-eventing-sklearn-trigger): YAML syntax error at line 11, column 4 (at spec.ref): All mapping items must start at the same column',
  );
});

test('a trigger whose ref is outside subscriber is told to indent it', () => {
  const text = NOTEBOOK_TRIGGER_AS_PRINTED.replace('   ref:', '  ref:').replace(/^ {5}/gm, '    ');
  assert.equal(
    problemOf(() => loadManifests(text)),
    'spec.subscriber: required: a ref to an object or a uri (found spec.ref: indent it under subscriber)',
  );
});

test('the damaged seed Deployment (its name key split over two lines) names the document and field, and nothing loads', () => {
  assert.equal(
    problemOf(() => loadManifests(`${EVENT_DISPLAY_AS_PRINTED}---\n${EVENT_DISPLAY_DEPLOYMENT.split('---')[1]!}`, { source: 'event-display.yaml' })),
    'event-display.yaml: document 2 (Deployment): YAML syntax error at line 23, column 3 (at metadata["n ame"]): Implicit keys need to be on a single line',
  );
});

test('the damaged name flattened onto one line is a missing name, with the stray key shown', () => {
  const text = EVENT_DISPLAY_AS_PRINTED.replace('  n\n  ame:', '  n ame:');
  assert.equal(
    problemOf(() => loadManifests(text)),
    'document 2 (Deployment): metadata.name: required (found "n ame" instead: is the key "name" misspelt or split?)',
  );
});

test('filters in the Knative dialect are read, nested', () => {
  const text = `
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t, namespace: ml}
spec:
  broker: events
  filter:
    attributes: {type: '', source: s}
  filters:
  - exact: {type: seldon.iris.default.response}
  - any:
    - prefix: {source: seldon.}
    - not: {suffix: {subject: .tmp}}
  subscriber:
    ref: {apiVersion: v1, kind: Service, name: sink, namespace: other}
    uri: /events
`;
  const trigger = only(loadManifests(text).triggers);
  assert.equal(trigger.spec.broker, 'events');
  assert.deepEqual(trigger.spec.attributes, { type: '', source: 's' });
  assert.deepEqual(trigger.spec.filters, [
    { exact: { type: 'seldon.iris.default.response' } },
    { any: [{ prefix: { source: 'seldon.' } }, { not: { suffix: { subject: '.tmp' } } }] },
  ]);
  assert.deepEqual(trigger.spec.subscriber, { ref: { apiVersion: 'v1', kind: 'Service', name: 'sink', namespace: 'other' }, uri: '/events' });
});

test('filters of the wrong shape are each reported by path', () => {
  const text = `
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  filter:
    attributes: {Type: x}
  filters:
  - exact: {type: a, source: b}
  - {prefix: {type: x}, suffix: {type: y}}
  - {}
  - any: [{not: {cesql: "type = 'a'"}}]
  - regex: {type: x}
  - all: "nope"
  subscriber: {uri: http://example.com/}
`;
  assert.equal(
    problemOf(() => loadManifests(text)),
    [
      'the manifest has 7 problems:',
      'spec.filter.attributes.Type: "Type" is not a valid attribute name: start with a lower-case letter, then only lower-case letters and digits',
      'spec.filters[0].exact: expected exactly one attribute, got 2; combine several with all',
      'spec.filters[1]: expected exactly one of exact, prefix, suffix, all, any, not, got prefix and suffix',
      'spec.filters[2]: expected exactly one of exact, prefix, suffix, all, any, not, got none',
      'spec.filters[3].any[0].not.cesql: CloudEvents SQL expressions are not supported yet; use exact, prefix, suffix, all, any, not',
      'spec.filters[4].regex: unknown filter dialect; use one of exact, prefix, suffix, all, any, not',
      'spec.filters[5].all: expected a list, got "nope"',
    ].join('\n'),
  );
});

test('delivery is defaulted as Knative does, and its durations are read into milliseconds', () => {
  const base = 'apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\nspec:\n  subscriber: {uri: "http://127.0.0.1:9/"}\n';
  assert.deepEqual(only(loadManifests(`${base}  delivery: {}\n`).triggers).spec.delivery, {
    retry: 0,
    backoffPolicy: 'exponential',
    backoffDelayMs: 200,
    format: 'binary',
  });
  const full = `${base}  delivery:
    retry: 5
    backoffPolicy: linear
    backoffDelay: PT1S
    timeout: PT30S
    format: json
    deadLetterSink:
      ref: {apiVersion: v1, kind: Service, name: dead-letters}
`;
  assert.deepEqual(only(loadManifests(full).triggers).spec.delivery, {
    retry: 5,
    backoffPolicy: 'linear',
    backoffDelayMs: 1000,
    timeoutMs: 30_000,
    format: 'json',
    deadLetterSink: { ref: { apiVersion: 'v1', kind: 'Service', name: 'dead-letters', namespace: 'default' } },
  });
  const broker = only(loadManifests('apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default, namespace: ml}\nspec:\n  config: {apiVersion: v1, kind: ConfigMap, name: x}\n  delivery: {retry: 3, backoffDelay: PT0.5S}\n').brokers);
  assert.deepEqual(broker.spec, { delivery: { retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 500, format: 'binary' } });
});

test('bad delivery fields and destinations name their fields', () => {
  const text = `
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec:
  subscriber:
    uri: event-display
  delivery:
    retry: -1
    backoffPolicy: fast
    backoffDelay: 2s
    timeout: PT0S
    format: xml
    deadLetterSink:
      ref: {kind: Service, name: dl}
      uri: http://elsewhere/
`;
  assert.equal(
    problemOf(() => loadManifests(text)),
    [
      'the manifest has 8 problems:',
      'spec.subscriber.uri: "event-display" is not an absolute http or https URL; give a full URL, or a ref with this as a relative path',
      'spec.delivery.retry: expected a non-negative integer, got -1',
      'spec.delivery.backoffPolicy: must be one of exponential, linear, got "fast"',
      'spec.delivery.backoffDelay: "2s" is not an ISO-8601 duration such as PT2S',
      'spec.delivery.format: must be one of binary, json, got "xml"',
      'spec.delivery.timeout: "PT0S" must be longer than zero',
      'spec.delivery.deadLetterSink.ref.apiVersion: required',
      'spec.delivery.deadLetterSink.uri: "http://elsewhere/" is absolute; with a ref, the uri is a path relative to the object\'s address (e.g. /api/v1.0/predictions)',
    ].join('\n'),
  );
});

test('a trigger needs a spec and a subscriber with a ref or a uri', () => {
  const head = 'apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata: {name: t}\n';
  assert.equal(problemOf(() => loadManifests(head)), 'spec: required');
  assert.equal(problemOf(() => loadManifests(`${head}spec: {broker: default}\n`)), 'spec.subscriber: required: a ref to an object or a uri');
  assert.equal(problemOf(() => loadManifests(`${head}spec: {subscriber: {}}\n`)), 'spec.subscriber: expected a ref (apiVersion, kind, name) or a uri');
  assert.equal(problemOf(() => loadManifests(`${head}spec: {broker: Default, subscriber: {uri: "http://x/"}}\n`)).split(':')[0], 'spec.broker');
});

test('Service and Deployment mistakes are reported by path', () => {
  const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - {port: 80, targetPort: http}\n  - {port: 70000, protocol: HTTP}\n';
  assert.equal(
    problemOf(() => loadManifests(service)),
    [
      'the manifest has 5 problems:',
      'spec.ports[0].targetPort: named target ports ("http") are not supported yet; give the container\'s port number',
      'spec.ports[0].name: required when a Service has more than one port',
      'spec.ports[1].port: expected an integer from 1 to 65535, got 70000',
      'spec.ports[1].protocol: must be one of TCP, UDP, SCTP, got "HTTP"',
      'spec.ports[1].name: required when a Service has more than one port',
    ].join('\n'),
  );
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: -1
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c}, {name: c}]}
`;
  assert.equal(
    problemOf(() => loadManifests(deployment)),
    [
      'the manifest has 3 problems:',
      'spec.replicas: expected a non-negative integer, got -1',
      'spec.template.metadata.labels: do not match spec.selector.matchLabels (app: a): the Deployment would not own its own pods',
      'spec.template.spec.containers[1].name: duplicate container name "c" in this pod template (also at spec.template.spec.containers[0])',
    ].join('\n'),
  );
});

test('the same name may be used by objects of different kinds, but not twice in one kind', () => {
  const twice = `${NOTEBOOK_EVENT_DISPLAY_TRIGGER}---\n${NOTEBOOK_EVENT_DISPLAY_TRIGGER}`;
  assert.equal(
    problemOf(() => loadManifests(twice)),
    'document 2 (Trigger event-display): metadata.name: Trigger default/event-display is defined twice (also by document 1)',
  );
  const loaded = loadManifests(`${NOTEBOOK_EVENT_DISPLAY_TRIGGER}---\n${EVENT_DISPLAY_DEPLOYMENT}`);
  assert.equal(loaded.triggers.length + loaded.services.length + loaded.kubeDeployments.length, 3);
});

test('objectKey names an object by kind, namespace and name', () => {
  assert.equal(objectKey('Trigger', 'default', 'event-display'), 'Trigger/default/event-display');
});

test('an apiVersion a kind does not have lists the ones it has', () => {
  assert.equal(
    problemOf(() => loadManifests('apiVersion: eventing.knative.dev/v1beta1\nkind: Broker\nmetadata: {name: b}\n')),
    'apiVersion: "eventing.knative.dev/v1beta1" is not supported for kind Broker; supported: eventing.knative.dev/v1',
  );
  assert.equal(
    problemOf(() => loadManifests('kind: Service\nmetadata: {name: b}\n')),
    'apiVersion: required; for kind Service use v1',
  );
});

/** Knative's own `config-br-defaults`, as its release YAML ships it (with a namespace entry added). */
const KNATIVE_BR_DEFAULTS = `apiVersion: v1
kind: ConfigMap
metadata:
  name: config-br-defaults
  namespace: knative-eventing
  labels:
    eventing.knative.dev/release: devel
    app.kubernetes.io/version: devel
    app.kubernetes.io/name: knative-eventing
data:
  # Configures the default for any Broker that does not specify a spec.config or Broker class.
  default-br-config: |
    clusterDefault:
      brokerClass: MTChannelBasedBroker
      apiVersion: v1
      kind: ConfigMap
      name: config-br-default-channel
      namespace: knative-eventing
      delivery:
        retry: 10
        backoffPolicy: exponential
        backoffDelay: PT0.2S
    namespaceDefaults:
      ml:
        brokerClass: MTChannelBasedBroker
        delivery:
          retry: 3
          backoffPolicy: linear
          backoffDelay: PT1S
          deadLetterSink:
            uri: http://127.0.0.1:9999/dead
`;

test("Knative's config-br-defaults ConfigMap loads unchanged and gives the delivery defaults per namespace", () => {
  const loaded = loadManifests(KNATIVE_BR_DEFAULTS);
  assert.equal(loaded.configMaps.length, 1);
  const defaults = brokerDefaultsOf(loaded.configMaps[0]!);
  assert.deepEqual(defaultDeliveryFor(defaults, 'default'), { retry: 10, backoffPolicy: 'exponential', backoffDelayMs: 200, format: 'binary' });
  assert.deepEqual(defaultDeliveryFor(defaults, 'ml'), {
    retry: 3, backoffPolicy: 'linear', backoffDelayMs: 1000, format: 'binary', deadLetterSink: { uri: 'http://127.0.0.1:9999/dead' },
  });
  assert.equal(defaults.clusterDefault?.brokerClass, 'MTChannelBasedBroker');
});

test('a ConfigMap other than knative-eventing/config-br-defaults is refused, saying which one is read', () => {
  assert.throws(
    () => loadManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n'),
    /ConfigMap default\/settings is not read here: the only ConfigMap taken is Knative's broker defaults, config-br-defaults in namespace knative-eventing/,
  );
});

test('a config-br-defaults with a bad delivery names the field inside default-br-config', () => {
  const bad = KNATIVE_BR_DEFAULTS.replace('backoffPolicy: exponential', 'backoffPolicy: sometimes');
  assert.throws(() => loadManifests(bad), /data\.default-br-config\.clusterDefault\.delivery\.backoffPolicy/);
});
