/**
 * The control plane's state: applied deployments, their executors and their live status.
 * It is the gateway's DeploymentTable (a map lookup per request) and the API's operations.
 */
import type { Logger } from 'pino';
import { PredictorExecutor, type ExecutorOptions, type Metrics, type RequestLogger, type Transport, type V2Transport } from '../executor/index.ts';
import { eventNamingOf, type DeploymentEntry, type DeploymentTable } from '../gateway/index.ts';
import { TrantorError } from '../protocol/index.ts';
import type { AppliedObject, ApplyAction, ApplyMode, ApplyResponse, DeploymentView, LogLine, ObjectEvent, ObjectEventFilter, ObjectEventRecorder, Runtime, LoadOptions } from '../manifest/index.ts';
import { DEFAULT_MAX_REPLICAS, IN_PROCESS_ANNOTATION, ManifestError, loadManifests, manifestOf, servesInProcess, unknownFieldWarnings } from '../manifest/index.ts';
import type { ControlPlaneOps } from './api.ts';
import type { EventingControl } from './eventing-control.ts';
import type { InProcessComponents } from './in-process.ts';
import { viewOf } from './views.ts';
import { Changes } from './watch.ts';
import { readEnvelope, reasonOf, type ManifestStore, type RestoreReport, type StoredDeployment, type StoredFile } from './store.ts';

interface Applied {
  stored: StoredDeployment;
  entry: DeploymentEntry;
}

/** A deployment's prediction address through the gateway at `gatewayUrl`. */
export function deploymentAddress(gatewayUrl: string, namespace: string, name: string): string {
  return `${gatewayUrl}/seldon/${namespace}/${name}/api/v1.0/predictions`;
}

/**
 * The applied deployments by namespace and name: the gateway's DeploymentTable (a map lookup
 * per request). Made before the control plane, so eventing, which the control plane drives,
 * can resolve a deployment's address from it.
 */
export class AppliedDeployments implements DeploymentTable {
  readonly #byNamespace = new Map<string, Map<string, Applied>>();

  lookup(namespace: string, name: string): DeploymentEntry | undefined {
    return this.#byNamespace.get(namespace)?.get(name)?.entry;
  }

  get(namespace: string, name: string): Applied | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }

  set(applied: Applied): void {
    const { namespace, name } = applied.entry;
    let names = this.#byNamespace.get(namespace);
    if (names === undefined) {
      names = new Map();
      this.#byNamespace.set(namespace, names);
    }
    names.set(name, applied);
  }

  delete(namespace: string, name: string): boolean {
    const names = this.#byNamespace.get(namespace);
    if (names?.delete(name) !== true) return false;
    if (names.size === 0) this.#byNamespace.delete(namespace);
    return true;
  }

  /** By namespace, then name. */
  sorted(): Applied[] {
    const out: Applied[] = [];
    for (const namespace of [...this.#byNamespace.keys()].sort()) {
      const names = this.#byNamespace.get(namespace)!;
      for (const name of [...names.keys()].sort()) out.push(names.get(name)!);
    }
    return out;
  }
}

export interface ControlPlaneOptions {
  runtime: Runtime;
  transport: Transport;
  /** How `protocol: v2` graphs call their nodes; such a deployment is refused without it. */
  v2Transport?: V2Transport;
  /** How their nodes with `endpoint.type: GRPC` are called (`GrpcV2Transport`); such a node fails without it. */
  v2GrpcTransport?: V2Transport;
  store: ManifestStore;
  logger: Logger;
  requestTimeoutMs: number;
  /** Serves the components of deployments that opt in to running inside the control plane. */
  inProcess?: InProcessComponents;
  /** Brokers, triggers and sinks; without it, eventing manifests are refused. */
  eventing?: EventingControl;
  /** The gateway's base URL, for `status.address.url`; '' until the gateway listens. */
  gatewayUrl: () => string;
  /** Where applied deployments are kept; a new table when absent. */
  deployments?: AppliedDeployments;
  /** Where executors record component calls and custom metrics; none when absent. */
  metrics?: Metrics;
  /** The executors' compiled options and request logger; the defaults and the shared logger when absent. */
  executorOptions?: ExecutorOptions;
  requestLogger?: RequestLogger;
  /** The most replicas a predictor or componentSpec may ask for; default DEFAULT_MAX_REPLICAS. */
  maxReplicas?: number;
  /** The Kubernetes-style Events: applies and deletions are recorded there, and `events()` lists them. */
  events?: ObjectEventRecorder & { list(filter: ObjectEventFilter): ObjectEvent[] };
}

export class ControlPlane implements ControlPlaneOps, DeploymentTable {
  readonly #deployments: AppliedDeployments;
  readonly #options: ControlPlaneOptions;
  /** Applies, deletes and restores; status changes come from the runtime's own events. */
  readonly #changes = new Changes();
  /** `logs -f` answers to end when their deployment is deleted (whatever runs it: processes or in-process), by `<ns>/<name>`. */
  readonly #followers = new Map<string, Set<() => void>>();

  constructor(options: ControlPlaneOptions) {
    this.#options = options;
    this.#deployments = options.deployments ?? new AppliedDeployments();
  }

  lookup(namespace: string, name: string): DeploymentEntry | undefined {
    return this.#deployments.lookup(namespace, name);
  }

  /** Brokers, triggers and sinks, when this control plane runs them. */
  get eventing(): EventingControl | undefined {
    return this.#options.eventing;
  }

  /**
   * Brings back every deployment stored by an earlier run, each checked as `apply` checks it
   * (with today's limits). A file that fails is skipped and reported, and the others come back.
   */
  async restore(): Promise<RestoreReport> {
    const { files, skipped } = await this.#options.store.files('seldondeployments');
    let restored = 0;
    for (const file of files) {
      try {
        await this.#activate(this.#reread(file));
        restored++;
      } catch (err) {
        skipped.push({ file: file.file, reason: reasonOf(err) });
      }
    }
    this.#changes.notify();
    return { restored, skipped };
  }

  /** A stored deployment, checked again; throws what is wrong with it. */
  #reread(file: StoredFile): StoredDeployment {
    const { value, createdAt } = readEnvelope(file.text, 'deployment');
    const options: LoadOptions = { ...this.#loadOptions };
    if (typeof value['baseDir'] === 'string') options.baseDir = value['baseDir'];
    const loaded = loadManifests(JSON.stringify(manifestOf(value)), options);
    const deployment = loaded.deployments[0];
    const objects = loaded.deployments.length + loaded.brokers.length + loaded.triggers.length + loaded.services.length + loaded.kubeDeployments.length + loaded.configMaps.length;
    if (deployment === undefined || objects !== 1) throw new Error('expected one SeldonDeployment');
    const { namespace, name } = deployment.metadata;
    if (namespace !== file.namespace || name !== file.name) {
      throw new Error(`holds SeldonDeployment ${namespace}/${name}, not the ${file.namespace}/${file.name} its path names`);
    }
    return { deployment, createdAt };
  }

  get #loadOptions(): LoadOptions {
    return { maxReplicas: this.#options.maxReplicas ?? DEFAULT_MAX_REPLICAS };
  }

  async apply(text: string, source: string, baseDir: string, mode: ApplyMode = {}): Promise<ApplyResponse> {
    // loadManifests throws before anything is stored when any document is bad: nothing is half-applied.
    const loaded = loadManifests(text, { ...this.#loadOptions, source, baseDir });
    const warnings = mode.fieldValidation === 'Ignore' ? [] : unknownFieldWarnings(text);
    if (mode.fieldValidation === 'Strict' && warnings.length > 0) throw new ManifestError(warnings, source);
    const { deployments } = loaded;
    const eventingObjects = loaded.brokers.length + loaded.triggers.length + loaded.services.length + loaded.kubeDeployments.length + loaded.configMaps.length;
    const eventing = this.#options.eventing;
    if (eventingObjects > 0 && eventing === undefined) throw new TrantorError('NOT_SUPPORTED', 'this control plane runs without eventing');
    for (const d of deployments) {
      if (d.spec.protocol !== 'v2') continue;
      const key = `${d.metadata.namespace}/${d.metadata.name}`;
      if (this.#options.v2Transport === undefined) throw new TrantorError('NOT_SUPPORTED', `SeldonDeployment ${key}: this control plane serves no protocol: v2 deployments`);
      // In-process components are reached by Seldon's methods only; V2 nodes are called over the network.
      if (servesInProcess(d)) {
        throw new TrantorError('NOT_SUPPORTED', `SeldonDeployment ${key}: protocol: v2 components run as processes; remove the ${IN_PROCESS_ANNOTATION} annotation, or use protocol: seldon to serve them in process`);
      }
    }
    const applied: AppliedObject[] = [];
    const answer = (): ApplyResponse => ({ applied, ...(mode.dryRun === true ? { dryRun: true as const } : {}), ...(warnings.length > 0 ? { warnings } : {}) });
    for (const deployment of deployments) {
      const { namespace, name } = deployment.metadata;
      const previous = this.#deployments.get(namespace, name);
      let action: ApplyAction = 'created';
      if (previous !== undefined) {
        action = JSON.stringify(previous.stored.deployment) === JSON.stringify(deployment) ? 'unchanged' : 'configured';
      }
      if (mode.dryRun === true) {
        applied.push({ kind: 'SeldonDeployment', namespace, name, action });
        continue;
      }
      const stored: StoredDeployment = { deployment, createdAt: previous?.stored.createdAt ?? new Date().toISOString() };
      await this.#options.store.save(stored);
      await this.#activate(stored);
      applied.push({ kind: 'SeldonDeployment', namespace, name, action });
      this.#options.logger.info({ namespace, name, action }, 'applied SeldonDeployment');
    }
    if (eventing !== undefined) {
      // Triggers in the same file resolve against the deployments just applied.
      if (eventingObjects > 0) applied.push(...(await eventing.apply(loaded, mode.dryRun === true)));
      else if (deployments.length > 0 && mode.dryRun !== true) await eventing.resolve();
    }
    // A dry run changed nothing: nothing to record.
    for (const object of mode.dryRun === true ? [] : applied) {
      if (object.action === 'unchanged') continue;
      const { kind, namespace, name, action } = object;
      this.#options.events?.record({
        type: 'Normal',
        reason: action === 'created' ? 'Created' : 'Updated',
        message: `${kind} ${name} ${action} from ${source}`,
        source: 'control-plane',
        involvedObject: { kind, namespace, name },
      });
    }
    if (deployments.length > 0 && mode.dryRun !== true) this.#changes.notify();
    return answer();
  }

  async #activate(stored: StoredDeployment): Promise<void> {
    const { deployment } = stored;
    const { namespace, name } = deployment.metadata;
    const executors = deployment.spec.predictors.map(
      (predictor) =>
        new PredictorExecutor({
          namespace,
          deployment: name,
          predictor,
          transport: this.#options.transport,
          protocol: deployment.spec.protocol,
          ...(this.#options.v2Transport === undefined ? {} : { v2Transport: this.#options.v2Transport }),
          ...(this.#options.v2GrpcTransport === undefined ? {} : { v2GrpcTransport: this.#options.v2GrpcTransport }),
          timeoutMs: this.#options.requestTimeoutMs,
          ...(this.#options.metrics === undefined ? {} : { metrics: this.#options.metrics }),
          ...(this.#options.executorOptions === undefined ? {} : { options: this.#options.executorOptions }),
          ...(this.#options.requestLogger === undefined ? {} : { requestLogger: this.#options.requestLogger }),
        }),
    );
    await this.#options.inProcess?.activate(deployment);
    this.#deployments.set({ stored, entry: { namespace, name, executors, eventNaming: eventNamingOf(deployment) } });
    await this.#options.runtime.apply(deployment);
  }

  list(): DeploymentView[] {
    return this.#deployments.sorted().map((applied) => this.#view(applied.stored));
  }

  get(namespace: string, name: string): DeploymentView | undefined {
    const applied = this.#deployments.get(namespace, name);
    return applied === undefined ? undefined : this.#view(applied.stored);
  }

  addressOf(deployment: { metadata: { namespace: string; name: string } }): string {
    const { namespace, name } = deployment.metadata;
    return deploymentAddress(this.#options.gatewayUrl(), namespace, name);
  }

  /** The manifest in Seldon's shape (applying it again changes nothing) plus its live status. */
  #view(stored: StoredDeployment): DeploymentView {
    const deployment = viewOf(manifestOf(stored.deployment), stored.createdAt);
    const { namespace, name } = deployment.metadata;
    let status = this.#options.runtime.status(namespace, name) ?? { state: 'Creating' as const, replicas: [] };
    const inProcessFailure = this.#options.inProcess?.failureOf(namespace, name);
    if (inProcessFailure !== undefined) status = { ...status, state: 'Failed', description: inProcessFailure };
    return { ...deployment, status: { ...status, address: { url: this.addressOf(deployment) }, createdAt: stored.createdAt } };
  }

  async remove(namespace: string, name: string): Promise<boolean> {
    if (!this.#deployments.delete(namespace, name)) return false;
    await this.#options.store.remove(namespace, name);
    await this.#options.runtime.remove(namespace, name);
    // After the runtime stopped the replicas: their last lines have been followed.
    for (const end of this.#followers.get(`${namespace}/${name}`) ?? []) end();
    this.#options.inProcess?.remove(namespace, name);
    await this.#options.eventing?.resolve();
    this.#options.logger.info({ namespace, name }, 'deleted SeldonDeployment');
    this.#options.events?.record({ type: 'Normal', reason: 'Deleted', message: `SeldonDeployment ${name} deleted`, source: 'control-plane', involvedObject: { kind: 'SeldonDeployment', namespace, name } });
    this.#changes.notify();
    return true;
  }

  /** The recorded Kubernetes-style Events that pass `filter`, newest last; none without a log. */
  events(filter: ObjectEventFilter): ObjectEvent[] {
    return this.#options.events?.list(filter) ?? [];
  }

  logs(namespace: string, name: string, options: { previous: boolean }): LogLine[] {
    return this.#options.runtime.logs(namespace, name, options).map(({ replica, line, time }) => (time === undefined ? { replica, line } : { replica, line, time }));
  }

  followLogs(namespace: string, name: string, onLine: (line: LogLine) => void, onEnd: () => void): () => void {
    const key = `${namespace}/${name}`;
    const followers = this.#followers.get(key) ?? new Set<() => void>();
    this.#followers.set(key, followers);
    let stopWatching = (): void => undefined;
    const stop = (): void => {
      stopWatching();
      followers.delete(onDeleted);
      if (followers.size === 0 && this.#followers.get(key) === followers) this.#followers.delete(key);
    };
    const onDeleted = (): void => {
      stop();
      onEnd();
    };
    followers.add(onDeleted);
    stopWatching = this.#options.runtime.watch((event) => {
      if (event.type === 'log' && event.namespace === namespace && event.name === name) {
        onLine(event.time === undefined ? { replica: event.replica, line: event.line } : { replica: event.replica, line: event.line, time: event.time });
      }
    });
    return stop;
  }

  /** Calls `onChange` whenever a deployment may have been added, changed (its status too) or removed. */
  watchChanges(onChange: () => void): () => void {
    const stopOwn = this.#changes.subscribe(onChange);
    const stopRuntime = this.#options.runtime.watch((event) => {
      if (event.type === 'status') onChange();
    });
    return () => {
      stopOwn();
      stopRuntime();
    };
  }

  /** Calls `onChange` with a one-line summary whenever a deployment's state changes. */
  watchStatus(onChange: (summary: string) => void): void {
    const last = new Map<string, string>();
    this.#options.runtime.watch((event) => {
      if (event.type !== 'status') return;
      const { namespace, name, status } = event;
      const summary = `${namespace}/${name}: ${status.state}${status.description ? ` — ${status.description}` : ''}`;
      if (last.get(`${namespace}/${name}`) === summary) return;
      last.set(`${namespace}/${name}`, summary);
      onChange(summary);
    });
  }
}
