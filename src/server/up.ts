/**
 * `trantor up`: the control plane in the foreground — API, gateway, executors and the local
 * supervisor in one process, one child process per component replica.
 *
 * The order matters: the home's lock first (one control plane per home); then every stored
 * object is restored, so that when the gateway (which hosts the broker ingress) takes its first
 * request each trigger already routes events — an event answered 202 always has its deliveries
 * stored. Addresses through the gateway (a trigger's SeldonDeployment subscriber) are unknown
 * until it listens (`--port 0`); those deliveries wait, stored, and resume once it does. Last the
 * API, and `gateway:` is printed only when all of it serves.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { BROKER_HOST, Eventing, brokerFromHost, brokerFromPath, failureNotices, openSqliteStore } from '../eventing/index.ts';
import { componentOptionsEnv } from '../component/index.ts';
import { ByEndpointTransport, GrpcTransport, GrpcV2Transport, HttpTransport, HttpV2Transport, InProcessTransport, Metrics, RequestLogger, endpointTypeIn, grpcEndpoints, grpcTransportOptions, httpTransportOptions, requestLoggerOptions, type EndpointType } from '../executor/index.ts';
import { createGateway, type Gateway } from '../gateway/index.ts';
import { LocalSupervisor } from '../runtime/local/index.ts';
import type { ControlPlaneInfo, UnitKey } from '../manifest/index.ts';
import { homeLayout } from '../manifest/index.ts';
import { apiRoutes, startApi, type ApiServer } from './api.ts';
import { dashboardApi } from './dashboard/api.ts';
import { DeliveryJournal } from './dashboard/deliveries.ts';
import { RequestJournal } from './dashboard/requests.ts';
import { DashboardSessions } from './dashboard/sessions.ts';
import { TrafficSampler } from './dashboard/traffic.ts';
import { dashboardWebRoot } from './dashboard/web-root.ts';
import type { FeedParts } from './dashboard/feed.ts';
import { loadApiToken } from './api-token.ts';
import { resolveUpConfig, type UpFlags } from './config.ts';
import { AppliedDeployments, ControlPlane, deploymentAddress } from './control-plane.ts';
import { controlPlaneLogger } from './logging.ts';
import { EventingControl } from './eventing-control.ts';
import { acquireHomeLock } from './home-lock.ts';
import { stopOnSignals } from './stop-signals.ts';
import { InProcessComponents } from './in-process.ts';
import { ObjectEventLog } from './object-events.ts';
import { allOf, terminalWarnings } from './terminal-warnings.ts';
import { tightenHome, usePrivateHome } from './private-home.ts';
import { ManifestStore, type SkippedFile } from './store.ts';

export async function up(flags: UpFlags, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = resolveUpConfig(flags, env);
  // The token is in config now; no child process (component, Python probe) may inherit it.
  delete process.env['TRANTOR_API_TOKEN'];
  const { TRANTOR_API_TOKEN: _token, ...childEnv } = env;
  const warn = (text: string): void => void process.stderr.write(`warning: ${text}\n`);
  usePrivateHome(config.home);
  // Held until this process exits; the kernel releases it even after a kill -9.
  const lock = acquireHomeLock(config.home);
  // Before the home is tightened, so a token file left readable by others is noticed and reported.
  const apiToken = loadApiToken(config.home, config.apiToken, warn);
  tightenHome(config.home, warn);
  mkdirSync(homeLayout.logs(config.home), { recursive: true });
  const { logger } = controlPlaneLogger(config.home, config.logLevel);

  // Built in dependency order, each part given what it needs; nothing is wired in afterwards.
  // The gateway's URL is known only once it listens (`--port 0`): the parts read it from here.
  const address = { gateway: '' };
  const gatewayUrl = (): string => address.gateway;
  // Kubernetes-style Events (`trantor get events`, `describe`): every part records into this one log.
  const objectEvents = new ObjectEventLog({ maxEvents: config.options.api.eventsKept, maxAgeMs: config.options.api.eventsMaxAge });
  // The warnings a user must see (a crash loop, a model that fails to load) go to this terminal too.
  const recorder = allOf(objectEvents, terminalWarnings((line) => process.stderr.write(`${line}\n`), { logFile: join(homeLayout.logs(config.home), 'trantor.log'), windowMs: 30_000 }));
  // Node hosts are their own processes: the component options reach them in their environment.
  const supervisor = new LocalSupervisor({
    home: config.home,
    logger,
    options: config.options.runtime,
    env: { ...childEnv, ...componentOptionsEnv(config.options.component) },
    recorder,
  });
  const inProcess = new InProcessComponents(logger, childEnv);
  const executorOptions = config.options.executor;
  const applied = new AppliedDeployments();
  // Each node over REST or gRPC as its endpoint.type says, read from the deployment applied now
  // (a re-applied deployment's executor has new unit objects, so its nodes are chosen afresh).
  const endpointTypeOf = (unit: UnitKey): EndpointType | undefined => endpointTypeIn(applied.get(unit.namespace, unit.deployment)?.stored.deployment, unit);
  const rest = new HttpTransport(httpTransportOptions(supervisor, executorOptions));
  const grpc = new GrpcTransport(grpcTransportOptions(grpcEndpoints(supervisor), executorOptions));
  const transport = new InProcessTransport(inProcess, new ByEndpointTransport({ endpointTypeOf, endpoints: supervisor, rest, grpc }));
  // `protocol: v2` graphs call their nodes over the same connections, at their V2 paths or RPCs.
  const v2Transport = new HttpV2Transport(rest);
  const v2GrpcTransport = new GrpcV2Transport(grpc);
  const requestLogger = new RequestLogger(requestLoggerOptions(executorOptions));
  const manifestStore = new ManifestStore(homeLayout.manifests(config.home));
  // One registry for the process: the gateway serves it at /prometheus, executors record into it.
  const metrics = new Metrics({ logger });

  const eventingLimits = config.options.eventing;
  // The dashboard's Eventing view: each delivery attempt, the last ones kept (docs/dashboard.md).
  const deliveryJournal = new DeliveryJournal();
  const eventing = new Eventing({
    // The broker's store is chosen here and only here; below, the broker knows the EventStore interface.
    store: openSqliteStore(join(config.home, 'broker'), config.durability, {
      retryMs: eventingLimits.storeRetry,
      busyTimeoutMs: eventingLimits.storeBusyTimeout,
      compactSlice: eventingLimits.compactSlice,
    }),
    logger,
    limits: eventingLimits,
    // Dead-lettered and dropped events are shown here, not only in the log file.
    onFailure: failureNotices((line) => process.stdout.write(`${line}\n`), { burst: eventingLimits.failureNoticeBurst, windowMs: eventingLimits.failureNoticeWindow }),
    recorder,
    onAttempt: deliveryJournal.record,
  });
  const eventingControl = new EventingControl({
    eventing,
    store: manifestStore,
    logger,
    deploymentAddress: (namespace, name) => (applied.lookup(namespace, name) === undefined ? undefined : deploymentAddress(gatewayUrl(), namespace, name)),
    gatewayUrl,
    maxReplicas: config.maxReplicas,
    recorder,
  });
  const controlPlane = new ControlPlane({
    runtime: supervisor,
    transport,
    v2Transport,
    v2GrpcTransport,
    inProcess,
    store: manifestStore,
    logger,
    requestTimeoutMs: config.requestTimeoutMs,
    metrics,
    executorOptions,
    requestLogger,
    maxReplicas: config.maxReplicas,
    deployments: applied,
    eventing: eventingControl,
    gatewayUrl,
    events: objectEvents,
  });
  controlPlane.watchStatus((summary) => process.stdout.write(`${summary}\n`));

  // The dashboard (docs/dashboard.md): its page at the gateway's root, its data behind a session
  // that `trantor dashboard` opens with a one-time code minted through the API.
  const sessions = new DashboardSessions();
  const apiParts = {
    ops: controlPlane,
    eventing: eventingControl,
    limits: config.options.api,
    dashboardLogin: () => {
      const { code, expiresAt } = sessions.mintCode();
      return { code, url: `${gatewayUrl()}/#login=${code}`, expiresAt: new Date(expiresAt).toISOString() };
    },
  };
  // Live traffic from the process's metrics, sampled each second while a feed is open; the
  // gateway's answered requests, kept while a feed is open (the gateway's request tap).
  const traffic = new TrafficSampler({ metrics });
  const requests = new RequestJournal({ capacity: config.options.dashboard.requestsKept, maxRecordsPerSecond: config.options.dashboard.requestsPerSecond });
  const feed: FeedParts = {
    overview: () => ({
      deployments: controlPlane.list(),
      brokers: eventingControl.brokers(),
      triggers: eventingControl.triggers(),
      services: eventingControl.services(),
      events: controlPlane.events({}).slice(-200),
      gatewayUrl: gatewayUrl(),
    }),
    changes: [
      (onChange) => controlPlane.watchChanges(onChange),
      (onChange) => eventingControl.watchChanges(onChange),
      // A delivery attempt changes its trigger's counts in the overview.
      (onChange) => deliveryJournal.subscribe(() => onChange()),
    ],
    // dashboard feed sources: traffic, request, delivery
    sources: { traffic, request: requests, delivery: deliveryJournal },
  };
  const dashboard = { webRoot: dashboardWebRoot(), api: dashboardApi({ sessions, api: apiRoutes(apiParts), feed, requests, deliveries: deliveryJournal }) };

  /** What listens so far, for a signal that comes while starting. */
  const listening: { gateway?: Gateway; api?: ApiServer } = {};
  stopOnSignals({
    signals: ['SIGINT', 'SIGTERM', 'SIGHUP'],
    say: (line) => void process.stdout.write(`${line}\n`),
    shutdown: async () => {
      await Promise.allSettled([listening.gateway?.close(), listening.api?.close()]);
      await supervisor.close();
      await transport.close();
      await eventing.close();
      rmSync(homeLayout.controlPlane(config.home), { force: true });
      lock.release();
      logger.flush();
    },
  });

  // Before any port listens: a bad stored file is named and skipped, the others come back.
  const deployments = await controlPlane.restore();
  const others = await eventingControl.restore();
  reportSkipped([...deployments.skipped, ...others.skipped], logger);
  const restored = deployments.restored + others.restored;

  let gateway: Gateway;
  try {
    gateway = await createGateway({
      host: config.host,
      port: config.port,
      // The flags' values, which are the options' unless given.
      limits: { ...config.options.gateway, bodyLimit: config.bodyLimitBytes, requestTimeout: config.requestTimeoutMs },
      http: config.options.http,
      deployments: applied,
      logger,
      metrics,
      allowedHosts: config.allowedHosts,
      hostPattern: BROKER_HOST,
      corsAllowedOrigins: config.corsAllowedOrigins,
      dashboard,
      requestTap: requests,
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
    await eventing.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.port} on ${config.host} is in use; choose another with --port N (or TRANTOR_PORT)`);
    throw err;
  }
  listening.gateway = gateway;
  address.gateway = gateway.url;
  // Subscribers reached through the gateway resolve now; their stored deliveries start.
  await eventingControl.resolve();
  const api = await startApi(apiParts, apiToken);
  listening.api = api;

  const info: ControlPlaneInfo = { pid: process.pid, apiUrl: api.url, gatewayUrl: gateway.url, startedAt: new Date().toISOString() };
  writeFileSync(homeLayout.controlPlane(config.home), JSON.stringify(info, null, 2));

  process.stdout.write(`home: ${config.home}\n`);
  process.stdout.write(`api: ${api.url}\n`);
  if (restored > 0) process.stdout.write(`restored ${restored} object(s) from ${homeLayout.manifests(config.home)}\n`);
  process.stdout.write(`gateway: ${gateway.url}\n`);
  process.stdout.write(`dashboard: ${gateway.url}/ (log in with: trantor dashboard)\n`);
}

/** Each stored file that could not be restored, by path, on stderr and in the log. */
function reportSkipped(skipped: readonly SkippedFile[], logger: Logger): void {
  for (const { file, reason } of skipped) {
    process.stderr.write(`skipped ${file}: ${reason.replaceAll('\n', '; ')}\n`);
    logger.warn({ file, reason }, 'stored object not restored');
  }
  if (skipped.length > 0) {
    process.stderr.write(`${skipped.length} stored file(s) were not restored: fix and apply them again, or delete them; the rest is running\n`);
  }
}
