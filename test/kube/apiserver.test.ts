/**
 * The Kubernetes tier's smoke test: the harness's API server behaves as a real one for what the
 * operator's tests need (server-side apply, read-back with the TypeScript client, the version helm
 * sees, RBAC by token, a watch answered 410 after compaction), and helm runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, VersionApi, Watch } from '@kubernetes/client-node';
import { findBinaries, KUBE_VERSION, run, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const GADGETS = { group: 'test.trantor.dev', version: 'v1', plural: 'gadgets' };
const skip = skipUnlessKube();

function gadget(name: string, size: number): string {
  return JSON.stringify({ apiVersion: 'test.trantor.dev/v1', kind: 'Gadget', metadata: { name, namespace: 'default' }, spec: { size } });
}

describe('a real kube-apiserver and etcd', { skip, timeout: 600_000 }, () => {
  let kube: KubeServer;
  let bin: KubeBinaries;
  let config: KubeConfig;

  before(async () => {
    bin = findBinaries() as KubeBinaries;
    kube = await startKube({ users: [{ name: 'nobody', groups: ['trantor:testers'] }] });
    config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
  });
  after(async () => {
    await kube?.stop();
  });

  /** kubectl with the admin's kubeconfig; fails the test with its output when it fails. */
  function kubectl(args: string[], input?: string): string {
    const result = run(bin.kubectl, args, kube.kubeconfig, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}\n${kube.output().slice(-2000)}`);
    return result.stdout;
  }

  test('/version reports the release it was built from', async () => {
    const version = await config.makeApiClient(VersionApi).getCode();
    assert.equal(version.gitVersion, KUBE_VERSION);
    assert.equal(version.major, '1');
    assert.equal(version.minor, KUBE_VERSION.split('.')[1]);
  });

  test('a CRD and an object of it applied server-side by kubectl read back with the TypeScript client', async () => {
    kubectl(['apply', '--server-side', '--field-manager=trantor-test', '-f', join(FIXTURES, 'gadget-crd.yaml')]);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/gadgets.test.trantor.dev']);
    kubectl(['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], gadget('first', 3));

    const read = (await config.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...GADGETS, namespace: 'default', name: 'first' })) as {
      spec: { size: number };
      metadata: { managedFields: { manager: string; operation: string }[] };
    };
    assert.equal(read.spec.size, 3);
    assert.ok(read.metadata.managedFields.some((f) => f.manager === 'trantor-test' && f.operation === 'Apply'), JSON.stringify(read.metadata.managedFields));

    // The CRD's schema is enforced: the server, not the client, rejects a size of 0.
    const invalid = run(bin.kubectl, ['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], kube.kubeconfig, gadget('bad', 0));
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /spec\.size/);
  });

  test('a token user outside system:masters is held to RBAC', () => {
    const denied = run(bin.kubectl, ['get', 'gadgets', '-n', 'default'], kube.kubeconfigFor('nobody'));
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /forbidden: User "nobody" cannot list resource "gadgets"/);

    kubectl(['create', 'clusterrole', 'gadget-reader', '--verb=get,list,watch', '--resource=gadgets.test.trantor.dev']);
    kubectl(['create', 'clusterrolebinding', 'testers-read-gadgets', '--clusterrole=gadget-reader', '--group=trantor:testers']);
    const allowed = run(bin.kubectl, ['get', 'gadgets', '-n', 'default', '-o', 'name'], kube.kubeconfigFor('nobody'));
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /gadget\.test\.trantor\.dev\/first/);
  });

  test('helm lints and renders a chart, and installs it against this server', async () => {
    const chart = join(FIXTURES, 'tiny-chart');
    const lint = run(bin.helm, ['lint', chart]);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);

    const rendered = run(bin.helm, ['template', 'demo', chart, '--set', 'greeting=hi']);
    assert.equal(rendered.code, 0, rendered.stderr);
    assert.match(rendered.stdout, /name: demo-tiny/);
    assert.match(rendered.stdout, /greeting: "hi"/);

    // Installed, the chart sees the server's own version: the build's version ldflags at work.
    const install = run(bin.helm, ['install', 'demo', chart, '--namespace', 'default'], kube.kubeconfig);
    assert.equal(install.code, 0, install.stdout + install.stderr);
    const configMap = await config.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'demo-tiny', namespace: 'default' });
    assert.deepEqual(configMap.data, { greeting: 'hello', kubeVersion: KUBE_VERSION });
  });
  // Without the watch cache, which would replay the events it still holds after the compaction.
  test('a watch from a resource version that etcd compacted away is answered 410 Gone', async () => {
    const etcdOnly = await startKube({ watchCache: false });
    try {
      const etcdConfig = new KubeConfig();
      etcdConfig.loadFromFile(etcdOnly.kubeconfig);
      const apply = (args: string[], input?: string): void => {
        const result = run(bin.kubectl, ['apply', '--server-side', '--field-manager=trantor-test', ...args], etcdOnly.kubeconfig, input);
        assert.equal(result.code, 0, result.stderr);
      };
      apply(['-f', join(FIXTURES, 'gadget-crd.yaml')]);
      assert.equal(run(bin.kubectl, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/gadgets.test.trantor.dev'], etcdOnly.kubeconfig).code, 0);
      apply(['-f', '-'], gadget('watched', 1));
      const api = etcdConfig.makeApiClient(CustomObjectsApi);
      const first = (await api.getNamespacedCustomObject({ ...GADGETS, namespace: 'default', name: 'watched' })) as { metadata: { resourceVersion: string } };
      for (const size of [2, 3, 4]) apply(['-f', '-'], gadget('watched', size));

      /** The first thing a watch from `resourceVersion` hears: an event type, or the status code it failed with. */
      const firstWord = async (resourceVersion: string): Promise<string | number> => {
        let controller: AbortController | undefined;
        const heard = await new Promise<string | number>((resolve, reject) => {
          new Watch(etcdConfig)
            .watch(
              '/apis/test.trantor.dev/v1/namespaces/default/gadgets',
              { resourceVersion },
              (type: string, object: { code?: number }) => resolve(type === 'ERROR' ? (object.code ?? 'ERROR') : type),
              (error: (Error & { statusCode?: number }) | null) => (error?.statusCode ? resolve(error.statusCode) : reject(error ?? new Error('watch closed without an event'))),
            )
            .then((c) => (controller = c), reject);
        });
        controller?.abort();
        return heard;
      };

      assert.equal(await firstWord(first.metadata.resourceVersion), 'MODIFIED', 'before compaction the watch replays the changes');
      const revision = await etcdOnly.compact();
      assert.ok(revision > Number(first.metadata.resourceVersion));
      assert.equal(await firstWord(first.metadata.resourceVersion), 410);
    } finally {
      await etcdOnly.stop();
    }
  });
});
