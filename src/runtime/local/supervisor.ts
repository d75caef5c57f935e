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
 * Children run in their own process group, and the whole group is signalled, so a shell wrapper's
 * children stop with it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter, on } from 'node:events';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { asTrantorError, COMPONENT_ENV, portEnv } from '../../protocol/index.ts';
import type { DeploymentStatus, EndpointSource, ReplicaAddress, ReplicaState, ReplicaStatus, Runtime, RuntimeEvent, UnitKey, SeldonDeployment } from '../../manifest/index.ts';
import { describeProbe, PROBE_DEFAULTS, probeLoop, probeSettings, waitUntilReady } from './health.ts';
import type { ProbeSettings } from './health.ts';
import { DeploymentLogs, safePart } from './logs.ts';
import type { Capture, LogLine } from './logs.ts';
import { planDeployment } from './plan.ts';
import type { ComponentLaunch, PlanOptions } from './plan.ts';
import { LOOPBACK, sharedPorts } from './ports.ts';
import type { PortAllocator } from './ports.ts';

export interface LocalSupervisorOptions {
  /** State root; replica logs go to `<home>/logs/<namespace>/<deployment>/<predictor>.<node>.<index>.log`. */
  home: string;
  logger: Logger;
  /** The environment replicas inherit; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** How long a replica may take to answer its first health check, unless its container has a startupProbe (default 60 s). */
  healthTimeoutMs?: number;
  /** Pause between health checks while a replica starts (default 75 ms). */
  healthIntervalMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping a replica (default 5 s). */
  stopGraceMs?: number;
  /** First restart delay after a crash; doubles per crash (default 500 ms). */
  restartBackoffMs?: number;
  /** Cap on the restart delay (default 30 s). */
  maxRestartBackoffMs?: number;
  /** A replica up this long has its restart delay reset (default 60 s). */
  stableAfterMs?: number;
  /** Lines kept in memory per replica (default 500). */
  logLines?: number;
  /** Lines of a failed replica's output quoted in the deployment's description (default 20). */
  failureLines?: number;
  /** Where ports come from; one allocator shared by the process by default. */
  ports?: PortAllocator;
  /** Finds a Python with the given modules (tests replace it). */
  python?: PlanOptions['python'];
  /** How to start the Node host; found from the package layout by default. */
  nodeHost?: readonly string[] | null;
  /** Probes of ready replicas whose container names none (`PROBE_DEFAULTS` by default). */
  probes?: Partial<Probes>;
}

/** The two probes a ready replica gets. */
export interface Probes {
  readiness: Readonly<ProbeSettings>;
  liveness: Readonly<ProbeSettings>;
}

interface Settings {
  home: string;
  env: NodeJS.ProcessEnv;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  stopGraceMs: number;
  restartBackoffMs: number;
  maxRestartBackoffMs: number;
  stableAfterMs: number;
  logLines: number;
  failureLines: number;
  probes: Readonly<Probes>;
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

const EMPTY: readonly ReplicaAddress[] = Object.freeze([]);
const CLOSE_WAIT_MS = 500;

/** One run of a replica's process. */
interface Attempt {
  child: ChildProcess;
  pid: number | undefined;
  port: number;
  ports: number[];
  output: Capture;
  probe: AbortController;
  done: boolean;
  /** Why the supervisor killed it, when it did (health timeout). */
  killedBecause?: string;
  stopDeadline?: number;
  exited: Promise<void>;
}

class Replica {
  readonly id: string;
  readonly index: number;
  readonly set: ReplicaSet;
  state: ReplicaState = 'Starting';
  restarts = 0;
  /** Crashes since it last stayed up `stableAfterMs`; the exponent of the restart delay. */
  failures = 0;
  message: string | undefined;
  /** How its last process ended, when it crashed. */
  lastExit: string | undefined;
  address: ReplicaAddress | undefined;
  attempt: Attempt | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  stableTimer: NodeJS.Timeout | undefined;
  stopping = false;

  constructor(set: ReplicaSet, index: number) {
    this.set = set;
    this.index = index;
    this.id = `${set.launch.predictor}/${set.launch.node}/${index}`;
  }

  toStatus(): ReplicaStatus {
    const status: ReplicaStatus = {
      id: this.id,
      predictor: this.set.launch.predictor,
      node: this.set.launch.node,
      index: this.index,
      state: this.state,
      restarts: this.restarts,
    };
    const attempt = this.attempt;
    if (attempt !== undefined && !attempt.done) {
      if (attempt.pid !== undefined) status.pid = attempt.pid;
      status.port = attempt.port;
    }
    if (this.message !== undefined) status.message = this.message;
    return status;
  }
}

/** The replicas of one graph node at one revision of the manifest. */
class ReplicaSet {
  readonly unit: UnitKey;
  readonly launch: ComponentLaunch;
  readonly revision: number;
  readonly replicas: Replica[];
  /** All its replicas were ready together once; from then on a crash restarts rather than fails. */
  established = false;
  /** The addresses of its ready replicas, replaced (never mutated) on change. */
  ready: readonly ReplicaAddress[] = EMPTY;
  /** Replaced in place when only the manifest's probes change; probe loops read it each time. */
  probes: Readonly<Probes>;
  /** How long each start may take to answer its first health check; replaced like `probes`. */
  startupTimeoutMs: number;

  constructor(unit: UnitKey, launch: ComponentLaunch, revision: number, probes: Readonly<Probes>, startupTimeoutMs: number) {
    this.unit = unit;
    this.launch = launch;
    this.revision = revision;
    this.probes = probes;
    this.startupTimeoutMs = startupTimeoutMs;
    this.replicas = Array.from({ length: launch.replicas }, (_, i) => new Replica(this, i));
  }

  get allReady(): boolean {
    return this.replicas.every((r) => r.state === 'Ready');
  }
}

interface Rollout {
  revision: number;
  /** New sets, by unit id, that replace (or add to) the serving ones once all are ready. */
  sets: Map<string, ReplicaSet>;
  /** Unit ids whose serving set goes away when the rollout commits. */
  removed: Set<string>;
}

class DeploymentRecord {
  readonly namespace: string;
  readonly name: string;
  readonly logs: DeploymentLogs;
  serving = new Map<string, ReplicaSet>();
  rollout: Rollout | undefined;
  /** Why the deployment is Failed; cleared by the next apply. */
  failure: string | undefined;
  /** The sets of the rollout that failed, kept to show their replicas' states. */
  failedSets: Map<string, ReplicaSet> | undefined;
  unitOrder: string[] = [];
  appliedKey = '';
  revision = 0;
  /** The revision that last became Available, if any. */
  servingRevision: number | undefined;
  lastEmitted = '';

  constructor(namespace: string, name: string, logs: DeploymentLogs) {
    this.namespace = namespace;
    this.name = name;
    this.logs = logs;
  }
}

type UnitIndex = Map<string, Map<string, Map<string, Map<string, readonly ReplicaAddress[]>>>>;

function unitId(predictor: string, node: string): string {
  return `${predictor}\u0000${node}`;
}

function deploymentId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Process groups of replicas running now, in every supervisor of this process. Should the
 * control plane exit without `close()` (process.exit, an uncaught error), they are killed on
 * the way out, so no replica outlives it.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) signalGroup(pid, 'SIGKILL');
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) return `was killed by ${signal}`;
  return `exited with code ${code ?? 'unknown'}`;
}

function describeSpawnError(launch: ComponentLaunch, err: NodeJS.ErrnoException): string {
  const { command } = launch;
  if (err.code === 'ENOENT') return `could not start: command "${command}" was not found${command.includes('/') ? '' : ' on PATH'}`;
  if (err.code === 'EACCES') return `could not start: "${command}" is not executable`;
  return `could not start "${command}" in ${launch.cwd}: ${err.message}`;
}

/**
 * Startup timeouts by unit id, for the containers (named after their graph node) with a
 * startupProbe: as Kubernetes allows, initialDelaySeconds + failureThreshold × periodSeconds
 * (its defaults 0, 3 and 10 s).
 */
function startupTimeoutsOf(deployment: SeldonDeployment): Map<string, number> {
  const out = new Map<string, number>();
  for (const predictor of deployment.spec.predictors) {
    for (const spec of predictor.componentSpecs) {
      for (const c of spec.containers) {
        const probe = c.startupProbe;
        if (probe === undefined) continue;
        const seconds = (probe.initialDelaySeconds ?? 0) + (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10);
        out.set(unitId(predictor.name, c.name), seconds * 1000);
      }
    }
  }
  return out;
}

function commandLine(launch: ComponentLaunch): string {
  return [basename(launch.command), ...launch.args].join(' ');
}

export class LocalSupervisor extends EventEmitter<SupervisorEvents> implements Runtime, EndpointSource {
  readonly #settings: Settings;
  readonly #logger: Logger;
  readonly #ports: PortAllocator;
  readonly #planOptions: PlanOptions;
  readonly #deployments = new Map<string, DeploymentRecord>();
  readonly #index: UnitIndex = new Map();
  readonly #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: LocalSupervisorOptions) {
    super();
    this.#settings = Object.freeze({
      home: options.home,
      env: options.env ?? process.env,
      healthTimeoutMs: options.healthTimeoutMs ?? 60_000,
      healthIntervalMs: options.healthIntervalMs ?? 75,
      stopGraceMs: options.stopGraceMs ?? 5_000,
      restartBackoffMs: options.restartBackoffMs ?? 500,
      maxRestartBackoffMs: options.maxRestartBackoffMs ?? 30_000,
      stableAfterMs: options.stableAfterMs ?? 60_000,
      logLines: options.logLines ?? 500,
      failureLines: options.failureLines ?? 20,
      probes: Object.freeze({ ...PROBE_DEFAULTS, ...options.probes }),
    });
    this.#logger = options.logger;
    this.#ports = options.ports ?? sharedPorts;
    this.#planOptions = { env: this.#settings.env };
    if (options.python !== undefined) this.#planOptions.python = options.python;
    if (options.nodeHost !== undefined) this.#planOptions.nodeHost = options.nodeHost;
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
      this.#abandonRollout(record);
    }
    record.failure = undefined;
    record.failedSets = undefined;

    let launches: ComponentLaunch[];
    try {
      launches = planDeployment(deployment, this.#planOptions);
    } catch (err) {
      const message = asTrantorError(err).message;
      record.failure =
        record.servingRevision === undefined ? message : `update not applied: ${message}; the previous version keeps serving`;
      log.warn({ reason: message }, 'deployment cannot run locally');
      this.#changed(record);
      return Promise.resolve();
    }

    record.unitOrder = launches.map((l) => unitId(l.predictor, l.node));
    const wanted = new Set(record.unitOrder);
    const sets = new Map<string, ReplicaSet>();
    const probes = this.#probesOf(deployment);
    const startupTimeouts = startupTimeoutsOf(deployment);
    for (const launch of launches) {
      const id = unitId(launch.predictor, launch.node);
      const unitProbes = probes.get(id) ?? this.#settings.probes;
      const startupTimeoutMs = startupTimeouts.get(id) ?? this.#settings.healthTimeoutMs;
      const serving = record.serving.get(id);
      if (serving?.launch.fingerprint === launch.fingerprint) {
        serving.probes = unitProbes;
        serving.startupTimeoutMs = startupTimeoutMs;
        continue;
      }
      const unit: UnitKey = { namespace, deployment: name, predictor: launch.predictor, node: launch.node };
      sets.set(id, new ReplicaSet(unit, launch, revision, unitProbes, startupTimeoutMs));
    }
    const removed = new Set([...record.serving.keys()].filter((id) => !wanted.has(id)));
    record.rollout = { revision, sets, removed };
    log.info({ units: [...sets.values()].map((s) => `${s.launch.node}×${s.launch.replicas}`), removed: removed.size }, 'rolling out');
    for (const set of sets.values()) {
      for (const replica of set.replicas) this.#track(this.#start(replica));
    }
    this.#checkRollout(record);
    this.#changed(record);
    return Promise.resolve();
  }

  status(namespace: string, name: string): DeploymentStatus | undefined {
    const record = this.#deployments.get(deploymentId(namespace, name));
    return record === undefined ? undefined : this.#statusOf(record);
  }

  async remove(namespace: string, name: string): Promise<void> {
    const id = deploymentId(namespace, name);
    const record = this.#deployments.get(id);
    if (record === undefined) return;
    this.#deployments.delete(id);
    const byDeployment = this.#index.get(namespace);
    byDeployment?.delete(name);
    if (byDeployment?.size === 0) this.#index.delete(namespace);
    const sets = [...record.serving.values(), ...(record.rollout?.sets.values() ?? [])];
    record.rollout = undefined;
    await Promise.all(sets.map((set) => this.#stopSet(set)));
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
    const log = (e: LogEvent): void => listener({ type: 'log', namespace: e.namespace, name: e.name, replica: e.replica, line: e.line });
    const removed = (e: RemovedEvent): void => listener({ type: 'removed', namespace: e.namespace, name: e.name });
    this.on('status', status).on('log', log).on('removed', removed);
    return () => void this.off('status', status).off('log', log).off('removed', removed);
  }

  // ---- EndpointSource --------------------------------------------------------------------

  replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
    return this.#index.get(unit.namespace)?.get(unit.deployment)?.get(unit.predictor)?.get(unit.node) ?? EMPTY;
  }

  // ---- logs ------------------------------------------------------------------------------

  /** The buffered output of a deployment's replicas, oldest first (the last `tail` lines when given). */
  logs(namespace: string, name: string, options: { tail?: number } = {}): LogLine[] {
    return this.#deployments.get(deploymentId(namespace, name))?.logs.lines(options.tail) ?? [];
  }

  /** The folder holding a deployment's log files. */
  logDir(namespace: string, name: string): string {
    return join(this.#settings.home, 'logs', safePart(namespace), safePart(name));
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

  // ---- deployments and rollouts -----------------------------------------------------------

  /** Probes by unit id, for the containers (named after their graph node) that give their own. */
  #probesOf(deployment: SeldonDeployment): Map<string, Readonly<Probes>> {
    const out = new Map<string, Readonly<Probes>>();
    const defaults = this.#settings.probes;
    for (const predictor of deployment.spec.predictors) {
      for (const spec of predictor.componentSpecs) {
        for (const c of spec.containers) {
          if (c.readinessProbe === undefined && c.livenessProbe === undefined) continue;
          out.set(
            unitId(predictor.name, c.name),
            Object.freeze({ readiness: probeSettings(c.readinessProbe, defaults.readiness), liveness: probeSettings(c.livenessProbe, defaults.liveness) }),
          );
        }
      }
    }
    return out;
  }

  #recordFor(namespace: string, name: string): DeploymentRecord {
    const id = deploymentId(namespace, name);
    let record = this.#deployments.get(id);
    if (record === undefined) {
      const created = new DeploymentRecord(
        namespace,
        name,
        new DeploymentLogs(
          this.logDir(namespace, name),
          this.#settings.logLines,
          (line) => {
            if (this.listenerCount('log') > 0) this.#emitSafely('log', { namespace, name, ...line });
          },
          // A full disk under the component logs: said once in the control plane's log, never thrown.
          { onTrouble: (message) => this.#logger.warn({ deployment: deploymentId(namespace, name) }, message) },
        ),
      );
      record = created;
      this.#deployments.set(id, created);
    }
    return record;
  }

  #recordOf(set: ReplicaSet): DeploymentRecord | undefined {
    return this.#deployments.get(deploymentId(set.unit.namespace, set.unit.deployment));
  }

  #isServing(record: DeploymentRecord, set: ReplicaSet): boolean {
    return record.serving.get(unitId(set.unit.predictor, set.unit.node)) === set;
  }

  #abandonRollout(record: DeploymentRecord): void {
    const rollout = record.rollout;
    if (rollout === undefined) return;
    record.rollout = undefined;
    for (const set of rollout.sets.values()) this.#track(this.#stopSet(set));
  }

  /** Commits the rollout once every replica of every new set is ready. */
  #checkRollout(record: DeploymentRecord): void {
    const rollout = record.rollout;
    if (rollout === undefined) return;
    for (const set of rollout.sets.values()) if (!set.allReady) return;
    record.rollout = undefined;
    const retired: ReplicaSet[] = [];
    for (const [id, set] of rollout.sets) {
      set.established = true;
      const old = record.serving.get(id);
      if (old !== undefined) retired.push(old);
      record.serving.set(id, set);
      this.#publish(set);
    }
    for (const id of rollout.removed) {
      const old = record.serving.get(id);
      if (old === undefined) continue;
      record.serving.delete(id);
      retired.push(old);
      this.#unpublish(old.unit);
    }
    record.servingRevision = rollout.revision;
    this.#logger.info({ deployment: deploymentId(record.namespace, record.name), revision: rollout.revision }, 'deployment available');
    for (const set of retired) this.#track(this.#stopSet(set));
  }

  /** A replica of an unfinished rollout could not start: the rollout stops, the deployment fails. */
  #failRollout(record: DeploymentRecord, set: ReplicaSet, reason: string): void {
    const rollout = record.rollout;
    if (rollout === undefined || rollout.revision !== set.revision) return;
    record.rollout = undefined;
    record.failedSets = rollout.sets;
    record.failure =
      record.servingRevision === undefined ? reason : `update failed: ${reason}; the previous version keeps serving`;
    this.#logger.error({ deployment: deploymentId(record.namespace, record.name), reason }, 'deployment failed');
    for (const other of rollout.sets.values()) this.#track(this.#stopSet(other));
  }

  // ---- the replicasOf index ------------------------------------------------------------------

  #publish(set: ReplicaSet): void {
    const { namespace, deployment, predictor, node } = set.unit;
    let byDeployment = this.#index.get(namespace);
    if (byDeployment === undefined) this.#index.set(namespace, (byDeployment = new Map<string, Map<string, Map<string, readonly ReplicaAddress[]>>>()));
    let byPredictor = byDeployment.get(deployment);
    if (byPredictor === undefined) byDeployment.set(deployment, (byPredictor = new Map<string, Map<string, readonly ReplicaAddress[]>>()));
    let byNode = byPredictor.get(predictor);
    if (byNode === undefined) byPredictor.set(predictor, (byNode = new Map<string, readonly ReplicaAddress[]>()));
    byNode.set(node, set.ready);
  }

  #unpublish(unit: UnitKey): void {
    this.#index.get(unit.namespace)?.get(unit.deployment)?.get(unit.predictor)?.delete(unit.node);
  }

  /** Recomputes a set's ready addresses; a serving set's go into the index at once. */
  #refreshReady(set: ReplicaSet): void {
    const ready: ReplicaAddress[] = [];
    for (const replica of set.replicas) {
      if (replica.state === 'Ready' && replica.address !== undefined) ready.push(replica.address);
    }
    set.ready = Object.freeze(ready);
    const record = this.#recordOf(set);
    if (record !== undefined && this.#isServing(record, set)) this.#publish(set);
  }

  // ---- replicas ----------------------------------------------------------------------------

  async #start(replica: Replica): Promise<void> {
    const { launch } = replica.set;
    replica.state = 'Starting';
    replica.address = undefined;
    replica.message = replica.lastExit === undefined ? undefined : `restart ${replica.restarts} starting; it ${replica.lastExit}`;
    const ports: number[] = [];
    try {
      for (let i = 0; i < 3; i++) ports.push(await this.#ports.allocate());
    } catch (err) {
      for (const port of ports) this.#ports.release(port);
      this.#replicaDown(replica, `could not get a free port: ${(err as Error).message}`, undefined, true);
      return;
    }
    const record = this.#recordOf(replica.set);
    if (replica.stopping || record === undefined) {
      for (const port of ports) this.#ports.release(port);
      return;
    }
    const [http = 0, grpc = 0, metrics = 0] = ports;
    const env: Record<string, string> = {
      ...launch.env,
      ...portEnv({ http, grpc, metrics }),
      // Trantor's hosts exit when this process is gone (even by kill -9), so no replica is orphaned.
      [COMPONENT_ENV.parentPid]: String(process.pid),
    };
    let child: ChildProcess;
    const startedAt = Date.now();
    try {
      child = spawn(launch.command, [...launch.args], { cwd: launch.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      for (const port of ports) this.#ports.release(port);
      this.#replicaDown(replica, describeSpawnError(launch, err as NodeJS.ErrnoException), undefined, true);
      return;
    }
    let resolveExited: () => void = () => undefined;
    const attempt: Attempt = {
      child,
      pid: child.pid,
      port: http,
      ports,
      output: record.logs.capture(replica.id, child.stdout, child.stderr, this.#settings.failureLines),
      probe: new AbortController(),
      done: false,
      exited: new Promise<void>((resolve) => (resolveExited = resolve)),
    };
    replica.attempt = attempt;
    if (attempt.pid !== undefined) liveGroups.add(attempt.pid);
    installExitHook();
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

    const finish = (reason: string, startError: boolean): void => {
      if (attempt.done) return;
      attempt.done = true;
      attempt.probe.abort();
      if (attempt.pid !== undefined) liveGroups.delete(attempt.pid);
      const wasReady = replica.state === 'Ready';
      if (wasReady) {
        // Out of the executor's view before anything else happens.
        replica.state = 'Crashed';
        replica.address = undefined;
        this.#refreshReady(replica.set);
      }
      this.#track(
        (async () => {
          if (replica.stopping) {
            await this.#reapGroup(attempt.pid, attempt.stopDeadline ?? Date.now());
          } else {
            signalGroup(attempt.pid, 'SIGKILL');
          }
          await Promise.race([closed, delay(CLOSE_WAIT_MS)]);
          attempt.output.finish();
          for (const port of attempt.ports) this.#ports.release(port);
          resolveExited();
          if (replica.attempt !== attempt) return;
          if (replica.stopping) {
            replica.state = 'Stopped';
            this.#changedSet(replica.set);
            return;
          }
          this.#replicaDown(replica, reason, attempt, startError);
        })(),
      );
    };
    child.once('error', (err) => finish(describeSpawnError(launch, err), attempt.pid === undefined));
    child.once('exit', (code, signal) => finish(attempt.killedBecause ?? describeExit(code, signal), false));

    this.#logger.debug({ replica: replica.id, pid: attempt.pid, port: http, command: commandLine(launch) }, 'replica starting');
    this.#changedSet(replica.set);

    const timeoutMs = replica.set.startupTimeoutMs;
    const outcome = await waitUntilReady({
      host: LOOPBACK,
      port: http,
      intervalMs: this.#settings.healthIntervalMs,
      timeoutMs,
      signal: attempt.probe.signal,
    });
    if (attempt.done || replica.stopping || replica.attempt !== attempt) return;
    if (outcome === 'timeout') {
      attempt.killedBecause = `did not answer GET /health/ping with pong within ${seconds(timeoutMs)}`;
      signalGroup(attempt.pid, 'SIGKILL');
      return;
    }
    if (outcome !== 'ready') return;
    replica.state = 'Ready';
    replica.message = undefined;
    replica.address = Object.freeze({ id: replica.id, host: LOOPBACK, port: http });
    clearTimeout(replica.stableTimer);
    replica.stableTimer = setTimeout(() => {
      replica.failures = 0;
    }, this.#settings.stableAfterMs).unref();
    this.#logger.info({ replica: replica.id, pid: attempt.pid, port: http, restarts: replica.restarts }, 'replica ready');
    this.#refreshReady(replica.set);
    const owner = this.#recordOf(replica.set);
    if (owner !== undefined) this.#checkRollout(owner);
    this.#changedSet(replica.set);
    this.#watch(replica, attempt, startedAt);
  }

  /** Probes a ready replica until its process ends or it is stopped. */
  #watch(replica: Replica, attempt: Attempt, startedAt: number): void {
    const { signal } = attempt.probe;
    const common = { host: LOOPBACK, port: attempt.port, startedAt, signal };
    const current = (): boolean => !attempt.done && !replica.stopping && replica.attempt === attempt;
    this.#track(
      probeLoop({
        ...common,
        settings: () => replica.set.probes.readiness,
        onResult: (ok, streak) => {
          if (!current()) return;
          const probe = replica.set.probes.readiness;
          // The last ready replica of its set stays in: taking it out would turn slow answers into
          // "no ready replica" errors; liveness deals with one that is really stuck.
          const othersReady = replica.set.replicas.some((r) => r !== replica && r.state === 'Ready');
          if (!ok && replica.state === 'Ready' && streak >= probe.failureThreshold && othersReady) {
            replica.state = 'Unready';
            replica.message = `not ready: ${describeProbe(probe)} failed ${streak} time${streak === 1 ? '' : 's'} in a row`;
            this.#logger.warn({ replica: replica.id, pid: attempt.pid }, 'replica failed its readiness probe; it gets no traffic');
            this.#refreshReady(replica.set);
            this.#changedSet(replica.set);
          } else if (ok && replica.state === 'Unready' && streak >= probe.successThreshold) {
            replica.state = 'Ready';
            replica.message = undefined;
            this.#logger.info({ replica: replica.id, pid: attempt.pid }, 'replica ready again');
            this.#refreshReady(replica.set);
            this.#changedSet(replica.set);
          }
        },
      }),
    );
    this.#track(
      probeLoop({
        ...common,
        settings: () => replica.set.probes.liveness,
        onResult: (ok, streak) => {
          const probe = replica.set.probes.liveness;
          if (ok || streak < probe.failureThreshold || !current() || attempt.killedBecause !== undefined) return;
          attempt.killedBecause = `was killed: it failed its liveness probe (${describeProbe(probe)}) ${streak} times in a row`;
          this.#logger.warn({ replica: replica.id, pid: attempt.pid }, 'replica failed its liveness probe; killing it');
          signalGroup(attempt.pid, 'SIGKILL');
        },
      }),
    );
  }

  /** A replica's process is gone (or never started) without being asked to stop. */
  #replicaDown(replica: Replica, reason: string, attempt: Attempt | undefined, startError: boolean): void {
    const set = replica.set;
    const record = this.#recordOf(set);
    clearTimeout(replica.stableTimer);
    replica.state = 'Crashed';
    replica.address = undefined;
    this.#refreshReady(set);
    if (record === undefined || replica.stopping) return;

    if (!set.established) {
      const lines = attempt?.output.tail() ?? [];
      const output = lines.length === 0 ? ' (it printed nothing)' : `; its last output:\n${lines.join('\n')}`;
      replica.message = startError ? reason : `${reason} before it was ready`;
      const what = `replica ${replica.id} (${commandLine(set.launch)}) ${replica.message}`;
      this.#failRollout(record, set, startError ? what : `${what}${output}`);
      this.#changed(record);
      return;
    }

    const wait = Math.min(this.#settings.restartBackoffMs * 2 ** replica.failures, this.#settings.maxRestartBackoffMs);
    replica.failures++;
    replica.lastExit = reason;
    replica.message = `${reason}; restarting in ${seconds(wait)}`;
    this.#logger.warn({ replica: replica.id, reason, restartIn: wait, restarts: replica.restarts }, 'replica crashed');
    replica.restartTimer = setTimeout(() => {
      replica.restartTimer = undefined;
      if (replica.stopping) return;
      replica.restarts++;
      this.#track(this.#start(replica));
    }, wait).unref();
    this.#changed(record);
  }

  async #stopSet(set: ReplicaSet): Promise<void> {
    await Promise.all(set.replicas.map((replica) => this.#stopReplica(replica)));
    this.#refreshReady(set);
  }

  async #stopReplica(replica: Replica): Promise<void> {
    replica.stopping = true;
    clearTimeout(replica.restartTimer);
    clearTimeout(replica.stableTimer);
    replica.restartTimer = undefined;
    const attempt = replica.attempt;
    if (attempt === undefined || attempt.done) {
      if (replica.state !== 'Crashed') replica.state = 'Stopped';
      await attempt?.exited;
      return;
    }
    attempt.probe.abort();
    attempt.stopDeadline = Date.now() + this.#settings.stopGraceMs;
    if (replica.state === 'Ready') {
      replica.state = 'Stopped';
      replica.address = undefined;
    }
    signalGroup(attempt.pid, 'SIGTERM');
    const kill = setTimeout(() => signalGroup(attempt.pid, 'SIGKILL'), this.#settings.stopGraceMs).unref();
    await attempt.exited;
    clearTimeout(kill);
    replica.state = 'Stopped';
  }

  /** After a stopping replica's main process exits, gives the rest of its group until `deadline`, then kills it. */
  async #reapGroup(pid: number | undefined, deadline: number): Promise<void> {
    if (pid === undefined) return;
    while (groupAlive(pid) && Date.now() < deadline) await delay(25);
    signalGroup(pid, 'SIGKILL');
  }

  // ---- status ------------------------------------------------------------------------------

  #displaySets(record: DeploymentRecord): ReplicaSet[] {
    const out: ReplicaSet[] = [];
    const ids = new Set([...record.unitOrder, ...record.serving.keys()]);
    for (const id of ids) {
      const set = record.rollout?.sets.get(id) ?? record.serving.get(id) ?? record.failedSets?.get(id);
      if (set !== undefined) out.push(set);
    }
    return out;
  }

  #statusOf(record: DeploymentRecord): DeploymentStatus {
    const sets = this.#displaySets(record);
    const replicas = sets.flatMap((set) => set.replicas.map((r) => r.toStatus()));
    if (record.failure !== undefined) return { state: 'Failed', description: record.failure, replicas };
    const rollout = record.rollout;
    if (rollout !== undefined) {
      const incoming = [...rollout.sets.values()].flatMap((set) => set.replicas);
      const ready = incoming.filter((r) => r.state === 'Ready').length;
      const waiting = incoming.filter((r) => r.state !== 'Ready').map((r) => `${r.id} ${r.state.toLowerCase()}`);
      const head =
        record.servingRevision === undefined
          ? `waiting for replicas: ${ready} of ${incoming.length} ready`
          : `rolling update: ${ready} of ${incoming.length} new replicas ready; the previous version keeps serving`;
      return { state: 'Creating', description: waiting.length === 0 ? head : `${head} (${waiting.join(', ')})`, replicas };
    }
    const down = [...record.serving.values()].filter((set) => set.replicas.length > 0 && set.ready.length === 0);
    if (down.length > 0) {
      const what = down.flatMap((set) =>
        set.replicas.filter((r) => r.state !== 'Ready').map((r) => (r.message === undefined ? `${r.id} (${r.state.toLowerCase()})` : `${r.id} (${r.message})`)),
      );
      return { state: 'Creating', description: `restarting ${what.join(', ')}`, replicas };
    }
    return { state: 'Available', replicas };
  }

  #changedSet(set: ReplicaSet): void {
    const record = this.#recordOf(set);
    if (record !== undefined) this.#changed(record);
  }

  /** Emits `status` when what `status()` would answer differs from what was last emitted. */
  #changed(record: DeploymentRecord): void {
    if (this.#deployments.get(deploymentId(record.namespace, record.name)) !== record) return;
    const status = this.#statusOf(record);
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
