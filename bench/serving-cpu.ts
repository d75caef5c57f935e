/**
 * CPU time per request of the TypeScript no-op model, which a machine shared with other work
 * disturbs much less than requests per second: `node --import tsx bench/serving-cpu.ts [dir…]`
 * starts `trantor up` of each built checkout given (default: this one; `npm run build` first) with
 * the no-op model in process and in its own process, drives each with wrk at 16 connections, and
 * divides the user + system time the processes spent (from `/proc/<pid>/stat`) by the requests
 * answered. The checkouts take turns, round after round (`BENCH_ROUNDS`, default 3;
 * `BENCH_SECONDS` per measurement, default 5), so drift on the machine falls on each alike.
 * Linux only (it reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { load } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
const TICKS_PER_SECOND = 100;

/** User + system CPU of a process so far, in µs. */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
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
  const child = spawn(process.execPath, [trantor, 'up', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
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

/** µs of CPU per request for the control plane and the component host during one wrk run. */
async function measure(c: Contender, name: string): Promise<{ up: number; host: number }> {
  const url = `${c.gateway}/seldon/default/${name}/api/v1.0/predictions`;
  await load({ url, body: BODY, connections: CONNECTIONS, seconds: 1 });
  const up0 = cpuMicros(c.child.pid!);
  const host0 = cpuMicros(c.host);
  const { requests, errors } = await load({ url, body: BODY, connections: CONNECTIONS, seconds: SECONDS });
  if (errors > 0) throw new Error(`${errors} errors from ${url}`);
  return { up: (cpuMicros(c.child.pid!) - up0) / requests, host: (cpuMicros(c.host) - host0) / requests };
}

const dirs = process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : [ROOT];
const contenders: Contender[] = [];
try {
  for (const dir of dirs) contenders.push(await start(dir));
  const fmt = (n: number): string => n.toFixed(1);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const inProcess = await measure(c, 'noop-in-process');
      const own = await measure(c, 'noop');
      console.log(`${c.dir}: in process ${fmt(inProcess.up)} µs; own process ${fmt(own.up)} µs control plane + ${fmt(own.host)} µs host`);
    }
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
