/**
 * `trantor operator`: the Kubernetes operator's main. It reads its settings once — the cluster from
 * KUBECONFIG, ~/.kube/config or the pod's service account; the namespaces to watch and the
 * controller id from flags, else Seldon's env names (WATCH_NAMESPACE, CONTROLLER_ID); render
 * settings (images, ingress choices) from a values file; the named options from `--set
 * operator.<name>=<value>` — and runs the controller until SIGTERM, logging JSON lines to stdout.
 * Every replica also serves the admission webhook (`--webhook-port`, HTTPS) and /healthz, /readyz
 * and /metrics (`--metrics-port`, HTTP); only the leader reconciles.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { compileOptions } from './options.ts';
import { stopOnSignals } from './stop-signals.ts';
import {
  admissionHandler,
  certDirectory,
  Controller,
  KubeClient,
  LeaderElector,
  operatorEndpoints,
  OperatorMetrics,
  operatorOptions,
  renderConfig,
  SelfManagedCerts,
  WebhookServer,
  type CertSource,
  type OperatorOptions,
  type ReadinessCheck,
  type RenderConfig,
} from '../runtime/kubernetes/index.ts';

export interface OperatorFlags {
  /** Comma-separated namespaces; empty or absent: every namespace. */
  namespace?: string;
  controllerId?: string;
  /** A YAML file of render settings (the chart's values: executor.*, istio.*, predictorServers…). */
  values?: string;
  /** `operator.<name>=<value>`, repeatable. */
  set?: string[];
  logLevel?: string;
  /** Reconcile only while holding the Lease (several replicas); `true`/`false` as text from the chart. */
  leaderElect?: boolean | string;
  /** The Lease's name (default `trantor-operator`). */
  leaderElectionId?: string;
  /** /healthz, /readyz and /metrics over HTTP on this port (none when absent). */
  metricsPort?: string;
  /** The admission webhook over HTTPS on this port (none when absent). */
  webhookPort?: string;
  /** The ValidatingWebhookConfiguration whose caBundle the self-managed CA goes into. */
  webhookConfiguration?: string;
  /** The webhook's Service: its DNS names go into the self-managed certificate. */
  webhookService?: string;
  /** `self` (the default): the operator makes and rotates the certificate; `certManager`: read from --webhook-cert-dir. */
  webhookCerts?: string;
  /** With self: the Secret (in the operator's namespace) holding the CA and the certificate. */
  webhookSecret?: string;
  /** With certManager: the directory holding tls.crt and tls.key. */
  webhookCertDir?: string;
  /** Where the Lease lives (default POD_NAMESPACE, else `default`). */
  leaseNamespace?: string;
}

/** The webhook's settings as given, checked: where it listens and where its certificate comes from. */
export type WebhookSettings =
  | { readonly port: number; readonly certs: 'self'; readonly namespace: string; readonly secret: string; readonly service: string; readonly configuration?: string }
  | { readonly port: number; readonly certs: 'certManager'; readonly certDir: string };

function portOf(text: string, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} ${text}: expected a port number`);
  return port;
}

/** The webhook settings from the flags (undefined without --webhook-port); throws naming what is missing. */
export function webhookSettings(flags: OperatorFlags, env: NodeJS.ProcessEnv): WebhookSettings | undefined {
  if (flags.webhookPort === undefined) return undefined;
  const port = portOf(flags.webhookPort, '--webhook-port');
  const certs = flags.webhookCerts ?? 'self';
  if (certs === 'certManager') {
    if (flags.webhookCertDir === undefined) throw new Error('--webhook-certs=certManager needs --webhook-cert-dir: where tls.crt and tls.key are mounted');
    return { port, certs, certDir: flags.webhookCertDir };
  }
  if (certs !== 'self') throw new Error(`--webhook-certs ${certs}: expected self or certManager`);
  if (flags.webhookSecret === undefined || flags.webhookService === undefined) throw new Error('--webhook-certs=self needs --webhook-secret (where the certificate is kept) and --webhook-service (the names it is for)');
  return {
    port,
    certs,
    namespace: env['POD_NAMESPACE'] ?? 'default',
    secret: flags.webhookSecret,
    service: flags.webhookService,
    ...(flags.webhookConfiguration === undefined ? {} : { configuration: flags.webhookConfiguration }),
  };
}

/** The operator's compiled settings; env is read here and nowhere below. */
export function operatorSettings(flags: OperatorFlags, env: NodeJS.ProcessEnv): { namespaces: string[]; controllerId: string; config: RenderConfig; options: ReturnType<typeof operatorOptions.compile> } {
  const namespaces = (flags.namespace ?? env['WATCH_NAMESPACE'] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const values = flags.values === undefined ? {} : (parseYaml(readFileSync(flags.values, 'utf8')) as Parameters<typeof renderConfig>[0] | null);
  return { namespaces, controllerId: flags.controllerId ?? env['CONTROLLER_ID'] ?? '', config: renderConfig(values ?? {}), options: compileOptions({ operator: operatorOptions }, { sets: flags.set ?? [] }).operator };
}

type Log = (level: 'info' | 'warn', message: string) => void;

function certSource(settings: WebhookSettings, client: KubeClient, options: OperatorOptions, log: Log): CertSource {
  if (settings.certs === 'certManager') return certDirectory(settings.certDir);
  const certs = new SelfManagedCerts(client, {
    namespace: settings.namespace,
    secret: settings.secret,
    service: settings.service,
    ...(settings.configuration === undefined ? {} : { webhookConfiguration: settings.configuration }),
    certValidityMs: options.certValidity,
    caValidityMs: options.caValidity,
    log,
  });
  return () => certs.ensure();
}

export async function operator(flags: OperatorFlags): Promise<void> {
  const settings = operatorSettings(flags, process.env);
  const webhook = webhookSettings(flags, process.env);
  const metricsPort = flags.metricsPort === undefined ? undefined : portOf(flags.metricsPort, '--metrics-port');
  const logger = pino({ level: flags.logLevel ?? 'info' });
  const log: Log = (level, message) => logger[level](message);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const { options } = settings;
  const client = await KubeClient.of(kubeConfig, options.requestTimeout);
  const leaseNamespace = flags.leaseNamespace ?? process.env['POD_NAMESPACE'] ?? 'default';
  const leaseName = flags.leaderElectionId ?? 'trantor-operator';
  const leaderElect = flags.leaderElect === true || flags.leaderElect === 'true';
  // Read by the metrics and readiness on each scrape; the parts below are made once.
  const state = { reconciling: false, synced: false, lastTurn: Date.now() };
  const metrics: OperatorMetrics = new OperatorMetrics({
    leader: () => state.reconciling,
    queueDepth: () => controller.queue.depth,
    relists: () => controller.lists,
    watchRestarts: () => controller.watchRestarts,
    watchGone: () => controller.gone,
  });
  const controller: Controller = new Controller({ client, ...settings, log, observe: metrics.reconciled });
  const startController = (): void => {
    state.reconciling = true;
    controller.start().then(
      () => (state.synced = true),
      (error: unknown) => logger.error(String(error)),
    );
  };
  const webhookServer =
    webhook === undefined
      ? undefined
      : new WebhookServer({
          port: webhook.port,
          handler: admissionHandler({ config: settings.config, bodyLimit: options.webhookBodyLimit, onResult: metrics.admitted, onError: (error) => logger.error(`webhook: ${String(error)}`) }),
          certs: certSource(webhook, client, options, log),
          refreshMs: options.certRefresh,
          ...(webhook.certs === 'certManager' ? { watchDir: webhook.certDir } : {}),
          retryMs: options.retry,
          requestTimeoutMs: options.webhookTimeout,
          log,
        });
  const readiness: Record<string, ReadinessCheck> = {
    // A replica waiting for the Lease is ready: it serves the webhook, and takes over when it leads.
    informers: () => (!state.reconciling ? undefined : state.synced ? undefined : 'the first lists are not read yet'),
  };
  if (webhookServer !== undefined) readiness['webhook'] = () => webhookServer.notServing;
  const turn = setInterval(() => (state.lastTurn = Date.now()), 1000);
  turn.unref();
  const endpoints = metricsPort === undefined ? undefined : createServer(operatorEndpoints({ metrics, readiness, lastTurn: () => state.lastTurn, stallMs: options.eventLoopStall }));
  const elector = leaderElect
    ? new LeaderElector(
        client,
        { namespace: leaseNamespace, name: leaseName, identity: process.env['POD_NAME'] ?? `${hostname()}_${process.pid}`, leaseDurationMs: options.leaseDuration, renewDeadlineMs: options.renewDeadline, retryPeriodMs: options.leaseRetry },
        {
          started: () => {
            logger.info(`leading (Lease ${leaseNamespace}/${leaseName})`);
            startController();
          },
          // Never reconcile beside a new leader: end, and let the Deployment start a fresh replica.
          stopped: () => {
            logger.error('lost the Lease: exiting');
            process.exit(1);
          },
          error: (error) => logger.warn(`Lease: ${error instanceof Error ? error.message : String(error)}`),
        },
      )
    : undefined;
  stopOnSignals({
    signals: ['SIGINT', 'SIGTERM'],
    say: (line) => logger.info(line),
    shutdown: async () => {
      clearInterval(turn);
      await Promise.all([
        controller.stop(),
        elector?.stop(),
        webhookServer?.stop(),
        endpoints === undefined ? undefined : new Promise<void>((resolve) => {
          endpoints.close(() => resolve());
          endpoints.closeAllConnections();
        }),
      ]);
    },
  });
  if (endpoints !== undefined) {
    await new Promise<void>((resolve, reject) => {
      endpoints.once('error', reject);
      endpoints.listen(metricsPort, () => resolve());
    });
    logger.info(`/healthz, /readyz and /metrics on :${metricsPort ?? ''}`);
  }
  await webhookServer?.start();
  logger.info({ namespaces: settings.namespaces.length === 0 ? 'all' : settings.namespaces, controllerId: settings.controllerId }, 'operator started: watching SeldonDeployments');
  if (elector !== undefined) elector.start();
  else startController();
}
