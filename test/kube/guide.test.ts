/**
 * The Kubernetes guide (docs/kubernetes.md, from "## Guide" to the reference after it) kept true:
 * its `helm` commands are taken from the page and run — every `--set` a value of the chart, linted
 * and rendered under Helm 3 and Helm 4, then installed, upgraded and uninstalled on a real API
 * server — its manifests are applied as the page says, `trantor operator` runs as the chart's
 * Deployment starts it (arguments, configuration, ServiceAccount), and what the page shows back
 * (object names, `kubectl get sdep`, the failed example's description, Event reasons, the Trigger's
 * address) must be what the cluster shows. No kubelet runs pods here: the test marks Deployments
 * available, as the Deployment controller would.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { IRIS_MODEL_DEPLOYMENT } from '../seed-manifests.ts';
import { findBinaries, freePort, ROOT, run, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const skip = skipUnlessKube();
const PAGE = readFileSync(join(ROOT, 'docs', 'kubernetes.md'), 'utf8');

interface Block {
  lang: string;
  body: string;
  /** The `###` or `##` heading the block is under. */
  section: string;
  /** The file the text before the block says it is saved as. */
  file?: string;
}

/** The guide's fenced blocks, in order, each with its section. */
function guideBlocks(): Block[] {
  const start = PAGE.indexOf('\n## Guide:');
  const end = PAGE.indexOf('\n## The CRD');
  assert.ok(start > 0 && end > start, 'docs/kubernetes.md: the guide is its first part, before "## The CRD"');
  const guide = PAGE.slice(start, end);
  const blocks: Block[] = [];
  let section = '';
  let prose = '';
  // Fences at the margin, or indented under a list item (their lines then lose that indent).
  const fence = /^( *)```(\w*)\n([\s\S]*?)^\1```\n/gm;
  let last = 0;
  for (let match = fence.exec(guide); match !== null; match = fence.exec(guide)) {
    prose = guide.slice(last, match.index);
    for (const heading of prose.matchAll(/^#{2,3} (.+)$/gm)) section = heading[1]!;
    const file = /saved as\s+`([^`]+)`/.exec(prose)?.[1];
    const indent = new RegExp(`^${match[1]!}`, 'gm');
    blocks.push({ lang: match[2]!, body: match[3]!.replace(indent, ''), section, ...(file === undefined ? {} : { file }) });
    last = match.index + match[0].length;
  }
  return blocks;
}

const BLOCKS = guideBlocks();
const sectionOf = (prefix: string): Block[] => {
  const found = BLOCKS.filter((b) => b.section.startsWith(prefix));
  assert.ok(found.length > 0, `the guide has no section "${prefix}…" with a code block`);
  return found;
};

/** A shell line's words: quotes and backslashes as sh reads them (no variables or globs are used). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let text = '';
      for (i++; line[i] !== '"'; i++) text += line[i] === '\\' && '"\\$`'.includes(line[i + 1]!) ? line[++i] : line[i];
      word = (word ?? '') + text;
    } else if (c === '\\') word = (word ?? '') + line[++i];
    else if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The commands of `sh` blocks: continued lines joined, comments after ` # ` dropped. */
function commandsOf(blocks: readonly Block[]): string[][] {
  return blocks
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.body.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '')
    .map(shellWords);
}

/** The guide's `helm install` and `helm upgrade` commands of this chart. */
const helmCommands = (blocks: readonly Block[]): string[][] =>
  commandsOf(blocks).filter((c) => c[0] === 'helm' && (c[1] === 'install' || c[1] === 'upgrade') && c[3] === 'charts/trantor');

const yamlBlock = (prefix: string, kind: string): Block => {
  const found = sectionOf(prefix).find((b) => b.lang === 'yaml' && (parse(b.body) as { kind?: string }).kind === kind);
  assert.ok(found, `the guide's "${prefix}" section shows no ${kind}`);
  return found;
};
const textBlocks = (prefix: string): string[] => sectionOf(prefix).filter((b) => b.lang === 'text').map((b) => b.body);

/** The values a `--set` path names exist in the chart's values.yaml (an unknown key renders silently). */
function assertChartValue(path: string, command: string): void {
  let node: unknown = parse(readFileSync(join(ROOT, 'charts', 'trantor', 'values.yaml'), 'utf8'));
  for (const key of path.replace(/\\\./g, '\u0000').split('.').map((k) => k.replaceAll('\u0000', '.'))) {
    if (Array.isArray(node)) return; // a list's items are the user's (parentRefs[0].name)
    const name = key.replace(/\[\d+\]$/, '');
    assert.ok(node !== null && typeof node === 'object' && name in node, `${command}: --set ${path}: no such value in charts/trantor/values.yaml`);
    node = (node as Record<string, unknown>)[name];
    if (name !== key) return;
  }
}

/** `helm install|upgrade RELEASE CHART flags…` as `helm template RELEASE CHART flags…` (flags a render does not take left out). */
function asTemplate(command: readonly string[], values: string): string[] {
  const args: string[] = ['template', command[2]!, join(ROOT, 'charts', 'trantor')];
  for (let i = 4; i < command.length; i++) {
    const arg = command[i]!;
    if (arg === '--create-namespace' || arg === '--reuse-values') continue;
    if (arg === '-f' || arg === '--values') {
      args.push(arg, values);
      i++;
    } else args.push(arg);
  }
  return args;
}

describe('the Kubernetes guide, as written', { skip, timeout: 300_000 }, () => {
  let bin: KubeBinaries;
  let dir: string;
  before(() => {
    bin = findBinaries() as KubeBinaries;
    dir = mkdtempSync(join(tmpdir(), 'trantor-guide-'));
    writeFileSync(join(dir, 'my-values.yaml'), 'istio:\n  enabled: true\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every helm install and upgrade of the chart sets only values the chart has, and lints and renders under Helm 3 and Helm 4', () => {
    const commands = helmCommands(BLOCKS);
    assert.ok(commands.length >= 6, `the guide's helm commands: ${commands.length}`);
    for (const command of commands) {
      const shown = command.join(' ');
      assert.ok(command.includes('--namespace'), `${shown}: every helm command names the release namespace`);
      command.forEach((arg, i) => {
        if (command[i - 1] === '--set') for (const pair of arg.split(/,(?=[\w.[\]]+=)/)) assertChartValue(pair.slice(0, pair.indexOf('=')), shown);
      });
      for (const helm of [bin.helm, bin.helm3]) {
        const template = asTemplate(command, join(dir, 'my-values.yaml'));
        const rendered = run(helm, template);
        assert.equal(rendered.code, 0, `${shown}\n${rendered.stderr}`);
        const lint = run(helm, ['lint', '--strict', ...template.slice(2)]);
        assert.equal(lint.code, 0, `${shown}\n${lint.stdout}${lint.stderr}`);
      }
    }
  });

  test("the SeldonDeployment is the install guide's, unchanged, and the Trigger names it in its namespace", () => {
    const sdep = yamlBlock('Deploy a SeldonDeployment', 'SeldonDeployment');
    assert.equal(sdep.body, IRIS_MODEL_DEPLOYMENT, 'the guide says the seed manifest is applied unchanged');
    const trigger = parse(yamlBlock('Knative Eventing', 'Trigger').body) as {
      metadata: { namespace: string };
      spec: { broker: string; filter: { attributes: { type: string } }; subscriber: { ref: { apiVersion: string; kind: string; name: string } } };
    };
    const manifest = parse(sdep.body) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string } };
    assert.deepEqual(trigger.spec.subscriber.ref, { apiVersion: manifest.apiVersion, kind: manifest.kind, name: manifest.metadata.name });
    assert.equal(trigger.metadata.namespace, manifest.metadata.namespace);
    const broker = parse(yamlBlock('Knative Eventing', 'Broker').body) as { metadata: { name: string; namespace: string } };
    assert.deepEqual([broker.metadata.name, broker.metadata.namespace], [trigger.spec.broker, trigger.metadata.namespace]);
    // The event sent is the one the Trigger's filter takes, to that broker.
    const send = commandsOf(sectionOf('Knative Eventing')).find((c) => c.includes('curl'))!;
    assert.ok(send.includes(`Ce-Type: ${trigger.spec.filter.attributes.type}`), send.join(' '));
    assert.ok(send.some((a) => a.endsWith(`/${broker.metadata.namespace}/${broker.metadata.name}`)), send.join(' '));
  });
});

describe('the Kubernetes guide on a real API server, with Helm 3', { skip, timeout: 600_000 }, () => {
  let kube: KubeServer;
  let bin: KubeBinaries;
  let dir: string;
  let operator: ChildProcess | undefined;
  let operatorLog = '';
  /**
   * Test-only values added to every install and upgrade: no kubelet runs the operator's pods, so no
   * pod answers the webhook (Ignore lets writes through, as the chart's default does), and the
   * operator run here as a process takes free ports instead of the chart's on a shared machine.
   */
  let testValues: string[];
  /** Files the guide's commands wrote (`> FILE`). */
  const written = new Map<string, string>();

  before(async () => {
    bin = findBinaries() as KubeBinaries;
    kube = await startKube();
    dir = mkdtempSync(join(tmpdir(), 'trantor-guide-'));
    writeFileSync(join(dir, 'my-values.yaml'), 'istio:\n  enabled: true\n');
    testValues = ['--set', 'webhook.failurePolicy=Ignore', '--set', `manager.metricsPort=${await freePort()}`, '--set', `webhook.port=${await freePort()}`];
  });
  after(async () => {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator!.once('exit', resolve));
      operator.kill('SIGTERM');
      await exited;
    }
    await kube?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = (args: readonly string[], input?: string): string => {
    const result = run(bin.kubectl, [...args], kube.kubeconfig, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}\n${operatorLog.slice(-3000)}`);
    return result.stdout;
  };
  /** One of the guide's commands, as a user runs it: helm 3, kubectl with the guide's files. */
  const runGuide = (command: readonly string[]): string => {
    const redirect = command.indexOf('>');
    if (redirect > 0) {
      written.set(command[redirect + 1]!, runGuide(command.slice(0, redirect)));
      return '';
    }
    const [tool, ...args] = command;
    if (tool === 'kubectl') {
      const files = new Map([...BLOCKS.filter((b) => b.file !== undefined).map((b) => [b.file!, b.body] as const), ...written]);
      const mapped = args.map((a, i) => (args[i - 1] === '-f' && files.has(a) ? '-' : a));
      return kubectl(mapped, files.get(args[args.indexOf('-f') + 1] ?? ''));
    }
    assert.equal(tool, 'helm', command.join(' '));
    const helmArgs = args.map((a) => (a === 'charts/trantor' ? join(ROOT, 'charts', 'trantor') : a === 'my-values.yaml' ? join(dir, a) : a));
    const result = run(bin.helm3, [...helmArgs, ...(args[0] === 'uninstall' ? [] : testValues)], kube.kubeconfig);
    assert.equal(result.code, 0, `${command.join(' ')}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  };
  /** Polls until `probe` returns something, failing with `what` after the deadline. */
  async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let value = probe(); ; value = probe()) {
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${operatorLog.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const sdepJson = (name: string): { status?: { state?: string; description?: string; address?: { url?: string }; addresses?: { url?: string }[] } } | undefined => {
    const result = run(bin.kubectl, ['get', 'sdep', name, '-n', 'seldon', '-o', 'json'], kube.kubeconfig);
    return result.code === 0 ? (JSON.parse(result.stdout) as ReturnType<typeof sdepJson>) : undefined;
  };
  const runnable = (c: readonly string[]): boolean => (c[0] === 'helm' && c[1] !== 'template') || (c[0] === 'kubectl' && ['create', 'apply', 'get', 'describe', 'delete'].includes(c[1]!));

  test('"Install the operator": its commands run, and the operator runs as the chart starts it', () => {
    const commands = commandsOf(sectionOf('Install the operator'));
    assert.deepEqual(commands.filter((c) => !runnable(c)), [], 'every command of this section is run here');
    for (const command of commands) runGuide(command);

    // The operator as its pod would run it: the Deployment's command and arguments, its
    // configuration from the ConfigMap, POD_NAMESPACE and POD_NAME, and the ServiceAccount's token.
    const deployment = JSON.parse(kubectl(['get', 'deployment', 'trantor-operator', '-n', 'trantor-system', '-o', 'json'])) as {
      spec: { template: { spec: { serviceAccountName: string; containers: { command: string[]; args: string[]; volumeMounts: { mountPath: string }[] }[] } } };
    };
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;
    assert.deepEqual(container.command, ['trantor', 'operator']);
    const map = JSON.parse(kubectl(['get', 'configmap', 'trantor-config', '-n', 'trantor-system', '-o', 'json'])) as { data: Record<string, string> };
    writeFileSync(join(dir, 'render.json'), map.data['render.json']!);
    const mount = container.volumeMounts.find((m) => m.mountPath.endsWith('render.json'))!.mountPath;
    const args = container.args.map((a) => a.replace(mount, join(dir, 'render.json')));
    const token = kubectl(['create', 'token', pod.serviceAccountName, '-n', 'trantor-system']).trim();
    const config = JSON.parse(readFileSync(kube.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
    config.users[0]!.user.token = token;
    writeFileSync(join(dir, 'kubeconfig'), JSON.stringify(config), { mode: 0o600 });
    operator = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'operator', ...args], {
      env: { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), POD_NAMESPACE: 'trantor-system', POD_NAME: 'trantor-operator-guide' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator.stdout!.on('data', (chunk: Buffer) => (operatorLog += chunk.toString()));
    operator.stderr!.on('data', (chunk: Buffer) => (operatorLog += chunk.toString()));
  });

  test('"Deploy a SeldonDeployment": the objects it names are made, and `kubectl get sdep` prints what it shows', async () => {
    const blocks = sectionOf('Deploy a SeldonDeployment');
    for (const command of commandsOf(blocks).filter(runnable)) runGuide(command);
    const prose = PAGE.slice(PAGE.indexOf('### Deploy a SeldonDeployment'), PAGE.indexOf('### Send the seed'));
    const named = [...new Set([...prose.matchAll(/`(iris-model-[a-z0-9-]+)`/g)].map((m) => m[1]!))];
    assert.ok(named.length >= 4, named.join(' '));
    const children = (): string[] | undefined => {
      const list = JSON.parse(kubectl(['get', 'deployments,services', '-n', 'seldon', '-l', 'seldon-deployment-id=iris-model', '-o', 'json'])) as { items: { kind: string; metadata: { name: string } }[] };
      const names = list.items.map((o) => o.metadata.name);
      return named.every((n) => names.includes(n)) ? names : undefined;
    };
    await until(`the objects the guide names (${named.join(', ')})`, children);

    // What the Deployment controller would write once the pods run.
    const deployments = JSON.parse(kubectl(['get', 'deployments', '-n', 'seldon', '-l', 'seldon-deployment-id=iris-model', '-o', 'json'])) as { items: { metadata: { name: string; generation: number } }[] };
    for (const d of deployments.items) {
      const status = { observedGeneration: d.metadata.generation, replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' }] };
      kubectl(['patch', 'deployment', d.metadata.name, '-n', 'seldon', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    }
    await until('iris-model Available', () => (sdepJson('iris-model')?.status?.state === 'Available' ? true : undefined));
    const [shown] = textBlocks('Deploy a SeldonDeployment');
    const printed = kubectl(['get', 'sdep', '-n', 'seldon']);
    const rows = (text: string): string[][] => text.trim().split('\n').map((line) => line.trim().split(/\s+/));
    const [shownHeader, shownRow] = rows(shown!);
    const [header, row] = rows(printed);
    assert.deepEqual(header, shownHeader, printed);
    assert.deepEqual(row!.slice(0, 4), shownRow!.slice(0, 4), printed);
  });

  test('"Send the seed\'s request": the Service it port-forwards to is the gateway, on the port it uses', () => {
    const forward = commandsOf(sectionOf('Send the seed')).find((c) => c[0] === 'kubectl' && c[1] === 'port-forward');
    assert.ok(forward, 'the section port-forwards');
    const namespace = forward[forward.indexOf('-n') + 1]!;
    const service = forward.find((a) => a.startsWith('svc/'))!.slice('svc/'.length);
    const remote = Number(forward.at(-1)!.split(':')[1]);
    const found = JSON.parse(kubectl(['get', 'service', service, '-n', namespace, '-o', 'json'])) as { spec: { ports: { name: string; port: number }[] } };
    assert.ok(found.spec.ports.some((p) => p.name === 'http' && p.port === remote), JSON.stringify(found.spec.ports));
    const curl = commandsOf(sectionOf('Send the seed')).find((c) => c[0] === 'curl')!;
    assert.ok(curl.some((a) => a.startsWith(`http://127.0.0.1:${forward.at(-1)!.split(':')[0]}/seldon/${namespace}/iris-model/api/v1.0/predictions`)), curl.join(' '));
  });

  test("\"Knative Eventing\": the Trigger's subscriber resolves, as Knative resolves an Addressable, to the URL the guide shows", () => {
    const trigger = parse(yamlBlock('Knative Eventing', 'Trigger').body) as { metadata: { namespace: string }; spec: { subscriber: { ref: { apiVersion: string; kind: string; name: string } } } };
    const { apiVersion, name } = trigger.spec.subscriber.ref;
    const [group, version] = apiVersion.split('/');
    const object = JSON.parse(kubectl(['get', `seldondeployments.${version!}.${group!}`, name, '-n', trigger.metadata.namespace, '-o', 'json'])) as NonNullable<ReturnType<typeof sdepJson>>;
    // knative.dev/pkg's resolver: addresses[0] when there are any, else address.
    const url = object.status?.addresses?.[0]?.url ?? object.status?.address?.url;
    const shownUrl = textBlocks('Deploy a SeldonDeployment')[0]!.trim().split('\n')[1]!.trim().split(/\s+/)[3];
    assert.equal(url, shownUrl);
    // The chart lets Knative read it: the addressable role is there, labelled for aggregation.
    const role = JSON.parse(kubectl(['get', 'clusterrole', 'trantor-addressable-resolver', '-o', 'json'])) as { metadata: { labels: Record<string, string> } };
    assert.equal(role.metadata.labels['duck.knative.dev/addressable'], 'true');
  });

  test('"Troubleshooting": the broken example is Failed with the description shown, and the Events carry the reasons in its table', async () => {
    const blocks = sectionOf('Troubleshooting');
    const commands = commandsOf(blocks).filter(runnable);
    const [apply, describeCommand] = commands;
    runGuide(apply!);
    await until('iris-broken Failed', () => (sdepJson('iris-broken')?.status?.state === 'Failed' ? true : undefined));
    assert.equal(runGuide(describeCommand!), textBlocks('Troubleshooting')[0]!.trimEnd());

    const table = PAGE.slice(PAGE.indexOf('## Troubleshooting'), PAGE.indexOf('## Uninstalling'));
    const documented = [...table.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]!);
    const forms = [...table.matchAll(/\(`(Create|Update|Delete)<Kind>`\)/g)].map((m) => m[1]!);
    const events = JSON.parse(kubectl(['get', 'events', '-n', 'seldon', '-o', 'json'])) as { items: { reason: string; type: string; involvedObject: { kind: string } }[] };
    const reasons = new Set(events.items.filter((e) => e.involvedObject.kind === 'SeldonDeployment').map((e) => e.reason));
    for (const reason of reasons) {
      assert.ok(documented.includes(reason) || forms.some((form) => reason.startsWith(form)), `Event reason ${reason} is not in the guide's table`);
    }
    for (const reason of ['CreateDeployment', 'CreateService', 'InternalError']) assert.ok(reasons.has(reason), `no ${reason} Event: ${[...reasons].join(', ')}`);
  });

  test('"Other ways in" and "Upgrading": each helm upgrade the guide shows succeeds on the installed release', () => {
    const commands = [...helmCommands(sectionOf('Other ways in')), ...helmCommands(sectionOf('Upgrading'))];
    assert.ok(commands.length >= 4, `${commands.length} upgrades`);
    for (const command of commands) runGuide(command);
    const status = JSON.parse(run(bin.helm3, ['status', 'trantor', '--namespace', 'trantor-system', '-o', 'json'], kube.kubeconfig).stdout) as { version: number; info: { status: string } };
    assert.deepEqual([status.version, status.info.status], [1 + commands.length, 'deployed']);
  });

  test('"Uninstalling": the operator goes, the CRD stays, and installing again adopts it', () => {
    for (const command of commandsOf(sectionOf('Uninstalling')).filter(runnable)) runGuide(command);
    assert.notEqual(run(bin.kubectl, ['get', 'deployment', 'trantor-operator', '-n', 'trantor-system'], kube.kubeconfig).code, 0, 'the operator is still there');
    kubectl(['get', 'crd', 'seldondeployments.machinelearning.seldon.io']);
    const prose = PAGE.slice(PAGE.indexOf('## Uninstalling'), PAGE.indexOf('## What was tested'));
    const again = /A later\s+`(helm install [^`]+)` adopts the kept CRD/.exec(prose);
    assert.ok(again, 'the guide says how to install again');
    runGuide(shellWords(again[1]!));
    kubectl(['get', 'deployment', 'trantor-operator', '-n', 'trantor-system']);
  });

  test('"Migrating": the saved SeldonDeployments come back after the CRD went with Seldon\'s release', async () => {
    const commands = commandsOf(sectionOf('Migrating'));
    assert.deepEqual(commands.map((c) => c.slice(0, 2).join(' ')), ['kubectl get', 'helm uninstall', 'helm install', 'kubectl apply']);
    const [save, , install, restore] = commands as [string[], string[], string[], string[]];
    runGuide(commandsOf(sectionOf('Deploy a SeldonDeployment')).find((c) => c[1] === 'apply')!);
    runGuide(save);
    assert.match(written.get('sdeps.yaml') ?? '', /name: iris-model/);
    // Seldon's release is not here; its uninstall deletes the CRD and every SeldonDeployment with it.
    // The same, by hand: Trantor's release out of the way, then the CRD.
    assert.equal(run(bin.helm3, ['uninstall', 'trantor', '--namespace', 'trantor-system'], kube.kubeconfig).code, 0);
    kubectl(['delete', 'crd', 'seldondeployments.machinelearning.seldon.io']);
    await until('the CRD gone', () => (run(bin.kubectl, ['get', 'crd', 'seldondeployments.machinelearning.seldon.io'], kube.kubeconfig).code === 0 ? undefined : true));
    runGuide(install);
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']);
    runGuide(restore);
    kubectl(['get', 'sdep', 'iris-model', '-n', 'seldon']);
  });
});
