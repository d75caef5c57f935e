/**
 * `trantor operator`: the Kubernetes operator's main. It reads its settings once — the cluster from
 * KUBECONFIG, ~/.kube/config or the pod's service account; the namespaces to watch and the
 * controller id from flags, else Seldon's env names (WATCH_NAMESPACE, CONTROLLER_ID); render
 * settings (images, ingress choices) from a values file; the named options from `--set
 * operator.<name>=<value>` — and runs the controller until SIGTERM, logging JSON lines to stdout.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parse as parseYaml } from 'yaml';
import { compileOptions } from './options.ts';
import { stopOnSignals } from './stop-signals.ts';
import { Controller, KubeClient, LeaderElector, operatorOptions, renderConfig, type RenderConfig } from '../runtime/kubernetes/index.ts';

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
  /** The chart's endpoints and webhook settings: accepted, named as not served yet. */
  metricsPort?: string;
  webhookPort?: string;
  webhookConfiguration?: string;
  webhookService?: string;
  webhookCerts?: string;
  webhookSecret?: string;
  webhookCertDir?: string;
  /** Where the Lease lives (default POD_NAMESPACE, else `default`). */
  leaseNamespace?: string;
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

export async function operator(flags: OperatorFlags): Promise<void> {
  const settings = operatorSettings(flags, process.env);
  const logger = pino({ level: flags.logLevel ?? 'info' });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const client = await KubeClient.of(kubeConfig, settings.options.requestTimeout);
  const controller = new Controller({ client, ...settings, log: (level, message) => logger[level](message) });
  const leaseNamespace = flags.leaseNamespace ?? process.env['POD_NAMESPACE'] ?? 'default';
  const leaseName = flags.leaderElectionId ?? 'trantor-operator';
  const leaderElect = flags.leaderElect === true || flags.leaderElect === 'true';
  const notServed = (['metricsPort', 'webhookPort', 'webhookConfiguration', 'webhookService', 'webhookCerts', 'webhookSecret', 'webhookCertDir'] as const).filter((name) => flags[name] !== undefined);
  if (notServed.length > 0) logger.warn(`not served yet, ignored: ${notServed.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  const { options } = settings;
  const elector = leaderElect
    ? new LeaderElector(
        client,
        { namespace: leaseNamespace, name: leaseName, identity: process.env['POD_NAME'] ?? `${hostname()}_${process.pid}`, leaseDurationMs: options.leaseDuration, renewDeadlineMs: options.renewDeadline, retryPeriodMs: options.leaseRetry },
        {
          started: () => {
            logger.info(`leading (Lease ${leaseNamespace}/${leaseName})`);
            controller.start().catch((error: unknown) => logger.error(String(error)));
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
      await Promise.all([controller.stop(), elector?.stop()]);
    },
  });
  logger.info({ namespaces: settings.namespaces.length === 0 ? 'all' : settings.namespaces, controllerId: settings.controllerId }, 'operator started: watching SeldonDeployments');
  if (elector !== undefined) elector.start();
  else await controller.start();
}
