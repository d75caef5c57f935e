/**
 * scikit-learn as ONNX (`BENCH_ONLY=sklearn-onnx`): the iris model through our gateway served by
 * the Python host (SKLEARN_SERVER), by the Node host as ONNX (`trantor.io/sklearn-onnx`, its own
 * process), and as ONNX inside the control plane (with `trantor.io/in-process` too), all in one
 * `trantor up`; then, alone on the machine, Seldon's own wrapper (`seldon-core-microservice` 1.18.2
 * from ~/.cache/trantor-ci/seldon-venv, or TRANTOR_SELDON_PYTHON) serving the same joblib's
 * predict_proba from a four-line class, at its own port. One request body for all; wrk at the same
 * connections; a 2 s warm-up, then the measured window. A window with any error is reported as
 * failed, not as a speed. The target's ratio is printed under the table.
 *
 * Needs a Python with scikit-learn and skl2onnx for the ONNX contenders: TRANTOR_ONNX_PYTHON, else
 * ~/.cache/trantor-ci/onnx-venv (it then serves the Python host's iris too, so both read the same
 * scikit-learn). Part of `npm run bench`; alone: `BENCH_ONLY=sklearn-onnx npm run bench`, or
 * `node --import tsx bench/sklearn-onnx.ts` (BENCH_SECONDS=2 for a short check).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startUp } from './grpc-v2.ts';
import { freePort } from './mlserver.ts';
import { load, loadGenerator, type LoadFigures } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..');
const TRANTOR = join(ROOT, 'bin', 'trantor.js');
const IRIS_MODEL = join(ROOT, 'examples', 'iris', 'model');
const MANIFESTS = [join(ROOT, 'examples', 'iris', 'iris.yaml'), join(ROOT, 'bench', 'manifests', 'iris-onnx.yaml'), join(ROOT, 'bench', 'manifests', 'iris-onnx-in-process.yaml')];
const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
const WARM_UP_SECONDS = 2;
/** The ONNX path in process against the Python host, both through the gateway (issue 12's target). */
export const TARGET_RATIO = 2.5;

const CACHE = join(homedir(), '.cache', 'trantor-ci');
const ONNX_PYTHON = process.env['TRANTOR_ONNX_PYTHON'] ?? join(CACHE, 'onnx-venv', 'bin', 'python');
const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? join(CACHE, 'seldon-venv', 'bin', 'python');

export const PYTHON_HOST = 'iris SKLEARN_SERVER, Python host, via gateway';
export const ONNX_PROCESS = 'iris as ONNX, Node host (own process), via gateway';
export const ONNX_IN_PROCESS = 'iris as ONNX, in process, via gateway';
export const SELDON_WRAPPER = "iris predict_proba, Seldon's wrapper 1.18.2 (direct)";

export type Outcome = { kind: 'measured'; figures: LoadFigures } | { kind: 'failed' | 'absent'; reason: string };
export interface Contender {
  name: string;
  outcome: Outcome;
}
export interface SklearnOnnxReport {
  machine: string;
  generator: string;
  seconds: number;
  connections: number;
  contenders: Contender[];
}

/** Processes started here and not yet stopped: killed (with their groups) if the bench process exits early. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) kill(child, 'SIGKILL');
});

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  kill(child, 'SIGTERM');
  const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 20_000, false).unref())]);
  if (!inTime) kill(child, 'SIGKILL');
  kill(child, 'SIGKILL');
  running.delete(child);
}

function usable(python: string, modules: string): boolean {
  return existsSync(python) && spawnSync(python, ['-c', `import ${modules}`]).status === 0;
}

/** One request first: the contender must answer 200 with three probabilities. */
async function probe(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
    const text = await res.text();
    if (res.status !== 200) return `answered ${res.status}: ${text.slice(0, 300)}`;
    const row = (JSON.parse(text) as { data?: { ndarray?: number[][] } }).data?.ndarray?.[0];
    return row?.length === 3 ? undefined : `answered no row of 3 probabilities: ${text.slice(0, 300)}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function measure(name: string, url: string, seconds: number, connections: number): Promise<Contender> {
  const wrong = await probe(url);
  if (wrong !== undefined) return { name, outcome: { kind: 'failed', reason: wrong } };
  await load({ url, body: BODY, connections, seconds: WARM_UP_SECONDS });
  const figures = await load({ url, body: BODY, connections, seconds });
  if (figures.errors > 0) return { name, outcome: { kind: 'failed', reason: `${figures.errors} errors in the window` } };
  return { name, outcome: { kind: 'measured', figures } };
}

/** `trantor up` with the three iris deployments (bench/grpc-v2.ts starts it); the gateway's URL, until stopped. */
async function startUpWithIris(home: string): Promise<{ gateway: string; stop(): Promise<void> }> {
  const env = { TRANTOR_PYTHON: ONNX_PYTHON };
  const up = await startUp(home, env);
  for (const manifest of MANIFESTS) {
    const applied = spawnSync(process.execPath, [TRANTOR, 'apply', '-f', manifest, '--wait', '--timeout', '120s'], { env: { ...process.env, ...env, TRANTOR_HOME: home }, encoding: 'utf8' });
    if (applied.status !== 0) {
      await up.stop();
      throw new Error(`trantor apply -f ${manifest} failed: ${applied.stderr}`);
    }
  }
  return up;
}

/** Seldon's wrapper serving the iris joblib's predict_proba; its URL, until stopped. */
async function startSeldon(scratch: string): Promise<{ url: string; child: ChildProcess }> {
  writeFileSync(
    join(scratch, 'IrisModel.py'),
    [
      'import joblib',
      'class IrisModel:',
      '    def __init__(self):',
      `        self.model = joblib.load(${JSON.stringify(join(IRIS_MODEL, 'model.joblib'))})`,
      '    def predict(self, X, features_names=None):',
      '        return self.model.predict_proba(X)',
      '',
    ].join('\n'),
  );
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const command = join(dirname(SELDON_PYTHON), 'seldon-core-microservice');
  const args = ['IrisModel', '--service-type', 'MODEL', '--http-port', String(http), '--grpc-port', String(grpc), '--metrics-port', String(metrics)];
  const child = spawn(command, args, { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  running.add(child);
  let said = '';
  child.stderr.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${http}/api/v1.0/predictions`;
  const deadline = Date.now() + 90_000;
  while ((await probe(url)) !== undefined) {
    if (child.exitCode !== null) throw new Error(`Seldon's wrapper exited with ${child.exitCode}: ${said}`);
    if (Date.now() > deadline) throw new Error(`Seldon's wrapper did not answer in 90 s: ${said}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url, child };
}

export async function benchSklearnOnnx(options: { seconds: number; connections: number }): Promise<SklearnOnnxReport> {
  const { seconds, connections } = options;
  const contenders: Contender[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'trantor-bench-sklearn-onnx-'));
  try {
    if (!usable(ONNX_PYTHON, 'sklearn, joblib, skl2onnx')) {
      const reason = `no Python with scikit-learn and skl2onnx at ${ONNX_PYTHON} (set TRANTOR_ONNX_PYTHON)`;
      for (const name of [PYTHON_HOST, ONNX_PROCESS, ONNX_IN_PROCESS]) contenders.push({ name, outcome: { kind: 'absent', reason } });
    } else {
      const up = await startUpWithIris(join(scratch, 'home'));
      try {
        const url = (name: string): string => `${up.gateway}/seldon/seldon/${name}/api/v1.0/predictions`;
        for (const [name, deployment] of [
          [PYTHON_HOST, 'iris-model'],
          [ONNX_PROCESS, 'iris-onnx'],
          [ONNX_IN_PROCESS, 'iris-onnx-in-process'],
        ] as const) {
          const contender = await measure(name, url(deployment), seconds, connections);
          console.log(`  ${name}: ${describe(contender.outcome)}`);
          contenders.push(contender);
        }
      } finally {
        await up.stop();
      }
    }
    if (!usable(SELDON_PYTHON, 'seldon_core, sklearn, joblib')) {
      contenders.push({ name: SELDON_WRAPPER, outcome: { kind: 'absent', reason: `no seldon-core with scikit-learn at ${SELDON_PYTHON} (set TRANTOR_SELDON_PYTHON, or run .ci/run once)` } });
    } else {
      const seldon = await startSeldon(scratch);
      try {
        const contender = await measure(SELDON_WRAPPER, seldon.url, seconds, connections);
        console.log(`  ${SELDON_WRAPPER}: ${describe(contender.outcome)}`);
        contenders.push(contender);
      } finally {
        await stopGroup(seldon.child);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  return { machine, generator: loadGenerator(), seconds, connections, contenders };
}

function describe(outcome: Outcome): string {
  if (outcome.kind === 'measured') return `${Math.round(outcome.figures.requestsPerSecond)} req/s, p50 ${outcome.figures.p50} ms, p99 ${outcome.figures.p99} ms`;
  return `${outcome.kind}: ${outcome.reason}`;
}

function rate(report: SklearnOnnxReport, name: string): number | undefined {
  const outcome = report.contenders.find((c) => c.name === name)?.outcome;
  return outcome?.kind === 'measured' ? outcome.figures.requestsPerSecond : undefined;
}

/** `a / b` of two contenders' requests per second, with the target when there is one. */
function ratioLine(report: SklearnOnnxReport, label: string, a: string, b: string, target: number | undefined): string {
  const x = rate(report, a);
  const y = rate(report, b);
  if (x === undefined || y === undefined) return `- ${label}: not measured`;
  const ratio = x / y;
  const verdict = target === undefined ? '' : ratio >= target ? ` (target ≥ ${target}×: met)` : ` (target ≥ ${target}×: missed)`;
  return `- ${label}: ${ratio.toFixed(2)}×${verdict}`;
}

export function formatSklearnOnnx(report: SklearnOnnxReport): string {
  const lines = [
    `scikit-learn as ONNX — ${report.machine}; ${report.generator}, ${report.connections} connections, ${report.seconds} s each, ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| contender | requests/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|',
  ];
  for (const c of report.contenders) {
    const o = c.outcome;
    lines.push(o.kind === 'measured' ? `| ${c.name} | ${Math.round(o.figures.requestsPerSecond)} | ${o.figures.p50} | ${o.figures.p99} |` : `| ${c.name} | ${o.kind}: ${o.reason} | | |`);
  }
  lines.push(
    '',
    ratioLine(report, 'ONNX in process vs the Python host, both via gateway', ONNX_IN_PROCESS, PYTHON_HOST, TARGET_RATIO),
    ratioLine(report, 'ONNX in its own process vs the Python host, both via gateway', ONNX_PROCESS, PYTHON_HOST, undefined),
    ratioLine(report, "ONNX in process via gateway vs Seldon's wrapper direct", ONNX_IN_PROCESS, SELDON_WRAPPER, undefined),
  );
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
  const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
  console.log(`\n${formatSklearnOnnx(await benchSklearnOnnx({ seconds, connections }))}`);
}
