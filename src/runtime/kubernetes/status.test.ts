import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifests } from '../../manifest/index.ts';
import { DEFAULT_RENDER_CONFIG, NOT_PROGRESSING, observedOf, render, renderConfig, seldonStatus, type Observed, type ObservedDeployment, type Rendered } from './index.ts';
import { featuresManifest, TESTDATA } from './testing.ts';

const [SAMPLE] = loadManifests(readFileSync(join(TESTDATA, 'seed-sample.yaml'), 'utf8'), {}).deployments;
const RENDERED = render(SAMPLE!, DEFAULT_RENDER_CONFIG);
const T0 = '2026-12-04T10:00:00Z';
const T1 = '2026-12-04T10:05:00Z';

/** Every child found; each Deployment as `deployment(name)` says. */
function observed(rendered: Rendered, deployment: (name: string) => ObservedDeployment | undefined, skip: (kind: string) => boolean = () => false): Observed {
  const deployments = new Map<string, ObservedDeployment>();
  const others = new Set<string>();
  for (const o of rendered.objects) {
    if (skip(o.kind)) continue;
    if (o.kind !== 'Deployment') others.add(`${o.kind}/${o.metadata.name}`);
    else {
      const seen = deployment(o.metadata.name);
      if (seen !== undefined) deployments.set(o.metadata.name, seen);
    }
  }
  return { deployments, others };
}

const READY: ObservedDeployment = { specReplicas: 1, replicas: 1, availableReplicas: 1, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'True' }] };

function typesAndStatus(conditions: readonly { type: string; status: string }[]): string[] {
  return conditions.map((c) => `${c.type}=${c.status}`);
}

test('nothing created yet: Creating, no address, Ready False naming what is missing', () => {
  const status = seldonStatus({ namespace: 'seldon', generation: 1, rendered: RENDERED, observed: observed(RENDERED, () => undefined, () => true), now: T0 });
  assert.equal(status.state, 'Creating');
  assert.equal(status.address, undefined);
  assert.deepEqual(typesAndStatus(status.conditions), ['DeploymentsReady=False', 'Ready=False', 'ServicesReady=False']);
  const ready = status.conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.reason, 'Creating');
  assert.equal(ready?.message, 'not ready: DeploymentsReady, ServicesReady');
  assert.equal(status.observedGeneration, 1);
});

test('Services made and pods starting: still Creating, but the address is set (Knative can resolve it)', () => {
  const status = seldonStatus({ namespace: 'seldon', rendered: RENDERED, observed: observed(RENDERED, () => ({ specReplicas: 1, replicas: 1, availableReplicas: 0 })), now: T0 });
  assert.equal(status.state, 'Creating');
  assert.deepEqual(status.address, { url: 'http://iris-model-default.seldon.svc.cluster.local:8000/api/v1.0/predictions' });
  assert.deepEqual(status.addresses, [status.address]);
  const deployments = status.conditions.find((c) => c.type === 'DeploymentsReady');
  assert.equal(deployments?.reason, 'NotAvailable');
  assert.equal(deployments?.message, 'waiting for available replicas: iris-model-default-0-classifier, iris-model-gateway');
  assert.deepEqual(status.deploymentStatus['iris-model-default-0-classifier'], { replicas: 1, availableReplicas: 0 });
});

test("every child ready: Available, as Seldon's status reads, with Ready True and observedGeneration", () => {
  const status = seldonStatus({ namespace: 'seldon', generation: 3, rendered: RENDERED, observed: observed(RENDERED, () => READY), now: T0 });
  assert.deepEqual(status, {
    state: 'Available',
    deploymentStatus: {
      'iris-model-default-0-classifier': { replicas: 1, availableReplicas: 1 },
      'iris-model-gateway': { replicas: 1, availableReplicas: 1 },
    },
    serviceStatus: {
      'iris-model-default': { svcName: 'iris-model-default', httpEndpoint: 'iris-model-default.seldon:8000', grpcEndpoint: 'iris-model-default.seldon:5001' },
      'iris-model-default-classifier': { svcName: 'iris-model-default-classifier', httpEndpoint: 'iris-model-default-classifier.seldon:9000', grpcEndpoint: 'iris-model-default-classifier.seldon:9500' },
      'iris-model-gateway': { svcName: 'iris-model-gateway', httpEndpoint: 'iris-model-gateway.seldon:8000', grpcEndpoint: 'iris-model-gateway.seldon:5001' },
    },
    replicas: 1,
    address: { url: 'http://iris-model-default.seldon.svc.cluster.local:8000/api/v1.0/predictions' },
    addresses: [{ url: 'http://iris-model-default.seldon.svc.cluster.local:8000/api/v1.0/predictions' }],
    conditions: [
      { type: 'DeploymentsReady', status: 'True', lastTransitionTime: T0 },
      { type: 'Ready', status: 'True', lastTransitionTime: T0 },
      { type: 'ServicesReady', status: 'True', lastTransitionTime: T0 },
    ],
    observedGeneration: 3,
  });
});

test('a Deployment past its progress deadline and not available makes the deployment Failed with Seldon\'s description', () => {
  const stalled: ObservedDeployment = { specReplicas: 1, replicas: 1, availableReplicas: 0, conditions: [{ type: 'Available', status: 'False' }, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] };
  const status = seldonStatus({ namespace: 'seldon', rendered: RENDERED, observed: observed(RENDERED, (name) => (name === 'iris-model-gateway' ? READY : stalled)), now: T0 });
  assert.equal(status.state, 'Failed');
  assert.equal(status.description, NOT_PROGRESSING);
  assert.equal(status.conditions.find((c) => c.type === 'Ready')?.reason, 'Failed');
});

test('a reconcile error makes the deployment Failed with its text, whatever the children say', () => {
  const status = seldonStatus({ namespace: 'seldon', rendered: RENDERED, observed: observed(RENDERED, () => READY), error: 'spec.predictors[0].graph.name: required', now: T0 });
  assert.equal(status.state, 'Failed');
  assert.equal(status.description, 'spec.predictors[0].graph.name: required');
  assert.deepEqual(status.conditions.find((c) => c.type === 'Ready'), { type: 'Ready', status: 'False', lastTransitionTime: T0, reason: 'Failed', message: 'spec.predictors[0].graph.name: required' });
});

test('a condition keeps its lastTransitionTime while its status stays, and takes the new time when it changes', () => {
  const first = seldonStatus({ namespace: 'seldon', rendered: RENDERED, observed: observed(RENDERED, () => ({ specReplicas: 1, availableReplicas: 0 })), now: T0 });
  const second = seldonStatus({ namespace: 'seldon', rendered: RENDERED, observed: observed(RENDERED, () => READY), previous: first, now: T1 });
  const time = (s: typeof first, type: string): string | undefined => s.conditions.find((c) => c.type === type)?.lastTransitionTime;
  assert.equal(time(second, 'ServicesReady'), T0);
  assert.equal(time(second, 'DeploymentsReady'), T1);
  assert.equal(time(second, 'Ready'), T1);
});

test('replicas an autoscaler set count as the goal, and HPA, PDB and KEDA objects get their own conditions', () => {
  const [sdep] = loadManifests(featuresManifest().text, {}).deployments;
  const rendered = render(sdep!, renderConfig({ keda: { enabled: true } }));
  const scaled: ObservedDeployment = { specReplicas: 3, replicas: 3, availableReplicas: 3 };
  const status = seldonStatus({ namespace: 'ml', rendered, observed: observed(rendered, () => scaled), now: T0 });
  assert.equal(status.state, 'Available');
  assert.equal(status.replicas, 3);
  assert.deepEqual(typesAndStatus(status.conditions), ['DeploymentsReady=True', 'HpasReady=True', 'KedaReady=True', 'PdbsReady=True', 'Ready=True', 'ServicesReady=True']);
  const noPdb = seldonStatus({ namespace: 'ml', rendered, observed: observed(rendered, () => scaled, (kind) => kind === 'PodDisruptionBudget'), now: T0 });
  assert.equal(noPdb.state, 'Creating');
  assert.equal(noPdb.conditions.find((c) => c.type === 'PdbsReady')?.message, 'not created yet: scaled-main-1-gpu');
});

test('observedOf reads what the API server returns: a Deployment\'s spec.replicas and status, the kind and name of the rest', () => {
  const listed = [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'iris-model-default-0-classifier' }, spec: { replicas: 2 }, status: { replicas: 2, availableReplicas: 1, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', lastUpdateTime: 'x' }] } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'iris-model-gateway' }, spec: {} },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'iris-model-default' } },
    { kind: 'Service', metadata: {} },
    'not an object',
  ];
  const observed = observedOf(listed);
  assert.deepEqual(observed.deployments.get('iris-model-default-0-classifier'), {
    specReplicas: 2,
    replicas: 2,
    availableReplicas: 1,
    conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }],
  });
  assert.deepEqual(observed.deployments.get('iris-model-gateway'), { specReplicas: 1, conditions: [] });
  assert.deepEqual([...observed.others], ['Service/iris-model-default']);
  const status = seldonStatus({ namespace: 'seldon', rendered: RENDERED, observed, now: T0 });
  assert.equal(status.state, 'Creating');
  assert.equal(status.conditions.find((c) => c.type === 'ServicesReady')?.message, 'not created yet: iris-model-default-classifier, iris-model-gateway');
});
