/**
 * Where a gRPC call's time goes at the gateway, in CPU µs per request (which a shared machine
 * disturbs less than requests per second) and requests/s: the floors, servers that answer a fixed
 * reply and do nothing else (bare node:http under wrk; a bare grpc-js server and a bare node:http2
 * handler framing gRPC by hand, both under ghz with the same call), then `trantor up` (this
 * checkout's build: `npm run build` first) with the in-process no-op model over Seldon REST and
 * Seldon gRPC on the gateway's port, so the gateway's own gRPC cost shows without a model host,
 * then the no-op in its own process (the Node component host) over REST and, with
 * `spec.transport: grpc`, over gRPC end to end (gateway and executor to host); the CPU figure is
 * the control plane's alone.
 * `node --import tsx bench/grpc-floor.ts`; BENCH_SECONDS (5), BENCH_ROUNDS (2), BENCH_CONNECTIONS
 * (16), BENCH_ONLY_FLOORS=1 for the floors alone. Linux only (reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { toProto } from '../src/protocol/index.ts';
import { grpcLoad, type GrpcCall } from './grpc-load.ts';
import { load, type LoadFigures } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
const TICKS_PER_SECOND = 100;
/** The iris model's answer, as the floors' fixed reply. */
const REPLY = {
  data: { names: ['t:0', 't:1', 't:2'], ndarray: [[0.0008, 0.1276, 0.8715]] },
  meta: { puid: 'a'.repeat(26), requestPath: { classifier: 'SKLEARN_SERVER' } },
};
const REPLY_HEX = Buffer.from(toProto('SeldonMessage', REPLY)).toString('hex');

/** User + system CPU µs of a process so far. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}

function firstLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((done, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = pattern.exec(line);
      if (match) done(match[1]!);
    });
    child.once('exit', (code) => fail(new Error(`${child.spawnargs.join(' ')} exited with ${code}`)));
  });
}

function seldonCall(target: string, metadata: Record<string, string>): GrpcCall {
  const json = JSON.parse(BODY) as Record<string, unknown>;
  return {
    target,
    method: 'seldon.protos.Seldon/Predict',
    json,
    bytes: toProto('SeldonMessage', json),
    protoFile: join(ROOT, 'src', 'protocol', 'grpc', 'seldon.proto'),
    importPaths: [join(ROOT, 'src', 'protocol', 'grpc')],
    metadata,
  };
}

interface Target {
  name: string;
  pid: number;
  run(seconds: number): Promise<LoadFigures>;
}

async function measure(target: Target): Promise<string> {
  await target.run(1);
  const before = cpuOf(target.pid);
  const figures = await target.run(SECONDS);
  const cpu = (cpuOf(target.pid) - before) / figures.requests;
  if (figures.errors > 0) return `${target.name}: ${figures.errors} errors`;
  return `${target.name.padEnd(44)} ${figures.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${String(figures.p50).padStart(5)} ms  ${cpu.toFixed(1).padStart(6)} µs CPU/request`;
}

const children: ChildProcess[] = [];
const homes: string[] = [];
try {
  const targets: Target[] = [];
  for (const [name, args] of [['bare node:http (REST floor)', [join(ROOT, 'bench', 'bare-server.mjs')]], ['bare grpc-js server', [join(ROOT, 'bench', 'grpc-floor-server.mjs'), 'grpc-js', REPLY_HEX]], ['bare node:http2 gRPC handler', [join(ROOT, 'bench', 'grpc-floor-server.mjs'), 'http2', REPLY_HEX]]] as const) {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push(child);
    const port = await firstLine(child, /^listening (\d+)/);
    const rest = name.includes('REST');
    targets.push({
      name,
      pid: child.pid!,
      run: (seconds) => (rest ? load({ url: `http://127.0.0.1:${port}/`, body: BODY, connections: CONNECTIONS, seconds }) : grpcLoad(seldonCall(`127.0.0.1:${port}`, {}), { concurrency: CONNECTIONS, seconds })),
    });
  }
  if (process.env['BENCH_ONLY_FLOORS'] !== '1') {
    const home = mkdtempSync(join(tmpdir(), 'trantor-grpc-floor-'));
    homes.push(home);
    const env = { ...process.env, TRANTOR_HOME: home };
    const up = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'up', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    children.push(up);
    const gateway = await firstLine(up, /^gateway: (http:\/\/\S+)/);
    const apply = (manifest: string): Promise<void> =>
      new Promise<void>((done, fail) => {
        const child = spawn(process.execPath, [join(ROOT, 'bin', 'trantor.js'), 'apply', '-f', manifest, '--wait'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
        child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`apply ${manifest} exited with ${code}`))));
      });
    const noop = join(ROOT, 'examples', 'noop-ts');
    await apply(join(noop, 'noop-in-process.yaml'));
    await apply(join(noop, 'noop.yaml'));
    // The same own-process no-op, every node called over gRPC.
    const overGrpc = join(home, 'noop-grpc.yaml');
    writeFileSync(overGrpc, readFileSync(join(noop, 'noop.yaml'), 'utf8').replace('name: noop\n  namespace', 'name: noop-grpc\n  namespace').replace('spec:\n', 'spec:\n  transport: grpc\n').replace('workingDir: ./', `workingDir: ${JSON.stringify(noop)}`));
    await apply(overGrpc);
    targets.push({ name: 'gateway, in-process no-op, Seldon REST', pid: up.pid!, run: (seconds) => load({ url: `${gateway}/seldon/default/noop-in-process/api/v1.0/predictions`, body: BODY, connections: CONNECTIONS, seconds }) });
    targets.push({ name: 'gateway, in-process no-op, Seldon gRPC', pid: up.pid!, run: (seconds) => grpcLoad(seldonCall(new URL(gateway).host, { seldon: 'noop-in-process', namespace: 'default' }), { concurrency: CONNECTIONS, seconds }) });
    targets.push({ name: 'gateway, own-process no-op, REST all the way', pid: up.pid!, run: (seconds) => load({ url: `${gateway}/seldon/default/noop/api/v1.0/predictions`, body: BODY, connections: CONNECTIONS, seconds }) });
    targets.push({ name: 'gateway, own-process no-op, gRPC all the way', pid: up.pid!, run: (seconds) => grpcLoad(seldonCall(new URL(gateway).host, { seldon: 'noop-grpc', namespace: 'default' }), { concurrency: CONNECTIONS, seconds }) });
  }
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`round ${round + 1}`);
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) console.log(`  ${await measure(target)}`);
  }
} finally {
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const home of homes) rmSync(home, { recursive: true, force: true });
}
