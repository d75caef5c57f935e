/**
 * `npm run bench`: every contender in one run, so the figures are ratios on the same machine
 * at the same moment. Starts a bare node:http server (the ceiling), then `trantor up` in a
 * temporary home with the iris example and a TypeScript no-op model, and drives each with
 * wrk (bench/wrk.ts; autocannon where wrk is missing) at 16 keep-alive connections. Prints a
 * table; copy it into docs/benchmarks.md.
 * Then the same serving contenders against a build of the previous commit, started beside it
 * (bench/baseline.ts: `BENCH_BASELINE=<ref>`, or `none`), as ratios; the eventing figures
 * (bench/eventing.ts) against the same `trantor up`; the broker's durable ingress with each
 * durability (a second `trantor up --durability fsync`); and the graph figures (bench/graphs.ts:
 * what a hop costs, what adaptive batching gains), and the Python host with `--workers 2` beside one
 * worker (bench/workers.ts). Every process it starts, and the temporary
 * folders, are removed at the end, on failure too, and on Ctrl-C or SIGTERM.
 *
 * Then model downloads (bench/storage.ts: a 200 MB model from versitygw on loopback through the
 * fetcher, beside curl and `aws s3 cp`), then gRPC and V2 beside MLServer (bench/grpc-v2.ts: its own
 * `trantor up`, then MLServer alone).
 * Last, the operator at scale against a real kube-apiserver (bench/kube-reconcile.ts), when the
 * Kubernetes tier's binaries are present (else it says why it is skipped).
 *
 * `BENCH_SECONDS=2` makes a short run to check the bench itself works; `BENCH_ONLY=serving` stops
 * after the serving table (and the baseline comparison); `BENCH_ONLY=kube` runs only the operator part;
 * `BENCH_ONLY=grpc-v2` only gRPC and V2 beside MLServer; `BENCH_ONLY=storage` only the model downloads;
 * `BENCH_ONLY=sklearn-onnx` only scikit-learn as ONNX (bench/sklearn-onnx.ts: the Python host, ONNX in
 * the Node host and in process, Seldon's wrapper); `BENCH_ONLY=dashboard` only what an open dashboard
 * costs the gateway (bench/dashboard.ts: its own `trantor up`, with and without the live feed read).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBaseline, compareServing, formatComparison } from './baseline.ts';
import { benchDashboard, formatDashboard } from './dashboard.ts';
import { benchDurability, benchEventing, formatDurability, formatEventing } from './eventing.ts';
import { benchKubeReconcile, formatKubeReconcile } from './kube-reconcile.ts';
import { GRAPH_MANIFESTS, benchGraphs, formatGraphs } from './graphs.ts';
import { benchGrpcV2, formatGrpcV2 } from './grpc-v2.ts';
import { benchStorage, formatStorage, storageOptions } from './storage.ts';
import { benchSklearnOnnx, formatSklearnOnnx } from './sklearn-onnx.ts';
import { benchWorkers, formatWorkers } from './workers.ts';
import { formatServing, measureServing } from './serving-table.ts';
import { load as generate, loadGenerator } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..');
const DURATION_S = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const EVENT_SECONDS = Number(process.env['BENCH_EVENT_SECONDS'] ?? DURATION_S);
const EVENT_RATE = Number(process.env['BENCH_EVENT_RATE'] ?? 1000);
const EVENT_RATE_SECONDS = Number(process.env['BENCH_EVENT_RATE_SECONDS'] ?? 5);
const GRAPH_SECONDS = Number(process.env['BENCH_GRAPH_SECONDS'] ?? Math.min(DURATION_S, 5));
const WORKERS_SECONDS = Number(process.env['BENCH_WORKERS_SECONDS'] ?? Math.min(DURATION_S, 5));
const SERVING_ROUNDS = Number(process.env['BENCH_SERVING_ROUNDS'] ?? 3);
const SERVING_SECONDS = Number(process.env['BENCH_SERVING_SECONDS'] ?? Math.min(DURATION_S, 5));
const BASELINE = process.env['BENCH_BASELINE'] ?? 'HEAD~1';
const BASELINE_ROUNDS = Number(process.env['BENCH_BASELINE_ROUNDS'] ?? 3);
const BASELINE_SECONDS = Number(process.env['BENCH_BASELINE_SECONDS'] ?? Math.min(DURATION_S, 5));
const SERVING_ONLY = process.env['BENCH_ONLY'] === 'serving';
const KUBE_ONLY = process.env['BENCH_ONLY'] === 'kube';
const GRPC_V2_ONLY = process.env['BENCH_ONLY'] === 'grpc-v2';
const STORAGE_ONLY = process.env['BENCH_ONLY'] === 'storage';
const SKLEARN_ONNX_ONLY = process.env['BENCH_ONLY'] === 'sklearn-onnx';
const DASHBOARD_ONLY = process.env['BENCH_ONLY'] === 'dashboard';
const DASHBOARD_ROUNDS = Number(process.env['BENCH_DASHBOARD_ROUNDS'] ?? 5);
const DASHBOARD_SECONDS = Number(process.env['BENCH_DASHBOARD_SECONDS'] ?? Math.min(DURATION_S, 5));
const KUBE_COUNT = Number(process.env['BENCH_KUBE_COUNT'] ?? 100);
const KUBE_STEADY_SECONDS = Number(process.env['BENCH_KUBE_STEADY_SECONDS'] ?? 30);
const TRANTOR = join(ROOT, 'bin', 'trantor.js');
const IRIS_BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}`)), timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = pattern.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => reject(new Error(`process exited with ${code} before printing ${pattern}`)));
  });
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

/** Runs a command and resolves with its stdout (stderr passes through). */
function capture(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const out = Buffer.concat(chunks).toString('utf8');
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Stops a child: SIGTERM, then SIGKILL after `graceMs`. A child started detached leads its own
 * process group, and the whole group (its own children, e.g. model servers) is signalled.
 */
async function stop(child: ChildProcess, group: boolean, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // already gone
    }
  };
  if (!hasExited(child)) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signal('SIGTERM');
    const inTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!inTime) {
      signal('SIGKILL');
      await Promise.race([exited, sleep(2_000)]);
    }
  }
  // Whatever the group leader left behind.
  if (group) signal('SIGKILL');
}

/** The operator at scale, printed; it starts and stops its own API server. */
async function kube(): Promise<void> {
  const report = await benchKubeReconcile(KUBE_COUNT, KUBE_STEADY_SECONDS);
  if (report !== undefined) console.log(`\n${formatKubeReconcile(report)}`);
}

/** gRPC and V2 beside MLServer, printed; it starts and stops its own servers. */
async function grpcV2(): Promise<void> {
  console.log(`\n${formatGrpcV2(await benchGrpcV2({ seconds: DURATION_S, connections: CONNECTIONS }))}`);
}

/** A 200 MB model's download from a loopback S3 server, printed; it starts and stops its own server. */
async function storage(): Promise<void> {
  console.log(`\n${formatStorage(await benchStorage(storageOptions(process.env)))}`);
}

/** What an open dashboard costs the gateway, printed; it starts and stops its own `trantor up`. */
async function dashboard(): Promise<void> {
  console.log(`\n${formatDashboard(await benchDashboard({ seconds: DASHBOARD_SECONDS, connections: CONNECTIONS, rounds: DASHBOARD_ROUNDS }))}`);
}

/** scikit-learn as ONNX beside the Python host and Seldon's wrapper, printed; it starts and stops its own servers. */
async function sklearnOnnx(): Promise<void> {
  console.log(`\n${formatSklearnOnnx(await benchSklearnOnnx({ seconds: DURATION_S, connections: CONNECTIONS }))}`);
}

async function main(): Promise<void> {
  if (KUBE_ONLY) return kube();
  if (STORAGE_ONLY) return storage();
  if (GRPC_V2_ONLY || SKLEARN_ONNX_ONLY || DASHBOARD_ONLY) {
    // Exiting runs the section's hook that stops what it started.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
    return GRPC_V2_ONLY ? grpcV2() : SKLEARN_ONNX_ONLY ? sklearnOnnx() : dashboard();
  }
  const scratch = mkdtempSync(join(tmpdir(), 'trantor-bench-'));
  const home = join(scratch, 'home');
  const env = { ...process.env, TRANTOR_HOME: home };
  const children: { child: ChildProcess; group: boolean }[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaned ??= (async () => {
      // The control planes last: each answers SIGTERM by stopping its models and closing its store.
      await Promise.all(children.filter((c) => !c.group).map((c) => stop(c.child, false, 5_000)));
      await Promise.all(children.filter((c) => c.group).map((c) => stop(c.child, true, 20_000)));
      rmSync(scratch, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`${signal}: stopping the benchmark`);
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const startServer = async (script: string): Promise<number> => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', script)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push({ child, group: false });
    return Number((await waitForLine(child, /^listening (\d+)/, 10_000))[1]);
  };
  /** `trantor up` of `trantorJs` in `upHome`, in its own process group so its model servers go with it whatever happens. */
  const startUp = async (trantorJs: string, upHome: string, args: string[] = []): Promise<string> => {
    const child = spawn(process.execPath, [trantorJs, 'up', '--port', '0', ...args], { env: { ...process.env, TRANTOR_HOME: upHome }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push({ child, group: true });
    return (await waitForLine(child, /^gateway: (http:\/\/\S+)/, 60_000))[1]!;
  };
  try {
    // Built first, so the build's CPU does not fall on any measurement.
    let baseline: { commit: string; gateway: string } | undefined;
    if (BASELINE !== 'none') {
      const dir = join(scratch, 'baseline');
      console.log(`building the baseline ${BASELINE} in ${dir}`);
      const commit = await buildBaseline(ROOT, BASELINE, dir);
      const baselineHome = join(scratch, 'baseline-home');
      const baselineTrantor = join(dir, 'bin', 'trantor.js');
      const gatewayUrl = await startUp(baselineTrantor, baselineHome);
      for (const manifest of ['examples/iris/iris.yaml', 'examples/noop-ts/noop-in-process.yaml']) {
        await run(process.execPath, [baselineTrantor, 'apply', '-f', join(dir, manifest), '--wait'], { ...process.env, TRANTOR_HOME: baselineHome });
      }
      baseline = { commit, gateway: gatewayUrl };
    }

    const barePort = await startServer('bare-server.mjs');
    const gateway = await startUp(TRANTOR, home);
    const fsyncHome = join(scratch, 'fsync-home');
    const fsyncGateway = SERVING_ONLY ? '' : await startUp(TRANTOR, fsyncHome, ['--durability', 'fsync']);
    for (const manifest of ['examples/iris/iris.yaml', 'examples/noop-ts/noop.yaml', 'examples/noop-ts/noop-in-process.yaml']) {
      await run(process.execPath, [TRANTOR, 'apply', '-f', join(ROOT, manifest), '--wait'], env);
    }
    if (!SERVING_ONLY) for (const manifest of GRAPH_MANIFESTS) await run(process.execPath, [TRANTOR, 'apply', '-f', manifest, '--wait'], env);

    const rows = await measureServing(
      { name: 'bare node:http (ceiling)', url: `http://127.0.0.1:${barePort}/` },
      [
        { name: 'iris SKLEARN_SERVER via gateway', url: `${gateway}/seldon/seldon/iris-model/api/v1.0/predictions`, target: 'iris' },
        { name: 'TypeScript no-op model via gateway (own process)', url: `${gateway}/seldon/default/noop/api/v1.0/predictions`, target: 'own-process' },
        { name: 'TypeScript no-op model via gateway (in process)', url: `${gateway}/seldon/default/noop-in-process/api/v1.0/predictions`, target: 'in-process' },
      ],
      { body: IRIS_BODY, connections: CONNECTIONS, seconds: SERVING_SECONDS, rounds: SERVING_ROUNDS, warmUpSeconds: 2 },
      generate,
    );
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    console.log(`\n${machine}; ${loadGenerator()}, ${CONNECTIONS} connections, ${SERVING_ROUNDS} rounds of ${SERVING_SECONDS} s each (the ceiling, then each contender), medians, ${new Date().toISOString().slice(0, 10)}\n`);
    console.log(formatServing(rows));

    if (baseline !== undefined) {
      const path = (namespace: string, name: string): string => `/seldon/${namespace}/${name}/api/v1.0/predictions`;
      const pairs = [
        { name: 'iris SKLEARN_SERVER via gateway', url: `${gateway}${path('seldon', 'iris-model')}`, baselineUrl: `${baseline.gateway}${path('seldon', 'iris-model')}` },
        { name: 'TypeScript no-op model via gateway (in process)', url: `${gateway}${path('default', 'noop-in-process')}`, baselineUrl: `${baseline.gateway}${path('default', 'noop-in-process')}` },
      ];
      const comparison = await compareServing(pairs, { body: IRIS_BODY, connections: CONNECTIONS, seconds: BASELINE_SECONDS, rounds: BASELINE_ROUNDS });
      console.log(`\n${formatComparison(comparison, { ref: BASELINE, commit: baseline.commit, connections: CONNECTIONS, seconds: BASELINE_SECONDS, rounds: BASELINE_ROUNDS })}`);
    }
    if (SERVING_ONLY) return;

    const report = await benchEventing({
      gateway,
      workDir: home,
      trantor: (args) => capture(process.execPath, [TRANTOR, ...args], env),
      startServer,
      seconds: EVENT_SECONDS,
      connections: CONNECTIONS,
      rate: EVENT_RATE,
      rateSeconds: EVENT_RATE_SECONDS,
    });
    console.log(`\n${formatEventing(report, CONNECTIONS, EVENT_SECONDS)}`);

    const durability = [];
    for (const [mode, url, upHome] of [['process', gateway, home], ['fsync', fsyncGateway, fsyncHome]] as const) {
      const upEnv = { ...process.env, TRANTOR_HOME: upHome };
      durability.push(
        await benchDurability(
          { durability: mode, gateway: url, database: join(upHome, 'broker', 'events.db'), workDir: scratch, trantor: (args) => capture(process.execPath, [TRANTOR, ...args], upEnv) },
          EVENT_SECONDS,
          CONNECTIONS,
        ),
      );
    }
    console.log(`\n${formatDurability(durability, CONNECTIONS, EVENT_SECONDS)}`);

    const graphs = await benchGraphs({ gateway, seconds: GRAPH_SECONDS, connections: CONNECTIONS });
    console.log(`\n${formatGraphs(graphs)}`);

    // Last, after the control planes' figures: the Python host's --workers, at the host directly.
    console.log(`\n${formatWorkers(await benchWorkers(WORKERS_SECONDS, CONNECTIONS), CONNECTIONS, WORKERS_SECONDS)}`);

    // After every control plane is stopped, so that each has the machine to itself.
    await cleanUp();
    await storage();
    await grpcV2();
    await sklearnOnnx();
    await dashboard();
    await kube();
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

await main();
