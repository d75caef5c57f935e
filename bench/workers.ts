/**
 * The Python host with `--workers 2` beside one worker: the iris SKLEARN_SERVER served by
 * `python -m trantor_runtime.microservice … --workers N`, driven at the host directly (no
 * gateway) with autocannon, one host at a time so they do not share the CPU. The ratio is the
 * figure that matters (target ≥ 1.4× on 2 cores; the load generator runs on the same cores).
 *
 * Part of `npm run bench`; alone: `node --import tsx bench/workers.ts` (BENCH_SECONDS=2 for a
 * short check).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { findPython, missingPythonAdvice } from '../src/runtime/local/index.ts';

const ROOT = join(import.meta.dirname, '..');
const IRIS_BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
const SKLEARN_MODULES = ['numpy', 'sklearn', 'joblib'];

export interface WorkersRow {
  workers: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Starts the iris host with `workers` processes, measures it, stops it. */
async function measure(python: string, workers: number, seconds: number, connections: number): Promise<WorkersRow> {
  const parameters = JSON.stringify([{ name: 'model_uri', value: join(ROOT, 'examples', 'iris', 'model'), type: 'STRING' }]);
  const child = spawn(
    python,
    ['-m', 'trantor_runtime.microservice', 'trantor_runtime.servers.sklearn.SKLearnServer', '--service-type', 'MODEL', '--workers', String(workers)],
    {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'python'), PREDICTIVE_UNIT_PARAMETERS: parameters, PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '0', LOG_LEVEL: 'WARNING' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the Python host printed no ready line in 60 s')), 60_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = / on (http:\/\/\S+)$/.exec(line);
        if (match !== null) {
          clearTimeout(timer);
          resolve(`${match[1]!}/api/v1.0/predictions`);
        }
      });
      child.once('exit', (code) => reject(new Error(`the Python host exited with ${code} before it was ready`)));
    });
    const options = { url, method: 'POST' as const, body: IRIS_BODY, headers: { 'content-type': 'application/json' }, connections };
    await autocannon({ ...options, duration: 2 });
    const result = await autocannon({ ...options, duration: seconds });
    return { workers, requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export async function benchWorkers(seconds: number, connections: number): Promise<WorkersRow[]> {
  const python = findPython(SKLEARN_MODULES, process.env);
  if (python === null) throw new Error(`bench workers: ${missingPythonAdvice(SKLEARN_MODULES)}`);
  const rows: WorkersRow[] = [];
  for (const workers of [1, 2]) rows.push(await measure(python.executable, workers, seconds, connections));
  return rows;
}

export function formatWorkers(rows: readonly WorkersRow[], connections: number, seconds: number): string {
  const one = rows[0]?.requestsPerSecond ?? 0;
  const lines = [
    `Python host, iris SKLEARN_SERVER at the host directly; ${connections} connections, ${seconds} s each (target: --workers 2 ≥ 1.4× one worker)`,
    '',
    '| workers | requests/s | p50 ms | p99 ms | vs one worker | errors |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = one > 0 ? `${(r.requestsPerSecond / one).toFixed(2)}×` : '—';
    lines.push(`| ${r.workers} | ${Math.round(r.requestsPerSecond)} | ${r.p50} | ${r.p99} | ${ratio} | ${r.errors} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
  const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
  console.log(formatWorkers(await benchWorkers(seconds, connections), connections, seconds));
}
