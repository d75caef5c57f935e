/**
 * `npm run bench`: every contender in one run, so the figures are ratios on the same machine
 * at the same moment. Starts a bare node:http server (the ceiling), then `trantor up` in a
 * temporary home with the iris example and a TypeScript no-op model, and drives each with
 * autocannon at 16 keep-alive connections. Prints a table; copy it into docs/benchmarks.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const ROOT = join(import.meta.dirname, '..');
const DURATION_S = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
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
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
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
  const children: ChildProcess[] = [];
  try {
    const bare = spawn(process.execPath, [join(ROOT, 'bench', 'bare-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(bare);
    const barePort = (await waitForLine(bare, /^listening (\d+)/, 10_000))[1];

    const up = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'up', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(up);
    const gateway = (await waitForLine(up, /^gateway: (http:\/\/\S+)/, 30_000))[1]!;
    for (const manifest of ['examples/iris/iris.yaml', 'examples/noop-ts/noop.yaml', 'examples/noop-ts/noop-in-process.yaml']) {
      await run(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'apply', '-f', join(ROOT, manifest), '--wait'], env);
    }

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
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    try {
      const info = JSON.parse(readFileSync(join(home, 'control-plane.json'), 'utf8')) as { pid: number };
      process.kill(info.pid, 0);
    } catch {
      // already gone
    }
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
