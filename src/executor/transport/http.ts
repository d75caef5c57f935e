/**
 * The HTTP transport: one keep-alive connection pool per replica, round-robin over the ready
 * replicas the EndpointSource offers, and a retry on another replica (or the same one, once it is
 * back) when a connection fails before an answer arrives.
 *
 * Outlier ejection follows the rule both network transports share (rotation.ts); here a replica
 * is also ejected when it answers nothing while a call to it is older than its stall limit (a
 * fraction of the call's timeout). Idempotent calls waiting on a stalled replica are aborted and sent to another one, at most once
 * per replica and within their own deadline, so a frozen process costs a call the stall limit,
 * not the whole timeout. One interval timer per transport watches for stalls; per call the
 * bookkeeping is a set insert and delete.
 *
 * Seldon's wrapper path table (`predict` → `POST /predict` …) lives here alone: the walk calls
 * methods, and this transport turns each into a request. Messages are written with
 * `stringifyJson`, so lossless numbers leave exactly as they came.
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { TrantorError, stringifyJson } from '../../protocol/index.ts';
import type { EndpointSource, ReplicaAddress, UnitKey } from './endpoints.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import type { ExecutorOptions } from '../options.ts';
import { hostPort, policyOf, replicaPolicyOptions, UnitTable } from './units.ts';
import { FRESH, noReplicaAnswered, RetryWindow, Rotation } from './rotation.ts';
import type { EjectionPolicy, RetryPolicy, RotatingReplica } from './rotation.ts';
import type { ReplicaPolicyOptions } from './units.ts';
import { describeUnit, MethodTransport, replyOfText } from './transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Reply } from './transport.ts';

export interface WrapperRoute {
  readonly verb: 'GET' | 'POST';
  readonly path: string;
}

/** Seldon's wrapper paths, by method: the one place a method becomes an HTTP request (metrics label calls by it too). */
export const WRAPPER_ROUTES: Readonly<Record<ComponentMethod, WrapperRoute>> = Object.freeze({
  predict: { verb: 'POST', path: '/predict' },
  transformInput: { verb: 'POST', path: '/transform-input' },
  transformOutput: { verb: 'POST', path: '/transform-output' },
  route: { verb: 'POST', path: '/route' },
  aggregate: { verb: 'POST', path: '/aggregate' },
  sendFeedback: { verb: 'POST', path: '/send-feedback' },
  metadata: { verb: 'GET', path: '/metadata' },
  health: { verb: 'GET', path: '/health/status' },
});

/** A raw request's answer: the status and the body's text. */
export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/** A raw request's options: the verb (`POST` unless told; `GET` sends no body) and extra headers. */
export interface HttpCallOptions extends CallOptions {
  method?: 'GET' | 'POST';
  /** Extra request headers, lower-case names. */
  headers?: Readonly<Record<string, string>>;
}

export interface HttpTransportOptions extends ReplicaPolicyOptions {
  /** Keep-alive connections per replica; enough for the concurrency one replica should see. */
  connectionsPerReplica?: number;
  /** How long opening a connection may take. */
  connectTimeoutMs?: number;
  /** How long an idle connection is kept open. */
  keepAliveMs?: number;
  /** The longest keep-alive a replica's `Keep-Alive` header may ask for. */
  keepAliveMaxMs?: number;
  /** How often pools of replicas that are gone are closed even when no call comes. */
  sweepIntervalMs?: number;
  /** A call answered by nothing for this fraction of its timeout marks its replica stalled. */
  stallFraction?: number;
  /** The stall limit is never shorter than this. */
  minStallMs?: number;
  /** How often calls in flight are checked for stalls. */
  stallCheckIntervalMs?: number;
}

/** The transport's settings from the executor's compiled options (docs/configuration.md). */
export function httpTransportOptions(endpoints: EndpointSource, options: ExecutorOptions = EXECUTOR_DEFAULTS): HttpTransportOptions {
  return {
    ...replicaPolicyOptions(endpoints, options),
    connectionsPerReplica: options.connectionsPerReplica,
    connectTimeoutMs: options.connectTimeout,
    keepAliveMs: options.keepAlive,
    keepAliveMaxMs: options.keepAliveMax,
    sweepIntervalMs: options.poolSweepInterval,
    stallFraction: options.stallPercent / 100,
    minStallMs: options.minStall,
    stallCheckIntervalMs: options.stallCheckInterval,
  };
}

/** Every setting's default, from the executor's option table. */
const DEFAULTS: Required<HttpTransportOptions> = httpTransportOptions({ replicasOf: () => [] }) as Required<HttpTransportOptions>;

interface ReplicaPool extends RotatingReplica {
  host: string;
  port: number;
  pool: Pool;
  /** Calls sent to it and not yet settled, oldest first (a Set keeps insertion order). */
  inFlight: Set<Collector>;
  /** When it last answered anything. */
  lastAnswerAt: number;
}

interface UnitState {
  readonly unit: UnitKey;
  readonly label: string;
  /** The replica list last seen, by reference; when the source hands back the same array nothing changed. */
  seen: readonly ReplicaAddress[] | undefined;
  /** Pools in the order of `seen`. */
  readonly rotation: Rotation<ReplicaPool>;
  byId: Map<string, ReplicaPool>;
}

/** Why a call in flight was taken back from a stalled replica; the call goes to another one. */
class ReplicaStalled extends Error {
  readonly code = 'TRANTOR_REPLICA_STALLED';
}

/** Failures where the request cannot have reached the component: always safe to send elsewhere. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
/** Failures where the connection broke before a full answer: safe to resend only when idempotent. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const STALLED = 'TRANTOR_REPLICA_STALLED';

const JSON_HEADERS: readonly string[] = ['content-type', 'application/json'];
const NO_HEADERS: readonly string[] = [];

function errorCode(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return '';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Collects one response into a string; the dispatcher's lowest-level handler, no streams. */
class Collector implements Dispatcher.DispatchHandler {
  private status = 0;
  private chunks: Buffer[] = [];
  private readonly resolve: (response: RawResponse) => void;
  private readonly reject: (err: Error) => void;
  /** The replica it was sent to; the collector keeps that replica's in-flight set and answer time. */
  private readonly replica: ReplicaPool;
  /** When the call was sent, and when its replica counts as stalled if nothing came back by then. */
  readonly sentAt: number;
  readonly stallAt: number;
  /** Only idempotent calls are taken back from a stalled replica. */
  readonly idempotent: boolean;
  private abortRequest: ((err?: Error) => void) | undefined;
  private takenBack: Error | undefined;

  constructor(
    resolve: (response: RawResponse) => void,
    reject: (err: Error) => void,
    replica: ReplicaPool,
    sentAt: number,
    stallAt: number,
    idempotent: boolean,
  ) {
    this.resolve = resolve;
    this.reject = reject;
    this.replica = replica;
    this.sentAt = sentAt;
    this.stallAt = stallAt;
    this.idempotent = idempotent;
    replica.inFlight.add(this);
  }

  /** Aborts the call (now, or as soon as undici hands it a connection). */
  takeBack(err: Error): void {
    if (this.takenBack !== undefined) return;
    this.takenBack = err;
    this.abortRequest?.(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    this.status = 0;
    if (this.chunks.length > 0) this.chunks = [];
    if (this.takenBack !== undefined) abort(this.takenBack);
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const { chunks, replica } = this;
    replica.inFlight.delete(this);
    replica.lastAnswerAt = Date.now();
    replica.failures = 0;
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
    this.resolve({ status: this.status, body });
  }

  onError(err: Error): void {
    this.replica.inFlight.delete(this);
    this.reject(err);
  }
}

function send(
  replica: ReplicaPool,
  method: 'GET' | 'POST',
  path: string,
  body: string | Uint8Array,
  headers: readonly string[],
  timeoutMs: number,
  sentAt: number,
  stallAt: number,
  idempotent: boolean,
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const collector = new Collector(resolve, reject, replica, sentAt, stallAt, idempotent);
    try {
      replica.pool.dispatch(
        {
          path,
          method,
          body: method === 'GET' ? null : body,
          headers: headers as string[],
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        collector,
      );
    } catch (err) {
      collector.onError(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** The component's answer, parsed once: its message, or its failure. */
function readReply(unit: UnitKey, method: ComponentMethod, response: RawResponse): Reply<unknown> {
  return replyOfText(unit, method, response.status, response.body);
}

function readRaw(_unit: UnitKey, _method: ComponentMethod, response: RawResponse): RawResponse {
  return response;
}

function headerList(method: 'GET' | 'POST', extra: Readonly<Record<string, string>> | undefined): readonly string[] {
  const base = method === 'GET' ? NO_HEADERS : JSON_HEADERS;
  if (extra === undefined) return base;
  const list = base.slice();
  for (const name in extra) list.push(name, extra[name]!);
  return list;
}

export class HttpTransport extends MethodTransport {
  private readonly endpoints: EndpointSource;
  private readonly connections: number;
  private readonly connectTimeoutMs: number;
  private readonly keepAliveMs: number;
  private readonly keepAliveMaxMs: number;
  private readonly stallFraction: number;
  private readonly minStallMs: number;
  /** The retry window and ejection rule (rotation.ts). */
  private readonly policy: EjectionPolicy & RetryPolicy;
  private readonly units = new UnitTable<UnitState>((unit) => ({ unit, label: describeUnit(unit), seen: undefined, rotation: new Rotation<ReplicaPool>(this.policy), byId: new Map() }));
  /** Pools of replicas no longer offered whose calls have not all settled; watched for stalls too. */
  private readonly draining = new Set<ReplicaPool>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly stallWatch: NodeJS.Timeout;
  private closed = false;

  constructor(options: HttpTransportOptions) {
    super();
    const d = DEFAULTS;
    this.endpoints = options.endpoints;
    this.policy = policyOf(options, d);
    this.connections = options.connectionsPerReplica ?? d.connectionsPerReplica;
    this.connectTimeoutMs = options.connectTimeoutMs ?? d.connectTimeoutMs;
    this.keepAliveMs = options.keepAliveMs ?? d.keepAliveMs;
    this.keepAliveMaxMs = options.keepAliveMaxMs ?? d.keepAliveMaxMs;
    this.stallFraction = options.stallFraction ?? d.stallFraction;
    this.minStallMs = options.minStallMs ?? d.minStallMs;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? d.sweepIntervalMs);
    this.sweeper.unref();
    this.stallWatch = setInterval(() => this.watchStalls(), options.stallCheckIntervalMs ?? d.stallCheckIntervalMs);
    this.stallWatch.unref();
  }

  protected send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
    const { verb, path } = WRAPPER_ROUTES[method];
    const body = verb === 'GET' ? '' : stringifyJson(payload);
    return this.request(unit, verb, path, body, verb === 'GET' ? NO_HEADERS : JSON_HEADERS, options, method, readReply);
  }

  /** A raw request to a ready replica of `unit`: the wrapper path `path` with `body`, answered as text. */
  call(unit: UnitKey, path: string, body: string | Uint8Array, options: HttpCallOptions): Promise<RawResponse> {
    const method = options.method ?? 'POST';
    return this.request(unit, method, path, body, headerList(method, options.headers), options, 'predict', readRaw);
  }

  /** Sends to a replica, retrying as the class comment says; `read` turns the answer into what the caller gets. */
  private async request<R>(
    unit: UnitKey,
    method: 'GET' | 'POST',
    path: string,
    body: string | Uint8Array,
    headers: readonly string[],
    options: CallOptions,
    reads: ComponentMethod,
    read: (unit: UnitKey, method: ComponentMethod, response: RawResponse) => R,
  ): Promise<R> {
    const state = this.stateOf(unit);
    const window = new RetryWindow(options.timeoutMs, this.policy);
    const stallMs = Math.max(this.minStallMs, options.timeoutMs * this.stallFraction);
    let tried: Set<string> | undefined;
    /** Replicas this call was taken back from: never again for this call. */
    let abandoned: Set<string> | undefined;
    let lastFailure: unknown;
    for (;;) {
      if (this.closed) throw new TrantorError('UNAVAILABLE', `${state.label}: the transport is closed`);
      const replica = this.pick(state, tried, abandoned);
      if (replica !== undefined) {
        const sentAt = Date.now();
        const remaining = window.deadline - sentAt;
        if (remaining <= 0) throw this.timeout(state, options.timeoutMs);
        try {
          const response = await send(replica, method, path, body, headers, remaining, sentAt, sentAt + stallMs, options.idempotent);
          state.rotation.answered(replica, replica.lastAnswerAt);
          return read(unit, reads, response);
        } catch (err) {
          const code = errorCode(err);
          if (code === STALLED) {
            (abandoned ??= new Set()).add(replica.id);
            lastFailure = err;
            continue;
          }
          if (TIMED_OUT.has(code)) {
            state.rotation.failed(replica);
            throw this.timeout(state, options.timeoutMs);
          }
          const delivered = !NOT_DELIVERED.has(code);
          if (!delivered || CONNECTION_LOST.has(code)) state.rotation.failed(replica);
          if (delivered && !(options.idempotent && CONNECTION_LOST.has(code))) {
            if (CONNECTION_LOST.has(code)) {
              throw new TrantorError('UNAVAILABLE', `${state.label}: the connection was lost before an answer (${errorMessage(err)})`, { cause: err });
            }
            throw new TrantorError('BAD_UPSTREAM', `${state.label} answered with something that is not HTTP (${errorMessage(err)})`, { cause: err });
          }
          (tried ??= new Set()).add(replica.id);
          lastFailure = err;
          continue;
        }
      }
      if (!(await window.pause())) throw noReplicaAnswered(state.label, lastFailure === undefined ? undefined : { message: errorMessage(lastFailure), cause: lastFailure });
      tried?.clear();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    clearInterval(this.stallWatch);
    const closing: Promise<void>[] = [];
    for (const state of this.units.values()) {
      for (const replica of state.rotation.order) closing.push(replica.pool.destroy().catch(() => undefined));
      state.rotation.order = [];
      state.byId.clear();
      state.seen = undefined;
    }
    for (const replica of this.draining) closing.push(replica.pool.destroy().catch(() => undefined));
    this.draining.clear();
    this.units.clear();
    await Promise.all(closing);
  }

  private timeout(state: UnitState, timeoutMs: number): TrantorError {
    return new TrantorError('UPSTREAM_TIMEOUT', `${state.label} did not answer within ${timeoutMs} ms`);
  }

  private stateOf(unit: UnitKey): UnitState {
    return this.units.of(unit);
  }

  /** The next replica (see Rotation.pick), after bringing the pools in line with the replicas now ready. */
  private pick(state: UnitState, tried: Set<string> | undefined, abandoned: Set<string> | undefined): ReplicaPool | undefined {
    const replicas = this.endpoints.replicasOf(state.unit);
    if (replicas !== state.seen) this.sync(state, replicas);
    return state.rotation.pick(tried, abandoned);
  }

  /**
   * A replica has stalled when it answered nothing since a call older than that call's stall
   * limit was sent. Its idempotent calls are taken back (they go to another replica) once it is
   * ejected, or when it is no longer offered at all.
   */
  private watchStalls(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const state of this.units.values()) {
      // A replica the runtime stopped offering (not ready) moves to `draining` here, without waiting for a call.
      const replicas = this.endpoints.replicasOf(state.unit);
      if (replicas !== state.seen) this.sync(state, replicas);
      for (const replica of state.rotation.order) {
        if (replica.inFlight.size > 0 && stalled(replica, now) && state.rotation.eject(replica, now)) takeBack(replica);
      }
    }
    for (const replica of this.draining) {
      if (replica.inFlight.size === 0) this.draining.delete(replica);
      else if (stalled(replica, now)) takeBack(replica);
    }
  }

  /** Brings the pools in line with the replicas now ready: new ones get a pool, gone ones are closed. */
  private sync(state: UnitState, replicas: readonly ReplicaAddress[]): void {
    state.seen = replicas;
    const order = state.rotation.order;
    let same = order.length === replicas.length;
    for (let i = 0; same && i < replicas.length; i++) {
      const r = replicas[i]!;
      const p = order[i]!;
      same = p.id === r.id && p.host === r.host && p.port === r.port;
    }
    if (same) return;
    const next: ReplicaPool[] = [];
    const keep = new Set<string>();
    for (const replica of replicas) {
      let pool = state.byId.get(replica.id);
      if (pool !== undefined && (pool.host !== replica.host || pool.port !== replica.port)) {
        this.retire(pool);
        pool = undefined;
      }
      if (pool === undefined) {
        pool = {
          id: replica.id,
          host: replica.host,
          port: replica.port,
          pool: this.newPool(originOf(replica)),
          inFlight: new Set(),
          lastAnswerAt: 0,
          ...FRESH,
        };
        state.byId.set(replica.id, pool);
      }
      keep.add(replica.id);
      next.push(pool);
    }
    for (const [id, pool] of state.byId) {
      if (!keep.has(id)) {
        state.byId.delete(id);
        if (!next.includes(pool)) this.retire(pool);
      }
    }
    state.rotation.order = next;
  }

  private newPool(origin: string): Pool {
    return new Pool(origin, {
      connections: this.connections,
      pipelining: 1,
      connectTimeout: this.connectTimeoutMs,
      keepAliveTimeout: this.keepAliveMs,
      keepAliveMaxTimeout: this.keepAliveMaxMs,
    });
  }

  /** Lets in-flight requests on a replica that is gone finish (or fail, or stall), then drops its connections. */
  private retire(replica: ReplicaPool): void {
    if (replica.inFlight.size > 0) this.draining.add(replica);
    replica.pool.close().catch(() => undefined);
  }

  /** Closes pools of replicas that are no longer offered, even for nodes no call has asked about lately. */
  private sweep(): void {
    if (this.closed) return;
    for (const state of this.units.values()) {
      const replicas = this.endpoints.replicasOf(state.unit);
      if (replicas !== state.seen) this.sync(state, replicas);
    }
  }
}

function stalled(replica: ReplicaPool, now: number): boolean {
  for (const call of replica.inFlight) {
    if (call.stallAt <= now && replica.lastAnswerAt < call.sentAt) return true;
  }
  return false;
}

/** Aborts the idempotent calls waiting on a stalled replica, so they are sent elsewhere. */
function takeBack(replica: ReplicaPool): void {
  const err = new ReplicaStalled(`replica ${replica.id} answered nothing in time; the call was sent to another replica`);
  for (const call of replica.inFlight) if (call.idempotent) call.takeBack(err);
}

function originOf(replica: ReplicaAddress): string {
  return `http://${hostPort(replica)}`;
}
