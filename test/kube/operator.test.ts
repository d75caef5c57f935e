/**
 * The operator's reconcile core against a real kube-apiserver and etcd (test/kube/harness.ts):
 * SeldonDeployments applied with kubectl, as a user would, become Seldon's children with owner
 * references; their status follows the children; a bad manifest is Failed with field paths; what
 * leaves the spec is pruned; an autoscaler's (or anyone's) scaling is not reverted; a restarted
 * operator writes nothing for what did not change; a compacted watch is listed again.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { loadManifests } from '../../src/manifest/index.ts';
import { Controller, KubeClient, LeaderElector, LEASES, operatorOptions, render, renderConfig, resourceOf, SELDON_DEPLOYMENTS, seldonDeploymentCrd, type LiveObject } from '../../src/runtime/kubernetes/index.ts';
import { IRIS_MODEL_DEPLOYMENT } from '../seed-manifests.ts';
import { findBinaries, ROOT, run, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const skip = skipUnlessKube();
const DEPLOYMENTS = resourceOf('apps/v1', 'Deployment');
const CONFIG = renderConfig();

/** Polls `probe` until it returns a value that is not undefined; fails with `what` at the deadline. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (${last instanceof Error ? last.message : JSON.stringify(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Cluster {
  kube: KubeServer;
  bin: KubeBinaries;
  /** The test's own client (its writes are not the operator's). */
  user: KubeClient;
  kubectl(args: string[], input?: string): string;
  startOperator(options?: Record<string, string>): Promise<{ controller: Controller; client: KubeClient; logs: string[] }>;
}

async function cluster(watchCache = true): Promise<Cluster> {
  const bin = findBinaries() as KubeBinaries;
  const kube = await startKube({ watchCache });
  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfig);
  const kubectl = (args: string[], input?: string): string => {
    const result = run(bin.kubectl, args, kube.kubeconfig, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  kubectl(['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], JSON.stringify(seldonDeploymentCrd()));
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']);
  return {
    kube,
    bin,
    user: await KubeClient.of(config, 30_000),
    kubectl,
    async startOperator(options = {}) {
      const client = await KubeClient.of(config, 30_000);
      const logs: string[] = [];
      const controller = new Controller({
        client,
        config: CONFIG,
        options: operatorOptions.compile({ backoff: '200ms', backoffMax: '2s', ...options }),
        namespaces: [],
        controllerId: '',
        log: (level, message) => logs.push(`${level} ${message}`),
      });
      await controller.start();
      return { controller, client, logs };
    },
  };
}

function userApply(c: Cluster, manifest: string): void {
  c.kubectl(['apply', '--server-side', '--field-manager=a-user', '-f', '-'], manifest);
}

async function getSdep(c: Cluster, namespace: string, name: string): Promise<LiveObject | undefined> {
  return c.user.get(SELDON_DEPLOYMENTS, namespace, name);
}

/** The names of what render() makes of `manifest`, by `Kind/name`. */
function expectedChildren(manifest: string): string[] {
  const [sdep] = loadManifests(manifest).deployments;
  return render(sdep!, CONFIG).objects.map((o) => `${o.kind}/${o.metadata.name}`);
}

async function childOf(c: Cluster, namespace: string, key: string): Promise<LiveObject | undefined> {
  const [kind, name] = key.split('/') as [string, string];
  const apiVersion = { Deployment: 'apps/v1', HorizontalPodAutoscaler: 'autoscaling/v2', PodDisruptionBudget: 'policy/v1' }[kind] ?? 'v1';
  return c.user.get(resourceOf(apiVersion, kind), namespace, name);
}

/** Marks every Deployment of `sdep` ready, as the Deployment controller would once its pods run. */
async function markReady(c: Cluster, namespace: string, sdep: string): Promise<void> {
  for (const deployment of (await c.user.list(DEPLOYMENTS, namespace, `seldon-deployment-id=${sdep}`)).items) {
    const replicas = (deployment.spec as { replicas?: number }).replicas ?? 1;
    await c.user.patchStatus(DEPLOYMENTS, namespace, deployment.metadata.name, {
      observedGeneration: deployment.metadata.generation,
      replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      updatedReplicas: replicas,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' }],
    });
  }
}

function namespaced(name: string, c: Cluster): string {
  c.kubectl(['create', 'namespace', name]);
  return name;
}

describe('the operator against a real API server', { skip, timeout: 600_000 }, () => {
  let c: Cluster;
  let operator: Awaited<ReturnType<Cluster['startOperator']>>;

  before(async () => {
    c = await cluster();
    namespaced('seldon', c);
    operator = await c.startOperator();
  });
  after(async () => {
    await operator?.controller.stop();
    await c?.kube.stop();
  });

  test('the seed SeldonDeployment, as v1, v1alpha2 and v1alpha3, becomes its children with controller owner references', async () => {
    const variants = [
      IRIS_MODEL_DEPLOYMENT,
      IRIS_MODEL_DEPLOYMENT.replace('/v1\n', '/v1alpha2\n').replace('name: iris-model', 'name: iris-alpha2'),
      IRIS_MODEL_DEPLOYMENT.replace('/v1\n', '/v1alpha3\n').replace('name: iris-model', 'name: iris-alpha3'),
    ];
    for (const manifest of variants) userApply(c, manifest);
    for (const manifest of variants) {
      const [sdep] = loadManifests(manifest).deployments;
      const live = await eventually('the SeldonDeployment', () => getSdep(c, 'seldon', sdep!.metadata.name));
      const expected = expectedChildren(manifest);
      assert.ok(expected.includes(`Deployment/${sdep!.metadata.name}-default-0-classifier`), expected.join(', '));
      assert.ok(expected.includes(`Service/${sdep!.metadata.name}-default`), expected.join(', '));
      for (const key of expected) {
        const child = await eventually(`${key} of ${sdep!.metadata.name}`, () => childOf(c, 'seldon', key));
        const owner = child.metadata.ownerReferences?.find((ref) => ref.controller === true);
        assert.equal(owner?.uid, live.metadata.uid, `${key} is owned by its SeldonDeployment`);
        assert.equal(owner?.kind, 'SeldonDeployment');
      }
    }
    const creating = await eventually('a Creating status', async () => {
      const live = await getSdep(c, 'seldon', 'iris-model');
      return (live?.status as { state?: string } | undefined)?.state === 'Creating' ? live : undefined;
    });
    assert.equal((creating.status as { address?: unknown }).address !== undefined, true, 'the Services exist, so the address is set');
  });

  test('children reported ready make the SeldonDeployment Available with its address', async () => {
    await eventually('iris-model children', () => childOf(c, 'seldon', 'Deployment/iris-model-default-0-classifier'));
    await markReady(c, 'seldon', 'iris-model');
    const live = await eventually('Available', async () => {
      const sdep = await getSdep(c, 'seldon', 'iris-model');
      return (sdep?.status as { state?: string } | undefined)?.state === 'Available' ? sdep : undefined;
    });
    const status = live.status as { address: { url: string }; conditions: { type: string; status: string }[] };
    assert.equal(status.address.url, 'http://iris-model-default.seldon.svc.cluster.local:8000/api/v1.0/predictions');
    assert.equal(status.conditions.find((cond) => cond.type === 'Ready')?.status, 'True');
  });

  test('a SeldonDeployment the manifest reader refuses is Failed, its status naming every problem by field path', async () => {
    userApply(
      c,
      `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: broken, namespace: seldon}
spec:
  predictors:
  - name: main
    traffic: 60
    graph: {name: classifier, implementation: SKLEARN_SERVER}
  - name: main
    traffic: 30
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://x/y}
`,
    );
    const live = await eventually('Failed', async () => {
      const sdep = await getSdep(c, 'seldon', 'broken');
      return (sdep?.status as { state?: string } | undefined)?.state === 'Failed' ? sdep : undefined;
    });
    const description = (live.status as { description: string }).description;
    assert.match(description, /spec\.predictors\[0\]\.graph\.modelUri/);
    assert.match(description, /spec\.predictors\[1\]\.name/);
    assert.equal((await c.user.list(DEPLOYMENTS, 'seldon', 'seldon-deployment-id=broken')).items.length, 0, 'nothing is rendered from a refused manifest');
  });

  test('a predictor removed from the spec has its objects pruned; the other predictor keeps its own', async () => {
    const two = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: canary, namespace: seldon}
spec:
  predictors:
  - name: main
    traffic: 75
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://x/main}
  - name: next
    traffic: 25
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://x/next}
`;
    userApply(c, two);
    const both = expectedChildren(two);
    for (const key of both) await eventually(key, () => childOf(c, 'seldon', key));
    const keep = (await childOf(c, 'seldon', 'Deployment/canary-main-0-classifier'))!;
    const one = two.replace(/\n {2}- name: next[\s\S]*$/, '\n').replace('traffic: 75', 'traffic: 100');
    userApply(c, one);
    const remaining = expectedChildren(one);
    const gone = both.filter((key) => !remaining.includes(key));
    assert.ok(gone.includes('Deployment/canary-next-0-classifier') && gone.includes('Service/canary-next'), gone.join(', '));
    for (const key of gone) await eventually(`${key} pruned`, async () => ((await childOf(c, 'seldon', key)) === undefined ? true : undefined));
    const kept = (await childOf(c, 'seldon', 'Deployment/canary-main-0-classifier'))!;
    assert.equal(kept.metadata.uid, keep.metadata.uid, 'the remaining predictor was not recreated');
  });

  test('a Deployment whose scaling an HPA owns keeps replicas another field manager set, while the operator updates the rest', async () => {
    const manifest = (level: string): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: scaled, namespace: seldon}
spec:
  predictors:
  - name: main
    graph: {name: model, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: model
          image: me/model:1
          env: [{name: LEVEL, value: "${level}"}]
      hpaSpec:
        minReplicas: 1
        maxReplicas: 5
        metricsv2: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
`;
    userApply(c, manifest('one'));
    await eventually('the HPA', () => childOf(c, 'seldon', 'HorizontalPodAutoscaler/scaled-main-0-model')).catch((error: Error) => {
      throw new Error(`${error.message}\n${operator.logs.join('\n')}`);
    });
    await eventually('the Deployment', () => childOf(c, 'seldon', 'Deployment/scaled-main-0-model'));
    c.kubectl(['scale', '-n', 'seldon', 'deployment/scaled-main-0-model', '--replicas=4']);
    userApply(c, manifest('two'));
    const updated = await eventually('the new env applied', async () => {
      const deployment = await childOf(c, 'seldon', 'Deployment/scaled-main-0-model');
      const containers = (deployment?.spec as { template: { spec: { containers: { name: string; env?: { name: string; value: string }[] }[] } } }).template.spec.containers;
      return containers.find((x) => x.name === 'model')?.env?.some((e) => e.name === 'LEVEL' && e.value === 'two') ? deployment : undefined;
    });
    assert.equal((updated.spec as { replicas: number }).replicas, 4, 'the operator did not take back the replicas');
  });

  test('a change of a Deployment selector (immutable) deletes the Deployment and creates it again', async () => {
    const manifest = (annotations: string): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: direct, namespace: seldon}
spec:
  predictors:
  - name: main
    annotations: {${annotations}}
    graph: {name: model, type: MODEL}
    componentSpecs:
    - spec:
        containers: [{name: model, image: me/model:1}]
`;
    userApply(c, manifest(''));
    const first = await eventually('the Deployment', () => childOf(c, 'seldon', 'Deployment/direct-main-0-model'));
    const selector = (d: LiveObject): Record<string, string> => (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
    assert.equal(selector(first)['seldon-app'], 'direct-main', 'the executor pod is selected by its predictor Service');
    // With no executor the pod no longer carries the predictor Service's label: a new selector.
    userApply(c, manifest('seldon.io/no-engine: "true"'));
    const second = await eventually('the Deployment made again', async () => {
      const d = await childOf(c, 'seldon', 'Deployment/direct-main-0-model');
      return d !== undefined && d.metadata.uid !== first.metadata.uid ? d : undefined;
    });
    assert.equal(selector(second)['seldon-app'], undefined);
  });

  test('of two replicas electing over a Lease one leads; the other takes over when it steps down', async () => {
    const config = new KubeConfig();
    config.loadFromFile(c.kube.kubeconfig);
    const led: string[] = [];
    const elector = async (identity: string): Promise<{ elector: LeaderElector; client: KubeClient }> => {
      const client = await KubeClient.of(config, 30_000);
      const settings = { namespace: 'seldon', name: 'trantor-operator', identity, leaseDurationMs: 5000, renewDeadlineMs: 4000, retryPeriodMs: 200 };
      const e = new LeaderElector(client, settings, { started: () => led.push(identity), stopped: () => led.push(`${identity} lost`) });
      e.start();
      return { elector: e, client };
    };
    const a = await elector('a');
    await eventually('a leads', () => Promise.resolve(a.elector.isLeader ? true : undefined));
    const b = await elector('b');
    await eventually('b has tried five times', () => Promise.resolve(b.client.sent.get >= 5 ? true : undefined));
    assert.equal(b.elector.isLeader, false, 'b does not lead while a renews');
    await a.elector.stop();
    await eventually('b leads', () => Promise.resolve(b.elector.isLeader ? true : undefined));
    await b.elector.stop();
    assert.deepEqual(led, ['a', 'b']);
  });

  test('a restarted operator makes no writes for objects that did not change', async () => {
    await operator.controller.queue.idle();
    await operator.controller.stop();
    const before = (await c.user.list(DEPLOYMENTS, 'seldon')).items.map((d) => `${d.metadata.name}@${d.metadata.resourceVersion}`).sort();
    operator = await c.startOperator();
    await operator.controller.queue.idle();
    const { sent } = operator.client;
    assert.ok(sent.list > 0, 'the restarted operator did reconcile');
    assert.deepEqual({ apply: sent.apply, patchStatus: sent.patchStatus, delete: sent.delete, create: sent.create }, { apply: 0, patchStatus: 0, delete: 0, create: 0 }, operator.logs.join('\n'));
    const after = (await c.user.list(DEPLOYMENTS, 'seldon')).items.map((d) => `${d.metadata.name}@${d.metadata.resourceVersion}`).sort();
    assert.deepEqual(after, before);
  });
});

describe('the operator when etcd compacts the history its watch stands on', { skip, timeout: 600_000 }, () => {
  test('the watch is answered 410 Gone, the operator lists again, and keeps reconciling', async () => {
    // No watch cache: a watch from a compacted version is refused by etcd itself.
    const c = await cluster(false);
    let operator: Awaited<ReturnType<Cluster['startOperator']>> | undefined;
    try {
      namespaced('seldon', c);
      userApply(c, IRIS_MODEL_DEPLOYMENT);
      operator = await c.startOperator({ watchTimeout: '2s', relist: '1h', watchdog: '1h' });
      await eventually('the first SeldonDeployment reconciled', () => childOf(c, 'seldon', 'Service/iris-model-default'));
      const listsBefore = operator.controller.lists;
      // Writes of another kind move etcd's revision past what the operator's watches last saw.
      for (let i = 0; i < 3; i++) c.kubectl(['create', 'configmap', `filler-${i}`, '-n', 'seldon', `--from-literal=i=${i}`]);
      await c.kube.compact();
      await eventually('a list after 410', () => Promise.resolve(operator!.controller.gone > 0 && operator!.controller.lists > listsBefore ? true : undefined));
      userApply(c, IRIS_MODEL_DEPLOYMENT.replace('name: iris-model', 'name: after-compaction'));
      await eventually('a SeldonDeployment made after the relist reconciled', () => childOf(c, 'seldon', 'Service/after-compaction-default'));
    } finally {
      await operator?.controller.stop();
      await c.kube.stop();
    }
  });
});

describe('trantor operator, the command', { skip, timeout: 600_000 }, () => {
  test('run with KUBECONFIG, a namespace, a controller id and --leader-elect, it reconciles only the SeldonDeployments given to it', async () => {
    const c = await cluster();
    namespaced('team-a', c);
    namespaced('team-b', c);
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'operator', '--namespace', 'team-a', '--controller-id', 'blue', '--leader-elect', '--lease-namespace', 'team-a'], {
      env: { ...process.env, KUBECONFIG: c.kube.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const labelled = (name: string, namespace: string, id?: string): string =>
        IRIS_MODEL_DEPLOYMENT.replace('name: iris-model', `name: ${name}`)
          .replace('namespace: seldon', `namespace: ${namespace}`)
          .replace(`name: ${name}\n`, `name: ${name}\n${id === undefined ? '' : `  labels: {seldon.io/controller-id: ${id}}\n`}`);
      // The others first: once the operator has done its own, it has seen them (in the order written).
      userApply(c, labelled('unlabelled', 'team-a'));
      userApply(c, labelled('elsewhere', 'team-b', 'blue'));
      userApply(c, labelled('mine', 'team-a', 'blue'));
      await eventually(`the operator's Service\n${output}`, () => childOf(c, 'team-a', 'Service/mine-default'));
      const status = await eventually('its status', async () => (await getSdep(c, 'team-a', 'mine'))?.status);
      assert.equal((status as { state: string }).state, 'Creating');
      for (const [namespace, name] of [['team-a', 'unlabelled'], ['team-b', 'elsewhere']] as const) {
        assert.equal((await getSdep(c, namespace, name))?.status, undefined, `${namespace}/${name} is not this operator's`);
      }
      assert.equal((await c.user.list(resourceOf('v1', 'Service'), 'team-b')).items.length, 0, output);
      assert.equal((await c.user.list(resourceOf('v1', 'Service'), 'team-a', 'seldon-deployment-id=unlabelled')).items.length, 0, output);
      const lease = await c.user.get(LEASES, 'team-a', 'trantor-operator');
      assert.match(String((lease?.spec as { holderIdentity?: string }).holderIdentity), /_\d+$/, 'it leads through its Lease');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output);
      const released = await c.user.get(LEASES, 'team-a', 'trantor-operator');
      assert.equal((released?.spec as { holderIdentity?: string }).holderIdentity, '', 'a replica stopping gives its Lease up');
    } finally {
      child.kill('SIGKILL');
      await c.kube.stop();
    }
  });
});
