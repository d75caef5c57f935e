/**
 * The gRPC load generator for the serving benches: ghz (the usual gRPC load tool, built once with
 * `go install` from the Go module proxy into a cache outside the repo), or, where Go is missing or
 * the build fails, a grpc-js client in this process: `concurrency` unary calls in flight on one
 * channel, each sending its next call when its answer arrives. Both report the client's own CPU
 * time, so a figure that the client limits shows as such (a client near 100% of a core is the
 * bottleneck, not the server).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import type { LoadFigures } from './wrk.ts';

export interface GrpcLoadFigures extends LoadFigures {
  /** The client's user + system CPU time over the window, in cores (1 = one core busy). */
  clientCpu: number;
  /** One error message, to say why a run failed. */
  firstError?: string;
}

export interface GrpcCall {
  /** host:port. */
  target: string;
  /** `package.Service/Method`. */
  method: string;
  /** The request as ghz takes it (protobuf JSON) and as bytes for the grpc-js client: the same message. */
  json: Record<string, unknown>;
  bytes: Uint8Array;
  /** The .proto file declaring `method`, and the folders its imports resolve against. */
  protoFile: string;
  importPaths: string[];
  metadata: Record<string, string>;
}

export interface GrpcLoadOptions {
  concurrency: number;
  seconds: number;
}

const GHZ_MODULE = 'github.com/bojand/ghz/cmd/ghz@v0.121.0';
const GHZ_CACHE = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'trantor-bench', 'go-bin');
/** ghz's Go scheduler gets one core, as wrk gets one thread (BENCH_WRK_THREADS). */
const GHZ_CPUS = Number(process.env['BENCH_GHZ_CPUS'] ?? 1);
/** One HTTP/2 connection carries every call, as one gRPC channel does in a client. */
const GHZ_CONNECTIONS = Number(process.env['BENCH_GHZ_CONNECTIONS'] ?? 1);

let ghz: string | null | undefined;

/** ghz without building it: `BENCH_GHZ` (a path; `none`: no ghz), one on PATH, or the cached build. */
export function ghzAtHand(): string | null {
  const chosen = process.env['BENCH_GHZ'];
  if (chosen === 'none') return null;
  if (chosen !== undefined && chosen !== '') return chosen;
  if (spawnSync('ghz', ['--version'], { stdio: 'ignore' }).status === 0) return 'ghz';
  const cached = join(GHZ_CACHE, 'ghz');
  return existsSync(cached) ? cached : null;
}

/** The ghz binary: one at hand, else built now when `go` is there. Null when there is none to be had. */
export function findGhz(): string | null {
  if (ghz !== undefined) return ghz;
  ghz = ghzAtHand();
  if (ghz !== null || process.env['BENCH_GHZ'] === 'none') return ghz;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0) return ghz;
  console.log(`building ghz (${GHZ_MODULE}) into ${GHZ_CACHE}`);
  mkdirSync(GHZ_CACHE, { recursive: true });
  const built = spawnSync('go', ['install', GHZ_MODULE], { env: { ...process.env, GOBIN: GHZ_CACHE }, stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  const cached = join(GHZ_CACHE, 'ghz');
  if (built.status !== 0 || !existsSync(cached)) {
    console.log('ghz did not build: the gRPC load comes from a grpc-js client in this process');
    return ghz;
  }
  return (ghz = cached);
}

/** The name of the gRPC load generator `grpcLoad` uses. */
export function grpcLoadGenerator(): string {
  const binary = findGhz();
  return binary === null ? 'a grpc-js client in the bench process (no ghz)' : `ghz (${GHZ_CPUS} cpu${GHZ_CPUS === 1 ? '' : 's'}, ${GHZ_CONNECTIONS} connection${GHZ_CONNECTIONS === 1 ? '' : 's'})`;
}

/** Drives `call` with `options.concurrency` calls in flight for `options.seconds`. */
export function grpcLoad(call: GrpcCall, options: GrpcLoadOptions): Promise<GrpcLoadFigures> {
  const binary = findGhz();
  return binary === null ? nodeLoad(call, options) : ghzLoad(binary, call, options);
}

/** How ghz words a call it cut itself at the end of a run. */
const CUT_OFF = /use of closed network connection|client connection is closing/;

interface GhzReport {
  count: number;
  /** Nanoseconds, as are the latencies. */
  total: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number> | null;
  errorDistribution: Record<string, number> | null;
}

/** Reads the children's user and system times that the shell's `times` prints last. */
function childTimes(text: string): number {
  const times = [...text.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return times.length >= 4 ? times[2]! + times[3]! : NaN;
}

/** Past this, the request goes to ghz as a file of its bytes: an argument that long is over the kernel's limit (128 KiB). */
const GHZ_INLINE_BYTES = 64 * 1024;

export function ghzLoad(binary: string, call: GrpcCall, options: GrpcLoadOptions): Promise<GrpcLoadFigures> {
  const data = JSON.stringify(call.json);
  let scratch: string | undefined;
  let message = ['--data', data];
  if (data.length > GHZ_INLINE_BYTES) {
    scratch = mkdtempSync(join(tmpdir(), 'trantor-ghz-'));
    writeFileSync(join(scratch, 'request.bin'), call.bytes);
    message = ['--binary-file', join(scratch, 'request.bin')];
  }
  const args = [
    '--insecure',
    '--proto', call.protoFile,
    '--import-paths', call.importPaths.join(','),
    '--call', call.method,
    ...message,
    '--metadata', JSON.stringify(call.metadata),
    '--concurrency', String(options.concurrency),
    '--connections', String(GHZ_CONNECTIONS),
    '--cpus', String(GHZ_CPUS),
    '--duration', `${options.seconds}s`,
    '--disable-template-functions',
    '--disable-template-data',
    '--format', 'json',
    call.target,
  ];
  // The shell's `times` gives ghz's own CPU time once it has exited.
  const script = '"$@"; rc=$?; times >&2; exit $rc';
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script, 'sh', binary, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
      const start = out.indexOf('{');
      if (code !== 0 || start < 0) return reject(new Error(`ghz ${args.join(' ')} exited with ${code}: ${out}${err}`));
      const report = JSON.parse(out.slice(start)) as GhzReport;
      const percentile = (p: number): number => Math.round((report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e4) / 100;
      const ok = report.statusCodeDistribution?.['OK'] ?? 0;
      // At the end of the duration ghz closes its connection under the calls still in flight and
      // counts each as an error: those (at most one per concurrent caller) are its own doing.
      const cutOff = Object.entries(report.errorDistribution ?? {})
        .filter(([message]) => CUT_OFF.test(message))
        .reduce((sum, [, n]) => sum + n, 0);
      const errors = report.count - ok - Math.min(cutOff, options.concurrency);
      const firstError = Object.keys(report.errorDistribution ?? {}).find((message) => errors > 0 && (!CUT_OFF.test(message) || cutOff > options.concurrency));
      const seconds = report.total / 1e9;
      resolve({
        requestsPerSecond: ok / seconds,
        requests: ok,
        p50: percentile(50),
        p99: percentile(99),
        errors,
        clientCpu: childTimes(err) / seconds,
        ...(firstError === undefined ? {} : { firstError }),
      });
    });
  });
}

/** The p-th percentile of sorted latencies in ms, to 0.01 ms. */
function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]! * 100) / 100;
}

/** The grpc-js client: the request pre-encoded once, answers not decoded (a status OK counts). */
export async function nodeLoad(call: GrpcCall, options: GrpcLoadOptions): Promise<GrpcLoadFigures> {
  const client = new Client(call.target, credentials.createInsecure());
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(call.metadata)) metadata.set(key, value);
  const request = Buffer.from(call.bytes);
  const path = `/${call.method}`;
  const identity = (b: Buffer): Buffer => b;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const record = (ms: number): void => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ms;
  };
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      client.makeUnaryRequest(path, identity, identity, request, metadata, {}, (error: ServiceError | null) => {
        if (error === null) record(performance.now() - started);
        else {
          errors++;
          firstError ??= `${error.code} ${error.details}`;
        }
        resolve();
      });
    });
  try {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const deadline = started + options.seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) await once();
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const sorted = latencies.slice(0, count).sort();
    return {
      requestsPerSecond: count / seconds,
      requests: count,
      p50: percentileOf(sorted, 50),
      p99: percentileOf(sorted, 99),
      errors,
      clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      ...(firstError === undefined ? {} : { firstError }),
    };
  } finally {
    client.close();
  }
}
