/**
 * The operator's controller: informers on SeldonDeployments, on every kind of child they render
 * (children.ts) and, for an operator of every namespace without a controller id, on the namespaces
 * labelled `seldon.io/controller-id` (scope.ts); a work queue of SeldonDeployment keys fed by all of
 * them (a child's change re-reconciles its owner, a namespace's label its SeldonDeployments) and by
 * a periodic resync; and the Reconciler doing each pass from the caches. Nothing is reconciled
 * before every cache has its first list, so a pass never mistakes a cache still filling for a
 * cluster without children.
 */
import { ChildInformers } from './children.ts';
import type { KubeClient, LiveObject } from './client.ts';
import type { RenderConfig } from './config.ts';
import { Informer, keyOf } from './informers.ts';
import type { OperatorOptions } from './options.ts';
import { WorkQueue, type QueueOptions } from './queue.ts';
import { childKinds, Reconciler, SELDON_DEPLOYMENTS } from './reconcile.ts';
import { LabelledNamespaces, readsNamespaceLabels, takes } from './scope.ts';

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
  /** How many reconcile passes ran (a SeldonDeployment not this operator's counts none). */
  passes = 0;
  private readonly deployments: Informer[] = [];
  private readonly children: ChildInformers;
  private readonly labelled: LabelledNamespaces | undefined;
  private resync: NodeJS.Timeout | undefined;
  /** Set once every informer has its first list: changes enqueue only from then on. */
  private ready = false;

  constructor(private readonly settings: ControllerSettings) {
    const { client, options, log } = settings;
    const watch = { watchTimeoutSeconds: Math.round(options.watchTimeout / 1000), watchdogMs: options.watchdog, relistMs: options.relist, retryMs: options.retry };
    const error = (what: string) => (e: unknown) => log('warn', `${what}: ${e instanceof Error ? e.message : String(e)}`);
    const scopes = settings.namespaces.length === 0 ? [undefined] : settings.namespaces;
    for (const namespace of scopes) {
      this.deployments.push(
        new Informer(client, { resource: SELDON_DEPLOYMENTS, ...(namespace === undefined ? {} : { namespace }), ...watch }, { upsert: (o) => this.enqueue(keyOf(o)), remove: () => {}, error: error('watching SeldonDeployments') }),
      );
    }
    this.children = new ChildInformers(
      client,
      { kinds: childKinds(settings.config), scopes, watch, absentRetryMs: options.kindRetry },
      { upsert: (o) => this.enqueueOwner(o), remove: (o) => this.enqueueOwner(o), error: error('watching children') },
    );
    this.labelled = readsNamespaceLabels(settings.namespaces, settings.controllerId)
      ? new LabelledNamespaces(client, watch, (namespace) => this.enqueueNamespace(namespace), error('watching namespaces'))
      : undefined;
    const reconciler = new Reconciler({
      client,
      config: settings.config,
      controllerId: settings.controllerId,
      children: this.children,
      wroteStatus: (sdep) => this.deployments.find((i) => i.watches(sdep.metadata.namespace))?.wrote(sdep),
    });
    this.queue = new WorkQueue(
      { workers: options.workers, backoffBaseMs: options.backoff, backoffMaxMs: options.backoffMax, ...(settings.observe === undefined ? {} : { observe: settings.observe }) },
      async (key) => {
        const live = this.find(key);
        if (live === undefined) return;
        const namespace = live.metadata.namespace ?? '';
        if (!takes(settings, { namespace, ...(live.metadata.labels === undefined ? {} : { labels: live.metadata.labels }) }, this.labelled?.labelsOf(namespace))) return;
        this.passes++;
        await reconciler.reconcile(live);
      },
      (key, error, retryInMs) => log('warn', `reconcile ${key} failed (again in ${retryInMs} ms): ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  private get informers(): Informer[] {
    return [...this.deployments, ...this.children.informers, ...(this.labelled === undefined ? [] : [this.labelled.informer])];
  }

  /** Starts the watches; resolves once every first list is read, with every SeldonDeployment queued. */
  async start(): Promise<void> {
    const informers = this.informers;
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((i) => i.synced));
    for (const informer of this.children.informers) if (informer.absent) this.settings.log('warn', `${informer.resourceName} is not served (its CRD is not installed?): looked for again every ${this.settings.options.kindRetry} ms`);
    this.ready = true;
    this.enqueueAll();
    this.resync = setInterval(() => this.enqueueAll(), this.settings.options.resync);
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.queue.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  /** How many full lists the informers made (a relist after 410 adds one). */
  get lists(): number {
    return this.informers.reduce((sum, i) => sum + i.lists, 0);
  }

  /** How many times a watch was opened again after the first (server timeouts, watchdog, 410, errors). */
  get watchRestarts(): number {
    return this.informers.reduce((sum, i) => sum + Math.max(0, i.watchesOpened - 1), 0);
  }

  /** How many times a watch was answered 410 Gone. */
  get gone(): number {
    return this.informers.reduce((sum, i) => sum + i.gone, 0);
  }

  private find(key: string): LiveObject | undefined {
    for (const informer of this.deployments) {
      const live = informer.get(key);
      if (live !== undefined) return live;
    }
    return undefined;
  }

  private enqueue(key: string): void {
    if (this.ready) this.queue.add(key);
  }

  private enqueueAll(): void {
    for (const informer of this.deployments) for (const key of informer.cache.keys()) this.queue.add(key);
  }

  private enqueueOwner(child: LiveObject): void {
    const owner = child.metadata.ownerReferences?.find((ref) => ref.controller === true && ref.kind === 'SeldonDeployment');
    if (owner !== undefined) this.enqueue(`${child.metadata.namespace ?? ''}/${owner.name}`);
  }

  private enqueueNamespace(namespace: string): void {
    for (const informer of this.deployments) for (const [key, sdep] of informer.cache) if (sdep.metadata.namespace === namespace) this.enqueue(key);
  }
}
