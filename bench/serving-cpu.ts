/**
 * CPU time per request of the TypeScript no-op model, which a machine shared with other work
 * disturbs much less than requests per second: `node --import tsx bench/serving-cpu.ts [dir…]`
 * starts `trantor up` of each built checkout given (default: this one; `npm run build` first) with
 * the no-op model in process and in its own process, drives each with wrk at 16 connections, and
 * divides the user + system time the processes spent (from `/proc/<pid>/stat`) by the requests
 * answered; the user time alone is printed too (the JavaScript's share: the kernel's loopback
 * work, which other load on the machine moves most, is system time). The checkouts take turns,
 * round after round (`BENCH_ROUNDS`, default 3; `BENCH_SECONDS` per measurement, default 5), so
 * drift on the machine falls on each alike; `BENCH_PIN=1` pins them (see PIN). Linux only (it
 * reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { load } from './wrk.ts';
import { median } from './median.ts';

const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
/**
 * `BENCH_PIN=1`: every `trantor up` (and its component hosts) on CPU 0, wrk on CPU 1, with
 * `taskset`. Unpinned, each process keeps the core it first landed on, which favours whichever
 * checkout happened to land away from wrk, round after round.
 */
const PIN = process.env['BENCH_PIN'] === '1';
const TICKS_PER_SECOND = 100;

interface Cpu {
  /** User and system CPU time, in µs. */
  user: number;
  system: number;
}

/** A process's CPU time so far. */
function cpuOf(pid: number): Cpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1e6) / TICKS_PER_SECOND, system: (Number(fields[12]) * 1e6) / TICKS_PER_SECOND };
}

/** CPU µs per request between two readings: user + system, and user alone (JavaScript's share; the kernel's loopback work, which other load on the machine moves most, is system time). */
interface PerRequest {
  total: number;
  user: number;
}

function perRequest(before: Cpu, after: Cpu, requests: number): PerRequest {
  const user = (after.user - before.user) / requests;
  return { total: user + (after.system - before.system) / requests, user };
}

/** The process, among `parent`'s descendants, whose command line holds `text`. */
function descendantWith(parent: number, text: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) return Number(entry);
      const deeper = descendantWith(Number(entry), text);
      if (deeper !== undefined) return deeper;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

interface Contender {
  dir: string;
  child: ChildProcess;
  home: string;
  gateway: string;
  host: number;
}

async function start(dir: string): Promise<Contender> {
  const home = mkdtempSync(join(tmpdir(), 'trantor-cpu-'));
  const trantor = join(dir, 'bin', 'trantor.js');
  const env = { ...process.env, TRANTOR_HOME: home };
  const command = [process.execPath, trantor, 'up', '--port', '0'];
  if (PIN) command.unshift('taskset', '-c', '0');
  const child = spawn(command[0]!, command.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const gateway = await new Promise<string>((done, fail) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^gateway: (http:\/\/\S+)/.exec(line);
      if (match) done(match[1]!);
    });
    child.once('exit', (code) => fail(new Error(`trantor up exited with ${code}`)));
  });
  for (const manifest of ['noop.yaml', 'noop-in-process.yaml']) await run(process.execPath, [trantor, 'apply', '-f', join(dir, 'examples', 'noop-ts', manifest), '--wait'], env);
  const host = descendantWith(child.pid!, 'NoopModel');
  if (host === undefined) throw new Error('the no-op model host process was not found');
  return { dir, child, home, gateway, host };
}

/** CPU per request of the control plane and the component host during one wrk run. */
async function measure(c: Contender, name: string): Promise<{ up: PerRequest; host: PerRequest }> {
  const url = `${c.gateway}/seldon/default/${name}/api/v1.0/predictions`;
  await load({ url, body: BODY, connections: CONNECTIONS, seconds: 1 });
  const up0 = cpuOf(c.child.pid!);
  const host0 = cpuOf(c.host);
  const { requests, errors } = await load({ url, body: BODY, connections: CONNECTIONS, seconds: SECONDS });
  if (errors > 0) throw new Error(`${errors} errors from ${url}`);
  return { up: perRequest(up0, cpuOf(c.child.pid!), requests), host: perRequest(host0, cpuOf(c.host), requests) };
}

// wrk, started by this process, inherits its CPU.
if (PIN) await run('taskset', ['-p', '-c', '1', String(process.pid)], process.env);
const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [ROOT];
// Started in the order A B … B A: a process started early was measured cheaper than the same
// build started later, so each checkout gets one of each.
const starts = dirs.length > 1 ? [...dirs, ...[...dirs].reverse()] : dirs;
const contenders: Contender[] = [];
const figures = new Map<string, { inProcess: number[]; controlPlane: number[]; host: number[] }>();
try {
  for (const dir of starts) contenders.push(await start(dir));
  const fmt = (n: PerRequest): string => `${n.total.toFixed(1)} µs (user ${n.user.toFixed(1)})`;
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const inProcess = await measure(c, 'noop-in-process');
      const own = await measure(c, 'noop');
      console.log(`${c.dir}: in process ${fmt(inProcess.up)}; own process ${fmt(own.up)} control plane + ${fmt(own.host)} host`);
      const f = figures.get(c.dir) ?? { inProcess: [], controlPlane: [], host: [] };
      f.inProcess.push(inProcess.up.total);
      f.controlPlane.push(own.up.total);
      f.host.push(own.host.total);
      figures.set(c.dir, f);
    }
  }
  console.log('\nmedians, CPU µs per request (user + system):');
  for (const [dir, f] of figures) {
    console.log(`${dir}: in process ${median(f.inProcess).toFixed(1)}; own process ${median(f.controlPlane).toFixed(1)} control plane + ${median(f.host).toFixed(1)} host`);
  }
} finally {
  for (const c of contenders) {
    try {
      process.kill(-c.child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    rmSync(c.home, { recursive: true, force: true });
  }
}
