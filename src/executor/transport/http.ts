/**
 * The HTTP transport: one keep-alive connection pool per replica, round-robin over the ready
 * replicas the EndpointSource offers, and a retry on another replica (or the same one, once it is
 * back) when a connection fails before an answer arrives.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { TrantorError } from '../../protocol/errors.ts';
import type { EndpointSource, ReplicaAddress, UnitKey } from './endpoints.ts';
import { describeUnit } from './transport.ts';
import type { CallOptions, Transport, TransportResponse } from './transport.ts';

export interface HttpTransportOptions {
  endpoints: EndpointSource;
  /** Keep-alive connections per replica; enough for the concurrency one replica should see. */
  connectionsPerReplica?: number;
  /** How long a call keeps looking for a replica that answers, when none does. */
  retryWindowMs?: number;
  /** How long opening a connection may take. */
  connectTimeoutMs?: number;
  /** How often pools of replicas that are gone are closed even when no call comes. */
  sweepIntervalMs?: number;
}

interface ReplicaPool {
  id: string;
  host: string;
  port: number;
  pool: Pool;
}

interface UnitState {
  readonly unit: UnitKey;
  readonly label: string;
  /** The replica list last seen, by reference; when the source hands back the same array nothing changed. */
  seen: readonly ReplicaAddress[] | undefined;
  /** Pools in the order of `seen`. */
  order: ReplicaPool[];
  byId: Map<string, ReplicaPool>;
  next: number;
}

/** Failures where the request cannot have reached the component: always safe to send elsewhere. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);
/** Failures where the connection broke before a full answer: safe to resend only when idempotent. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

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
  private readonly resolve: (response: TransportResponse) => void;
  private readonly reject: (err: unknown) => void;

  constructor(resolve: (response: TransportResponse) => void, reject: (err: unknown) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  onConnect(): void {
    this.status = 0;
    if (this.chunks.length > 0) this.chunks = [];
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
    const { chunks } = this;
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
    this.resolve({ status: this.status, body });
  }

  onError(err: Error): void {
    this.reject(err);
  }
}

function send(pool: Pool, method: 'GET' | 'POST', path: string, body: string, headers: readonly string[], timeoutMs: number): Promise<TransportResponse> {
  return new Promise<TransportResponse>((resolve, reject) => {
    pool.dispatch(
      {
        path,
        method,
        body: method === 'GET' ? null : body,
        headers: headers as string[],
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      new Collector(resolve, reject),
    );
  });
}

function headerList(method: 'GET' | 'POST', extra: Readonly<Record<string, string>> | undefined): readonly string[] {
  const base = method === 'GET' ? NO_HEADERS : JSON_HEADERS;
  if (extra === undefined) return base;
  const list = base.slice();
  for (const name in extra) list.push(name, extra[name]!);
  return list;
}

export class HttpTransport implements Transport {
  private readonly endpoints: EndpointSource;
  private readonly connections: number;
  private readonly retryWindowMs: number;
  private readonly connectTimeoutMs: number;
  private readonly byObject = new WeakMap<UnitKey, UnitState>();
  private readonly byName = new Map<string, UnitState>();
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(options: HttpTransportOptions) {
    this.endpoints = options.endpoints;
    this.connections = options.connectionsPerReplica ?? 64;
    this.retryWindowMs = options.retryWindowMs ?? 2000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 10_000);
    this.sweeper.unref();
  }

  async call(unit: UnitKey, path: string, body: string, options: CallOptions): Promise<TransportResponse> {
    const state = this.stateOf(unit);
    const method = options.method ?? 'POST';
    const headers = headerList(method, options.headers);
    const start = Date.now();
    const deadline = start + options.timeoutMs;
    const giveUpAt = Math.min(deadline, start + this.retryWindowMs);
    let tried: Set<string> | undefined;
    let lastFailure: unknown;
    let wait = 10;
    for (;;) {
      if (this.closed) throw new TrantorError('UNAVAILABLE', `${state.label}: the transport is closed`);
      const replica = this.pick(state, tried);
      if (replica !== undefined) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw this.timeout(state, options.timeoutMs);
        try {
          return await send(replica.pool, method, path, body, headers, remaining);
        } catch (err) {
          const code = errorCode(err);
          if (TIMED_OUT.has(code)) throw this.timeout(state, options.timeoutMs);
          if (!NOT_DELIVERED.has(code) && !(options.idempotent && CONNECTION_LOST.has(code))) {
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
      // Every ready replica failed this round, or none is ready: wait for one to come (back).
      const now = Date.now();
      if (now >= giveUpAt) {
        const why = lastFailure === undefined ? '' : ` (last failure: ${errorMessage(lastFailure)})`;
        const message = lastFailure === undefined ? `no ready replica of ${state.label}` : `no replica of ${state.label} answered${why}`;
        throw new TrantorError('UNAVAILABLE', message, lastFailure === undefined ? undefined : { cause: lastFailure });
      }
      await sleep(Math.min(wait, giveUpAt - now));
      wait = Math.min(wait * 2, 200);
      tried?.clear();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    const closing: Promise<void>[] = [];
    for (const state of this.byName.values()) {
      for (const replica of state.order) closing.push(replica.pool.destroy().catch(() => undefined));
      state.order = [];
      state.byId.clear();
      state.seen = undefined;
    }
    this.byName.clear();
    await Promise.all(closing);
  }

  private timeout(state: UnitState, timeoutMs: number): TrantorError {
    return new TrantorError('UPSTREAM_TIMEOUT', `${state.label} did not answer within ${timeoutMs} ms`);
  }

  private stateOf(unit: UnitKey): UnitState {
    let state = this.byObject.get(unit);
    if (state !== undefined) return state;
    const name = `${unit.namespace}\u0000${unit.deployment}\u0000${unit.predictor}\u0000${unit.node}`;
    state = this.byName.get(name);
    if (state === undefined) {
      state = { unit, label: describeUnit(unit), seen: undefined, order: [], byId: new Map(), next: 0 };
      this.byName.set(name, state);
    }
    this.byObject.set(unit, state);
    return state;
  }

  /** The next replica round-robin, skipping those already tried in this call. */
  private pick(state: UnitState, tried: Set<string> | undefined): ReplicaPool | undefined {
    const replicas = this.endpoints.replicasOf(state.unit);
    if (replicas !== state.seen) this.sync(state, replicas);
    const order = state.order;
    const n = order.length;
    if (n === 0) return undefined;
    if (tried === undefined || tried.size === 0) {
      const index = state.next++ % n;
      if (state.next >= 0x3fffffff) state.next = 0;
      return order[index];
    }
    for (let i = 0; i < n; i++) {
      const candidate = order[(state.next + i) % n]!;
      if (!tried.has(candidate.id)) {
        state.next = (state.next + i + 1) % n;
        return candidate;
      }
    }
    return undefined;
  }

  /** Brings the pools in line with the replicas now ready: new ones get a pool, gone ones are closed. */
  private sync(state: UnitState, replicas: readonly ReplicaAddress[]): void {
    state.seen = replicas;
    const order = state.order;
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
        retire(pool);
        pool = undefined;
      }
      if (pool === undefined) {
        pool = { id: replica.id, host: replica.host, port: replica.port, pool: this.newPool(originOf(replica)) };
        state.byId.set(replica.id, pool);
      }
      keep.add(replica.id);
      next.push(pool);
    }
    for (const [id, pool] of state.byId) {
      if (!keep.has(id)) {
        state.byId.delete(id);
        if (!next.includes(pool)) retire(pool);
      }
    }
    state.order = next;
  }

  private newPool(origin: string): Pool {
    return new Pool(origin, {
      connections: this.connections,
      pipelining: 1,
      connectTimeout: this.connectTimeoutMs,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
    });
  }

  /** Closes pools of replicas that are no longer offered, even for nodes no call has asked about lately. */
  private sweep(): void {
    if (this.closed) return;
    for (const state of this.byName.values()) {
      const replicas = this.endpoints.replicasOf(state.unit);
      if (replicas !== state.seen) this.sync(state, replicas);
    }
  }
}

function originOf(replica: ReplicaAddress): string {
  const host = replica.host.includes(':') && !replica.host.startsWith('[') ? `[${replica.host}]` : replica.host;
  return `http://${host}:${replica.port}`;
}

/** Lets in-flight requests on a replica that is gone finish (or fail), then drops its connections. */
function retire(replica: ReplicaPool): void {
  replica.pool.close().catch(() => undefined);
}
