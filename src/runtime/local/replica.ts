/**
 * One replica of a graph node: its process (spawned in its own group on three fresh loopback
 * ports, with Seldon's environment contract), the wait for its first health check, the probes
 * while it is ready, its restart with exponential backoff after a crash, and its stop (SIGTERM,
 * then SIGKILL after the grace). A `ReplicaSet` is the replicas of one node at one revision of
 * the manifest; what a replica's life means for its deployment (the rollout, the endpoint index,
 * status events) is the `ReplicaHost`'s business.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { COMPONENT_ENV, portEnv } from '../../protocol/index.ts';
import { replicaName } from '../../manifest/index.ts';
import type { ObjectEventRecorder, ObjectEventType, ReplicaAddress, ReplicaState, UnitKey } from '../../manifest/index.ts';
import { describeProbe, probeLoop, waitUntilReady } from './health.ts';
import type { Probes, ProbeTarget } from './health.ts';
import type { Capture, DeploymentLogs } from './logs.ts';
import type { RuntimeOptions } from './options.ts';
import type { ComponentLaunch } from './plan.ts';
import { LOOPBACK } from './ports.ts';
import type { PortAllocator } from './ports.ts';
import { delay, holdGroup, reapGroup, releaseGroup, signalGroup } from './process-group.ts';
import { NO_REPLICAS } from './endpoints.ts';

/** What replicas need from the supervisor that runs them. */
export interface ReplicaHost {
  readonly options: RuntimeOptions;
  readonly ports: PortAllocator;
  readonly logger: Logger;
  /** Where its Kubernetes-style Events go (started, crashed, back-off, unhealthy). */
  readonly recorder: ObjectEventRecorder;
  /** The logs of the set's deployment; undefined once the deployment is removed. */
  logsOf(set: ReplicaSet): DeploymentLogs | undefined;
  /** A replica of the set changed state or message. */
  changed(set: ReplicaSet): void;
  /** The set's ready addresses were replaced. */
  readyChanged(set: ReplicaSet): void;
  /** A replica of the set became ready (so all of them may be now). */
  becameReady(set: ReplicaSet): void;
  /** A replica of a set that was never all ready could not start; `reason` says why, with its output. */
  failedToStart(set: ReplicaSet, reason: string): void;
  /** Runs a background task, logging its failure, awaited by `close()`. */
  track(task: Promise<unknown>): void;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** How a replica's process ended: the exit code or the signal, and when. */
export interface ReplicaExit {
  exitCode?: number;
  signal?: string;
  at: number;
}

function exitOf(code: number | null, signal: NodeJS.Signals | null): ReplicaExit {
  const exit: ReplicaExit = { at: Date.now() };
  if (code !== null) exit.exitCode = code;
  if (signal !== null) exit.signal = signal;
  return exit;
}

function withOutput(text: string, lines: readonly string[]): string {
  return lines.length === 0 ? `${text} (it printed nothing)` : `${text}; its last output:\n${lines.join('\n')}`;
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

function commandLine(launch: ComponentLaunch): string {
  return [basename(launch.command), ...launch.args].join(' ');
}

/** One run of a replica's process. */
interface Attempt {
  child: ChildProcess;
  pid: number | undefined;
  port: number;
  ports: number[];
  output: Capture;
  probe: AbortController;
  done: boolean;
  /** Why the supervisor killed it, when it did (health timeout, liveness). */
  killedBecause?: string;
  stopDeadline?: number;
  exited: Promise<void>;
}

export class Replica {
  readonly id: string;
  readonly index: number;
  readonly set: ReplicaSet;
  state: ReplicaState = 'Starting';
  restarts = 0;
  /** Crashes since it last stayed up `stableAfter`; the exponent of the restart delay. */
  failures = 0;
  message: string | undefined;
  /** How its last process ended, when it crashed. */
  lastExit: string | undefined;
  /** Its last crash's exit code or signal, and when. */
  lastTermination: ReplicaExit | undefined;
  /** When its current process was started. */
  startedAt: number | undefined;
  /** When it was made (a pod's age, which restarts do not reset). */
  readonly createdAt = Date.now();
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

  get #host(): ReplicaHost {
    return this.set.host;
  }

  /** `iris-default-classifier-0`, as `trantor get pods` lists it. */
  get podName(): string {
    return replicaName(this.set.unit.deployment, this.set.launch.predictor, this.set.launch.node, this.index);
  }

  /** Records a Kubernetes-style Event about this replica on its SeldonDeployment. */
  #event(type: ObjectEventType, reason: string, message: string): void {
    const { unit, launch } = this.set;
    this.#host.recorder.record({
      type,
      reason,
      message,
      source: 'supervisor',
      involvedObject: {
        kind: 'SeldonDeployment',
        namespace: unit.namespace,
        name: unit.deployment,
        replica: this.podName,
        fieldPath: `spec.predictors{${launch.predictor}}.graph{${launch.node}}`,
      },
    });
  }

  /** The pid and port of its running process, if any. */
  get running(): { pid: number | undefined; port: number } | undefined {
    const attempt = this.attempt;
    return attempt === undefined || attempt.done ? undefined : { pid: attempt.pid, port: attempt.port };
  }

  async start(): Promise<void> {
    const host = this.#host;
    const { launch } = this.set;
    const { options } = host;
    this.state = 'Starting';
    this.address = undefined;
    this.message = this.lastExit === undefined ? undefined : `restart ${this.restarts} starting; it ${this.lastExit}`;
    const ports: number[] = [];
    try {
      for (let i = 0; i < 3; i++) ports.push(await host.ports.allocate(options.portAttempts));
    } catch (err) {
      for (const port of ports) host.ports.release(port);
      this.#down(`could not get a free port: ${(err as Error).message}`, undefined, true);
      return;
    }
    const logs = host.logsOf(this.set);
    if (this.stopping || logs === undefined) {
      for (const port of ports) host.ports.release(port);
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
      for (const port of ports) host.ports.release(port);
      this.#down(describeSpawnError(launch, err as NodeJS.ErrnoException), undefined, true);
      return;
    }
    let resolveExited: () => void = () => undefined;
    const attempt: Attempt = {
      child,
      pid: child.pid,
      port: http,
      ports,
      output: logs.capture(this.id, child.stdout, child.stderr, options.failureLines),
      probe: new AbortController(),
      done: false,
      exited: new Promise<void>((resolve) => (resolveExited = resolve)),
    };
    this.attempt = attempt;
    holdGroup(attempt.pid);
    this.startedAt = startedAt;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

    const finish = (reason: string, startError: boolean, exit?: ReplicaExit): void => {
      if (attempt.done) return;
      attempt.done = true;
      attempt.probe.abort();
      releaseGroup(attempt.pid);
      if (this.state === 'Ready') {
        // Out of the executor's view before anything else happens.
        this.state = 'Crashed';
        this.address = undefined;
        this.set.refreshReady();
      }
      host.track(
        (async () => {
          if (this.stopping) {
            await reapGroup(attempt.pid, attempt.stopDeadline ?? Date.now());
          } else {
            signalGroup(attempt.pid, 'SIGKILL');
          }
          await Promise.race([closed, delay(options.exitDrain)]);
          attempt.output.finish();
          for (const port of attempt.ports) host.ports.release(port);
          resolveExited();
          if (this.attempt !== attempt) return;
          if (this.stopping) {
            this.state = 'Stopped';
            host.changed(this.set);
            return;
          }
          this.#down(reason, attempt, startError, exit);
        })(),
      );
    };
    child.once('error', (err) => finish(describeSpawnError(launch, err), attempt.pid === undefined));
    child.once('exit', (code, signal) => finish(attempt.killedBecause ?? describeExit(code, signal), false, exitOf(code, signal)));

    host.logger.debug({ replica: this.id, pid: attempt.pid, port: http, command: commandLine(launch) }, 'replica starting');
    this.#event('Normal', 'Started', `Started replica ${this.podName} (${commandLine(launch)})`);
    host.changed(this.set);

    const timeoutMs = this.set.startupTimeoutMs;
    const target: ProbeTarget = { host: LOOPBACK, port: http, bodyLimit: options.probeBodyLimit };
    const outcome = await waitUntilReady({
      target,
      intervalMs: options.startupPollInterval,
      timeoutMs,
      pingTimeoutMs: options.startupPingTimeout,
      signal: attempt.probe.signal,
    });
    if (attempt.done || this.stopping || this.attempt !== attempt) return;
    if (outcome === 'timeout') {
      attempt.killedBecause = `did not answer GET /health/ping with pong within ${seconds(timeoutMs)}`;
      signalGroup(attempt.pid, 'SIGKILL');
      return;
    }
    if (outcome !== 'ready') return;
    this.state = 'Ready';
    this.message = undefined;
    this.address = Object.freeze({ id: this.id, host: LOOPBACK, port: http, grpcPort: grpc });
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => {
      this.failures = 0;
    }, options.stableAfter).unref();
    host.logger.info({ replica: this.id, pid: attempt.pid, port: http, restarts: this.restarts }, 'replica ready');
    this.set.refreshReady();
    host.becameReady(this.set);
    host.changed(this.set);
    this.#watch(attempt, target, startedAt);
  }

  /** Probes a ready replica until its process ends or it is stopped. */
  #watch(attempt: Attempt, target: ProbeTarget, startedAt: number): void {
    const host = this.#host;
    const { signal } = attempt.probe;
    const common = { target, startedAt, signal };
    const current = (): boolean => !attempt.done && !this.stopping && this.attempt === attempt;
    host.track(
      probeLoop({
        ...common,
        settings: () => this.set.probes.readiness,
        onResult: (ok, streak) => {
          if (!current()) return;
          const probe = this.set.probes.readiness;
          // The last ready replica of its set stays in: taking it out would turn slow answers into
          // "no ready replica" errors; liveness deals with one that is really stuck.
          const othersReady = this.set.replicas.some((r) => r !== this && r.state === 'Ready');
          if (!ok && this.state === 'Ready' && streak >= probe.failureThreshold && othersReady) {
            this.state = 'Unready';
            this.message = `not ready: ${describeProbe(probe)} failed ${streak} time${streak === 1 ? '' : 's'} in a row`;
            host.logger.warn({ replica: this.id, pid: attempt.pid }, 'replica failed its readiness probe; it gets no traffic');
            this.#event('Warning', 'Unhealthy', `Readiness probe failed: ${describeProbe(probe)}; the replica gets no traffic`);
            this.set.refreshReady();
            host.changed(this.set);
          } else if (ok && this.state === 'Unready' && streak >= probe.successThreshold) {
            this.state = 'Ready';
            this.message = undefined;
            host.logger.info({ replica: this.id, pid: attempt.pid }, 'replica ready again');
            this.set.refreshReady();
            host.changed(this.set);
          }
        },
      }),
    );
    host.track(
      probeLoop({
        ...common,
        settings: () => this.set.probes.liveness,
        onResult: (ok, streak) => {
          const probe = this.set.probes.liveness;
          if (ok || streak < probe.failureThreshold || !current() || attempt.killedBecause !== undefined) return;
          attempt.killedBecause = `was killed: it failed its liveness probe (${describeProbe(probe)}) ${streak} times in a row`;
          host.logger.warn({ replica: this.id, pid: attempt.pid }, 'replica failed its liveness probe; killing it');
          this.#event('Warning', 'Unhealthy', `Liveness probe failed ${streak} times in a row: ${describeProbe(probe)}; the replica will be restarted`);
          signalGroup(attempt.pid, 'SIGKILL');
        },
      }),
    );
  }

  /** Its process is gone (or never started) without being asked to stop. */
  #down(reason: string, attempt: Attempt | undefined, startError: boolean, exit?: ReplicaExit): void {
    const host = this.#host;
    const set = this.set;
    clearTimeout(this.stableTimer);
    this.state = 'Crashed';
    this.address = undefined;
    if (exit !== undefined) this.lastTermination = exit;
    set.refreshReady();
    if (host.logsOf(set) === undefined || this.stopping) return;
    const lines = attempt?.output.tail() ?? [];

    if (!set.established) {
      this.message = startError ? reason : `${reason} before it was ready`;
      const what = `replica ${this.id} (${commandLine(set.launch)}) ${this.message}`;
      this.#event('Warning', 'Failed', startError ? `Replica ${this.message}` : withOutput(`Replica ${this.message}`, lines));
      host.failedToStart(set, startError ? what : withOutput(what, lines));
      host.changed(set);
      return;
    }

    const { restartBackoff, restartBackoffMax } = host.options;
    const wait = Math.min(restartBackoff * 2 ** this.failures, restartBackoffMax);
    this.failures++;
    this.lastExit = reason;
    this.message = `${reason}; restarting in ${seconds(wait)}`;
    host.logger.warn({ replica: this.id, reason, restartIn: wait, restarts: this.restarts }, 'replica crashed');
    this.#event('Warning', 'Crashed', withOutput(`Replica ${reason}`, lines));
    this.#event('Warning', 'BackOff', `Back-off restarting failed replica ${this.podName}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      host.track(this.start());
    }, wait).unref();
    host.changed(set);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stableTimer);
    this.restartTimer = undefined;
    const attempt = this.attempt;
    if (attempt === undefined || attempt.done) {
      if (this.state !== 'Crashed') this.state = 'Stopped';
      await attempt?.exited;
      return;
    }
    const { stopGrace } = this.#host.options;
    attempt.probe.abort();
    attempt.stopDeadline = Date.now() + stopGrace;
    if (this.state === 'Ready') {
      this.state = 'Stopped';
      this.address = undefined;
    }
    signalGroup(attempt.pid, 'SIGTERM');
    const kill = setTimeout(() => signalGroup(attempt.pid, 'SIGKILL'), stopGrace).unref();
    await attempt.exited;
    clearTimeout(kill);
    this.state = 'Stopped';
  }
}

/** The replicas of one graph node at one revision of the manifest. */
export class ReplicaSet {
  readonly host: ReplicaHost;
  readonly unit: UnitKey;
  readonly launch: ComponentLaunch;
  readonly revision: number;
  readonly replicas: Replica[];
  /** All its replicas were ready together once; from then on a crash restarts rather than fails. */
  established = false;
  /** The addresses of its ready replicas, replaced (never mutated) on change. */
  ready: readonly ReplicaAddress[] = NO_REPLICAS;
  /** Replaced in place when only the manifest's probes change; probe loops read it each time. */
  probes: Readonly<Probes>;
  /** How long each start may take to answer its first health check; replaced like `probes`. */
  startupTimeoutMs: number;

  constructor(host: ReplicaHost, unit: UnitKey, launch: ComponentLaunch, revision: number, probes: Readonly<Probes>, startupTimeoutMs: number) {
    this.host = host;
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

  start(): void {
    for (const replica of this.replicas) this.host.track(replica.start());
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop()));
    this.refreshReady();
  }

  /** Recomputes the ready addresses and tells the host. */
  refreshReady(): void {
    const ready: ReplicaAddress[] = [];
    for (const replica of this.replicas) {
      if (replica.state === 'Ready' && replica.address !== undefined) ready.push(replica.address);
    }
    this.ready = Object.freeze(ready);
    this.host.readyChanged(this);
  }
}
