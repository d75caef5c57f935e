import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadManifests, ManifestError, manifestOf } from './index.ts';

const KUBERNETES_FIELDS = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: gpu}
spec:
  predictors:
  - name: default
    progressDeadlineSeconds: 600
    svcOrchSpec:
      resources: {requests: {cpu: "1"}}
      env: [{name: SELDON_LOG_LEVEL, value: DEBUG}]
    ssl: {certSecretName: my-cert}
    explainer: {type: AnchorTabular}
    componentSpecs:
    - metadata: {name: big, labels: {team: a}}
      replicas: 2
      hpaSpec:
        minReplicas: 1
        maxReplicas: 4
        metricsv2: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
      kedaSpec:
        idleReplicaCount: 0
        triggers: [{type: prometheus, metadata: {query: up}}]
      pdbSpec: {maxUnavailable: "50%"}
      spec:
        serviceAccountName: models
        imagePullSecrets: [{name: registry}]
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
        volumes: [{name: scratch, emptyDir: {}}]
        containers:
        - name: m
          image: m:1
          resources: {limits: {nvidia.com/gpu: 1}}
          env: [{name: FROM_SECRET, valueFrom: {secretKeyRef: {name: s, key: k}}}]
    graph: {name: m, storageInitializerImage: my/init:1, modelUri: "s3://b/m"}
`;

function problemsOf(text: string): readonly string[] {
  try {
    loadManifests(text, {});
  } catch (err) {
    assert.ok(err instanceof ManifestError);
    return err.problems;
  }
  assert.fail('expected problems');
}

test('a componentSpec keeps its PodSpec, metadata, hpaSpec, kedaSpec and pdbSpec as written', () => {
  const [d] = loadManifests(KUBERNETES_FIELDS, {}).deployments;
  const predictor = d!.spec.predictors[0]!;
  const component = predictor.componentSpecs[0]!;
  assert.deepEqual(component.metadata, { name: 'big', labels: { team: 'a' } });
  assert.deepEqual(component.spec?.['tolerations'], [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  assert.deepEqual((component.spec?.['containers'] as { resources: unknown }[])[0]?.resources, { limits: { 'nvidia.com/gpu': 1 } });
  assert.equal(component.spec?.['serviceAccountName'], 'models');
  assert.equal(component.hpaSpec?.['maxReplicas'], 4);
  assert.equal(component.kedaSpec?.['idleReplicaCount'], 0);
  assert.deepEqual(component.pdbSpec, { maxUnavailable: '50%' });
  assert.deepEqual(component.containers.map((c) => c.name), ['m'], 'the typed view the local runtime reads is still there');
  assert.equal(predictor.progressDeadlineSeconds, 600);
  assert.deepEqual(predictor.svcOrchSpec?.['env'], [{ name: 'SELDON_LOG_LEVEL', value: 'DEBUG' }]);
  assert.deepEqual(predictor.ssl, { certSecretName: 'my-cert' });
  assert.deepEqual(predictor.explainer, { type: 'AnchorTabular' });
  assert.equal(predictor.graph.storageInitializerImage, 'my/init:1');
});

test('the fields kept as written read back whole, with what the typed view drops (valueFrom, resources)', () => {
  const [d] = loadManifests(KUBERNETES_FIELDS, {}).deployments;
  const written = manifestOf(d!);
  const component = written.spec.predictors[0]!.componentSpecs[0]!;
  const container = (component.spec as unknown as { containers: Record<string, unknown>[] }).containers[0]!;
  assert.deepEqual(container['env'], [{ name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }]);
  assert.deepEqual(container['resources'], { limits: { 'nvidia.com/gpu': 1 } });
  const [again] = loadManifests(JSON.stringify(written), {}).deployments;
  assert.deepEqual(again, d);
});

test('hpaSpec, kedaSpec, pdbSpec, svcOrchSpec and component metadata are checked at their paths', () => {
  const bad = KUBERNETES_FIELDS.replace('maxReplicas: 4', 'maxReplicas: "4"')
    .replace('minReplicas: 1', 'minReplicas: 0')
    .replace('triggers: [{type: prometheus, metadata: {query: up}}]', 'triggers: []')
    .replace('pdbSpec: {maxUnavailable: "50%"}', 'pdbSpec: {maxUnavailable: half, minAvailable: 1}')
    .replace('env: [{name: SELDON_LOG_LEVEL, value: DEBUG}]', 'env: [{value: DEBUG}]')
    .replace('progressDeadlineSeconds: 600', 'progressDeadlineSeconds: 0')
    .replace('metadata: {name: big,', 'metadata: {name: Big_one,');
  const at = 'spec.predictors[0].componentSpecs[0]';
  const problems = problemsOf(bad);
  for (const expected of [
    `${at}.hpaSpec.maxReplicas: expected an integer of at least 1, got "4"`,
    `${at}.hpaSpec.minReplicas: expected an integer of at least 1, got 0`,
    `${at}.kedaSpec.triggers: expected at least one trigger`,
    `${at}.pdbSpec: set exactly one of minAvailable and maxUnavailable, got both`,
    `${at}.pdbSpec.maxUnavailable: expected a non-negative integer or a percentage such as "50%", got "half"`,
    'spec.predictors[0].svcOrchSpec.env[0].name: required',
    'spec.predictors[0].progressDeadlineSeconds: expected an integer of at least 1, got 0',
  ]) {
    assert.ok(problems.includes(expected), `missing ${expected} in:\n${problems.join('\n')}`);
  }
  assert.ok(problems.some((p) => p.startsWith(`${at}.metadata.name: "Big_one"`)), problems.join('\n'));
});
