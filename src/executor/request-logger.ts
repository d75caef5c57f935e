/**
 * Request logging as Seldon's executor does it: a graph node with `logger: {url, mode}` sends
 * each message it handles to `url` as a CloudEvent 1.0 in binary mode — its input
 * (`io.seldon.serving.inference.request`, modes `request` and `all`), its output
 * (`io.seldon.serving.inference.response`, modes `response` and `all`) and the feedback it gets
 * (`io.seldon.serving.feedback`, modes `request` and `all`).
 *
 * Logging never slows or fails a prediction: the walk only appends an entry to a bounded
 * in-memory queue per logger URL (the message is serialised later, off the request path), and a
 * few keep-alive connections per URL drain it. When a URL's queue is full the NEW entry is
 * dropped and counted; entries already waiting keep their place. A failed send is counted, not
 * retried, and the URL's senders pause briefly before the next one, so a logger that is down
 * costs nothing but dropped entries.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { encodeBinary, stringifyJson } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import type { Predictor } from '../manifest/index.ts';
import { EXECUTOR_DEFAULTS } from './options.ts';
import type { ExecutorOptions } from './options.ts';
import type { GraphPlan } from './plan.ts';

export const CE_INFERENCE_REQUEST = 'io.seldon.serving.inference.request';
export const CE_INFERENCE_RESPONSE = 'io.seldon.serving.inference.response';
export const CE_FEEDBACK = 'io.seldon.serving.feedback';

export type LogKind = 'request' | 'response' | 'feedback';

const TYPE_OF: Record<LogKind, string> = {
  request: CE_INFERENCE_REQUEST,
  response: CE_INFERENCE_RESPONSE,
  feedback: CE_FEEDBACK,
};

/** Defaults: the executor's options (`executor.logger*`, docs/configuration.md). */
export interface RequestLoggerOptions {
  /** Entries each logger URL may hold waiting to be sent. */
  capacity?: number;
  /** Keep-alive connections (and sends at once) per logger URL. */
  connections?: number;
  /** How long one send may take (connect, headers, body), ms. */
  timeoutMs?: number;
  /** How long a URL's senders wait after a failed send, ms. */
  pauseAfterFailureMs?: number;
  /** How long an idle connection to a logger is kept open, ms. */
  keepAliveMs?: number;
}

/** The request logger's settings from the executor's compiled options. */
export function requestLoggerOptions(options: ExecutorOptions = EXECUTOR_DEFAULTS): Required<RequestLoggerOptions> {
  return {
    capacity: options.loggerQueue,
    connections: options.loggerConnections,
    timeoutMs: options.loggerTimeout,
    pauseAfterFailureMs: options.loggerPause,
    keepAliveMs: options.loggerKeepAlive,
  };
}

const DEFAULTS = requestLoggerOptions();

export interface RequestLoggerStats {
  /** Entries accepted into a queue. */
  queued: number;
  /** Events a logger answered with 2xx. */
  sent: number;
  /** Sends that failed (network error, timeout or a non-2xx answer). */
  failed: number;
  /** Entries dropped because their URL's queue was full. */
  dropped: number;
  /** Entries waiting now, all URLs together. */
  waiting: number;
  /** The last failure, for diagnostics. */
  lastError: string | undefined;
}

/** Who is logging: the node, its predictor and deployment; fixed when the executor is built. */
export interface NodeLogger {
  readonly url: string;
  readonly logsRequest: boolean;
  readonly logsResponse: boolean;
  readonly source: string;
  readonly modelId: string;
  readonly deployment: string;
  readonly namespace: string;
  readonly predictor: string;
  readonly sink: RequestLogger;
}

interface Entry {
  readonly node: NodeLogger;
  readonly kind: LogKind;
  readonly puid: string;
  /** The message (a shallow copy, so later `meta` assignments do not show); serialised when sent. */
  readonly message: unknown;
  readonly at: number;
}

/** A ring buffer of entries for one URL, and its pool. */
class Destination {
  readonly pool: Pool;
  readonly path: string;
  private readonly ring: (Entry | undefined)[];
  private head = 0;
  size = 0;
  active = 0;
  scheduled = false;
  pausedUntil = 0;

  constructor(url: URL, capacity: number, connections: number, timeoutMs: number, keepAliveMs: number) {
    this.pool = new Pool(url.origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: keepAliveMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      connect: { timeout: timeoutMs },
    });
    this.path = `${url.pathname}${url.search}`;
    this.ring = new Array<Entry | undefined>(capacity);
  }

  push(entry: Entry): boolean {
    if (this.size === this.ring.length) return false;
    this.ring[(this.head + this.size) % this.ring.length] = entry;
    this.size++;
    return true;
  }

  shift(): Entry | undefined {
    if (this.size === 0) return undefined;
    const entry = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    return entry;
  }
}

export class RequestLogger {
  private readonly capacity: number;
  private readonly connections: number;
  private readonly timeoutMs: number;
  private readonly pauseMs: number;
  private readonly keepAliveMs: number;
  private readonly destinations = new Map<string, Destination>();
  private readonly counts = { queued: 0, sent: 0, failed: 0, dropped: 0 };
  private lastError: string | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: RequestLoggerOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? DEFAULTS.capacity);
    this.connections = Math.max(1, options.connections ?? DEFAULTS.connections);
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.pauseMs = options.pauseAfterFailureMs ?? DEFAULTS.pauseAfterFailureMs;
    this.keepAliveMs = options.keepAliveMs ?? DEFAULTS.keepAliveMs;
  }

  /** Queues one event; never throws, never waits. */
  log(node: NodeLogger, kind: LogKind, puid: string, message: unknown): void {
    if (this.closed) return;
    let destination = this.destinations.get(node.url);
    if (destination === undefined) {
      try {
        destination = new Destination(new URL(node.url), this.capacity, this.connections, this.timeoutMs, this.keepAliveMs);
      } catch (err) {
        this.counts.failed++;
        this.lastError = `logger url ${node.url}: ${(err as Error).message}`;
        return;
      }
      this.destinations.set(node.url, destination);
    }
    const copy = typeof message === 'object' && message !== null && !Array.isArray(message) ? { ...message } : message;
    if (!destination.push({ node, kind, puid, message: copy, at: Date.now() })) {
      this.counts.dropped++;
      return;
    }
    this.counts.queued++;
    this.schedule(destination);
  }

  stats(): RequestLoggerStats {
    let waiting = 0;
    for (const d of this.destinations.values()) waiting += d.size;
    return { ...this.counts, waiting, lastError: this.lastError };
  }

  /** Resolves once every queue is empty and no send is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops sending: what is still queued is dropped, connections are closed. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.destinations.values()].map((d) => d.pool.destroy().catch(() => undefined));
    this.destinations.clear();
    await Promise.all(pools);
    this.wakeIdle();
  }

  private isIdle(): boolean {
    for (const d of this.destinations.values()) if (d.size > 0 || d.active > 0) return false;
    return true;
  }

  private wakeIdle(): void {
    if (this.idleWaiters.length === 0 || !(this.closed || this.isIdle())) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Starts senders on the next turn of the event loop, never in the caller's. */
  private schedule(destination: Destination): void {
    if (destination.scheduled || destination.active >= this.connections) return;
    destination.scheduled = true;
    const delay = Math.max(0, destination.pausedUntil - Date.now());
    const start = (): void => {
      destination.scheduled = false;
      // Closed meanwhile: a sender would stop at once, and this loop would start it again forever.
      if (this.closed) return;
      while (destination.active < this.connections && destination.size > 0) {
        destination.active++;
        void this.drain(destination);
      }
    };
    if (delay > 0) setTimeout(start, delay).unref();
    else setImmediate(start);
  }

  private async drain(destination: Destination): Promise<void> {
    try {
      for (;;) {
        if (this.closed || Date.now() < destination.pausedUntil) break;
        const entry = destination.shift();
        if (entry === undefined) break;
        await this.send(destination, entry);
      }
    } finally {
      destination.active--;
      if (!this.closed && destination.size > 0) this.schedule(destination);
      this.wakeIdle();
    }
  }

  private async send(destination: Destination, entry: Entry): Promise<void> {
    try {
      const { headers, body } = encodeBinary(eventOf(entry));
      const response = await destination.pool.request({ method: 'POST', path: destination.path, headers, body });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        this.counts.sent++;
        return;
      }
      this.fail(destination, `logger ${entry.node.url} answered HTTP ${response.statusCode}`);
    } catch (err) {
      this.fail(destination, `logger ${entry.node.url}: ${(err as Error).message}`);
    }
  }

  private fail(destination: Destination, message: string): void {
    this.counts.failed++;
    this.lastError = message;
    destination.pausedUntil = Date.now() + this.pauseMs;
  }
}

function eventOf(entry: Entry): CloudEvent {
  const { node } = entry;
  return {
    specversion: '1.0',
    // A fresh id per event, as Seldon's executor gives: a request's and its response's events
    // must not look like duplicates (same source and id) to a broker. The puid is `requestid`.
    id: randomUUID(),
    source: node.source,
    type: TYPE_OF[entry.kind],
    time: new Date(entry.at).toISOString(),
    datacontenttype: 'application/json',
    extensions: {
      modelid: node.modelId,
      requestid: entry.puid,
      inferenceservicename: node.deployment,
      namespace: node.namespace,
      endpoint: node.predictor,
      protocol: 'seldon',
    },
    data: Buffer.from(stringifyJson(entry.message), 'utf8'),
  };
}

let shared: RequestLogger | undefined;

/** The process's request logger, made on first use. */
export function sharedRequestLogger(): RequestLogger {
  shared ??= new RequestLogger();
  return shared;
}

/**
 * The graph's loggers by node name, or undefined when no node logs (so the walk checks one
 * field and nothing more). A logger without `url` logs nothing: Seldon would fall back to a
 * default broker, Trantor only logs where it is told to.
 */
export function planLoggers(plan: GraphPlan, predictor: Predictor, namespace: string, deployment: string, sink: RequestLogger | undefined): ReadonlyMap<string, NodeLogger> | undefined {
  let loggers: Map<string, NodeLogger> | undefined;
  const visit = (node: Predictor['graph']): void => {
    const spec = node.logger;
    if (spec?.url !== undefined && spec.url !== '') {
      loggers ??= new Map();
      loggers.set(node.name, {
        url: spec.url,
        logsRequest: spec.mode === 'request' || spec.mode === 'all',
        logsResponse: spec.mode === 'response' || spec.mode === 'all',
        // The executor's address, as Seldon's: the predictor's Service in the namespace.
        source: `http://${deployment}-${predictor.name}.${namespace}:8000/`,
        modelId: node.name,
        deployment,
        namespace,
        predictor: predictor.name,
        sink: sink ?? sharedRequestLogger(),
      });
    }
    node.children.forEach(visit);
  };
  if (plan.nodes.size > 0) visit(predictor.graph);
  return loggers;
}
