/**
 * MLServer as a peer for the serving benches: `mlserver start` of a model repository made in a
 * scratch folder (`settings.json` for the server, `<model>/model-settings.json` with
 * `implementation: mlserver_sklearn.SKLearnModel` and the joblib's uri), on free loopback ports,
 * with MLServer's `parallel_workers` inference processes. The python is `TRANTOR_MLSERVER_PYTHON`
 * (default: the venv CI installs MLServer into).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const MLSERVER_PYTHON = process.env['TRANTOR_MLSERVER_PYTHON'] ?? join(homedir(), '.cache', 'trantor-ci', 'mlserver-venv', 'bin', 'python');

export interface MlserverOptions {
  /** The scratch folder for the model repository and the log. */
  dir: string;
  modelName: string;
  /** The joblib file. */
  modelUri: string;
  parallelWorkers: number;
}

export interface RunningMlserver {
  /** `http://127.0.0.1:<port>`. */
  rest: string;
  /** `127.0.0.1:<port>`. */
  grpc: string;
  version: string;
  stop(): Promise<void>;
}

/** Why MLServer cannot run here, or undefined when it can. */
export function mlserverMissing(parallelWorkers: number): string | undefined {
  if (!existsSync(MLSERVER_PYTHON)) return `no python at ${MLSERVER_PYTHON} (set TRANTOR_MLSERVER_PYTHON to a python with mlserver and mlserver-sklearn)`;
  const probe = spawnSync(MLSERVER_PYTHON, ['-c', 'import mlserver, mlserver_sklearn, uvloop; print(mlserver.__version__, uvloop.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${MLSERVER_PYTHON} cannot import mlserver, mlserver_sklearn and uvloop: ${probe.stderr.trim().split('\n').pop() ?? ''}`;
  const [, uvloop = ''] = probe.stdout.trim().split(' ');
  const [major = 0, minor = 0] = uvloop.split('.').map(Number);
  // MLServer 1.7's workers ask uvloop for a loop before one runs, which uvloop 0.22 refuses: each
  // worker dies at start and inference never answers (SeldonIO/MLServer issue 2286).
  if (parallelWorkers > 0 && (major > 0 || minor >= 22)) {
    return `uvloop ${uvloop} in ${MLSERVER_PYTHON} kills MLServer's parallel workers at start (MLServer issue 2286): pip install 'uvloop<0.22' there, or BENCH_MLSERVER_WORKERS=0`;
  }
  return undefined;
}

/** A loopback port free now (the server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`mlserver exited with ${child.exitCode ?? child.signalCode} before it was ready`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`mlserver was not ready at ${url} in ${timeoutMs / 1000} s`);
}

export async function startMlserver(options: MlserverOptions): Promise<RunningMlserver> {
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const repository = join(options.dir, 'models');
  mkdirSync(join(repository, options.modelName), { recursive: true });
  // debug off: MLServer's default logs every request, which a production server does not.
  const settings = { host: '127.0.0.1', http_port: http, grpc_port: grpc, metrics_port: metrics, parallel_workers: options.parallelWorkers, debug: false };
  writeFileSync(join(repository, 'settings.json'), JSON.stringify(settings, null, 2));
  const model = { name: options.modelName, implementation: 'mlserver_sklearn.SKLearnModel', parameters: { uri: options.modelUri } };
  writeFileSync(join(repository, options.modelName, 'model-settings.json'), JSON.stringify(model, null, 2));
  // The `mlserver` console script's own entry point, run by the venv's python (its bin/ need not be on PATH).
  const child = spawn(MLSERVER_PYTHON, ['-c', 'import sys; from mlserver.cli import main; sys.argv[0] = "mlserver"; sys.exit(main())', 'start', repository], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  // Should the bench process exit before `stop`, MLServer and its workers go too.
  const orphaned = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', orphaned);
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    const group = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    group('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) group('SIGKILL');
    // Its workers, whatever the main process left.
    group('SIGKILL');
    process.off('exit', orphaned);
  };
  try {
    const rest = `http://127.0.0.1:${http}`;
    await waitReady(`${rest}/v2/models/${options.modelName}/ready`, child, 90_000);
    const server = (await (await fetch(`${rest}/v2`)).json()) as { version?: string };
    return { rest, grpc: `127.0.0.1:${grpc}`, version: server.version ?? '?', stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`);
  }
}
