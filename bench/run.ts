/**
 * `npm run bench`: every contender in one run, so the figures are ratios on the same machine
 * at the same moment. Starts a bare node:http server (the ceiling), then `trantor up` in a
 * temporary home with the iris example and a TypeScript no-op model, and drives each with
 * autocannon at 16 keep-alive connections. Prints a table; copy it into docs/benchmarks.md.
 * Then the eventing figures (bench/eventing.ts) against the same `trantor up`, in a second table,
 * and the graph figures (bench/graphs.ts: what a hop costs, what adaptive batching gains) in a third.
 * Every process it starts, and the temporary home, are removed at the end, on failure too, and
 * on Ctrl-C or SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { benchEventing, formatEventing } from './eventing.ts';
import { GRAPH_MANIFESTS, benchGraphs, formatGraphs } from './graphs.ts';

const ROOT = join(import.meta.dirname, '..');
const DURATION_S = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const EVENT_SECONDS = Number(process.env['BENCH_EVENT_SECONDS'] ?? DURATION_S);
const EVENT_RATE = Number(process.env['BENCH_EVENT_RATE'] ?? 1000);
const EVENT_RATE_SECONDS = Number(process.env['BENCH_EVENT_RATE_SECONDS'] ?? 5);
const GRAPH_SECONDS = Number(process.env['BENCH_GRAPH_SECONDS'] ?? Math.min(DURATION_S, 5));
const TRANTOR = join(ROOT, 'bin', 'trantor.js');
const IRIS_BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';

interface Row {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

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

async function load(name: string, url: string, body: string): Promise<Row> {
  // A short warm-up so JIT and connection set-up do not count.
  await autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration: 2 });
  const result = await autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration: DURATION_S });
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'trantor-bench-'));
  const env = { ...process.env, TRANTOR_HOME: home };
  const children: { child: ChildProcess; group: boolean }[] = [];
  let cleaned: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaned ??= (async () => {
      // The control plane last: it answers SIGTERM by stopping its models and closing the store.
      await Promise.all(children.filter((c) => !c.group).map((c) => stop(c.child, false, 5_000)));
      await Promise.all(children.filter((c) => c.group).map((c) => stop(c.child, true, 20_000)));
      rmSync(home, { recursive: true, force: true });
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
  try {
    const barePort = await startServer('bare-server.mjs');

    // Its own process group, so that the model servers it starts go with it whatever happens.
    const up = spawn(process.execPath, [TRANTOR, 'up', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push({ child: up, group: true });
    const gateway = (await waitForLine(up, /^gateway: (http:\/\/\S+)/, 30_000))[1]!;
    for (const manifest of ['examples/iris/iris.yaml', 'examples/noop-ts/noop.yaml', 'examples/noop-ts/noop-in-process.yaml']) {
      await run(process.execPath, [TRANTOR, 'apply', '-f', join(ROOT, manifest), '--wait'], env);
    }
    for (const manifest of GRAPH_MANIFESTS) await run(process.execPath, [TRANTOR, 'apply', '-f', manifest, '--wait'], env);

    const rows: Row[] = [];
    rows.push(await load('bare node:http (ceiling)', `http://127.0.0.1:${barePort}/`, IRIS_BODY));
    rows.push(await load('iris SKLEARN_SERVER via gateway', `${gateway}/seldon/seldon/iris-model/api/v1.0/predictions`, IRIS_BODY));
    rows.push(await load('TypeScript no-op model via gateway (own process)', `${gateway}/seldon/default/noop/api/v1.0/predictions`, IRIS_BODY));
    rows.push(await load('TypeScript no-op model via gateway (in process)', `${gateway}/seldon/default/noop-in-process/api/v1.0/predictions`, IRIS_BODY));

    const ceiling = rows[0]!.requestsPerSecond;
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    console.log(`\n${machine}; ${CONNECTIONS} connections, ${DURATION_S} s each, ${new Date().toISOString().slice(0, 10)}\n`);
    console.log('| contender | requests/s | p50 ms | p99 ms | vs ceiling | errors |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.name} | ${Math.round(r.requestsPerSecond)} | ${r.p50} | ${r.p99} | ${((100 * r.requestsPerSecond) / ceiling).toFixed(0)}% | ${r.errors} |`);
    }

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

    const graphs = await benchGraphs({ gateway, seconds: GRAPH_SECONDS, connections: CONNECTIONS });
    console.log(`\n${formatGraphs(graphs)}`);
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

await main();
