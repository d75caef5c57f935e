/**
 * `trantor up`: the control plane in the foreground — API, gateway, executors and the local
 * supervisor in one process, one child process per component replica.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Eventing, SqliteEventStore, brokerFromPath } from '../eventing/index.ts';
import { HttpTransport, Metrics } from '../executor/index.ts';
import { createGateway, type Gateway } from '../gateway/index.ts';
import { LocalSupervisor } from '../runtime/local/index.ts';
import type { ControlPlaneInfo } from '../spec/index.ts';
import { homeLayout } from '../spec/index.ts';
import { startApi } from './api.ts';
import { resolveUpConfig, type UpFlags } from './config.ts';
import { ControlPlane } from './control-plane.ts';
import { controlPlaneLogger } from './logging.ts';
import { EventingControl } from './eventing-control.ts';
import { InProcessTransport } from './in-process.ts';
import { ManifestStore } from './store.ts';

function runningControlPlane(home: string): ControlPlaneInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(homeLayout.controlPlane(home), 'utf8')) as ControlPlaneInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

/** `default-broker.default.svc.cluster.local` → broker default in namespace default. */
function brokerFromHost(host: string | undefined): { namespace: string; name: string } | undefined {
  const match = /^([a-z0-9-]+)-broker\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::\d+)?$/.exec(host ?? '');
  return match === null ? undefined : { namespace: match[2]!, name: match[1]! };
}

export async function up(flags: UpFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = resolveUpConfig(flags, env);
  mkdirSync(config.home, { recursive: true });
  const running = runningControlPlane(config.home);
  if (running !== undefined && running.pid !== process.pid) {
    throw new Error(`a control plane is already running for ${config.home} (pid ${running.pid}, gateway ${running.gatewayUrl}); stop it first or use another --home`);
  }
  mkdirSync(homeLayout.logs(config.home), { recursive: true });
  const { logger } = controlPlaneLogger(config.home, config.logLevel);

  const supervisor = new LocalSupervisor({ home: config.home, logger });
  const transport = new InProcessTransport(new HttpTransport({ endpoints: supervisor }), logger);
  const manifestStore = new ManifestStore(homeLayout.manifests(config.home));
  // One registry for the process: the gateway serves it at /prometheus, executors record into it.
  const metrics = new Metrics({ logger });
  const controlPlane = new ControlPlane({ runtime: supervisor, transport, inProcess: transport, store: manifestStore, logger, requestTimeoutMs: config.requestTimeoutMs, metrics });
  controlPlane.watchStatus((summary) => process.stdout.write(`${summary}\n`));

  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(config.home, 'broker', 'events.db'), durability: config.durability }), logger });
  const eventingControl = new EventingControl({
    eventing,
    store: manifestStore,
    logger,
    deploymentAddress: (namespace, name) => (controlPlane.lookup(namespace, name) === undefined ? undefined : controlPlane.addressOf({ metadata: { namespace, name } })),
  });
  controlPlane.eventing = eventingControl;

  let gateway: Gateway;
  try {
    gateway = await createGateway({
      host: config.host,
      port: config.port,
      bodyLimitBytes: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      deployments: controlPlane,
      logger,
      metrics,
      // The broker ingress: Knative's path shape (/<namespace>/<broker>), or the in-cluster host
      // name (<broker>-broker.<namespace>.svc.cluster.local) for curl --connect-to.
      otherRoutes: (req, res, path) => {
        const broker = brokerFromPath(path) ?? (path === '/' ? brokerFromHost(req.headers.host) : undefined);
        if (broker === undefined) return false;
        void eventing.handleHttp(broker.namespace, broker.name, req, res);
        return true;
      },
    });
  } catch (err) {
    await supervisor.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.port} on ${config.host} is in use; choose another with --port N (or TRANTOR_PORT)`);
    throw err;
  }
  controlPlane.gatewayUrl = gateway.url;
  eventingControl.gatewayUrl = gateway.url;
  const api = await startApi(controlPlane, eventingControl);

  const info: ControlPlaneInfo = { pid: process.pid, apiUrl: api.url, gatewayUrl: gateway.url, startedAt: new Date().toISOString() };
  writeFileSync(homeLayout.controlPlane(config.home), JSON.stringify(info, null, 2));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping\n`);
    const forced = setTimeout(() => process.exit(1), 15_000);
    forced.unref();
    void (async () => {
      await Promise.allSettled([gateway.close(), api.close()]);
      await supervisor.close();
      await transport.close();
      await eventing.close();
      rmSync(homeLayout.controlPlane(config.home), { force: true });
      logger.flush();
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));

  const restored = (await controlPlane.restore()) + (await eventingControl.restore());
  process.stdout.write(`home: ${config.home}\n`);
  process.stdout.write(`api: ${api.url}\n`);
  if (restored > 0) process.stdout.write(`restored ${restored} deployment(s) from ${homeLayout.manifests(config.home)}\n`);
  process.stdout.write(`gateway: ${gateway.url}\n`);
}
