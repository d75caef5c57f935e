/**
 * The serving load generator: wrk (Debian package `wrk`), driven with a small Lua script that
 * POSTs the body and, when done, prints the figures as one JSON line. wrk runs outside node, so
 * it takes less of the two cores than a node load generator would. Where wrk is missing, the same
 * figures come from autocannon.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export interface LoadFigures {
  requestsPerSecond: number;
  /** Requests answered in the run. */
  requests: number;
  /** Latency percentiles in ms, to 0.01 ms. */
  p50: number;
  p99: number;
  /** Socket errors, timeouts and answers with a status of 400 or more. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  /** A string is sent as UTF-8; bytes as they are. */
  body: string | Buffer;
  /** Besides `Content-Type: application/json` (which these may replace). */
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
}

const WRK_THREADS = Number(process.env['BENCH_WRK_THREADS'] ?? 1);

/** wrk's `done` hook: latencies are in µs, the duration too. The body is read from a file, so bytes stay bytes. */
const SCRIPT = (bodyFile: string, headers: Record<string, string>): string => `
wrk.method = "POST"
local file = io.open(${JSON.stringify(bodyFile)}, "rb")
wrk.body = file:read("*a")
file:close()
${Object.entries(headers).map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`).join('\n')}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
`;

let found: boolean | undefined;

/** True when `wrk` is on PATH. */
export function hasWrk(): boolean {
  found ??= spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  return found;
}

/** The name of the load generator `load` uses. */
export function loadGenerator(): string {
  return hasWrk() ? `wrk (${WRK_THREADS} thread${WRK_THREADS === 1 ? '' : 's'})` : 'autocannon (wrk not found)';
}

function runWrk(options: LoadOptions): Promise<LoadFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-wrk-'));
  const script = join(dir, 'post.lua');
  const bodyFile = join(dir, 'body');
  writeFileSync(bodyFile, options.body);
  writeFileSync(script, SCRIPT(bodyFile, headersOf(options)));
  const args = ['-t', String(Math.min(WRK_THREADS, options.connections)), '-c', String(options.connections), '-d', `${options.seconds}s`, '-s', script, options.url];
  return new Promise<LoadFigures>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (code !== 0 || line === undefined) return reject(new Error(`wrk ${args.join(' ')} exited with ${code}: ${out}`));
      const figures = JSON.parse(line) as { requests: number; durationUs: number; p50Us: number; p99Us: number; errors: number };
      const ms = (us: number): number => Math.round(us / 10) / 100;
      resolve({ requestsPerSecond: figures.requests / (figures.durationUs / 1e6), requests: figures.requests, p50: ms(figures.p50Us), p99: ms(figures.p99Us), errors: figures.errors });
    });
  });
}

function headersOf(options: LoadOptions): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    headers[name] = value;
  }
  return headers;
}

async function runAutocannon(options: LoadOptions): Promise<LoadFigures> {
  const result = await autocannon({ url: options.url, method: 'POST', body: options.body, headers: headersOf(options), connections: options.connections, duration: options.seconds });
  return { requestsPerSecond: result.requests.average, requests: result.requests.total, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/** POSTs `body` to `url` from `connections` keep-alive connections for `seconds`, with wrk (autocannon without it). */
export function load(options: LoadOptions): Promise<LoadFigures> {
  return hasWrk() ? runWrk(options) : runAutocannon(options);
}
