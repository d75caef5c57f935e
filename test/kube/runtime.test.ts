/**
 * KubernetesRuntime keeps the Runtime contract — the same suite as the local supervisor — against a
 * real API server, with the real `trantor operator` process reconciling, and ClusterPlayer
 * (test/kube/cluster-player.ts) playing the kubelet (pods' status and logs), the Deployment and
 * EndpointSlice controllers and the garbage collector that the bare API server lacks. Then what only a cluster does: API
 * refusals named, foreground removal, the field manager.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { SeldonDeployment } from '../../src/manifest/index.ts';
import { runtimeContract } from '../../src/manifest/testing.ts';
import { container, graphNode, seldonDeployment } from '../../src/runtime/local/testing.ts';
import { AWAITING_OPERATOR, CONTROLLER_ID_LABEL, KubeClient, KubeError, KubernetesRuntime, kubernetesRuntimeOptions, operatorOptions, RBAC_NEEDED, resourceOf, RUNTIME_FIELD_MANAGER, SELDON_DEPLOYMENTS, seldonDeploymentCrd } from '../../src/runtime/kubernetes/index.ts';
import { ClusterPlayer } from './cluster-player.ts';
import { findBinaries, ROOT, run, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const skip = skipUnlessKube();
const NAMESPACE = 'seldon';
const FAILURE_OUTPUT = 'cannot load model: weights.bin is missing';

/** One graph node `model` in componentSpecs, as the contract asks (built as the local subject's are); `env` tells ClusterPlayer how it behaves. */
function manifest(name: string, env: Record<string, string>): SeldonDeployment {
  return seldonDeployment({
    name,
    namespace: NAMESPACE,
    graph: graphNode({ name: 'model' }),
    componentSpecs: [{ containers: [container({ name: 'model', image: 'registry.example/contract-model:1', env: Object.entries(env).map(([n, value]) => ({ name: n, value })) })] }],
  });
}

interface Cluster {
  kube: KubeServer;
  bin: KubeBinaries;
  admin: KubeClient;
  player: ClusterPlayer;
  operator: ChildProcess;
  operatorOutput: () => string;
  runtime(client?: KubeClient, log?: (level: 'warn', message: string) => void): KubernetesRuntime;
  kubectl(args: string[], input?: string): void;
  stop(): Promise<void>;
}

async function clientFor(kubeconfig: string): Promise<KubeClient> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return KubeClient.of(config, 30_000);
}

/** The API server with the CRD and namespace, ClusterPlayer, and `trantor operator` running against it. */
async function startCluster(): Promise<Cluster> {
  const bin = findBinaries() as KubeBinaries;
  const kube = await startKube({ users: [{ name: 'nobody' }, { name: 'no-pods' }] });
  const kubectl = (args: string[], input?: string): void => {
    const result = run(bin.kubectl, args, kube.kubeconfig, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
  };
  kubectl(['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], JSON.stringify(seldonDeploymentCrd()));
  kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']);
  kubectl(['create', 'namespace', NAMESPACE]);
  const admin = await clientFor(kube.kubeconfig);
  // As the local contract's component: `ready <VERSION>`, or with MODE=fail the failure and exit 3 (the executor prints nothing here).
  const env = (container: { env?: { name: string; value?: string }[] }, name: string): string | undefined => container.env?.find((e) => e.name === name)?.value;
  const player = new ClusterPlayer({
    client: admin,
    namespace: NAMESPACE,
    tls: kube.servingKeyPair,
    behaviour: (container) => {
      if (container.name !== 'model') return { output: [] };
      return env(container, 'MODE') === 'fail' ? { output: [FAILURE_OUTPUT], exitCode: 3 } : { output: [`ready ${env(container, 'VERSION') ?? ''}`] };
    },
  });
  await player.start();
  const operator = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'operator', '--set', 'operator.backoff=200ms', '--set', 'operator.backoffMax=2s'], {
    env: { ...process.env, KUBECONFIG: kube.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  operator.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  operator.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => operator.once('exit', () => resolve()));
  const watch = operatorOptions.compile({ watchTimeout: '60s', watchdog: '90s', retry: '200ms' });
  const options = kubernetesRuntimeOptions.compile({ removeTimeout: '60s' });
  return {
    kube,
    bin,
    admin,
    player,
    operator,
    operatorOutput: () => output,
    runtime: (client = admin, log) => new KubernetesRuntime({ client, watch, options, ...(log === undefined ? {} : { log }) }),
    kubectl,
    async stop() {
      operator.kill('SIGTERM');
      await exited;
      await player.stop();
      await kube.stop();
    },
  };
}

describe('KubernetesRuntime under the Runtime contract', { skip, timeout: 900_000 }, () => {
  let cluster: Cluster | undefined;
  before(async () => {
    cluster = await startCluster();
  });

  runtimeContract('KubernetesRuntime', {
    runtime: () => cluster!.runtime(),
    healthy: (name, version) => manifest(name, { VERSION: String(version) }),
    failing: (name) => manifest(name, { MODE: 'fail' }),
    // A kubelet keeps a crashing container's termination message (the tail of its output, with
    // terminationMessagePolicy FallbackToLogsOnError); the runtime quotes it in the description.
    failureOutput: /cannot load model: weights\.bin is missing/,
    // The operator, the player and the runtime's watches each take a few hops on a loaded machine.
    timeoutMs: 90_000,
    // Skip list: none. What a cluster does differently, and why each case still holds:
    // - logs and log events come from the kubelet through `pods/log`: the player serves them as one;
    // - replicasOf answers pod IPs from EndpointSlices: the player writes them as the controller would;
    // - remove waits for the garbage collector (foreground deletion): the player collects;
    // - close leaves the deployments running in the cluster, which owns them; the case checks what
    //   this runtime answers afterwards (no endpoints, applies refused), which holds.
  });

  after(async () => {
    await cluster?.stop();
  });
});

describe('KubernetesRuntime, what a cluster adds', { skip, timeout: 600_000 }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await cluster?.stop();
  });

  test('an apply the API server refuses names the SeldonDeployment and the cause', async () => {
    // A user with no RBAC rule at all.
    await withRuntime(cluster.runtime(await clientFor(cluster.kube.kubeconfigFor('nobody'))), async (runtime) => {
      const error = await runtime.apply(manifest('forbidden', { VERSION: '1' })).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof KubeError, String(error));
      assert.equal(error.status, 403);
      assert.match(error.message, /^cannot apply SeldonDeployment seldon\/forbidden: the API server refused it: 403 Forbidden: .*"nobody" cannot patch resource "seldondeployments"/);
      assert.ok(error.message.endsWith(`(the credentials in use lack an RBAC rule: this runtime needs ${RBAC_NEEDED})`), error.message);
    });
    assert.equal(await cluster.admin.get(SELDON_DEPLOYMENTS, NAMESPACE, 'forbidden'), undefined);

    await withRuntime(cluster.runtime(), async (admin) => {
      const missing = manifest('nowhere', { VERSION: '1' });
      missing.metadata.namespace = 'no-such-namespace';
      await assert.rejects(admin.apply(missing), (e: unknown) => {
        assert.ok(e instanceof KubeError);
        assert.match(e.message, /^cannot apply SeldonDeployment no-such-namespace\/nowhere: the API server refused it: 404 NotFound: .*namespaces "no-such-namespace" not found.*does the namespace exist\?\)$/);
        return true;
      });
    });
  });

  test('credentials that may not read pods still get the status the operator wrote, replicas counted from it, and the refusal is reported', async () => {
    // SeldonDeployments and EndpointSlices, not pods.
    cluster.kubectl(['create', 'clusterrole', 'sdeps-only', '--verb=get,list,watch,create,patch,delete', '--resource=seldondeployments.machinelearning.seldon.io,endpointslices.discovery.k8s.io']);
    cluster.kubectl(['create', 'clusterrolebinding', 'no-pods', '--clusterrole=sdeps-only', '--user=no-pods']);
    const warnings: string[] = [];
    await withRuntime(cluster.runtime(await clientFor(cluster.kube.kubeconfigFor('no-pods')), (_level, message) => warnings.push(message)), async (runtime) => {
      await runtime.apply(manifest('podless', { VERSION: '1' }));
      await waitFor('Available', () => runtime.status(NAMESPACE, 'podless')?.state === 'Available');
      // Counted from the operator's deploymentStatus, for want of the pods.
      assert.deepEqual(runtime.status(NAMESPACE, 'podless')?.replicas, [{ id: 'default/model/0', predictor: 'default', node: 'model', index: 0, restarts: 0, state: 'Ready' }]);
      assert.ok(runtime.replicasOf({ namespace: NAMESPACE, deployment: 'podless', predictor: 'default', node: 'model' }).length > 0, 'endpoints come from EndpointSlices, which it may read');
      assert.ok(warnings.some((w) => /^watching pods .*403 Forbidden.*"no-pods" cannot list resource "pods"/.test(w)), warnings.join('\n'));
      await runtime.remove(NAMESPACE, 'podless');
    });
  });

  test('a SeldonDeployment no operator takes is Creating, waiting for the operator, from the moment apply resolves', async () => {
    await withRuntime(cluster.runtime(), async (runtime) => {
      // Labelled for another operator's controller id: the running operator leaves it alone.
      const other = manifest('elsewhere', { VERSION: '1' });
      other.metadata.labels[CONTROLLER_ID_LABEL] = 'another-operator';
      await runtime.apply(other);
      assert.deepEqual(runtime.status(NAMESPACE, 'elsewhere'), { state: 'Creating', description: AWAITING_OPERATOR, replicas: [] });
      await runtime.remove(NAMESPACE, 'elsewhere');
      assert.equal(runtime.status(NAMESPACE, 'elsewhere'), undefined);
    });
  });

  test('apply writes the SeldonDeployment as field manager trantor-cli, with no trace of the local folder', async () => {
    await withRuntime(cluster.runtime(), async (runtime) => {
      const sdep = manifest('managed', { VERSION: '1' });
      sdep.baseDir = '/home/someone/models';
      await runtime.apply(sdep);
      const live = await cluster.admin.get(SELDON_DEPLOYMENTS, NAMESPACE, 'managed');
      const managers = ((live?.metadata as { managedFields?: { manager: string; operation: string }[] }).managedFields ?? []).map((m) => `${m.manager}/${m.operation}`);
      assert.ok(managers.includes(`${RUNTIME_FIELD_MANAGER}/Apply`), managers.join(', '));
      assert.equal(live?.metadata.annotations?.['trantor.io/base-dir'], undefined);
      // The typed componentSpec goes out in the API's shape, `spec.containers`.
      assert.equal((live?.spec as { predictors: { componentSpecs: { spec: { containers: { image: string }[] } }[] }[] }).predictors[0]!.componentSpecs[0]!.spec.containers[0]!.image, 'registry.example/contract-model:1');
      await runtime.remove(NAMESPACE, 'managed');
    });
  });

  test('remove deletes in the foreground: it resolves only once the children are gone and the object with them', async () => {
    const runtime = cluster.runtime();
    try {
      await runtime.apply(manifest('foreground', { VERSION: '1' }));
      await waitFor('Available', () => runtime.status(NAMESPACE, 'foreground')?.state === 'Available');
      cluster.player.holdDeletions = true;
      let resolved = false;
      const removal = runtime.remove(NAMESPACE, 'foreground').then(() => (resolved = true));
      // The API server marks it for deletion and keeps it while its children exist.
      const marked = await waitForAsync('the deletion mark', async () => {
        const live = await cluster.admin.get(SELDON_DEPLOYMENTS, NAMESPACE, 'foreground');
        return live?.metadata.deletionTimestamp !== undefined ? live : undefined;
      });
      assert.ok(((marked.metadata as { finalizers?: string[] }).finalizers ?? []).includes('foregroundDeletion'));
      assert.equal(resolved, false, 'remove resolved while the children were still there');
      assert.notEqual(runtime.status(NAMESPACE, 'foreground'), undefined);
      cluster.player.holdDeletions = false;
      await removal;
      assert.equal(runtime.status(NAMESPACE, 'foreground'), undefined);
      assert.equal(await cluster.admin.get(SELDON_DEPLOYMENTS, NAMESPACE, 'foreground'), undefined);
      assert.deepEqual((await cluster.admin.list(resourceOf('v1', 'Pod'), NAMESPACE, 'seldon-deployment-id=foreground')).items, [], 'its pods are gone');
    } finally {
      cluster.player.holdDeletions = false;
      await runtime.close();
    }
  });
});

/** Runs `body` with `runtime`, closed afterwards whatever happens. */
async function withRuntime(runtime: KubernetesRuntime, body: (runtime: KubernetesRuntime) => Promise<void>): Promise<void> {
  try {
    await body(runtime);
  } finally {
    await runtime.close();
  }
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 90_000): Promise<void> {
  await waitForAsync(what, () => Promise.resolve(probe() ? true : undefined), timeoutMs);
}

async function waitForAsync<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
