/**
 * A Runtime backed by a cluster: the control plane's contract (apply, status, remove, watch) kept by
 * writing SeldonDeployments to the Kubernetes API and reading back what the operator (`trantor
 * operator`) and the cluster make of them. It runs nothing itself: the operator renders the
 * children, Kubernetes runs the pods, and this keeps a live view through three informers — the
 * SeldonDeployments (their `status`), their pods (replicas), and their Services' EndpointSlices
 * (where a node's ready replicas listen) — so that `status` and `replicasOf` answer synchronously.
 *
 * `apply` is a server-side apply, forced, as field manager `trantor-cli` (what `kubectl apply
 * --server-side --force-conflicts` does): the manifest given wins for every field it sets. Until the
 * operator has written a status for the latest generation, the status is Creating, "waiting for the
 * operator to reconcile it".
 *
 * What differs from the local supervisor, on purpose:
 * - `remove` deletes in the FOREGROUND: the API server keeps the SeldonDeployment (with a
 *   deletionTimestamp) until the garbage collector has deleted its children, their pods included,
 *   so when `remove` resolves nothing of it runs — as when the supervisor's processes have exited —
 *   and a SeldonDeployment applied again under the same name cannot meet the old one's children.
 * - `close` stops this process's watches only: the deployments keep running in the cluster, which
 *   owns them. The runtime answers nothing afterwards and refuses applies.
 * - `logs` follows each graph node container's output through the API (`pods/log`, served by the
 *   pod's kubelet): lines arrive once the container has started, and the last `logLines` are kept.
 * - `replicasOf` answers pod IPs, reachable from inside the cluster (or a network routed into it).
 */
import type { DeploymentStatus, EndpointSource, LogLine, ReplicaAddress, Runtime, RuntimeEvent, SeldonDeployment, UnitKey } from '../../manifest/index.ts';
import { manifestOf } from '../../manifest/index.ts';
import { KubeError, resourceOf, type KubeClient, type LiveObject } from './client.ts';
import { Informer, keyOf, type InformerOptions } from './informers.ts';
import { kubernetesName, LABELS, nodeServiceName } from './names.ts';
import type { OperatorOptions } from './options.ts';
import { SELDON_DEPLOYMENTS } from './reconcile.ts';
import type { KubernetesRuntimeOptions } from './runtime-options.ts';
import { PodLogs } from './runtime-logs.ts';
import { deploymentStatusOf, nodeContainers, readyAddresses, SERVICE_NAME_LABEL } from './runtime-status.ts';

/** The field manager of what this runtime applies (the operator's is `trantor-operator`). */
export const RUNTIME_FIELD_MANAGER = 'trantor-cli';

/** What the credentials of a KubernetesRuntime must be allowed (pods may be refused: replicas are then counted, and there are no logs). */
export const RBAC_NEEDED =
  'get, list, watch, create, patch and delete on seldondeployments.machinelearning.seldon.io; list and watch on endpointslices.discovery.k8s.io; list and watch on pods, and get on pods/log';

const PODS = resourceOf('v1', 'Pod');
const ENDPOINT_SLICES = resourceOf('discovery.k8s.io/v1', 'EndpointSlice');

export interface KubernetesRuntimeSettings {
  readonly client: KubeClient;
  /** The one namespace to watch; undefined: every namespace. */
  readonly namespace?: string;
  /** The informers' timings (the operator's options of the same names). */
  readonly watch: Pick<OperatorOptions, 'watchTimeout' | 'watchdog' | 'relist' | 'retry'>;
  readonly options: KubernetesRuntimeOptions;
  /** Where a failed list or watch is reported (each is retried after the `retry` wait). */
  readonly log?: (level: 'warn', message: string) => void;
}

export class KubernetesRuntime implements Runtime, EndpointSource {
  private readonly deployments: Informer;
  private readonly pods: Informer;
  private readonly slices: Informer;
  /** What `status` answers, by `namespace/name`: one entry per SeldonDeployment seen. */
  private readonly statuses = new Map<string, DeploymentStatus>();
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  /** `remove` calls waiting for their SeldonDeployment to be gone, by key. */
  private readonly removals = new Map<string, Set<(error?: Error) => void>>();
  /** Each node Service's ready addresses by `namespace/service`, kept as its slices change: replicasOf is on the request path. */
  private readonly addresses = new Map<string, readonly ReplicaAddress[]>();
  private readonly output: PodLogs;
  private closed = false;
  private podsListed = false;

  constructor(private readonly settings: KubernetesRuntimeSettings) {
    const { watch, namespace } = settings;
    // Each informer retries on its own; what failed is said, as the operator says it.
    const failed = (what: string) => (error: unknown) => settings.log?.('warn', `${what}: ${error instanceof Error ? error.message : String(error)}`);
    const common = (resource: InformerOptions['resource'], labelSelector?: string): InformerOptions => ({
      resource,
      ...(namespace === undefined ? {} : { namespace }),
      ...(labelSelector === undefined ? {} : { labelSelector }),
      watchTimeoutSeconds: Math.round(watch.watchTimeout / 1000),
      watchdogMs: watch.watchdog,
      relistMs: watch.relist,
      retryMs: watch.retry,
    });
    this.deployments = new Informer(settings.client, common(SELDON_DEPLOYMENTS), {
      upsert: (o) => this.refresh(keyOf(o)),
      remove: (o) => this.refresh(keyOf(o)),
      error: failed('watching SeldonDeployments'),
    });
    // Every pod and Service of a SeldonDeployment carries its id label (EndpointSlices copy their Service's labels).
    this.pods = new Informer(settings.client, common(PODS, LABELS.deploymentId), {
      upsert: (o) => this.refreshOwnerOf(o),
      remove: (o) => this.refreshOwnerOf(o),
      error: failed("watching pods (without them, replicas are counted from the operator's status, and there are no logs)"),
    });
    this.slices = new Informer(settings.client, common(ENDPOINT_SLICES, LABELS.deploymentId), {
      upsert: (o) => this.reindex(o),
      remove: (o) => this.reindex(o),
      error: failed('watching EndpointSlices (without them, no replica is offered)'),
    });
    this.output = new PodLogs(settings.client, settings.options.logLines, (key, { replica, line }) => {
      const [namespace = '', name = ''] = key.split('/');
      this.emit({ type: 'log', namespace, name, replica, line });
    });
    for (const informer of [this.deployments, this.pods, this.slices]) informer.start();
    // Until the pods are listed (never, without the right to), replicas are counted from the operator's deploymentStatus.
    void this.pods.synced.then(() => {
      this.podsListed = true;
      for (const key of this.deployments.cache.keys()) this.refresh(key);
    });
  }

  /** Resolves once the SeldonDeployments are listed (pods and slices follow on their own). */
  get synced(): Promise<void> {
    return this.deployments.synced;
  }

  async apply(deployment: SeldonDeployment): Promise<void> {
    const { namespace, name } = deployment.metadata;
    if (this.closed) throw new Error(`cannot apply SeldonDeployment ${namespace}/${name}: the Kubernetes runtime is closed`);
    let live: LiveObject;
    try {
      live = await this.settings.client.apply(objectOf(deployment), RUNTIME_FIELD_MANAGER);
    } catch (error) {
      throw refusal('apply', namespace, name, error);
    }
    // Answer status at once, before the watch brings the object (a later event replaces this).
    const key = `${namespace}/${name}`;
    if (!this.closed && !this.statuses.has(key)) this.publish(key, live);
  }

  status(namespace: string, name: string): DeploymentStatus | undefined {
    return this.statuses.get(`${namespace}/${name}`);
  }

  /**
   * Deletes the SeldonDeployment in the foreground and resolves once the watch has seen it gone,
   * that is once its pods are gone too (see the module comment); rejects after `removeTimeout`.
   */
  async remove(namespace: string, name: string): Promise<void> {
    if (this.closed) throw new Error(`cannot remove SeldonDeployment ${namespace}/${name}: the Kubernetes runtime is closed`);
    const key = `${namespace}/${name}`;
    const gone = this.statuses.has(key) ? this.whenGone(key, `${namespace}/${name}`) : undefined;
    try {
      await this.settings.client.delete(SELDON_DEPLOYMENTS, namespace, name, { propagationPolicy: 'Foreground' });
    } catch (error) {
      gone?.cancel();
      throw refusal('remove', namespace, name, error);
    }
    await gone?.promise;
  }

  logs(namespace: string, name: string, options: { tail?: number; previous?: boolean } = {}): readonly LogLine[] {
    // A restarted container's earlier output is not followed here (kubectl logs -p reads it from the cluster).
    if (options.previous === true) return [];
    const lines = this.output.get(`${namespace}/${name}`);
    if (options.tail === undefined) return [...lines];
    return options.tail <= 0 ? [] : lines.slice(-options.tail);
  }

  watch(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
    // A deployment removed (or never seen) has none, whatever slices the garbage collector has yet to delete.
    if (!this.statuses.has(`${unit.namespace}/${unit.deployment}`)) return [];
    const owner = { metadata: { name: unit.deployment, namespace: unit.namespace, labels: {}, annotations: {} } };
    return this.addresses.get(`${unit.namespace}/${nodeServiceName(owner, { name: unit.predictor }, unit.node)}`) ?? [];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.deployments, this.pods, this.slices].map((i) => i.stop()));
    this.output.close();
    this.statuses.clear();
    this.addresses.clear();
    this.listeners.clear();
    for (const waiters of this.removals.values()) for (const done of waiters) done(new Error('the Kubernetes runtime was closed'));
    this.removals.clear();
  }

  /** Recomputes the status of `key` from the caches; emits what changed. */
  private refresh(key: string): void {
    if (this.closed) return;
    const live = this.deployments.cache.get(key);
    if (live !== undefined) {
      this.publish(key, live);
      return;
    }
    this.output.forget(key);
    if (!this.statuses.delete(key)) return;
    const [namespace = '', name = ''] = key.split('/');
    this.emit({ type: 'removed', namespace, name });
    for (const done of this.removals.get(key) ?? []) done();
    this.removals.delete(key);
  }

  private publish(key: string, live: LiveObject): void {
    const pods = this.podsOf(live);
    this.output.sync(key, nodeContainers(live, pods));
    const status = deploymentStatusOf(live, this.podsListed ? pods : 'unreadable');
    const before = this.statuses.get(key);
    if (before !== undefined && JSON.stringify(before) === JSON.stringify(status)) return;
    this.statuses.set(key, status);
    this.emit({ type: 'status', namespace: live.metadata.namespace ?? '', name: live.metadata.name, status });
  }

  /** A slice changed: the ready addresses of its Service again, from all of that Service's slices. */
  private reindex(slice: LiveObject): void {
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service === undefined || this.closed) return;
    const namespace = slice.metadata.namespace ?? '';
    const found = readyAddresses(this.inNamespace(this.slices, namespace), service);
    if (found.length === 0) this.addresses.delete(`${namespace}/${service}`);
    else this.addresses.set(`${namespace}/${service}`, found);
  }

  /** A pod changed: refresh the SeldonDeployment whose id label it carries. */
  private refreshOwnerOf(pod: LiveObject): void {
    const id = pod.metadata.labels?.[LABELS.deploymentId];
    for (const live of this.inNamespace(this.deployments, pod.metadata.namespace ?? '')) {
      if (kubernetesName(live.metadata.name) === id) this.refresh(keyOf(live));
    }
  }

  private podsOf(live: LiveObject): LiveObject[] {
    const id = kubernetesName(live.metadata.name);
    return this.inNamespace(this.pods, live.metadata.namespace ?? '').filter((pod) => pod.metadata.labels?.[LABELS.deploymentId] === id);
  }

  private inNamespace(informer: Informer, namespace: string): LiveObject[] {
    return [...informer.cache.values()].filter((o) => o.metadata.namespace === namespace);
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  private whenGone(key: string, what: string): { promise: Promise<void>; cancel: () => void } {
    let settle!: (error?: Error) => void;
    const promise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => settle(new Error(`SeldonDeployment ${what} was not gone within ${this.settings.options.removeTimeout} ms (deleted in the foreground: its pods are still stopping, or no garbage collector runs)`)), this.settings.options.removeTimeout);
      settle = (error) => {
        clearTimeout(timer);
        this.removals.get(key)?.delete(settle);
        if (error === undefined) resolve();
        else reject(error);
      };
    });
    const waiters = this.removals.get(key) ?? new Set();
    waiters.add(settle);
    this.removals.set(key, waiters);
    return { promise, cancel: () => settle() };
  }
}

/** The SeldonDeployment as the API takes it: its manifest, without what only this machine means (the manifest's folder, the generation). */
function objectOf(deployment: SeldonDeployment): LiveObject {
  const { baseDir: _local, ...rest } = deployment;
  const portable: SeldonDeployment = rest;
  const manifest = manifestOf(portable);
  const { generation: _generation, ...metadata } = manifest.metadata;
  return { ...manifest, metadata };
}

/** An API refusal as an error naming the object and the cause, with a hint for the usual ones. */
function refusal(verb: 'apply' | 'remove', namespace: string, name: string, error: unknown): Error {
  if (!(error instanceof KubeError)) return new Error(`cannot ${verb} SeldonDeployment ${namespace}/${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  const hint =
    error.status === 403
      ? ` (the credentials in use lack an RBAC rule: this runtime needs ${RBAC_NEEDED})`
      : error.status === 404 && verb === 'apply'
        ? ' (is the SeldonDeployment CRD installed, and does the namespace exist?)'
        : '';
  return new KubeError(error.status, error.reason, `cannot ${verb} SeldonDeployment ${namespace}/${name}: the API server refused it: ${error.message}${hint}`);
}
