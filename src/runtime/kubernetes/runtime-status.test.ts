import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AWAITING_OPERATOR, deploymentStatusOf, NOT_PROGRESSING, readyAddresses, SERVICE_NAME_LABEL, type LiveObject } from './index.ts';

/** A SeldonDeployment as the API returns it: two predictors whose graphs share the node name `model`. */
function sdep(status?: Record<string, unknown>, generation = 1): LiveObject {
  const predictor = (name: string): unknown => ({ name, graph: { name: 'model', type: 'MODEL' }, componentSpecs: [{ spec: { containers: [{ name: 'model', image: 'me/model:1' }] } }], traffic: 50 });
  return {
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name: 'iris', namespace: 'seldon', generation },
    spec: { predictors: [predictor('main'), predictor('canary')] },
    ...(status === undefined ? {} : { status }),
  };
}

/** A pod of node `model` of `predictor` (the label its node Service selects), with `model`'s container status. */
function pod(name: string, predictor: string, containerStatus?: Record<string, unknown>, deleting = false): LiveObject {
  return {
    metadata: {
      name,
      namespace: 'seldon',
      labels: { 'seldon-deployment-id': 'iris', 'seldon-app-svc-model': `iris-${predictor}-model` },
      ...(deleting ? { deletionTimestamp: '2026-12-04T10:00:00Z' } : {}),
    },
    status: containerStatus === undefined ? { phase: 'Pending' } : { phase: 'Running', containerStatuses: [{ name: 'seldon-container-engine', ready: true, restartCount: 0 }, { name: 'model', ...containerStatus }] },
  };
}

const RUNNING = { state: { running: { startedAt: 'x' } } };

test('with no status written yet, or one written for an older generation, the deployment is Creating, waiting for the operator', () => {
  assert.deepEqual(deploymentStatusOf(sdep(), []), { state: 'Creating', description: AWAITING_OPERATOR, replicas: [] });
  const stale = deploymentStatusOf(sdep({ state: 'Failed', description: 'old', observedGeneration: 1 }, 2), []);
  assert.deepEqual([stale.state, stale.description], ['Creating', AWAITING_OPERATOR]);
});

test("the operator's state and description are reported as written; Available has no description", () => {
  assert.deepEqual(deploymentStatusOf(sdep({ state: 'Available', observedGeneration: 1, description: 'ignored' }), []), { state: 'Available', replicas: [] });
  assert.deepEqual(deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), []), { state: 'Creating', replicas: [] });
  assert.deepEqual(deploymentStatusOf(sdep({ state: 'Failed', description: 'spec.predictors[0].name: bad' }), []), { state: 'Failed', description: 'spec.predictors[0].name: bad', replicas: [] });
});

test('one replica per pod of each node, told apart by predictor, indexed in pod-name order, in the state its container reports', () => {
  const status = deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), [
    pod('main-b', 'main', { ready: false, restartCount: 0, ...RUNNING }),
    pod('main-a', 'main', { ready: true, restartCount: 1, ...RUNNING }),
    pod('canary-a', 'canary', { ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'no such image' } } }),
    pod('canary-b', 'canary'),
    pod('canary-c', 'canary', { ready: true, restartCount: 0, ...RUNNING }, true),
  ]);
  assert.deepEqual(
    status.replicas.map((r) => [r.id, r.predictor, r.node, r.index, r.state, r.restarts, r.message]),
    [
      ['main/model/0', 'main', 'model', 0, 'Ready', 1, undefined],
      ['main/model/1', 'main', 'model', 1, 'Unready', 0, 'running, failing its readiness probe'],
      ['canary/model/0', 'canary', 'model', 0, 'Starting', 0, 'ImagePullBackOff: no such image'],
      ['canary/model/1', 'canary', 'model', 1, 'Starting', 0, 'pod Pending'],
      ['canary/model/2', 'canary', 'model', 2, 'Stopped', 0, 'the pod is being deleted'],
    ],
  );
});

test("a Failed deployment's description adds why each crashing replica stops: its last exit and termination message", () => {
  const crashing = { ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3, message: 'cannot load model\n' } } };
  const status = deploymentStatusOf(sdep({ state: 'Failed', description: NOT_PROGRESSING, observedGeneration: 1 }), [pod('main-a', 'main', crashing)]);
  assert.equal(status.description, `${NOT_PROGRESSING}; main/model/0: CrashLoopBackOff, last exit 3: cannot load model`);
  assert.deepEqual([status.replicas[0]?.state, status.replicas[0]?.restarts], ['Crashed', 4]);
  // Terminated now (restartPolicy Never, or between restarts) is a crash too.
  const ended = deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), [pod('main-a', 'main', { ready: false, restartCount: 0, state: { terminated: { exitCode: 1 } } })]);
  assert.equal(ended.description, 'main/model/0: Terminated, last exit 1');
  // A model-initializer that cannot fetch the model keeps the pod from starting its containers.
  const initFailing = pod('main-a', 'main', { ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } });
  (initFailing.status as Record<string, unknown>)['initContainerStatuses'] = [
    { name: 'model-model-initializer', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, message: 'gs://bucket/model: 403' } } },
  ];
  const init = deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), [initFailing]);
  assert.equal(init.description, 'main/model/0: init container model-model-initializer: CrashLoopBackOff, last exit 1: gs://bucket/model: 403');
  // One that ended with 0 did its work; a container that ended with 0 is stopped, not crashed.
  (initFailing.status as Record<string, unknown>)['initContainerStatuses'] = [{ name: 'model-model-initializer', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } }];
  assert.equal(deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), [initFailing]).replicas[0]?.state, 'Starting');
  const completed = deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), [pod('main-a', 'main', { ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } })]);
  assert.deepEqual([completed.replicas[0]?.state, completed.description], ['Stopped', undefined]);
});

test("with pods unreadable, each node's replicas are counted from its Deployment in the operator's deploymentStatus", () => {
  const counts = { 'iris-main-0-model': { replicas: 2, availableReplicas: 1 }, 'iris-canary-0-model': { replicas: 1, availableReplicas: 1 } };
  const status = deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1, deploymentStatus: counts }), 'unreadable');
  assert.deepEqual(
    status.replicas.map((r) => [r.id, r.state]),
    [
      ['main/model/0', 'Ready'],
      ['main/model/1', 'Starting'],
      ['canary/model/0', 'Ready'],
    ],
  );
  assert.deepEqual(deploymentStatusOf(sdep({ state: 'Creating', observedGeneration: 1 }), 'unreadable').replicas, [], 'no counts written yet');
});

test('a spec the manifest reader refuses has no replicas (the operator reports it Failed)', () => {
  const broken = { ...sdep({ state: 'Failed', description: 'bad' }), spec: { predictors: 'nope' } };
  assert.deepEqual(deploymentStatusOf(broken, [pod('main-a', 'main', { ready: true, ...RUNNING })]).replicas, []);
});

test("a Service's ready addresses: ready (or unstated) and not terminating endpoints, at the slice's http port, one per pod", () => {
  const slice = (name: string, service: string, endpoints: unknown[], ports: unknown[] = [{ name: 'grpc', port: 9500 }, { name: 'http', port: 9000 }]): LiveObject => ({
    metadata: { name, namespace: 'seldon', labels: { [SERVICE_NAME_LABEL]: service } },
    ports,
    endpoints,
  });
  const endpoint = (ip: string, pod: string | undefined, conditions: Record<string, boolean> = {}): unknown => ({ addresses: [ip], conditions, ...(pod === undefined ? {} : { targetRef: { kind: 'Pod', name: pod } }) });
  const slices = [
    slice('a', 'iris-main-model', [endpoint('10.1.0.1', 'p1', { ready: true }), endpoint('10.1.0.2', 'p2', { ready: false }), endpoint('10.1.0.3', 'p3', { ready: true, terminating: true }), endpoint('10.1.0.4', undefined)]),
    // The same pod in a second slice while the controller moves it.
    slice('b', 'iris-main-model', [endpoint('10.1.0.1', 'p1', { ready: true })]),
    slice('c', 'iris-canary-model', [endpoint('10.1.0.9', 'p9')]),
    slice('d', 'iris-main-model', [endpoint('10.1.0.8', 'p8')], [{ name: 'grpc', port: 9500 }]),
  ];
  assert.deepEqual(readyAddresses(slices, 'iris-main-model'), [
    { id: 'p1', host: '10.1.0.1', port: 9000 },
    { id: '10.1.0.4', host: '10.1.0.4', port: 9000 },
  ]);
  assert.deepEqual(readyAddresses(slices, 'other'), []);
});
