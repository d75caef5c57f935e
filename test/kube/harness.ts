/**
 * A real Kubernetes API server for tests, without Docker: Debian's etcd plus a kube-apiserver built
 * from the Go module proxy by scripts/kube/build.sh, both on loopback ports of their own, started the
 * way controller-runtime's envtest starts them. No kubelet, scheduler or controller-manager: nothing
 * runs pods, collects garbage or finishes deleting a namespace (docs/testing.md, "Kubernetes tier").
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Agent, request } from 'undici';

export const ROOT = join(import.meta.dirname, '..', '..');

/** scripts/kube/versions.env: the one place the tier's versions are written. */
function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, 'scripts', 'kube', 'versions.env'), 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) out[match[1]!] = match[2]!;
  }
  return out;
}

export const KUBE_VERSION = versions().KUBE_VERSION!;
const CACHE = process.env.TRANTOR_KUBE_CACHE ?? join(homedir(), '.cache', 'trantor-k8s');

export interface KubeBinaries {
  apiserver: string;
  etcd: string;
  helm: string;
  /** Helm 3, beside `helm` (Helm 4): the chart is proven under both. */
  helm3: string;
  kubectl: string;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/**
 * Where the tier's binaries are, or why it cannot run: the message names the missing binary and the
 * command that provides it. Under CI (.ci/run provides them all) a missing binary is a failure.
 */
export function findBinaries(): KubeBinaries | { missing: string } {
  const layer = versions().KUBECTL_LAYER!.replace(/^.*@/, '');
  const apiserver = process.env.TRANTOR_KUBE_APISERVER ?? join(CACHE, KUBE_VERSION, 'kube-apiserver');
  const etcd = process.env.TRANTOR_ETCD ?? onPath('etcd');
  const helm = join(CACHE, layer, 'helm');
  const kubectl = join(CACHE, layer, 'kubectl');
  const helm3 = join(CACHE, `helm-${versions().HELM3_VERSION!}`, 'helm');
  if (!existsSync(apiserver)) return { missing: `no kube-apiserver at ${apiserver}: build it with \`bash scripts/kube/build.sh\` (about 6 minutes)` };
  if (etcd === undefined) return { missing: 'no etcd on PATH: install it with `apt-get install -y etcd-server`' };
  if (!existsSync(helm) || !existsSync(kubectl)) return { missing: `no helm or kubectl in ${join(CACHE, layer)}: extract them with \`bash scripts/kube/tools.sh\`` };
  if (!existsSync(helm3)) return { missing: `no helm 3 at ${helm3}: extract it with \`bash scripts/kube/tools.sh\`` };
  return { apiserver, etcd, helm, helm3, kubectl };
}

/** For node:test's `skip` option: false when the tier can run, else why not (throws under CI). */
export function skipUnlessKube(): string | false {
  const found = findBinaries();
  if (!('missing' in found)) return false;
  if (process.env.CI === 'true') throw new Error(`the Kubernetes tier cannot run under CI: ${found.missing}`);
  return `Kubernetes tier skipped: ${found.missing}`;
}

export interface KubeUser {
  name: string;
  groups?: string[];
}

export interface KubeOptions {
  /** Users besides the admin, each given a bearer token (for RBAC tests); the admin is in system:masters. */
  users?: KubeUser[];
  /**
   * false serves every watch from etcd (`--watch-cache=false`), so that a watch from a compacted
   * resource version gets 410 at once; the watch cache (the default) replays what it still holds.
   */
  watchCache?: boolean;
  /** How long to wait for /readyz; the first start after a build is slow on a loaded machine. */
  readyTimeoutMs?: number;
  /** More kube-apiserver flags (e.g. an audit log). */
  apiserverArgs?: string[];
}

export interface KubeServer {
  /** https://127.0.0.1:<port> */
  url: string;
  /** The admin's bearer token (system:masters). */
  token: string;
  /** Bearer tokens of `options.users`, by user name. */
  tokens: Record<string, string>;
  /** Path of a kubeconfig for the admin (current context `trantor-test`). */
  kubeconfig: string;
  /** PEM of the CA that signed the server's serving certificate. */
  caCert: string;
  /** The API server's own serving certificate chain and key (PEM), for a test server on 127.0.0.1 (a stand-in kubelet). */
  servingKeyPair: { cert: string; key: string };
  /** Writes a kubeconfig for one of `options.users` and returns its path. */
  kubeconfigFor(user: string): string;
  /** etcd's client URL (its JSON gateway serves /v3/kv/...). */
  etcdUrl: string;
  /** Compacts etcd up to its current revision (what `etcdctl compact` does); returns that revision. */
  compact(): Promise<number>;
  /** Stops the API server, then etcd, and removes the data; safe to call twice. */
  stop(): Promise<void>;
  /** The two processes' ids. */
  pids: { etcd: number; apiserver: number };
  /** What both processes printed, for failure messages. */
  output(): string;
}

/** A free loopback port (free when asked: bind it soon). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Every process a harness started, killed when this process exits (by a signal too; by SIGKILL through setpriv). */
const running = new Set<ChildProcess>();
function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/** util-linux's setpriv: it makes the kernel kill the child when this process dies, even by SIGKILL. */
const SETPRIV = onPath('setpriv');

function start(command: string, args: string[], log: string[]): ChildProcess {
  const child = SETPRIV
    ? spawn(SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const keep = (chunk: Buffer): void => {
    log.push(chunk.toString());
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A probe that gets no answer in 5 s is a failed probe, tried again until the deadline. */
const PROBE = { headersTimeout: 5_000, bodyTimeout: 5_000 };

/** Polls `probe` until it returns true; fails when the deadline passes or `dead()` says the process died. */
async function until(what: string, deadlineMs: number, probe: () => Promise<boolean>, dead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const died = dead();
    if (died !== undefined) throw new Error(`${what}: ${died}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function exitReason(child: ChildProcess, name: string, log: string[]): string | undefined {
  if (child.exitCode === null && child.signalCode === null) return undefined;
  return `${name} exited (${child.exitCode ?? child.signalCode}):\n${log.join('').slice(-4000)}`;
}

function kubeconfigText(url: string, caCert: string, user: string, token: string): string {
  // JSON is YAML: kubectl, helm and @kubernetes/client-node all read it.
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'trantor-test', cluster: { server: url, 'certificate-authority-data': Buffer.from(caCert).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'trantor-test', context: { cluster: 'trantor-test', user } }],
    'current-context': 'trantor-test',
  });
}

/** Starts etcd and kube-apiserver and resolves once /readyz answers ok. */
export async function startKube(options: KubeOptions = {}): Promise<KubeServer> {
  const found = findBinaries();
  if ('missing' in found) throw new Error(found.missing);
  const dir = mkdtempSync(join(tmpdir(), 'trantor-kube-'));
  const etcdLog: string[] = [];
  const apiLog: string[] = [];
  let etcd: ChildProcess | undefined;
  let apiserver: ChildProcess | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (apiserver) await stopProcess(apiserver, 10_000);
    if (etcd) await stopProcess(etcd, 5_000);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    etcd = start(found.etcd, [
      '--name=trantor-test',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=trantor-test=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], etcdLog);
    const etcdProcess = etcd;
    await until('etcd', 30_000, async () => {
      const response = await request(`${etcdUrl}/health`, PROBE);
      return response.statusCode === 200 && (JSON.parse(await response.body.text()) as { health?: string }).health === 'true';
    }, () => exitReason(etcdProcess, 'etcd', etcdLog));

    // The service-account signing key, and one bearer token per user (admin in system:masters).
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const token = randomBytes(24).toString('hex');
    const tokens: Record<string, string> = {};
    const rows = [`${token},admin,admin,"system:masters"`];
    for (const [i, user] of (options.users ?? []).entries()) {
      tokens[user.name] = randomBytes(24).toString('hex');
      rows.push(`${tokens[user.name]},${user.name},uid-${i + 1},"${(user.groups ?? []).join(',')}"`);
    }
    writeFileSync(join(dir, 'tokens.csv'), rows.join('\n') + '\n', { mode: 0o600 });

    const certDir = join(dir, 'certs');
    apiserver = start(found.apiserver, [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${securePort}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--authorization-mode=RBAC',
      '--disable-admission-plugins=ServiceAccount',
      // No node runs here: the "kubernetes" Service's endpoints would point at loopback, which is invalid.
      '--endpoint-reconciler-type=none',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      `--watch-cache=${options.watchCache ?? true}`,
      ...(options.apiserverArgs ?? []),
    ], apiLog);
    const apiProcess = apiserver;
    const url = `https://127.0.0.1:${securePort}`;
    // The serving certificate file holds the leaf, then the self-signed CA that signed it.
    const servingCert = join(certDir, 'apiserver.crt');
    await until('kube-apiserver certificate', 60_000, async () => Promise.resolve(existsSync(servingCert)), () => exitReason(apiProcess, 'kube-apiserver', apiLog));
    const pems = readFileSync(servingCert, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    const caCert = pems[pems.length - 1]!;
    const dispatcher = new Agent({ connect: { ca: caCert } });
    await until('kube-apiserver /readyz', options.readyTimeoutMs ?? 120_000, async () => {
      const response = await request(`${url}/readyz`, { ...PROBE, headers: { authorization: `Bearer ${token}` }, dispatcher });
      return response.statusCode === 200 && (await response.body.text()) === 'ok';
    }, () => exitReason(apiProcess, 'kube-apiserver', apiLog));
    await dispatcher.close();

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigText(url, caCert, 'admin', token), { mode: 0o600 });

    const etcdJson = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const response = await request(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`etcd ${path}: ${response.statusCode} ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };

    return {
      url,
      token,
      tokens,
      kubeconfig,
      caCert,
      servingKeyPair: { cert: readFileSync(servingCert, 'utf8'), key: readFileSync(join(certDir, 'apiserver.key'), 'utf8') },
      etcdUrl,
      kubeconfigFor(user: string): string {
        const userToken = tokens[user];
        if (userToken === undefined) throw new Error(`no user ${user}: pass it in startKube({ users })`);
        const path = join(dir, `kubeconfig-${user}`);
        writeFileSync(path, kubeconfigText(url, caCert, user, userToken), { mode: 0o600 });
        return path;
      },
      async compact(): Promise<number> {
        // Any range read reports the store's current revision in its header.
        const range = await etcdJson('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
        const revision = Number((range.header as { revision: string }).revision);
        await etcdJson('/v3/kv/compaction', { revision, physical: true });
        return revision;
      },
      stop,
      pids: { etcd: etcdProcess.pid!, apiserver: apiProcess.pid! },
      output: () => `--- etcd ---\n${etcdLog.join('')}\n--- kube-apiserver ---\n${apiLog.join('').slice(-8000)}`,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs helm or kubectl (or any binary) with the given kubeconfig; never throws on a non-zero exit. */
export function run(binary: string, args: string[], kubeconfig?: string, input?: string): { code: number; stdout: string; stderr: string } {
  const env = { ...process.env, ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}), HELM_CACHE_HOME: join(tmpdir(), 'trantor-helm-cache'), HELM_CONFIG_HOME: join(tmpdir(), 'trantor-helm-config') };
  const result = spawnSync(binary, args, { env, input, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr + (result.error ? String(result.error) : '') };
}

/** A binary run with a kubeconfig and stdin, without blocking this process; never rejects on a non-zero exit. */
export function runAsync(binary: string, args: string[], kubeconfig: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}
