import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest, unknownFields, unknownFieldWarnings } from './known-fields.ts';
import { loadManifests } from './load.ts';

const ROOT = join(import.meta.dirname, '..', '..');

const SDEP = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris, namespace: seldon}
spec:
  predictors:
  - name: default
    replica: 2
    graph:
      name: classifier
      implementation: SKLEARN_SERVER
      modelUri: gs://x
      children:
      - {name: child, modleUri: gs://y}
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          image: x
          env: [{name: A, value: "1", valeu: "2"}]
          resources: {limits: {cpu: "1", anything: "2"}}
          readinessProbe: {httpGet: {path: /ready, prot: 9000}}
          volumeMounts: [{name: v, mountPath: /m}]
        volumes: [{name: v, emptyDir: {}}]
        affinity: {nodeAffinity: {whatever: true}}
`;

test('a misspelt SeldonDeployment field is named by path, with the field it most likely meant', () => {
  const warnings = unknownFieldWarnings(SDEP);
  assert.deepEqual(warnings, [
    'SeldonDeployment iris: spec.predictors[0].replica: unknown field; did you mean replicas?',
    'SeldonDeployment iris: spec.predictors[0].graph.children[0].modleUri: unknown field; did you mean modelUri?',
    'SeldonDeployment iris: spec.predictors[0].componentSpecs[0].spec.containers[0].env[0].valeu: unknown field; did you mean value?',
    'SeldonDeployment iris: spec.predictors[0].componentSpecs[0].spec.containers[0].readinessProbe.httpGet.prot: unknown field; did you mean port?',
  ]);
});

test('opaque blocks (resource quantities, volume sources, affinity, labels) are not looked into', () => {
  const paths = unknownFields({ kind: 'SeldonDeployment', metadata: { labels: { anyKey: 'x' } }, spec: { predictors: [{ componentSpecs: [{ hpaSpec: { foo: 1 } }] }] } });
  assert.deepEqual(paths, []);
});

test('every kind has a table: Broker, Trigger, Service, Deployment, ConfigMap', () => {
  const text = `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: b}
spec: {delivery: {retyr: 2}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t}
spec: {broker: b, subscriber: {uri: "http://x", ref: {kind: Service, nmae: x}}, filter: {attributes: {type: a}}}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {selector: {app: a}, ports: [{port: 80, targetport: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namepsace: x}
spec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c, image: i, imagePullPolicy: Never, workinDir: /}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {anything: x}
spec: {}
`;
  assert.deepEqual(unknownFieldWarnings(text), [
    'Broker b: spec.delivery.retyr: unknown field; did you mean retry?',
    'Trigger t: spec.subscriber.ref.nmae: unknown field; did you mean name?',
    'Service s: spec.ports[0].targetport: unknown field; did you mean targetPort?',
    'Deployment d: metadata.namepsace: unknown field; did you mean namespace?',
    'Deployment d: spec.template.spec.containers[0].workinDir: unknown field; did you mean workingDir?',
    'ConfigMap c: spec: unknown field',
  ]);
});

test('items of a List are checked; a field far from any known one gets no suggestion', () => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, colour: blue}\n';
  assert.deepEqual(unknownFieldWarnings(text), ['ConfigMap c: colour: unknown field']);
});

test('did-you-mean: case and underscores first, then a small edit distance', () => {
  assert.equal(closest('model_uri', ['modelUri', 'name']), 'modelUri');
  assert.equal(closest('replica', ['replicas', 'traffic']), 'replicas');
  assert.equal(closest('zzz', ['replicas', 'traffic']), undefined);
});

test('the shipped examples use only known fields', () => {
  for (const folder of readdirSync(join(ROOT, 'examples'), { withFileTypes: true })) {
    if (!folder.isDirectory()) continue;
    for (const file of readdirSync(join(ROOT, 'examples', folder.name))) {
      if (!file.endsWith('.yaml') || file.startsWith('bad-')) continue;
      const text = readFileSync(join(ROOT, 'examples', folder.name, file), 'utf8');
      loadManifests(text, { baseDir: join(ROOT, 'examples', folder.name) });
      assert.deepEqual(unknownFieldWarnings(text), [], `examples/${folder.name}/${file}`);
    }
  }
});
