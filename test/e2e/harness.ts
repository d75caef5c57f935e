/**
 * Runs Trantor as a user would: `trantor up` in a temporary home, the CLI for everything else,
 * plain HTTP to the gateway.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { findPython } from '../../src/runtime/local/index.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const TRANTOR = join(ROOT, 'bin', 'trantor.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Trantor {
  readonly home: string;
  gateway = '';
  #process: ChildProcess | undefined;
  output: string[] = [];

  constructor(home?: string) {
    this.home = home ?? mkdtempSync(join(tmpdir(), 'trantor-e2e-'));
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, TRANTOR_HOME: this.home };
  }

  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Starts `trantor up` and resolves once it prints its gateway line. */
  async up(extraArgs: string[] = []): Promise<void> {
    const child = spawn(process.execPath, [TRANTOR, 'up', '--port', '0', ...extraArgs], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    const lines = createInterface({ input: child.stdout });
    child.stderr.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.gateway = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`trantor up printed no gateway line in 20 s:\n${this.output.join('\n')}`)), 20_000);
      lines.on('line', (line) => {
        this.output.push(line);
        const match = /^gateway: (http:\/\/\S+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`trantor up exited with ${code}:\n${this.output.join('\n')}`));
      });
    });
  }

  cli(args: string[], input?: string): CliResult {
    const result = spawnSync(process.execPath, [TRANTOR, ...args], { env: this.env, input, encoding: 'utf8', timeout: 120_000 });
    return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  /** `trantor ARGS` without blocking this process (whose own HTTP server the command may download from). */
  cliAsync(args: string[]): Promise<CliResult> {
    const child = spawn(process.execPath, [TRANTOR, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
  }

  /** `trantor apply -f FILE --wait`, failing the test with the CLI's stderr when it does not succeed. */
  applyAndWait(file: string): void {
    const applied = this.cli(['apply', '-f', file, '--wait', '--timeout', '60s']);
    if (applied.code !== 0) throw new Error(`trantor apply -f ${file} --wait failed (exit ${applied.code}): ${applied.stderr}`);
  }

  /** Stops `trantor up` with a signal and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.#process = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.home, { recursive: true, force: true });
  }

  url(namespace: string, name: string, path = 'api/v1.0/predictions'): string {
    return `${this.gateway}/seldon/${namespace}/${name}/${path}`;
  }
}

/**
 * Polls `condition` every 50 ms until it holds; fails naming `what` (and `context()`, e.g. what a
 * process printed so far) once `timeoutMs` has passed. Waiting for the event, never a fixed sleep.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000, context?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context === undefined ? '' : `; ${context()}`}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `trantor event-display` for a running Trantor: what it has printed so far, and a way to stop it. */
export interface EventDisplay {
  readonly printed: () => string;
  stop(): void;
}

/** Starts `trantor event-display` and resolves once it has registered its sink with the control plane. */
export async function startEventDisplay(trantor: Trantor, timeoutMs = 30_000): Promise<EventDisplay> {
  const display = spawn(process.execPath, [TRANTOR, 'event-display'], { env: trantor.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  let registered = false;
  display.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  display.stderr.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('now deliver here')) registered = true;
  });
  await waitFor('the event display to register', () => registered, timeoutMs, () => `printed so far:\n${printed}`);
  return { printed: () => printed, stop: () => void display.kill('SIGTERM') };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** predict_proba of the iris example model, computed by scikit-learn itself. */
export function sklearnPredictProba(rows: number[][]): number[][] {
  const script = `import joblib, json, sys\nm = joblib.load(sys.argv[1])\nprint(json.dumps(m.predict_proba(json.loads(sys.argv[2])).tolist()))`;
  const python = findPython(['numpy', 'sklearn', 'joblib'], process.env)?.executable;
  if (python === undefined) throw new Error('no Python with scikit-learn: run ./quickstart.sh, or apt-get install python3-sklearn');
  const result = spawnSync(python, ['-c', script, join(ROOT, 'examples', 'iris', 'model', 'model.joblib'), JSON.stringify(rows)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as number[][];
}

/** A subscriber on a free loopback port that records the `Ce-Id` of every event delivered to it and answers 202. */
export interface EventRecorder {
  readonly port: number;
  /** `http://127.0.0.1:<port>/`, for a trigger's `subscriber.uri`. */
  readonly uri: string;
  readonly received: Set<string>;
  close(): Promise<void>;
}

export async function startEventRecorder(): Promise<EventRecorder> {
  const received = new Set<string>();
  const server = createServer((req, res) => {
    const id = req.headers['ce-id'];
    if (typeof id === 'string') received.add(id);
    req.resume();
    req.on('end', () => res.writeHead(202).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, uri: `http://127.0.0.1:${port}/`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A port free on 127.0.0.1 a moment ago, for a process that must be told its port before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The example no-op TypeScript model, served inside the control plane (no process to wait for). */
export function inProcessNoop(namespace: string, name: string): string {
  return `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}, namespace: ${namespace}, annotations: {trantor.io/in-process: "true"}}
spec:
  predictors:
  - name: default
    graph: {name: noop, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - {name: noop, command: [trantor-node-microservice, NoopModel], args: [--service-type, MODEL], workingDir: ${JSON.stringify(join(ROOT, 'examples', 'noop-ts'))}}
`;
}
