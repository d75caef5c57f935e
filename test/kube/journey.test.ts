/**
 * Journey J4 end to end, without a kubelet: a real kube-apiserver and etcd, the real `trantor
 * operator` process with the chart's render configuration, the seed's iris SeldonDeployment
 * applied with kubectl — and a small pod runner in this test playing kubelet for what the
 * operator makes. For each rendered Deployment it runs one pod: each container of one of our
 * images (`trantor`, `python-host`) as a local process, started as the image starts it
 * (test/e2e/dockerfile.ts) with the container's command, args and env; the storage initializer
 * (KServe's image) emulated by copying a real sklearn iris model into the pod's `/mnt/models`
 * volume, a local folder. Each pod gets its own loopback address (127/8 all routes to `lo`), so
 * containers keep the ports the operator gave them; the address is passed through the existing
 * flags and variables (`--host`, `TRANTOR_BIND_HOST`). What cluster networking would do is done by
 * rewriting: a pod's `localhost` is its own address, and a Service's DNS name is the address of the
 * pod its selector picks (in ENGINE_PREDICTOR and TRANTOR_GATEWAY_PREDICTORS). Once every
 * container's readiness probe answers, the runner patches the Deployment's status ready, as the
 * Deployment controller would. Then the seed's curl through the gateway process answers the iris
 * prediction, and the SeldonDeployment is `Available` with its `address.url`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ENGINE_PREDICTOR_ENV, GATEWAY_PREDICTORS_ENV, KubeClient, renderConfig, resourceOf, SELDON_DEPLOYMENTS, seldonDeploymentCrd, type LiveObject, type RenderConfig } from '../../src/runtime/kubernetes/index.ts';
import { dockerfileOf, imageProcess } from '../e2e/dockerfile.ts';
import { sklearnPredictProba } from '../e2e/harness.ts';
import { IRIS_MODEL_DEPLOYMENT } from '../seed-manifests.ts';
import { findBinaries, ROOT, run, skipUnlessKube, startKube, type KubeBinaries, type KubeServer } from './harness.ts';

const skip = skipUnlessKube();
const DEPLOYMENTS = resourceOf('apps/v1', 'Deployment');
const SERVICES = resourceOf('v1', 'Service');
const NAMESPACE = 'seldon';
const SDEP = 'iris-model';
/** A real sklearn iris model, standing for the seed's `gs://` modelUri. */
const MODEL = join(ROOT, 'examples', 'iris', 'model');
const PYTHON = '/usr/bin/python3';

interface Port {
  name?: string;
  containerPort: number;
}

interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: Port[];
  readinessProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: unknown }[];
}

/** One pod the runner plays: its address, its containers' processes, whether its Deployment was marked ready. */
interface Pod {
  readonly deployment: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly address: string;
  readonly spec: PodSpec;
  readonly processes: ChildProcess[];
  readonly output: string[];
  marked: boolean;
}

/** A block of loopback addresses of our own (127.<a>.<b>.<n>), so parallel test runs do not meet. */
const NET = `127.${100 + Math.floor(Math.random() * 150)}.${1 + Math.floor(Math.random() * 250)}`;

class PodRunner {
  readonly pods = new Map<string, Pod>();
  /** What went wrong in a round (the next round tries again), for failure messages. */
  readonly errors: string[] = [];
  private readonly services = new Map<string, LiveObject>();
  private readonly root = mkdtempSync(join(tmpdir(), 'trantor-pods-'));
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly config: RenderConfig,
  ) {}

  /** Starts the pods of new Deployments and marks ready those whose containers all answer their probes. */
  async sync(): Promise<void> {
    for (const service of (await this.client.list(SERVICES, NAMESPACE)).items) this.services.set(service.metadata.name, service);
    const deployments = (await this.client.list(DEPLOYMENTS, NAMESPACE, `seldon-deployment-id=${SDEP}`)).items;
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      if (this.pods.has(name)) continue;
      const template = (deployment.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
      const pod: Pod = { deployment: name, labels: template.metadata.labels, address: `${NET}.${this.pods.size + 2}`, spec: template.spec, processes: [], output: [], marked: false };
      // A pod that names a Service no pod backs yet waits for the next round (a Service's name resolves to its pod).
      if (!this.resolvable(pod)) continue;
      this.pods.set(name, pod);
      this.start(pod);
    }
    for (const deployment of deployments) {
      const pod = this.pods.get(deployment.metadata.name);
      if (pod === undefined || pod.marked || !(await this.ready(pod))) continue;
      pod.marked = true;
      // What the Deployment controller writes once the pod is ready.
      await this.client.patchStatus(DEPLOYMENTS, NAMESPACE, pod.deployment, {
        observedGeneration: deployment.metadata.generation,
        replicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        updatedReplicas: 1,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'the pod runner ran it' }],
      });
    }
  }

  /** `host:port` of a Service's DNS name (or a pod's `localhost`) as seen from `pod`; undefined when no pod backs it yet. */
  resolve(host: string, port: number, pod: Pod): { host: string; port: number } | undefined {
    if (host === 'localhost') return { host: pod.address, port };
    const name = host.replace(new RegExp(`\\.${NAMESPACE}(\\.svc(\\.cluster\\.local)?)?$`), '');
    const service = this.services.get(name);
    if (service === undefined) return undefined;
    const spec = service.spec as { selector: Record<string, string>; ports: { port: number; targetPort: number | string }[] };
    const backing = [...this.pods.values()].find((p) => Object.entries(spec.selector).every(([k, v]) => p.labels[k] === v));
    const servicePort = spec.ports.find((p) => p.port === port);
    if (backing === undefined || servicePort === undefined) return undefined;
    return { host: backing.address, port: portOf(backing.spec.containers, servicePort.targetPort) };
  }

  private resolvable(pod: Pod): boolean {
    try {
      for (const container of pod.spec.containers) this.environment(container, pod);
      return true;
    } catch (error) {
      if (error instanceof Unresolved) return false;
      throw error;
    }
  }

  /** The container's environment as the pod sees it: volume paths moved to their folders, cluster names to addresses. */
  private environment(container: Container, pod: Pod): Record<string, string> {
    const env: Record<string, string> = {};
    for (const { name, value } of container.env ?? []) env[name] = this.mounted(container, pod, value ?? '');
    const engine = env[ENGINE_PREDICTOR_ENV];
    if (engine !== undefined) {
      const predictor = JSON.parse(Buffer.from(engine, 'base64').toString('utf8')) as { graph: EngineNode };
      this.resolveGraph(predictor.graph, pod);
      env[ENGINE_PREDICTOR_ENV] = Buffer.from(JSON.stringify(predictor)).toString('base64');
    }
    const predictors = env[GATEWAY_PREDICTORS_ENV];
    if (predictors !== undefined) {
      const list = JSON.parse(predictors) as { http: string }[];
      for (const entry of list) {
        const url = new URL(entry.http);
        const at = this.resolve(url.hostname, Number(url.port || 80), pod);
        if (at === undefined) throw new Unresolved(url.hostname);
        entry.http = `http://${at.host}:${at.port}`;
      }
      env[GATEWAY_PREDICTORS_ENV] = JSON.stringify(list);
    }
    return env;
  }

  private resolveGraph(node: EngineNode, pod: Pod): void {
    const at = this.resolve(node.endpoint.service_host, node.endpoint.service_port, pod);
    if (at === undefined) throw new Unresolved(node.endpoint.service_host);
    node.endpoint.service_host = at.host;
    node.endpoint.service_port = at.port;
    for (const child of node.children) this.resolveGraph(child, pod);
  }

  /** `text` with each of the container's emptyDir mount paths replaced by the pod's folder for that volume. */
  private mounted(container: Container, pod: Pod, text: string): string {
    let out = text;
    for (const mount of container.volumeMounts ?? []) {
      if (pod.spec.volumes?.find((v) => v.name === mount.name)?.emptyDir !== undefined) out = out.replaceAll(mount.mountPath, this.volume(pod, mount.name));
    }
    return out;
  }

  private volume(pod: Pod, name: string): string {
    const dir = join(this.root, pod.deployment, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private start(pod: Pod): void {
    for (const init of pod.spec.initContainers ?? []) {
      // Our image's `trantor storage-init --no-cache SRC DEST`, run for real with SRC mirrored to the
      // local iris model (the cluster has no way out).
      assert.equal(init.image, this.config.storageInitializer.image);
      const [command, noCache, src = '', dest = ''] = init.args ?? [];
      assert.deepEqual([command, noCache], ['storage-init', '--no-cache'], `the pod runner cannot run init container ${init.name} (${init.args?.join(' ')})`);
      const fetched = spawnSync(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'storage-init', '--no-cache', src, this.mounted(init, pod, dest)], {
        env: { ...process.env, TRANTOR_STORAGE_MIRRORS: `${src}=${MODEL}` },
        encoding: 'utf8',
      });
      assert.equal(fetched.status, 0, fetched.stderr);
    }
    for (const container of pod.spec.containers) {
      const dockerfile = dockerfileOf(container.image);
      assert.ok(dockerfile !== undefined, `the pod runner runs only our images, not ${container.image}`);
      const image = imageProcess(dockerfile, container);
      const env: Record<string, string> = { ...process.env as Record<string, string>, ...image.env, ...this.environment(container, pod), TRANTOR_PYTHON: PYTHON };
      const args = [...image.args];
      // The pod's address, through the flags and variables that exist for it.
      if (image.file.endsWith('trantor.js')) args.push('--host', pod.address);
      else env['TRANTOR_BIND_HOST'] = pod.address;
      const [command, argv] = image.file.endsWith('.js') ? [process.execPath, [image.file, ...args]] : [image.file, args];
      const child = spawn(command, argv, { cwd: this.volume(pod, 'workdir'), env, stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (chunk: Buffer): void => {
        pod.output.push(`[${pod.deployment}/${container.name}] ${chunk.toString()}`);
        if (pod.output.length > 200) pod.output.splice(0, pod.output.length - 200);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      pod.processes.push(child);
    }
  }

  /** Whether every container's readiness probe answers (httpGet: 2xx or 3xx; tcpSocket: a connection opens). */
  private async ready(pod: Pod): Promise<boolean> {
    for (const container of pod.spec.containers) {
      const probe = container.readinessProbe;
      if (probe === undefined) continue;
      const port = portOf([container], probe.httpGet?.port ?? probe.tcpSocket?.port ?? 0);
      if (probe.httpGet !== undefined) {
        const status = await fetch(`http://${pod.address}:${port}${probe.httpGet.path}`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.status, () => 0);
        if (status < 200 || status >= 400) return false;
      } else if (!(await opens(pod.address, port))) {
        return false;
      }
    }
    return true;
  }

  output(): string {
    return [...this.errors.slice(-5), ...[...this.pods.values()].flatMap((p) => p.output)].join('\n').slice(-8000);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exits = [...this.pods.values()].flatMap((p) => p.processes).filter((c) => c.exitCode === null && c.signalCode === null).map((child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      return exited.then(() => clearTimeout(timer));
    });
    await Promise.all(exits);
    rmSync(this.root, { recursive: true, force: true });
  }
}

interface EngineNode {
  endpoint: { service_host: string; service_port: number };
  children: EngineNode[];
}

/** A Service's name that no pod backs yet. */
class Unresolved extends Error {}

/** A port number, or the number of the containers' port of that name. */
function portOf(containers: readonly Container[], port: number | string): number {
  if (typeof port === 'number') return port;
  const found = containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port);
  assert.ok(found !== undefined, `no container port named ${port}`);
  return found.containerPort;
}

function opens(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2_000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** The chart's render configuration (its ConfigMap's render.json, default values), as `helm template` makes it. */
function chartRenderJson(bin: KubeBinaries): string {
  const result = run(bin.helm, ['template', 'trantor', join(ROOT, 'charts', 'trantor'), '--namespace', 'trantor-system']);
  assert.equal(result.code, 0, result.stderr);
  for (const document of parseAllDocuments(result.stdout)) {
    const object = document.toJS() as { kind?: string; data?: Record<string, string> } | null;
    if (object?.kind === 'ConfigMap' && object.data?.['render.json'] !== undefined) return object.data['render.json'];
  }
  throw new Error('the chart makes no ConfigMap with render.json');
}

describe('journey J4: the seed iris SeldonDeployment through the operator, its pods and the gateway', { skip, timeout: 900_000 }, () => {
  let kube: KubeServer;
  let client: KubeClient;
  let runner: PodRunner;
  let operator: ChildProcess;
  let operatorOutput = '';
  let syncing: Promise<void> = Promise.resolve();
  let running = true;
  const work = mkdtempSync(join(tmpdir(), 'trantor-journey-'));

  before(async () => {
    const bin = findBinaries() as KubeBinaries;
    kube = await startKube();
    const kubectl = (args: string[], input?: string): string => {
      const result = run(bin.kubectl, args, kube.kubeconfig, input);
      assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
      return result.stdout;
    };
    kubectl(['apply', '--server-side', '--field-manager=trantor-test', '-f', '-'], JSON.stringify(seldonDeploymentCrd()));
    kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/seldondeployments.machinelearning.seldon.io']);
    kubectl(['create', 'namespace', NAMESPACE]);

    const renderJson = chartRenderJson(bin);
    const renderFile = join(work, 'render.json');
    writeFileSync(renderFile, renderJson);
    operator = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'operator', '--config', renderFile], {
      env: { ...process.env, KUBECONFIG: kube.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator.stdout!.on('data', (chunk: Buffer) => (operatorOutput += chunk.toString()));
    operator.stderr!.on('data', (chunk: Buffer) => (operatorOutput += chunk.toString()));

    const config = new KubeConfig();
    config.loadFromFile(kube.kubeconfig);
    client = await KubeClient.of(config, 30_000);
    runner = new PodRunner(client, renderConfig(JSON.parse(renderJson) as Parameters<typeof renderConfig>[0]));
    // The pod runner's loop, as a kubelet's: until the test ends.
    syncing = (async () => {
      while (running) {
        await runner.sync().catch((error: unknown) => runner.errors.push(error instanceof Error ? error.message : String(error)));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    // The user's step: the seed's manifest, unchanged, with kubectl.
    kubectl(['apply', '-f', '-'], IRIS_MODEL_DEPLOYMENT);
  });

  after(async () => {
    running = false;
    await syncing;
    await runner?.stop();
    if (operator !== undefined && operator.exitCode === null) {
      const exited = new Promise((resolve) => operator.once('exit', resolve));
      operator.kill('SIGTERM');
      await exited;
    }
    await kube?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const context = (): string => `\n--- operator ---\n${operatorOutput.slice(-4000)}\n--- pods ---\n${runner.output()}`;

  async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${context()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  test('the SeldonDeployment becomes Available with its address once its pods are ready', async () => {
    const status = await eventually('the SeldonDeployment to be Available', async () => {
      const sdep = await client.get(SELDON_DEPLOYMENTS, NAMESPACE, SDEP);
      const found = sdep?.status as { state?: string; address?: { url?: string } } | undefined;
      return found?.state === 'Available' ? found : undefined;
    });
    assert.equal(status.address?.url, `http://${SDEP}-default.${NAMESPACE}.svc.cluster.local:8000/api/v1.0/predictions`);
    assert.deepEqual([...runner.pods.keys()].sort(), [`${SDEP}-default-0-classifier`, `${SDEP}-gateway`], context());
  });

  test("the seed's curl through the gateway answers the iris model's prediction", async () => {
    const gateway = runner.pods.get(`${SDEP}-gateway`);
    assert.ok(gateway !== undefined, context());
    // `curl -X POST http://<ingress>/seldon/seldon/iris-model/api/v1.0/predictions -H 'Content-Type: application/json' -d '{ "data": { "ndarray": [[1,2,3,4]] } }'`
    const response = await fetch(`http://${gateway.address}:8000/seldon/${NAMESPACE}/${SDEP}/api/v1.0/predictions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{ "data": { "ndarray": [[1,2,3,4]] } }',
    });
    const text = await response.text();
    assert.equal(response.status, 200, text + context());
    const reply = JSON.parse(text) as { data: { ndarray: number[][] }; meta: { requestPath: Record<string, string> } };
    assert.deepEqual(reply.data.ndarray, sklearnPredictProba([[1, 2, 3, 4]]));
    assert.deepEqual(Object.keys(reply.meta.requestPath), ['classifier']);
    assert.match(response.headers.get('seldon-puid') ?? '', /^\S+$/);
  });

  test("the SeldonDeployment's address (what Knative resolves) answers the same prediction at the predictor's executor", async () => {
    const sdep = await client.get(SELDON_DEPLOYMENTS, NAMESPACE, SDEP);
    const url = new URL((sdep?.status as { address: { url: string } }).address.url);
    const at = runner.resolve(url.hostname, Number(url.port), runner.pods.get(`${SDEP}-gateway`)!);
    assert.ok(at !== undefined, context());
    const response = await fetch(`http://${at.host}:${at.port}${url.pathname}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"data":{"ndarray":[[5.1,3.5,1.4,0.2]]}}' });
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { data: { ndarray: number[][] } }).data.ndarray, sklearnPredictProba([[5.1, 3.5, 1.4, 0.2]]));
  });
});
