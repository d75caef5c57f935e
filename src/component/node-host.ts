/**
 * `trantor-node-microservice`: serves a user's TypeScript or JavaScript class the way
 * `seldon-core-microservice` serves a Python one.
 *
 *   trantor-node-microservice MLScore [REST] --service-type MODEL [--parameters JSON] [--http-port N] [--grpc-port N]
 *
 * This file is the process: what it is told (host-config.ts), the class it loads (loader.ts), the
 * servers it starts (server.ts, and grpc-server.ts when a gRPC port is given), and its lifetime — the ready line, SIGTERM and SIGINT, and stopping
 * when the `trantor up` that started it is gone.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { SeldonComponent } from './contract.ts';
import { createDispatcher } from './dispatch.ts';
import { HostSetupError } from './errors.ts';
import { resolveHostConfig, type Env, type HostConfig } from './host-config.ts';
import { loadComponent } from './loader.ts';
import { serveComponent, type ComponentServer } from './server.ts';
import type { ComponentGrpcServer } from './grpc-server.ts';
import { COMPONENT_ENV } from '../protocol/index.ts';

export const READY_PREFIX = 'trantor node host: serving';
/** Printed after the ready line when gRPC is served too: `… on host:port`. */
export const GRPC_READY_PREFIX = 'trantor node host: gRPC';

export interface NodeHost {
  readonly config: HostConfig;
  readonly model: SeldonComponent;
  readonly server: ComponentServer;
  /** `http://host:port` */
  readonly url: string;
  /** Only when a gRPC port was given. */
  readonly grpc: ComponentGrpcServer | undefined;
  close(): Promise<void>;
}

/** Loads, constructs and `load()`s the model, then serves it. Throws HostSetupError. */
export async function startNodeHost(config: HostConfig): Promise<NodeHost> {
  const { name, model } = await loadComponent(config.interfaceName, config.cwd, config.parameters);
  let server: ComponentServer;
  try {
    server = await serveComponent(model, {
      host: config.host,
      port: config.port,
      serviceType: config.serviceType,
      name,
      unitId: config.unitId,
      requestTimeoutMs: config.options.requestTimeout,
      maxBodyBytes: config.options.bodyLimit,
      keepAliveTimeoutMs: config.options.keepAliveTimeout,
    });
  } catch (err) {
    throw new HostSetupError(`cannot listen on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let grpc: ComponentGrpcServer | undefined;
  if (config.grpcPort !== undefined) {
    // grpc-js and the schemas load only for a host asked to speak gRPC.
    const { serveComponentGrpc } = await import('./grpc-server.ts');
    try {
      grpc = await serveComponentGrpc(model, createDispatcher(model, { name, unitId: config.unitId }), {
        host: config.host,
        port: config.grpcPort,
        maxMessageBytes: config.options.bodyLimit,
        serviceType: config.serviceType,
        node: config.unitId,
      });
    } catch (err) {
      await server.close();
      throw new HostSetupError(`cannot serve gRPC on ${config.host}:${config.grpcPort}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const urlHost = server.host.includes(':') ? `[${server.host}]` : server.host;
  const close = async (): Promise<void> => {
    await Promise.all([server.close(), grpc?.close()]);
  };
  return { config, model, server, url: `http://${urlHost}:${server.port}`, grpc, close };
}

export interface HostIO {
  cwd?: string;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Stops the host like SIGTERM does (tests use it instead of a signal). */
  signal?: AbortSignal;
}

/**
 * Stops the host when the process that started it (`trantor up`, named by TRANTOR_PARENT_PID) is
 * gone, even when it was killed with no chance to stop its children.
 */
function watchParent(parentPid: string | undefined, intervalMs: number, stop: () => void): void {
  const pid = Number(parentPid);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid !== pid) {
      clearInterval(timer);
      stop();
    }
  }, intervalMs);
  timer.unref();
}

/**
 * The command: resolves the configuration, starts the host, prints the ready line, and
 * serves until SIGTERM or SIGINT (or `io.signal`). Resolves with the exit code.
 */
export async function main(argv: readonly string[] = process.argv.slice(2), env: Env = process.env, io: HostIO = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const err = io.stderr ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let host: NodeHost;
  try {
    const config = resolveHostConfig(argv, env, io.cwd ?? process.cwd());
    host = await startNodeHost(config);
  } catch (e) {
    if (e instanceof HostSetupError) {
      (e.exitCode === 0 ? out : err)(e.exitCode === 0 ? e.message : `trantor-node-microservice: ${e.message}`);
      return e.exitCode;
    }
    err(`trantor-node-microservice: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
  out(`${READY_PREFIX} ${host.config.interfaceName} on ${host.url}`);
  if (host.grpc !== undefined) out(`${GRPC_READY_PREFIX} on ${host.grpc.host.includes(':') ? `[${host.grpc.host}]` : host.grpc.host}:${host.grpc.port}`);

  // A model's stray promise rejection is logged, not fatal: the server keeps answering.
  const onRejection = (reason: unknown): void => err(`unhandled rejection in the model: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  process.on('unhandledRejection', onRejection);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.signal?.removeEventListener('abort', stop);
      done();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    watchParent(env[COMPONENT_ENV.parentPid], host.config.options.parentCheckInterval, stop);
    if (io.signal?.aborted === true) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  await host.close();
  process.off('unhandledRejection', onRejection);
  return 0;
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntry()) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`trantor-node-microservice: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
