/**
 * The operator's controller: informers on SeldonDeployments and on the Deployments they own, a
 * work queue of SeldonDeployment keys fed by both (a child's change re-reconciles its owner) and by
 * a periodic resync, and the Reconciler doing each pass.
 */
import { resourceOf, type KubeClient, type LiveObject } from './client.ts';
import type { RenderConfig } from './config.ts';
import { Informer, keyOf } from './informers.ts';
import { LABELS, MANAGED_BY } from './names.ts';
import type { OperatorOptions } from './options.ts';
import { WorkQueue, type QueueOptions } from './queue.ts';
import { Reconciler, SELDON_DEPLOYMENTS } from './reconcile.ts';

export interface ControllerSettings {
  readonly client: KubeClient;
  readonly config: RenderConfig;
  readonly options: OperatorOptions;
  /** Namespaces to watch; empty: every namespace. */
  readonly namespaces: readonly string[];
  readonly controllerId: string;
  readonly log: (level: 'info' | 'warn', message: string) => void;
  /** Told of every reconcile pass (the operator's metrics). */
  readonly observe?: QueueOptions['observe'];
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly deployments: Informer[] = [];
  private readonly children: Informer[] = [];
  private resync: NodeJS.Timeout | undefined;

  constructor(private readonly settings: ControllerSettings) {
    const { client, options, log } = settings;
    const reconciler = new Reconciler({ client, config: settings.config, controllerId: settings.controllerId });
    this.queue = new WorkQueue(
      { workers: options.workers, backoffBaseMs: options.backoff, backoffMaxMs: options.backoffMax, ...(settings.observe === undefined ? {} : { observe: settings.observe }) },
      async (key) => {
        const live = this.find(key);
        if (live !== undefined) await reconciler.reconcile(live);
      },
      (key, error, retryInMs) => log('warn', `reconcile ${key} failed (again in ${retryInMs} ms): ${error instanceof Error ? error.message : String(error)}`),
    );
    const watch = { watchTimeoutSeconds: Math.round(options.watchTimeout / 1000), watchdogMs: options.watchdog, relistMs: options.relist, retryMs: options.retry };
    const error = (what: string) => (e: unknown) => log('warn', `${what}: ${e instanceof Error ? e.message : String(e)}`);
    const scopes = settings.namespaces.length === 0 ? [undefined] : settings.namespaces;
    for (const namespace of scopes) {
      const scope = namespace === undefined ? {} : { namespace };
      this.deployments.push(
        new Informer(client, { resource: SELDON_DEPLOYMENTS, ...scope, ...watch }, { upsert: (o) => this.queue.add(keyOf(o)), remove: () => {}, error: error('watching SeldonDeployments') }),
      );
      this.children.push(
        new Informer(
          client,
          { resource: resourceOf('apps/v1', 'Deployment'), ...scope, labelSelector: `${LABELS.managedBy}=${MANAGED_BY}`, ...watch },
          { upsert: (o) => this.enqueueOwner(o), remove: (o) => this.enqueueOwner(o), error: error('watching Deployments') },
        ),
      );
    }
  }

  /** Starts the watches; resolves once every first list is read. */
  async start(): Promise<void> {
    for (const informer of [...this.deployments, ...this.children]) informer.start();
    await Promise.all([...this.deployments, ...this.children].map((i) => i.synced));
    this.resync = setInterval(() => {
      for (const informer of this.deployments) for (const key of informer.cache.keys()) this.queue.add(key);
    }, this.settings.options.resync);
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.queue.stop();
    await Promise.all([...this.deployments, ...this.children].map((i) => i.stop()));
  }

  /** How many full lists the informers made (a relist after 410 adds one). */
  get lists(): number {
    return [...this.deployments, ...this.children].reduce((sum, i) => sum + i.lists, 0);
  }

  /** How many times a watch was opened again after the first (server timeouts, watchdog, 410, errors). */
  get watchRestarts(): number {
    return [...this.deployments, ...this.children].reduce((sum, i) => sum + Math.max(0, i.watches - 1), 0);
  }

  /** How many times a watch was answered 410 Gone. */
  get gone(): number {
    return [...this.deployments, ...this.children].reduce((sum, i) => sum + i.gone, 0);
  }

  private find(key: string): LiveObject | undefined {
    for (const informer of this.deployments) {
      const live = informer.cache.get(key);
      if (live !== undefined) return live;
    }
    return undefined;
  }

  private enqueueOwner(child: LiveObject): void {
    const owner = child.metadata.ownerReferences?.find((ref) => ref.controller === true && ref.kind === 'SeldonDeployment');
    if (owner !== undefined) this.queue.add(`${child.metadata.namespace ?? ''}/${owner.name}`);
  }
}
