/**
 * The local runtime: each graph node of each predictor runs as `replicas` child processes on this
 * machine, each on its own loopback port with Seldon's environment contract.
 *
 * A replica is Ready once it answers its health check; the deployment is Available once every
 * replica is. A replica that dies after it was ready leaves `replicasOf()` at once and is started
 * again with exponential backoff. A changed manifest rolls: the new replicas start beside the old
 * ones, `replicasOf()` switches to them once all are ready, and only then do the old ones stop.
 *
 * A ready replica is probed on (readiness and liveness, with the container's own probes when the
 * manifest gives them): failing readiness takes it out of `replicasOf()` until it passes again;
 * failing liveness has it killed with SIGKILL (a stopped process ignores SIGTERM) and restarted
 * like a crash.
 *
 * The parts: `replica.ts` runs one replica's processes, `rollout.ts` replaces a deployment's sets,
 * `endpoints.ts` is the index `replicasOf()` reads, `status.ts` words the status; this class
 * keeps the deployments and ties them together.
 */
import { EventEmitter, on } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { asTrantorError } from '../../protocol/index.ts';
import { describeProgress, modelFolder, readSecretEnv } from '../../storage/index.ts';
import { NO_OBJECT_EVENTS } from '../../manifest/index.ts';
import type { DeploymentStatus, EndpointSource, ObjectEventRecorder, ObjectEventType, ReplicaAddress, Runtime, RuntimeEvent, UnitKey, SeldonDeployment } from '../../manifest/index.ts';
import { EndpointIndex } from './endpoints.ts';
import { defaultProbes } from './health.ts';
import { DeploymentLogs, safePart } from './logs.ts';
import type { LogLine } from './logs.ts';
import { runtimeOptions } from './options.ts';
import type { RuntimeOptions } from './options.ts';
import { planDeployment, withModelFolder } from './plan.ts';
import type { ComponentLaunch, PlanOptions } from './plan.ts';
import { sharedPorts } from './ports.ts';
import type { PortAllocator } from './ports.ts';
import { findPython } from './python.ts';
import type { ReplicaHost, ReplicaSet } from './replica.ts';
import { DeploymentRecord, deploymentId } from './rollout.ts';
import type { UnitDefaults } from './rollout.ts';
import { statusOf } from './status.ts';

export interface LocalSupervisorOptions {
  /** State root; replica logs go to `<home>/logs/<namespace>/<deployment>/<predictor>.<node>.<index>.log`. */
  home: string;
  logger: Logger;
  /** The runtime's compiled options (`trantor up` passes `runtime.*`); any left out take their defaults. */
  options?: Partial<RuntimeOptions>;
  /** The environment replicas inherit (`trantor up`'s). */
  env: NodeJS.ProcessEnv;
  /** Where ports come from; one allocator shared by the process by default. */
  ports?: PortAllocator;
  /** Where Kubernetes-style Events go (replica started, crashed, back-off; model downloads); nowhere when absent. */
  recorder?: ObjectEventRecorder;
  /** Finds a Python with the given modules (tests replace it). */
  python?: PlanOptions['python'];
  /** How to start the Node host; found from the package layout by default. */
  nodeHost?: readonly string[] | null;
}

export interface StatusEvent {
  namespace: string;
  name: string;
  status: DeploymentStatus;
}

export interface LogEvent extends LogLine {
  namespace: string;
  name: string;
}

export interface RemovedEvent {
  namespace: string;
  name: string;
}

// A type alias (not an interface) so it satisfies EventEmitter's event-map constraint.
export type SupervisorEvents = {
  /** A deployment's status changed (a replica started, became ready, crashed; the state moved). */
  status: [StatusEvent];
  /** A replica printed a line. */
  log: [LogEvent];
  /** A deployment was removed. */
  removed: [RemovedEvent];
};

export class LocalSupervisor extends EventEmitter<SupervisorEvents> implements Runtime, EndpointSource {
  readonly #home: string;
  readonly #options: RuntimeOptions;
  readonly #defaults: UnitDefaults;
  readonly #logger: Logger;
  readonly #recorder: ObjectEventRecorder;
  readonly #planOptions: PlanOptions;
  readonly #host: ReplicaHost;
  readonly #deployments = new Map<string, DeploymentRecord>();
  readonly #endpoints = new EndpointIndex();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: LocalSupervisorOptions) {
    super();
    this.#home = options.home;
    this.#options = Object.freeze({ ...runtimeOptions.defaults, ...options.options });
    this.#defaults = Object.freeze({ probes: defaultProbes(this.#options), startupTimeoutMs: this.#options.startupTimeout });
    this.#logger = options.logger;
    this.#recorder = options.recorder ?? NO_OBJECT_EVENTS;
    const env = options.env;
    const { pythonProbeTimeout } = this.#options;
    this.#planOptions = { env, home: options.home, python: options.python ?? ((modules, pythonEnv) => findPython(modules, pythonEnv, pythonProbeTimeout)) };
    if (options.nodeHost !== undefined) this.#planOptions.nodeHost = options.nodeHost;
    this.#host = this.#replicaHost(options.ports ?? sharedPorts);
  }

  // ---- Runtime ---------------------------------------------------------------------------

  apply(deployment: SeldonDeployment): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('the local supervisor is closed'));
    const { namespace, name } = deployment.metadata;
    const record = this.#recordFor(namespace, name);
    const appliedKey = JSON.stringify({ spec: deployment.spec, baseDir: deployment.baseDir ?? null });
    if (record.appliedKey === appliedKey && record.failure === undefined) return Promise.resolve();
    record.appliedKey = appliedKey;
    const revision = ++record.revision;
    const log = this.#logger.child({ deployment: deploymentId(namespace, name), revision });

    if (record.rollout !== undefined) {
      log.info('a newer manifest replaces the unfinished rollout');
      record.abandonRollout();
    }
    record.failure = undefined;
    record.failedSets = undefined;
    record.abortLoading?.();
    record.abortLoading = undefined;
    record.loading = undefined;

    let launches: ComponentLaunch[];
    try {
      launches = planDeployment(deployment, this.#planOptions);
    } catch (err) {
      const message = asTrantorError(err).message;
      record.failure =
        record.servingRevision === undefined ? message : `update not applied: ${message}; the previous version keeps serving`;
      log.warn({ reason: message }, 'deployment cannot run locally');
      this.#event(namespace, name, 'Warning', 'Failed', message);
      this.#changed(record);
      return Promise.resolve();
    }

    if (launches.some((l) => l.remoteModel !== undefined)) {
      const abort = new AbortController();
      record.abortLoading = () => abort.abort();
      record.loading = `fetching ${[...new Set(launches.flatMap((l) => l.remoteModel?.uri ?? []))].join(', ')}`;
      this.#changed(record);
      this.#track(this.#fetchModels(record, revision, launches, deployment, abort.signal));
      return Promise.resolve();
    }
    this.#roll(record, revision, launches, deployment);
    return Promise.resolve();
  }

  #roll(record: DeploymentRecord, revision: number, launches: readonly ComponentLaunch[], deployment: SeldonDeployment): void {
    const rollout = record.begin(revision, launches, deployment, this.#host, this.#defaults);
    this.#logger.info(
      { deployment: record.id, revision, units: [...rollout.sets.values()].map((s) => `${s.launch.node}×${s.launch.replicas}`), removed: rollout.removed.size },
      'rolling out',
    );
    for (const set of rollout.sets.values()) set.start();
    record.commitIfReady(this.#endpoints, this.#logger);
    this.#changed(record);
  }

  /**
   * Fetches the remote models of `launches` (the status says what is downloading, and how far),
   * then rolls out; a failure leaves the deployment Failed naming the field, the URI and the cause.
   * A newer apply or a removal aborts it.
   */
  async #fetchModels(record: DeploymentRecord, revision: number, launches: ComponentLaunch[], deployment: SeldonDeployment, signal: AbortSignal): Promise<void> {
    const current = (): boolean => !signal.aborted && record.revision === revision && this.#deployments.get(record.id) === record;
    const resolved: ComponentLaunch[] = [];
    for (const planned of launches) {
      const remote = planned.remoteModel;
      if (remote === undefined) {
        resolved.push(planned);
        continue;
      }
      this.#event(record.namespace, record.name, 'Normal', 'Pulling', `Downloading model ${remote.uri} (${remote.field})`, planned.predictor, planned.node);
      try {
        const secretEnv = remote.secretRefName === undefined ? {} : readSecretEnv(this.#home, record.namespace, remote.secretRefName, `${remote.field.replace(/\.modelUri$/, '')}.envSecretRefName`);
        const result = await modelFolder(remote.uri, remote.field, {
          home: this.#home,
          env: this.#planOptions.env,
          secretEnv,
          baseDir: deployment.baseDir ?? process.cwd(),
          signal,
          onProgress: (progress) => {
            if (!current()) return;
            record.loading = describeProgress(remote.uri, progress);
            this.#changed(record);
          },
        });
        this.#logger.info({ deployment: record.id, uri: remote.uri, folder: result.folder, fromCache: result.fromCache, bytes: result.bytes }, 'model fetched');
        const how = result.fromCache ? 'already in the model cache' : `downloaded (${result.bytes} bytes)`;
        this.#event(record.namespace, record.name, 'Normal', 'Pulled', `Model ${remote.uri} ${how}`, planned.predictor, planned.node);
        resolved.push(withModelFolder(planned, result.folder));
      } catch (err) {
        if (!current()) return;
        const error = asTrantorError(err);
        // A store this machine cannot reach (offline, air-gapped): say how to serve a local copy instead.
        const offline = error.code === 'UNAVAILABLE' ? '; without network access, map the URI to a local copy with TRANTOR_STORAGE_MIRRORS (docs/storage.md, "Mirrors (air-gapped sites)")' : '';
        const message = `${remote.field}: cannot fetch the model of node "${planned.node}": ${error.message}${offline}`;
        record.loading = undefined;
        record.abortLoading = undefined;
        record.failure = record.servingRevision === undefined ? message : `update not applied: ${message}; the previous version keeps serving`;
        this.#logger.warn({ deployment: record.id, reason: message }, 'model fetch failed');
        this.#event(record.namespace, record.name, 'Warning', 'Failed', message, planned.predictor, planned.node);
        this.#changed(record);
        return;
      }
    }
    if (!current()) return;
    record.loading = undefined;
    record.abortLoading = undefined;
    this.#roll(record, revision, resolved, deployment);
  }

  status(namespace: string, name: string): DeploymentStatus | undefined {
    const record = this.#deployments.get(deploymentId(namespace, name));
    return record === undefined ? undefined : statusOf(record);
  }

  async remove(namespace: string, name: string): Promise<void> {
    const id = deploymentId(namespace, name);
    const record = this.#deployments.get(id);
    if (record === undefined) return;
    this.#deployments.delete(id);
    record.abortLoading?.();
    this.#endpoints.removeDeployment(namespace, name);
    await Promise.all(record.takeAllSets().map((set) => set.stop()));
    await record.logs.close();
    this.#logger.info({ deployment: id }, 'deployment removed');
    this.#emitSafely('removed', { namespace, name });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const records = [...this.#deployments.values()];
    await Promise.all(records.map((r) => this.remove(r.namespace, r.name)));
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  watch(listener: (event: RuntimeEvent) => void): () => void {
    const status = (e: StatusEvent): void => listener({ type: 'status', namespace: e.namespace, name: e.name, status: e.status });
    const log = (e: LogEvent): void => listener({ type: 'log', namespace: e.namespace, name: e.name, replica: e.replica, line: e.line, time: e.time });
    const removed = (e: RemovedEvent): void => listener({ type: 'removed', namespace: e.namespace, name: e.name });
    this.on('status', status).on('log', log).on('removed', removed);
    return () => void this.off('status', status).off('log', log).off('removed', removed);
  }

  // ---- EndpointSource --------------------------------------------------------------------

  replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
    return this.#endpoints.replicasOf(unit);
  }

  // ---- logs ------------------------------------------------------------------------------

  /** The buffered output of a deployment's replicas, oldest first (the last `tail` lines of each when given; their previous runs with `previous`). */
  logs(namespace: string, name: string, options: { tail?: number; previous?: boolean } = {}): LogLine[] {
    return this.#deployments.get(deploymentId(namespace, name))?.logs.lines(options) ?? [];
  }

  /** The folder holding a deployment's log files. */
  logDir(namespace: string, name: string): string {
    return join(this.#home, 'logs', safePart(namespace), safePart(name));
  }

  /** New output lines of a deployment's replicas, as they are read, until `signal` aborts. */
  async *follow(namespace: string, name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<LogEvent> {
    const events = on(this, 'log', options.signal === undefined ? {} : { signal: options.signal }) as AsyncIterableIterator<[LogEvent]>;
    try {
      for await (const [event] of events) {
        if (event.namespace === namespace && event.name === name) yield event;
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  }

  // ---- deployments -------------------------------------------------------------------------

  #recordFor(namespace: string, name: string): DeploymentRecord {
    const id = deploymentId(namespace, name);
    let record = this.#deployments.get(id);
    if (record === undefined) {
      const logs = new DeploymentLogs(
        this.logDir(namespace, name),
        (line) => {
          if (this.listenerCount('log') > 0) this.#emitSafely('log', { namespace, name, ...line });
        },
        {
          lines: this.#options.logLines,
          lineMax: this.#options.logLineMax,
          file: {
            maxBufferedBytes: this.#options.logBuffer,
            retryMs: this.#options.logRetry,
            // A full disk under the component logs: said once in the control plane's log, never thrown.
            onTrouble: (message) => this.#logger.warn({ deployment: id }, message),
          },
        },
      );
      record = new DeploymentRecord(namespace, name, logs);
      this.#deployments.set(id, record);
    }
    return record;
  }

  #recordOf(set: ReplicaSet): DeploymentRecord | undefined {
    return this.#deployments.get(deploymentId(set.unit.namespace, set.unit.deployment));
  }

  /** Records a Kubernetes-style Event on a SeldonDeployment (at one graph node when given). */
  #event(namespace: string, name: string, type: ObjectEventType, reason: string, message: string, predictor?: string, node?: string): void {
    const fieldPath = predictor === undefined || node === undefined ? {} : { fieldPath: `spec.predictors{${predictor}}.graph{${node}}` };
    this.#recorder.record({ type, reason, message, source: 'supervisor', involvedObject: { kind: 'SeldonDeployment', namespace, name, ...fieldPath } });
  }

  /** What the replicas of every deployment report back to. */
  #replicaHost(ports: PortAllocator): ReplicaHost {
    return {
      options: this.#options,
      ports,
      logger: this.#logger,
      recorder: this.#recorder,
      logsOf: (set) => this.#recordOf(set)?.logs,
      changed: (set) => {
        const record = this.#recordOf(set);
        if (record !== undefined) this.#changed(record);
      },
      // A serving set's ready addresses go into the index at once.
      readyChanged: (set) => {
        const record = this.#recordOf(set);
        if (record?.isServing(set) === true) this.#endpoints.publish(set.unit, set.ready);
      },
      becameReady: (set) => this.#recordOf(set)?.commitIfReady(this.#endpoints, this.#logger),
      failedToStart: (set, reason) => this.#recordOf(set)?.failRollout(set, reason, this.#logger),
      track: (task) => this.#track(task),
    };
  }

  /** Emits `status` when what `status()` would answer differs from what was last emitted. */
  #changed(record: DeploymentRecord): void {
    if (this.#deployments.get(record.id) !== record) return;
    const status = statusOf(record);
    const text = JSON.stringify(status);
    if (text === record.lastEmitted) return;
    record.lastEmitted = text;
    this.#emitSafely('status', { namespace: record.namespace, name: record.name, status });
  }

  #emitSafely<K extends keyof SupervisorEvents>(event: K, ...args: SupervisorEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SupervisorEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#logger.error({ err, event }, 'a supervisor event listener threw');
    }
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((err: unknown) => this.#logger.error({ err }, 'local supervisor task failed'));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}
