/**
 * The operator at scale against a real kube-apiserver (test/kube/harness.ts), its writes counted in
 * the API server's audit log under the operator's own user: a fleet of SeldonDeployments becomes
 * Available with each child applied once; in the steady state that follows, through forced relists
 * and resyncs, the operator writes nothing and reads nothing but its relists (passes read the
 * informers' caches); a child someone deletes is made again from the watch alone; and a namespace
 * labelled seldon.io/controller-id is left to its operator until the label goes; and held to the
 * chart's own ClusterRole, or Role in a watched namespace, the operator can read all it caches.
 * (bench/kube-reconcile.ts times the same with 100.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { loadManifests } from '../../src/manifest/index.ts';
import { Controller, KubeClient, operatorOptions, render, renderConfig, resourceOf, SELDON_DEPLOYMENTS, seldonDeploymentCrd, type LiveObject } from '../../src/runtime/kubernetes/index.ts';
import { auditLog, fleetManifest, fleetManifests, OPERATOR_USER, startKubelet, watchStates, writesBy } from './fleet.ts';
import { findBinaries, ROOT, run, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const skip = skipUnlessKube();
const CONFIG = renderConfig();
const SERVICES = resourceOf('v1', 'Service');
const DEPLOYMENTS = resourceOf('apps/v1', 'Deployment');
const FLEET = 10;
/** A user given only the chart's ClusterRole, as the chart's ServiceAccount is. */
const CHART_USER = 'chart-operator';
/** A user given only the chart's Role in one namespace (watchNamespaces). */
const NAMESPACED_USER = 'namespaced-operator';

/** Polls `probe` until it returns true; fails with `what` at the deadline. */
async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the operator at scale, its writes audited', { skip, timeout: 600_000 }, () => {
  let kube: KubeServer;
  let bin: KubeBinaries;
  let admin: KubeClient;
  let audit: ReturnType<typeof auditLog>;
  const errors: unknown[] = [];
  const kubectl = (args: string[], input?: string): string => {
    const result = run(bin.kubectl, args, kube.kubeconfig, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const clientOf = async (kubeconfig: string): Promise<KubeClient> => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    return KubeClient.of(config, 30_000);
  };
  /** An operator as `user` over `namespaces` (none: all), once its caches are synced (a deadline, with its log, if they never are). */
  const startOperator = async (options: Record<string, string>, user = OPERATOR_USER, namespaces: string[] = []): Promise<{ controller: Controller; client: KubeClient; logs: string[] }> => {
    const client = await clientOf(kube.kubeconfigFor(user));
    const logs: string[] = [];
    const controller = new Controller({ client, config: CONFIG, options: operatorOptions.compile({ backoff: '200ms', backoffMax: '2s', ...options }), namespaces, controllerId: '', log: (level, message) => logs.push(`${level} ${message}`) });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the operator's caches did not sync:\n${logs.join('\n')}`)), 60_000)));
    try {
      await Promise.race([controller.start(), deadline]);
    } catch (error) {
      await controller.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return { controller, client, logs };
  };

  before(async () => {
    bin = findBinaries() as KubeBinaries;
    audit = auditLog();
    kube = await startKube({ users: [{ name: OPERATOR_USER, groups: ['system:masters'] }, { name: CHART_USER }, { name: NAMESPACED_USER }], apiserverArgs: audit.args });
    admin = await clientOf(kube.kubeconfig);
    kubectl(['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], JSON.stringify(seldonDeploymentCrd()));
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']);
  });
  after(async () => {
    await kube?.stop();
  });

  test(`${FLEET} SeldonDeployments become Available, each child applied once; then, through relists and resyncs, the operator writes nothing and lists only to relist`, async () => {
    kubectl(['create', 'namespace', 'fleet']);
    const kubelet = await startKubelet(admin, (e) => errors.push(e));
    const states = await watchStates(admin, (e) => errors.push(e));
    const operator = await startOperator({ relist: '2s', resync: '1500ms' });
    try {
      const start = Date.now();
      kubectl(['apply', '--server-side', '--field-manager=a-user', '-f', '-'], fleetManifests(FLEET, 'fleet'));
      await states.until('Available', FLEET, 120_000);
      const rendered = Array.from({ length: FLEET }, (_, i) => render(loadManifests(fleetManifest(i, 'fleet')).deployments[0]!, CONFIG).objects.length).reduce((a, b) => a + b, 0);
      const applies = writesBy(audit.path, OPERATOR_USER, start).filter((w) => w.verb === 'patch' && !w.what.includes('/status'));
      const byChild = new Map<string, number>();
      for (const w of applies) byChild.set(w.what, (byChild.get(w.what) ?? 0) + 1);
      assert.equal(byChild.size, rendered, 'every rendered child was applied');
      assert.deepEqual([...byChild].filter(([, n]) => n > 1), [], 'no child was applied twice');

      await operator.controller.queue.idle();
      const since = Date.now();
      const { lists, passes } = operator.controller;
      const sent = { ...operator.client.sent };
      const informers = 6; // SeldonDeployments, Services, Deployments, HPAs, PDBs, labelled namespaces
      await until('two relists of every informer and two resyncs of every SeldonDeployment', () => operator.controller.lists >= lists + 2 * informers && operator.controller.passes >= passes + 2 * FLEET);
      await operator.controller.queue.idle();
      assert.deepEqual(writesBy(audit.path, OPERATOR_USER, since), [], operator.logs.join('\n'));
      assert.equal(operator.client.sent.list - sent.list, operator.controller.lists - lists, 'no list but the informers’ relists: passes read the caches');
      assert.equal(operator.client.sent.get, sent.get, 'no get either');
      assert.equal(states.count('Available'), FLEET);
      assert.deepEqual(errors, []);
    } finally {
      await operator.controller.stop();
      await states.stop();
      await kubelet.stop();
    }
  });

  test('a child someone deletes is made again, and one someone edits is put back, from the watch, with no relist or resync due', async () => {
    const operator = await startOperator({ relist: '1h', resync: '1h' });
    try {
      await operator.controller.queue.idle();
      const before = (await admin.get(SERVICES, 'fleet', 'fleet-0-default'))!;
      kubectl(['delete', 'service', '-n', 'fleet', 'fleet-0-default']);
      await until('the Service made again', async () => {
        const now = await admin.get(SERVICES, 'fleet', 'fleet-0-default');
        return now !== undefined && now.metadata.uid !== before.metadata.uid;
      });
      // An edit of the image the operator set: taken back.
      const image = (d: LiveObject | undefined): string | undefined => (d?.spec as { template: { spec: { containers: { name: string; image: string }[] } } } | undefined)?.template.spec.containers.find((c) => c.name === 'step1')?.image;
      const rendered = image(await admin.get(DEPLOYMENTS, 'fleet', 'fleet-1-default-0-step1-step2-step3'));
      assert.equal(rendered, 'me/step:1');
      kubectl(['set', 'image', '-n', 'fleet', 'deployment/fleet-1-default-0-step1-step2-step3', 'step1=someone/else:2']);
      await until('the image taken back', async () => image(await admin.get(DEPLOYMENTS, 'fleet', 'fleet-1-default-0-step1-step2-step3')) === rendered);
      const lists = operator.controller.lists;
      assert.equal(lists, 6, 'one list per informer: nothing was listed again');
    } finally {
      await operator.controller.stop();
    }
  });

  test('without a controller id, a namespace labelled seldon.io/controller-id is left alone; once the label goes it is reconciled', async () => {
    kubectl(['create', 'namespace', 'theirs']);
    kubectl(['label', 'namespace', 'theirs', 'seldon.io/controller-id=seldon']);
    kubectl(['create', 'namespace', 'ours']);
    const operator = await startOperator({ relist: '1h', resync: '1h' });
    try {
      kubectl(['apply', '--server-side', '--field-manager=a-user', '-f', '-'], `${fleetManifest(0, 'theirs')}---\n${fleetManifest(0, 'ours')}`);
      await until('the SeldonDeployment in the unlabelled namespace reconciled', async () => (await admin.get(SERVICES, 'ours', 'fleet-0-default')) !== undefined);
      await until('the other seen', async () => (await admin.get(SELDON_DEPLOYMENTS, 'theirs', 'fleet-0')) !== undefined);
      await operator.controller.queue.idle();
      assert.equal((await admin.list(SERVICES, 'theirs')).items.length, 0, 'nothing made in the labelled namespace');
      assert.equal((await admin.get(SELDON_DEPLOYMENTS, 'theirs', 'fleet-0'))?.status, undefined, 'no status written there');
      kubectl(['label', 'namespace', 'theirs', 'seldon.io/controller-id-']);
      await until('the SeldonDeployment reconciled once its namespace is no longer labelled', async () => (await admin.get(SERVICES, 'theirs', 'fleet-0-default')) !== undefined);
    } finally {
      await operator.controller.stop();
    }
  });

  /** The chart's objects of `kind` named `<release>-manager`, as `helm template` renders them with `sets`. */
  const managerRoles = (kind: string, sets: string[] = []): { kind?: string; metadata?: { name?: string; namespace?: string } }[] => {
    const rendered = run(bin.helm, ['template', 'trantor', join(ROOT, 'charts', 'trantor'), '--namespace', 'trantor-system', ...sets.flatMap((set) => ['--set', set])]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const roles = parseAllDocuments(rendered.stdout)
      .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
      .filter((doc) => doc !== null && doc.kind === kind && doc.metadata?.name?.endsWith('-manager') === true) as { kind?: string; metadata?: { name?: string; namespace?: string } }[];
    assert.ok(roles.length > 0, `the chart renders its manager ${kind}`);
    return roles;
  };

  /** Runs an operator as `user` over `namespaces`, applies one SeldonDeployment in `namespace`, and waits for its status: nothing forbidden on the way. */
  const reconcilesHeld = async (user: string, namespaces: string[], namespace: string): Promise<void> => {
    const operator = await startOperator({ relist: '1h', resync: '1h' }, user, namespaces);
    try {
      kubectl(['apply', '--server-side', '--field-manager=a-user', '-f', '-'], fleetManifest(1, namespace));
      await until('the SeldonDeployment reconciled, its status written', async () => (await admin.get(SELDON_DEPLOYMENTS, namespace, 'fleet-1'))?.status !== undefined);
      await operator.controller.queue.idle();
      assert.equal(operator.logs.filter((line) => /forbidden/i.test(line)).join('\n'), '');
    } finally {
      await operator.controller.stop();
    }
  };

  test("held to the chart's ClusterRole alone, the operator of every namespace lists and watches all it reads, namespaces included, and reconciles", async () => {
    const [role] = managerRoles('ClusterRole');
    kubectl(['apply', '-f', '-'], JSON.stringify(role));
    kubectl(['create', 'clusterrolebinding', 'chart-operator', `--clusterrole=${role!.metadata!.name!}`, `--user=${CHART_USER}`]);
    kubectl(['create', 'namespace', 'held']);
    await reconcilesHeld(CHART_USER, [], 'held');
  });

  test("held to the chart's Role in its one watched namespace, the operator of that namespace reconciles (it reads no namespaces)", async () => {
    kubectl(['create', 'namespace', 'held-one']);
    const [role] = managerRoles('Role', ['watchNamespaces={held-one}']);
    assert.equal(role!.metadata!.namespace, 'held-one');
    kubectl(['apply', '-f', '-'], JSON.stringify(role));
    kubectl(['create', 'rolebinding', 'chart-operator', '-n', 'held-one', `--role=${role!.metadata!.name!}`, `--user=${NAMESPACED_USER}`]);
    await reconcilesHeld(NAMESPACED_USER, ['held-one'], 'held-one');
  });
});
