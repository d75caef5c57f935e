/**
 * Starts a real model host — the Python one (`python -m trantor_runtime.microservice`) or the
 * Node one (`bin/trantor-node-microservice.js`) — as a child process on a free port, the way
 * `trantor up` does, and waits for its ready line. Shared by the host contract suite, the
 * wrapper-flag tests and the parity test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findPython } from '../../src/runtime/local/index.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
/** A Python with numpy and scikit-learn (the iris server needs both), found as `trantor up` finds one. */
export const PYTHON = findPython(['numpy', 'sklearn', 'joblib'], process.env)?.executable ?? '/usr/bin/python3';

export type HostKind = 'python' | 'node';

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Extra arguments after the interface name. */
  args?: readonly string[];
  /** The whole command instead of the host's (its stdout must print `… on http://host:port`). */
  command?: readonly string[];
  startTimeoutMs?: number;
}

export interface HostProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: string[];
  stop(): Promise<void>;
}

export function hostCommand(kind: HostKind, interfaceName: string, args: readonly string[] = []): string[] {
  if (kind === 'python') return [PYTHON, '-m', 'trantor_runtime.microservice', interfaceName, 'REST', '--service-type', 'MODEL', ...args];
  return [process.execPath, join(ROOT, 'bin', 'trantor-node-microservice.js'), interfaceName, '--service-type', 'MODEL', ...args];
}

/** Starts the host and resolves once it prints the URL it serves on. */
export function startHost(kind: HostKind, interfaceName: string, options: StartOptions = {}): Promise<HostProcess> {
  const [command = '', ...args] = options.command ?? hostCommand(kind, interfaceName, options.args);
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the caller's own component settings leaks in.
  for (const name of ['PREDICTIVE_UNIT_PARAMETERS', 'PREDICTIVE_UNIT_METRICS_SERVICE_PORT', 'GUNICORN_WORKERS', 'GUNICORN_THREADS']) delete env[name];
  Object.assign(env, { PYTHONPATH: join(ROOT, 'python'), PYTHONDONTWRITEBYTECODE: '1', PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '0' }, options.env);
  const child = spawn(command, args, { cwd: options.cwd ?? FIXTURES, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise<HostProcess>((resolve, reject) => {
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} printed no ready line in ${timeoutMs} ms:\n${output.join('')}`));
    }, timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(`${line}\n`);
      const match = / on (http:\/\/\S+)$/.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ url: match[1]!, child, output, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output.join('')}`));
    });
  });
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request (127.0.0.1 only), the body sent exactly as given. */
export function send(url: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? '').split(';')[0]!.trim(),
          text: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
