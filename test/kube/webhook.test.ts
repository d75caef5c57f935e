/**
 * The admission webhook, its self-managed certificate and the operator's endpoints on a real
 * kube-apiserver (test/kube/harness.ts). The chart is installed with `helm install` (its webhook
 * pointed by URL at loopback, since no kube-proxy reaches a Service here), and `trantor operator`
 * runs as a process with the chart's own arguments and configuration, as the chart's
 * ServiceAccount (a token user of that name, so the chart's bindings are all it may do). It makes
 * the Secret and writes the caBundle; kubectl is refused an invalid SeldonDeployment with every
 * field path and admits valid ones; a restart keeps the CA and writes nothing; `helm upgrade` keeps
 * it; a second replica (a follower) is ready and serves the same certificate.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { certsOfSecret, renew, serviceNames } from '../../src/runtime/kubernetes/index.ts';
import { findBinaries, freePort, ROOT, run, runAsync, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const skip = skipUnlessKube();
const CHART = join(ROOT, 'charts', 'trantor');
const RELEASE = 'trantor';
const NAMESPACE = 'trantor-system';
/** The chart's ServiceAccount, as the API server names it; a token user of that name is bound by the chart's RBAC. */
const SERVICE_ACCOUNT = `system:serviceaccount:${NAMESPACE}:${RELEASE}`;
const WEBHOOK_PATH = '/validate-machinelearning-seldon-io-v1-seldondeployment';

/** Polls `probe` until it returns a value that is not undefined; fails with `what` (and `context()`) at the deadline. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, context: () => string = () => '', timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (/operator exited/.test(context())) throw new Error(`${what}: ${context()}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (${last instanceof Error ? last.message : JSON.stringify(last)})`}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Operator {
  child: ChildProcess;
  stopping: boolean;
  output: () => string;
  metricsPort: number;
  webhookPort: number;
  exited: Promise<number | null>;
}

/** What an operator's endpoint answers, or undefined when nothing listens yet. */
async function endpoint(op: Operator, path: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${op.metricsPort}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined;
  }
}

/** The SHA-256 fingerprint of the certificate served on `port`, verified against `ca` for 127.0.0.1. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert.fingerprint256);
    });
    socket.once('error', reject);
  });
}

function sdep(version: string, name: string, spec: unknown): string {
  return JSON.stringify({ apiVersion: `machinelearning.seldon.io/${version}`, kind: 'SeldonDeployment', metadata: { name, namespace: 'models' }, spec });
}

const GOOD = { predictors: [{ name: 'default', graph: { name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: 'gs://seldon-models/sklearn/iris' } }] };
/** Problems only the manifest reader sees (the CRD's schema passes them): a missing modelUri, a name used twice, a misspelt type. */
const BAD = {
  predictors: [
    { name: 'main', traffic: 60, graph: { name: 'classifier', implementation: 'SKLEARN_SERVER' } },
    { name: 'main', traffic: 30, graph: { name: 'classifier', type: 'MODLE', implementation: 'SKLEARN_SERVER', modelUri: 'gs://x/y' } },
  ],
};

describe('the admission webhook and the operator endpoints on a real API server', { skip, timeout: 900_000 }, () => {
  let kube: KubeServer;
  let bin: KubeBinaries;
  let dir: string;
  let operatorArgs: string[];
  let operatorKubeconfig: string;
  let webhookPort: number;
  let metricsPort: number;
  const operators: Operator[] = [];

  const kubectl = (args: string[], input?: string): string => {
    const result = run(bin.kubectl, args, kube.kubeconfig, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const getJson = <T>(args: string[]): T => JSON.parse(kubectl(['get', ...args, '-o', 'json'])) as T;
  const secretOf = (): { metadata: { resourceVersion: string }; data: Record<string, string>; type: string } => getJson(['secret', `${RELEASE}-webhook-cert`, '-n', NAMESPACE]);
  const hookOf = (): { metadata: { resourceVersion: string }; webhooks: { clientConfig: { caBundle?: string; url?: string } }[] } => getJson(['validatingwebhookconfiguration', RELEASE]);
  const allOutput = (): string =>
    operators.map((op, i) => `--- operator ${i}${op.child.exitCode !== null && !op.stopping ? ' (operator exited)' : ''} ---\n${op.output().slice(-6000)}`).join('\n');

  /** `trantor operator` with the chart's arguments (ports of its own), as the chart's ServiceAccount. */
  function startOperator(ports?: { metrics: number; webhook: number }, as?: { kubeconfig: string; args: (args: string[]) => string[] }): Operator {
    const metrics = ports?.metrics ?? metricsPort;
    const hook = ports?.webhook ?? webhookPort;
    const chartArgs = operatorArgs.map((arg) => arg.replace(/^--metrics-port=.*/, `--metrics-port=${metrics}`).replace(/^--webhook-port=.*/, `--webhook-port=${hook}`));
    const args = as === undefined ? chartArgs : as.args(chartArgs);
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'operator', ...args, '--set', 'operator.certRefresh=1s', '--set', 'operator.retry=500ms'], {
      env: { ...process.env, KUBECONFIG: as?.kubeconfig ?? operatorKubeconfig, POD_NAMESPACE: NAMESPACE, POD_NAME: `operator-${operators.length}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const op = { child, stopping: false, output: () => output, metricsPort: metrics, webhookPort: hook, exited: new Promise<number | null>((resolve) => child.once('exit', resolve)) };
    operators.push(op);
    return op;
  }
  async function stopOperator(op: Operator): Promise<void> {
    op.stopping = true;
    op.child.kill('SIGTERM');
    assert.equal(await op.exited, 0, op.output());
  }
  const ready = (op: Operator): Promise<string> => eventually('/readyz ok', async () => ((await endpoint(op, '/readyz'))?.status === 200 ? 'ready' : undefined), allOutput);

  before(async () => {
    bin = findBinaries() as KubeBinaries;
    kube = await startKube({ users: [{ name: SERVICE_ACCOUNT, groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'] }, { name: 'latecomer' }] });
    dir = mkdtempSync(join(tmpdir(), 'trantor-webhook-test-'));
    // KUBECONFIG is a list split on ':', which the ServiceAccount's name holds: a path of our own.
    operatorKubeconfig = join(dir, 'operator-kubeconfig');
    copyFileSync(kube.kubeconfigFor(SERVICE_ACCOUNT), operatorKubeconfig);
    [webhookPort, metricsPort] = [await freePort(), await freePort()];
    const values = ['--set', `webhook.url=https://127.0.0.1:${webhookPort}${WEBHOOK_PATH}`, '--set', `webhook.port=${webhookPort}`, '--set', `manager.metricsPort=${metricsPort}`];
    // The chart's own arguments and configuration, as its Deployment and ConfigMap give them.
    const template = run(bin.helm, ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...values]);
    assert.equal(template.code, 0, template.stderr);
    const objects = parseAllDocuments(template.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: unknown } | null);
    const deployment = objects.find((o) => o?.kind === 'Deployment' && o.metadata.name === `${RELEASE}-operator`)!;
    const container = (deployment.spec as { template: { spec: { containers: { args: string[]; readinessProbe: { httpGet: { path: string; port: string } }; livenessProbe: { httpGet: { path: string; port: string } } }[] } } }).template.spec.containers[0]!;
    assert.deepEqual([container.readinessProbe.httpGet, container.livenessProbe.httpGet], [{ path: '/readyz', port: 'metrics' }, { path: '/healthz', port: 'metrics' }], "the chart's probes are the operator's endpoints");
    const config = objects.find((o) => o?.kind === 'ConfigMap' && o.metadata.name === `${RELEASE}-config`)!;
    writeFileSync(join(dir, 'render.json'), config.data!['render.json']!);
    operatorArgs = container.args.map((arg) => (arg.startsWith('--config=') ? `--config=${join(dir, 'render.json')}` : arg));
    assert.ok(operatorArgs.includes('--webhook-certs=self') && operatorArgs.includes(`--webhook-secret=${RELEASE}-webhook-cert`), operatorArgs.join(' '));
    // Two replicas start first, with no RBAC yet (as when pods start before the chart's bindings land);
    // once it lands they race to create the Secret.
    startOperator();
    startOperator({ metrics: await freePort(), webhook: await freePort() });
    await eventually('/healthz', async () => ((await endpoint(operators[0]!, '/healthz'))?.status === 200 ? true : undefined), allOutput);
    // Not ready while it cannot make its certificate (nor, were it leading, list what it watches).
    const notReady = await eventually('/readyz naming the refusal', async () => {
      const answer = await endpoint(operators[0]!, '/readyz');
      return answer !== undefined && /webhook certificate: 403/.test(answer.text) ? answer : undefined;
    }, allOutput);
    assert.equal(notReady.status, 503, notReady.text);
    assert.match(notReady.text, /\[-\]webhook failed: /);
    const install = run(bin.helm, ['install', RELEASE, CHART, '--namespace', NAMESPACE, '--create-namespace', ...values], kube.kubeconfig);
    assert.equal(install.code, 0, install.stderr);
    kubectl(['create', 'namespace', 'models']);
  });
  after(async () => {
    for (const op of operators) op.child.kill('SIGKILL');
    await kube?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('under the chart’s RBAC the operator creates the Secret, writes its CA into the caBundle, and becomes ready', async () => {
    const op = operators[0]!;
    await ready(op);
    const secret = secretOf();
    assert.equal(secret.type, 'kubernetes.io/tls');
    const ca = Buffer.from(secret.data['ca.crt']!, 'base64').toString();
    const serving = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64'));
    for (const name of [`${RELEASE}-webhook`, `${RELEASE}-webhook.${NAMESPACE}`, `${RELEASE}-webhook.${NAMESPACE}.svc`, `${RELEASE}-webhook.${NAMESPACE}.svc.cluster.local`]) {
      assert.equal(serving.checkHost(name, { wildcards: false }), name);
    }
    assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1', "the url's host");
    assert.equal(Buffer.from(hookOf().webhooks[0]!.clientConfig.caBundle ?? '', 'base64').toString(), ca);
    assert.equal(await servedFingerprint(op.webhookPort, ca), serving.fingerprint256);
    const health = await endpoint(op, '/healthz');
    assert.equal(health?.status, 200);
  });

  test('kubectl apply of an invalid SeldonDeployment is refused with every problem by field path; nothing is stored', async () => {
    for (const version of ['v1', 'v1alpha2']) {
      const refused = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep(version, `broken-${version}`, BAD));
      assert.notEqual(refused.code, 0, `${version}: ${refused.stdout}`);
      assert.match(refused.stderr, /^The request is invalid: error when creating "STDIN": admission webhook "v1\.vseldondeployment\.trantor\.dev" denied the request: /, refused.stderr);
      assert.match(refused.stderr, new RegExp(`SeldonDeployment models/broken-${version} has \\d+ problems`), refused.stderr);
      for (const path of ['spec.predictors[0].graph.modelUri', 'spec.predictors[1].name', 'spec.predictors[1].graph.type']) {
        assert.ok(refused.stderr.includes(path), `${version}: ${path} in\n${refused.stderr}`);
      }
      assert.notEqual(run(bin.kubectl, ['get', 'sdep', `broken-${version}`, '-n', 'models'], kube.kubeconfig).code, 0, 'a refused object is not stored');
    }
  });

  test('valid SeldonDeployments (v1 and v1alpha2) are admitted and reconciled; a bad update of one is refused', async () => {
    for (const version of ['v1', 'v1alpha2']) {
      const applied = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep(version, `iris-${version}`, GOOD));
      assert.equal(applied.code, 0, applied.stderr);
      await eventually(`the Service of iris-${version}`, async () => ((await runAsync(bin.kubectl, ['get', 'service', `iris-${version}-default`, '-n', 'models'], kube.kubeconfig, '')).code === 0 ? true : undefined), allOutput);
    }
    // Admitted with a warning kubectl prints: what Trantor keeps but does not run.
    const explained = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep('v1', 'explained', { predictors: [{ ...GOOD.predictors[0], explainer: { type: 'AnchorTabular' } }] }));
    assert.equal(explained.code, 0, explained.stderr);
    assert.match(explained.stderr, /^Warning: spec\.predictors\[0\]\.explainer: kept, not run/m);
    const update = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep('v1', 'iris-v1', BAD));
    assert.notEqual(update.code, 0);
    assert.match(update.stderr, /spec\.predictors\[1\]\.name/);
  });

  test('/metrics counts admissions by result, reconciles, and which replica leads', async () => {
    const scrape = async (op: Operator): Promise<(line: string) => number> => {
      const metrics = (await endpoint(op, '/metrics'))!;
      assert.equal(metrics.status, 200);
      return (line) => Number(new RegExp(`^${line.replace(/[{}"[\]]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics.text)?.[1] ?? NaN);
    };
    // The API server calls the URL: the first replica's port.
    const first = await scrape(operators[0]!);
    assert.ok(first('trantor_operator_webhook_admissions_total{result="denied"}') >= 3);
    assert.ok(first('trantor_operator_webhook_admissions_total{result="allowed"}') >= 2);
    const both = [first, await scrape(operators[1]!)];
    assert.deepEqual(both.map((value) => value('trantor_operator_leader')).sort(), [0, 1], 'one replica leads');
    const leader = both.find((value) => value('trantor_operator_leader') === 1)!;
    assert.ok(leader('trantor_operator_reconciles_total{result="success"}') >= 2);
    assert.ok(leader('trantor_operator_reconcile_duration_seconds_count') >= 2);
    assert.ok(leader('trantor_operator_relists_total') >= 2);
    assert.equal(leader('trantor_operator_queue_depth'), 0);
  });

  test('two replicas that raced for the Secret serve the same certificate; the follower is ready too', async () => {
    for (const op of operators) await ready(op);
    const ca = Buffer.from(secretOf().data['ca.crt']!, 'base64').toString();
    const served = await Promise.all(operators.map((op) => servedFingerprint(op.webhookPort, ca)));
    assert.equal(served[0], served[1]);
    assert.equal(served[0], new X509Certificate(Buffer.from(secretOf().data['tls.crt']!, 'base64')).fingerprint256);
  });

  test('a serving certificate renewed in the Secret (by another replica) is served without a restart, the caBundle unchanged', async () => {
    const secret = getJson<{ data: Record<string, string> } & Record<string, unknown>>(['secret', `${RELEASE}-webhook-cert`, '-n', NAMESPACE]);
    const current = certsOfSecret(secret as never)!;
    const names = [...serviceNames(`${RELEASE}-webhook`, NAMESPACE), '127.0.0.1'];
    const renewed = await renew(current, { action: 'serving', reason: 'test' }, names, new Date(), { caValidityMs: 3_600_000, certValidityMs: 3_600_000 });
    const caBundle = hookOf().webhooks[0]!.clientConfig.caBundle;
    kubectl(['replace', '-f', '-'], JSON.stringify({ ...secret, data: { ...secret.data, 'tls.crt': Buffer.from(renewed.cert).toString('base64'), 'tls.key': Buffer.from(renewed.key).toString('base64') } }));
    const fingerprint = new X509Certificate(renewed.cert).fingerprint256;
    for (const op of operators) {
      await eventually('the renewed certificate served', async () => ((await servedFingerprint(op.webhookPort, current.caCert)) === fingerprint ? true : undefined), allOutput);
    }
    assert.equal(hookOf().webhooks[0]!.clientConfig.caBundle, caBundle);
    assert.match(operators[0]!.output(), /webhook certificate changed: reloaded/);
    const refused = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep('v1', 'after-renewal', BAD));
    assert.match(refused.stderr, /denied the request: SeldonDeployment models\/after-renewal/, refused.stderr);
  });

  test('the operator restarted keeps the CA and writes neither the Secret nor the caBundle; helm upgrade keeps them too', async () => {
    const before = { secret: secretOf().metadata.resourceVersion, hook: hookOf().metadata.resourceVersion, caBundle: hookOf().webhooks[0]!.clientConfig.caBundle };
    for (const op of operators) await stopOperator(op);
    const restarted = startOperator();
    await ready(restarted);
    assert.deepEqual({ secret: secretOf().metadata.resourceVersion, hook: hookOf().metadata.resourceVersion, caBundle: hookOf().webhooks[0]!.clientConfig.caBundle }, before);

    const upgrade = run(bin.helm, ['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--reuse-values', '--set', 'manager.logLevel=debug'], kube.kubeconfig);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    assert.equal(hookOf().webhooks[0]!.clientConfig.caBundle, before.caBundle, 'helm upgrade kept the caBundle');
    assert.equal(secretOf().metadata.resourceVersion, before.secret);
    // The API server still trusts the webhook: it still refuses, rather than failing to call it.
    const refused = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep('v1', 'after-upgrade', BAD));
    assert.match(refused.stderr, /denied the request: SeldonDeployment models\/after-upgrade/, refused.stderr);
  });

  test('an operator reconciling without election is not ready until its informers have listed, then ready', async () => {
    // No webhook, no election, and a user with no permissions yet: its lists are refused.
    const op = startOperator({ metrics: await freePort(), webhook: 0 }, {
      kubeconfig: kube.kubeconfigFor('latecomer'),
      args: (args) => [...args.filter((arg) => !arg.startsWith('--webhook-') && !arg.startsWith('--leader-elect')), '--leader-elect=false'],
    });
    const waiting = await eventually('/readyz answered', () => endpoint(op, '/readyz'), allOutput);
    assert.equal(waiting.status, 503, waiting.text);
    assert.match(waiting.text, /^\[-\]informers failed: the first lists are not read yet$/m);
    assert.doesNotMatch(waiting.text, /webhook/);
    assert.equal((await endpoint(op, '/healthz'))?.status, 200, 'alive all the same');
    kubectl(['create', 'clusterrolebinding', 'latecomer', `--clusterrole=${RELEASE}-manager`, '--user=latecomer']);
    await ready(op);
    await stopOperator(op);
  });

  test('with no operator answering, the chart’s webhook fails closed', async () => {
    for (const op of operators) if (op.child.exitCode === null) await stopOperator(op);
    const refused = await runAsync(bin.kubectl, ['apply', '-f', '-'], kube.kubeconfig, sdep('v1', 'unjudged', GOOD));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /failed calling webhook/, refused.stderr);
  });
});
