import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isoDurationMs, loadManifests, manifestOf, type LoadedManifests } from './index.ts';
import { isoDuration } from './manifest-of.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every object of a text, as the control plane stores it (JSON), read back through manifestOf. */
function assertRoundTrip(text: string, where: string): number {
  const loaded = loadManifests(text, { baseDir: '/models' });
  let count = 0;
  for (const list of Object.keys(loaded) as (keyof LoadedManifests)[]) {
    for (const object of loaded[list]) {
      const stored = JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
      const again = loadManifests(JSON.stringify(manifestOf(stored)), typeof stored['baseDir'] === 'string' ? { baseDir: stored['baseDir'] } : {});
      assert.deepEqual(JSON.parse(JSON.stringify(again[list][0])), stored, `${where}: ${list} ${JSON.stringify(object.metadata)}`);
      count++;
    }
  }
  return count;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // An MLflow model folder's conda.yaml and python_env.yaml are not manifests.
    if (statSync(path).isDirectory()) return existsSync(join(path, 'MLmodel')) ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

test('every example manifest reads back from its stored form unchanged', () => {
  let count = 0;
  for (const file of [...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'bench', 'manifests'))]) {
    count += assertRoundTrip(readFileSync(file, 'utf8'), file);
  }
  assert.ok(count >= 10, `only ${count} objects in the examples`);
});

test('componentSpecs, filters, delivery specs and defaults read back from their stored form unchanged', () => {
  const text = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: shapes, namespace: ml, labels: {team: a}}
spec:
  protocol: kfserving
  transport: grpc
  predictors:
  - name: main
    traffic: 80
    replicas: 2
    componentSpecs:
    - replicas: 3
      spec:
        containers:
        - {name: m, command: [python, m.py], env: [{name: A, value: "1"}], workingDir: ./m}
    graph:
      name: m
      type: MODEL
      parameters: [{name: batch_max_size, type: INT, value: "8"}, {name: batch_max_wait_ms, type: FLOAT, value: 2.5}]
      logger: {mode: request, url: "http://127.0.0.1:9/"}
  - name: canary
    traffic: 20
    graph: {name: s, implementation: SIMPLE_MODEL}
  - name: copy
    shadow: true
    graph: {name: t, implementation: SIMPLE_MODEL}
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: b, namespace: ml}
spec:
  delivery: {retry: 3, backoffPolicy: linear, backoffDelay: PT1.5S, timeout: PT2M, deadLetterSink: {uri: "http://127.0.0.1:9/dead"}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t, namespace: ml}
spec:
  broker: b
  filter: {attributes: {type: a.b, source: ""}}
  filters: [{any: [{prefix: {type: x}}, {not: {suffix: {source: y}}}]}]
  subscriber: {ref: {apiVersion: machinelearning.seldon.io/v1, kind: SeldonDeployment, name: shapes}, uri: /api/v1.0/predictions}
  delivery: {retry: 1, deadLetterSink: {ref: {apiVersion: v1, kind: Service, name: dead}}}
---
apiVersion: eventing.knative.dev/v1alpha1
kind: Trigger
metadata: {name: old}
spec:
  filter: {sourceAndType: {type: dev.old, source: Any}}
  subscriber: {uri: "http://127.0.0.1:9/"}
---
apiVersion: v1
kind: Service
metadata: {name: display}
spec:
  selector: {app: display}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: other, port: 81, protocol: UDP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: display}
spec:
  replicas: 2
  selector: {matchLabels: {app: display}}
  template:
    metadata: {labels: {app: display}}
    spec: {containers: [{name: display, image: event-display, args: [--port, "8080"]}]}
`;
  assert.equal(assertRoundTrip(text, 'inline'), 6);
});

test('a stored object of an unexpected shape is passed on for loadManifests to report', () => {
  const odd = { apiVersion: 'machinelearning.seldon.io/v1', kind: 'SeldonDeployment', metadata: { name: 'x' }, spec: { predictors: 'none' } };
  assert.deepEqual(manifestOf(odd), odd);
  assert.throws(() => loadManifests(JSON.stringify(manifestOf(odd))), /spec\.predictors: expected a list/);
});

test('the base-dir annotation pins where relative paths resolve, is taken off, and must be absolute', () => {
  const text = (dir: string): string => `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: pinned, annotations: {team: a, trantor.io/base-dir: ${JSON.stringify(dir)}}}
spec:
  predictors: [{name: p, graph: {name: m, implementation: SKLEARN_SERVER, modelUri: ./model}}]
`;
  const [deployment] = loadManifests(text('/models/iris'), { baseDir: '/elsewhere' }).deployments;
  assert.equal(deployment?.baseDir, '/models/iris');
  assert.deepEqual(deployment?.metadata.annotations, { team: 'a' });
  assert.throws(() => loadManifests(text('models/iris')), /trantor\.io\/base-dir: expected an absolute path/);
});

test('delivery durations read back in the largest units, and read again to the same milliseconds', () => {
  const cases: [number, string][] = [[0, 'PT0S'], [200, 'PT0.2S'], [1500, 'PT1.5S'], [120_000, 'PT2M'], [3_600_000, 'PT1H'], [90_061_001, 'P1DT1H1M1.001S'], [172_800_000, 'P2D']];
  for (const [ms, text] of cases) {
    assert.equal(isoDuration(ms), text);
    assert.equal(isoDurationMs(text), ms);
  }
});

test('a relative base folder (an API caller may send one) is not written as an annotation, and restores as before', () => {
  const [deployment] = loadManifests('{"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {"name": "rel"}, "spec": {"predictors": [{"name": "p", "graph": {"name": "s", "implementation": "SIMPLE_MODEL"}}]}}', { baseDir: 'models' }).deployments;
  assert.ok(deployment !== undefined);
  const manifest = manifestOf(deployment);
  assert.deepEqual(manifest.metadata.annotations, {});
  assert.equal(loadManifests(JSON.stringify(manifest), { baseDir: 'models' }).deployments[0]?.baseDir, 'models');
});
