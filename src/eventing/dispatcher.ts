/**
 * Delivery: every pending delivery of a trigger is POSTed to its subscriber (binary mode, or
 * structured when `delivery.format` is json) with `Prefer: reply`, at least once, retried as the
 * DeliverySpec in force says (the trigger's, else its broker's, else the broker defaults), then
 * sent to the dead-letter sink with Knative's error extensions, or dropped; either is counted per
 * trigger and reported. A 2xx reply other than 202 that is a CloudEvent goes back into the broker
 * carrying the event's `knativebrokerttl`, which the ingress decrements, so a loop ends.
 *
 * Each trigger has a lane: a queue of pending deliveries, with up to `maxInFlightPerTrigger` of
 * them in flight at once. New events are handed to the lane straight after they are stored; when
 * the queue is full (a slow or absent subscriber) the lane stops taking them and reads them back
 * from the store once it has room, so memory stays bounded and nothing is lost. A lane starts
 * that way too, which is how deliveries left pending by a previous process are resumed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { decodeHttpEvent, encodeBinary, encodeStructured, httpEventMode } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import type { DeliverySpec } from '../manifest/index.ts';
import type { BrokerKey, EventStore, PendingDelivery, TriggerKey } from './store/store.ts';

/** Knative's loop guard: how many more times an event may be re-published as a reply. */
export const TTL_EXTENSION = 'knativebrokerttl';
export const DEFAULT_TTL = 255;
/** Knative cuts `knativeerrordata` (the failed response body in base64) to this many characters. */
const ERROR_DATA_LIMIT = 1024;
/** The status Knative puts in `knativeerrorcode` when no response came (refused, timed out, cut). */
const NO_RESPONSE_CODE = 500;

/** What became of one delivery, for counters and reports. */
export type DeliveryOutcome = 'delivered' | 'deadLettered' | 'dropped';

/** Per-trigger delivery counts since the broker started. */
export interface DeliveryCounters {
  delivered: number;
  /** Attempts that failed and were tried again. */
  retried: number;
  /** Failed events the dead-letter sink took. */
  deadLettered: number;
  /** Failed events lost: no dead-letter sink, or it failed too; also replies refused for a spent TTL. */
  dropped: number;
}

/** A failed event, as reported once it is dead-lettered or dropped. */
export interface DeliveryFailure {
  trigger: TriggerKey;
  outcome: Exclude<DeliveryOutcome, 'delivered'>;
  eventId: string;
  eventType: string;
  /** The last attempt's status, or undefined when no response came. */
  status: number | undefined;
  error: string | undefined;
  attempts: number;
}

/** A trigger as the dispatcher runs it: already resolved to URIs by the control plane. */
export interface LaneConfig {
  key: TriggerKey;
  broker: BrokerKey;
  /** The delivery spec in force: the trigger's own, else its broker's, else the broker defaults. */
  delivery: DeliverySpec;
  /** Absent while the subscriber is not resolved: deliveries wait (and stay stored) until it is. */
  subscriberUri: string | undefined;
  /** Absent when there is no dead-letter sink, or while it does not resolve (then deliveries wait). */
  deadLetterUri: string | undefined;
}

/** Whether a lane may deliver: its subscriber resolves, and so does its dead-letter sink if it names one. */
export function laneReady(config: LaneConfig): boolean {
  return config.subscriberUri !== undefined && (config.delivery.deadLetterSink === undefined || config.deadLetterUri !== undefined);
}

export interface DispatcherOptions {
  store: EventStore;
  /** Publishes a subscriber's reply into a broker (stamped and stored like any event). */
  publishReply: (broker: BrokerKey, event: CloudEvent) => Promise<void>;
  logger?: Logger | undefined;
  /** Deliveries of one trigger in flight at once; default 64. */
  maxInFlightPerTrigger?: number;
  /** Deliveries of one trigger held in memory; beyond that they are read back from the store. Default 10,000. */
  maxQueuedPerTrigger?: number;
  /** Per-attempt timeout when the delivery spec sets none; default 30 s. */
  defaultTimeoutMs?: number;
  /** Largest reply body read; default 10 MiB. */
  replyLimitBytes?: number;
  /** Called once per event dead-lettered or dropped (after it is recorded). */
  onFailure?: ((failure: DeliveryFailure) => void) | undefined;
}

/** The outcome of one HTTP attempt. */
interface Attempt {
  ok: boolean;
  retryable: boolean;
  status?: number;
  body?: Buffer;
  reply?: CloudEvent;
  error?: string;
}

const RETRYABLE_STATUS = new Set([404, 408, 409, 429]);

/** Whether Knative retries a delivery answered with this status. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || RETRYABLE_STATUS.has(status);
}

/**
 * The wait before retry number `retry` (1 for the first retry), as Knative's code waits:
 * exponential d, 2d, 4d… (d·2^(retry−1)), linear 0, d, 2d… (d·(retry−1)).
 */
export function backoffMs(delivery: Pick<DeliverySpec, 'backoffPolicy' | 'backoffDelayMs'>, retry: number): number {
  const n = retry - 1;
  return delivery.backoffPolicy === 'linear' ? delivery.backoffDelayMs * n : delivery.backoffDelayMs * 2 ** n;
}

/**
 * Knative's dead-letter extensions: where it failed, the status (500 when no response came), and
 * the response body (or what went wrong) in base64, cut to 1024 characters.
 */
export function errorExtensions(
  destination: string,
  attempt: { status?: number | undefined; body?: Buffer | undefined; error?: string | undefined } | undefined,
): Record<string, string | number> {
  const responded = attempt?.status !== undefined && attempt.error === undefined;
  const data = responded ? (attempt.body ?? Buffer.alloc(0)) : Buffer.from(`dispatch error: ${attempt?.error ?? 'no attempt was made'}`);
  return {
    knativeerrordest: destination,
    // An integer, as Knative sets it (binary mode sends it as text either way).
    knativeerrorcode: responded ? attempt.status! : NO_RESPONSE_CODE,
    knativeerrordata: data.toString('base64').slice(0, ERROR_DATA_LIMIT),
  };
}

/** An event's TTL (`knativebrokerttl`), or undefined when it has none (or not a number). */
export function ttlOf(event: CloudEvent): number | undefined {
  const raw = event.extensions[TTL_EXTENSION];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

export class DeliveryDispatcher {
  readonly #store: EventStore;
  readonly #publishReply: DispatcherOptions['publishReply'];
  readonly #logger: Logger | undefined;
  readonly #maxInFlight: number;
  readonly #maxQueued: number;
  readonly #defaultTimeoutMs: number;
  readonly #replyLimit: number;
  readonly #agent: Agent;
  readonly #lanes = new Map<TriggerKey, Lane>();
  readonly #counters = new Map<TriggerKey, DeliveryCounters>();
  readonly #onFailure: DispatcherOptions['onFailure'];
  readonly #closing = new AbortController();

  constructor(options: DispatcherOptions) {
    this.#store = options.store;
    this.#publishReply = options.publishReply;
    this.#logger = options.logger;
    this.#maxInFlight = options.maxInFlightPerTrigger ?? 64;
    this.#maxQueued = options.maxQueuedPerTrigger ?? 10_000;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.#replyLimit = options.replyLimitBytes ?? 10 * 1024 * 1024;
    this.#onFailure = options.onFailure;
    this.#agent = new Agent({ keepAliveTimeout: 30_000, connections: this.#maxInFlight * 2 });
  }

  /** Sets the triggers to deliver for. Lanes of triggers not listed stop (their state stays in the store). */
  setLanes(configs: readonly LaneConfig[]): void {
    const keep = new Set<TriggerKey>();
    for (const config of configs) {
      keep.add(config.key);
      const lane = this.#lanes.get(config.key);
      if (lane === undefined) this.#lanes.set(config.key, new Lane(this, config));
      else lane.configure(config);
    }
    for (const [key, lane] of this.#lanes) {
      if (!keep.has(key)) {
        void lane.stop();
        this.#lanes.delete(key);
        this.#counters.delete(key);
      }
    }
  }

  /** Hands a just-stored delivery to its trigger's lane. */
  offer(trigger: TriggerKey, delivery: PendingDelivery): void {
    this.#lanes.get(trigger)?.offer(delivery);
  }

  /** What became of a trigger's deliveries since this dispatcher started. */
  counters(trigger: TriggerKey): DeliveryCounters {
    return { ...(this.#counters.get(trigger) ?? { delivered: 0, retried: 0, deadLettered: 0, dropped: 0 }) };
  }

  /** Deliveries in flight and queued in memory, per trigger (for status and tests). */
  activity(): Record<TriggerKey, { inFlight: number; queued: number }> {
    const out: Record<TriggerKey, { inFlight: number; queued: number }> = {};
    for (const [key, lane] of this.#lanes) out[key] = { inFlight: lane.inFlight, queued: lane.queued };
    return out;
  }

  /** Stops starting deliveries, cuts retry waits short, and waits for attempts in flight. */
  async close(): Promise<void> {
    this.#closing.abort();
    const stopped = Promise.all([...this.#lanes.values()].map((lane) => lane.stop()));
    // Attempts in flight are cut short; their deliveries stay pending for the next start.
    await this.#agent.destroy();
    await stopped;
    this.#lanes.clear();
  }

  // -- used by lanes -----------------------------------------------------------------------------

  get store(): EventStore {
    return this.#store;
  }
  get logger(): Logger | undefined {
    return this.#logger;
  }
  get maxInFlight(): number {
    return this.#maxInFlight;
  }
  get maxQueued(): number {
    return this.#maxQueued;
  }
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  publishReply(broker: BrokerKey, event: CloudEvent): Promise<void> {
    return this.#publishReply(broker, event);
  }

  count(trigger: TriggerKey, what: keyof DeliveryCounters): void {
    let counters = this.#counters.get(trigger);
    if (counters === undefined) {
      counters = { delivered: 0, retried: 0, deadLettered: 0, dropped: 0 };
      this.#counters.set(trigger, counters);
    }
    counters[what] += 1;
  }

  reportFailure(failure: DeliveryFailure): void {
    this.count(failure.trigger, failure.outcome);
    try {
      this.#onFailure?.(failure);
    } catch (err) {
      this.#logger?.error({ err }, 'reporting a failed delivery failed');
    }
  }

  /**
   * One POST of an event, within `timeoutMs` from the first byte sent to the last byte read; never
   * throws. To a subscriber (`readReply`) it says `Prefer: reply`, as Knative's brokers must. The
   * broker's `knativebrokerttl` stays inside the broker: it is not sent.
   */
  async send(uri: string, event: CloudEvent, format: DeliverySpec['format'], timeoutMs: number | undefined, readReply: boolean): Promise<Attempt> {
    const { [TTL_EXTENSION]: _ttl, ...extensions } = event.extensions;
    const outgoing: CloudEvent = { ...event, extensions };
    const encoded = format === 'json' ? encodeStructured(outgoing) : encodeBinary(outgoing);
    const message = readReply ? { headers: { ...encoded.headers, prefer: 'reply' }, body: encoded.body } : encoded;
    const limitMs = timeoutMs ?? this.#defaultTimeoutMs;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no complete answer within ${limitMs} ms`)), limitMs);
    try {
      return await this.#exchange(uri, message, abort.signal, readReply);
    } finally {
      clearTimeout(timer);
    }
  }

  async #exchange(uri: string, message: { headers: Record<string, string>; body: Buffer }, signal: AbortSignal, readReply: boolean): Promise<Attempt> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(uri, { method: 'POST', headers: message.headers, body: message.body, dispatcher: this.#agent, signal });
    } catch (err) {
      return { ok: false, retryable: true, error: describe(err, signal) };
    }
    const status = response.statusCode;
    let body: Buffer;
    try {
      body = await readLimited(response.body, this.#replyLimit);
    } catch (err) {
      return { ok: false, retryable: true, status, error: `reading the response: ${describe(err, signal)}` };
    }
    if (status < 200 || status > 299) return { ok: false, retryable: isRetryableStatus(status), status, body };
    // A 202 is never a reply, even with an event in it (Knative's data-plane contract).
    if (!readReply || status === 202) return { ok: true, retryable: false, status };
    // A body that is not an event is discarded, as Knative's dispatcher does: the event was taken.
    if (httpEventMode(response.headers) === 'none') return { ok: true, retryable: false, status };
    try {
      return { ok: true, retryable: false, status, reply: decodeHttpEvent(response.headers, body) };
    } catch (err) {
      return { ok: false, retryable: true, status, body, error: `the reply is not a valid CloudEvent: ${describe(err, signal)}` };
    }
  }

  /** The per-attempt timeout for a delivery spec. */
  timeoutFor(delivery: DeliverySpec): number {
    return delivery.timeoutMs ?? this.#defaultTimeoutMs;
  }
}

function describe(err: unknown, signal: AbortSignal): string {
  const cause: unknown = signal.aborted ? signal.reason : err;
  return cause instanceof Error ? cause.message : String(cause);
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new Error(`the response is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** One trigger's deliveries. */
class Lane {
  readonly #owner: DeliveryDispatcher;
  #config: LaneConfig;
  /** Pending deliveries not yet started; `#head` is the next one. */
  #queue: PendingDelivery[] = [];
  #head = 0;
  #inFlight = 0;
  readonly #running = new Set<Promise<void>>();
  /** The highest sequence number handed to this lane (queued, in flight or done). */
  #highestSeq = 0;
  /** Deliveries may be in the store that are not in the queue: read them back when there is room. */
  #behind = true;
  #loading = false;
  #missedWhileLoading = false;
  #stopped = false;
  /** The last failed attempt of deliveries put back to wait for their dead-letter sink. */
  readonly #failedBefore = new Map<number, Attempt>();

  constructor(owner: DeliveryDispatcher, config: LaneConfig) {
    this.#owner = owner;
    this.#config = config;
    this.#pump();
  }

  get inFlight(): number {
    return this.#inFlight;
  }
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  configure(config: LaneConfig): void {
    this.#config = config;
    this.#pump();
  }

  offer(delivery: PendingDelivery): void {
    if (this.#stopped) return;
    if (this.#behind || this.queued >= this.#owner.maxQueued) {
      this.#behind = true;
      if (this.#loading) this.#missedWhileLoading = true;
      return;
    }
    this.#queue.push(delivery);
    if (delivery.seq > this.#highestSeq) this.#highestSeq = delivery.seq;
    this.#pump();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue = [];
    this.#head = 0;
    await Promise.all(this.#running);
  }

  #pump(): void {
    if (this.#stopped || this.#owner.closing.aborted || !laneReady(this.#config)) return;
    while (this.#inFlight < this.#owner.maxInFlight && this.#head < this.#queue.length) {
      const delivery = this.#queue[this.#head]!;
      this.#head += 1;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#start(delivery);
    }
    if (this.#head >= this.#queue.length && this.#behind && !this.#loading) void this.#load();
  }

  #start(delivery: PendingDelivery): void {
    this.#inFlight += 1;
    const run = this.#deliver(delivery)
      .catch((err: unknown) => {
        this.#owner.logger?.error({ err, trigger: this.#config.key, seq: delivery.seq }, 'delivery failed unexpectedly; it stays pending');
      })
      .finally(() => {
        this.#inFlight -= 1;
        this.#running.delete(run);
        this.#pump();
      });
    this.#running.add(run);
  }

  /** Reads pending deliveries back from the store, after the last one this lane has seen. */
  async #load(): Promise<void> {
    this.#loading = true;
    this.#missedWhileLoading = false;
    const limit = Math.max(1, Math.min(1000, this.#owner.maxQueued));
    try {
      const rows = await this.#owner.store.pending(this.#config.key, { afterSeq: this.#highestSeq, limit });
      if (this.#stopped) return;
      for (const row of rows) {
        if (row.seq <= this.#highestSeq) continue;
        this.#queue.push(row);
        this.#highestSeq = row.seq;
      }
      // Caught up only if the read returned everything and nothing was turned away meanwhile.
      if (rows.length < limit && !this.#missedWhileLoading) this.#behind = false;
    } catch (err) {
      this.#owner.logger?.error({ err, trigger: this.#config.key }, 'reading pending deliveries failed; retrying');
      await sleep(1000, undefined, { signal: this.#owner.closing }).catch(() => undefined);
    } finally {
      this.#loading = false;
    }
    this.#pump();
  }

  async #deliver(delivery: PendingDelivery): Promise<void> {
    const config = this.#config;
    const uri = config.subscriberUri;
    if (uri === undefined || !laneReady(config)) return;
    const spec = config.delivery;
    const maxAttempts = 1 + spec.retry;
    const format = spec.format;
    const timeoutMs = this.#owner.timeoutFor(spec);
    const store = this.#owner.store;
    let attempts = delivery.attempts;
    let last: Attempt | undefined = this.#failedBefore.get(delivery.seq);
    this.#failedBefore.delete(delivery.seq);
    while (attempts < maxAttempts) {
      if (attempts > 0) {
        const waited = await sleep(backoffMs(spec, attempts), true, { signal: this.#owner.closing }).catch(() => false);
        if (!waited) return; // closing: the delivery stays pending for the next start
      }
      if (this.#owner.closing.aborted) return;
      last = await this.#owner.send(uri, delivery.event, format, timeoutMs, true);
      attempts += 1;
      if (last.ok) {
        if (last.reply !== undefined) await this.#publishReply(delivery, last.reply);
        await store.markDelivered(config.key, delivery.seq);
        this.#owner.count(config.key, 'delivered');
        return;
      }
      if (this.#owner.closing.aborted) return;
      this.#owner.logger?.debug(
        { trigger: config.key, seq: delivery.seq, attempt: attempts, status: last.status, error: last.error },
        'delivery attempt failed',
      );
      if (!last.retryable) break;
      if (attempts < maxAttempts) {
        await store.recordAttempts(config.key, delivery.seq, attempts);
        this.#owner.count(config.key, 'retried');
      }
    }
    await this.#deadLetter(delivery, uri, last, attempts);
  }

  /** The reply carries the event's TTL (already one hop shorter); the ingress takes one more off it. */
  async #publishReply(delivery: PendingDelivery, reply: CloudEvent): Promise<void> {
    const ttl = ttlOf(delivery.event) ?? DEFAULT_TTL;
    if (ttl <= 0) {
      this.#owner.logger?.warn(
        { trigger: this.#config.key, seq: delivery.seq, id: reply.id, type: reply.type },
        'reply dropped: its knativebrokerttl is spent (an event loop?)',
      );
      this.#owner.reportFailure({
        trigger: this.#config.key, outcome: 'dropped', eventId: reply.id, eventType: reply.type,
        status: undefined, error: `the reply's ${TTL_EXTENSION} is spent (an event loop?)`, attempts: 0,
      });
      return;
    }
    const event: CloudEvent = { ...reply, extensions: { ...reply.extensions, [TTL_EXTENSION]: ttl } };
    await this.#owner.publishReply(this.#config.broker, event);
  }

  async #deadLetter(delivery: PendingDelivery, subscriberUri: string, last: Attempt | undefined, attempts: number): Promise<void> {
    const config = this.#config;
    const logger = this.#owner.logger;
    const dls = config.deadLetterUri;
    const failure = { trigger: config.key, seq: delivery.seq, id: delivery.event.id, status: last?.status, error: last?.error };
    const report = (outcome: DeliveryFailure['outcome']): void =>
      this.#owner.reportFailure({
        trigger: config.key, outcome, eventId: delivery.event.id, eventType: delivery.event.type,
        status: last?.status, error: last?.error, attempts,
      });
    if (dls === undefined && config.delivery.deadLetterSink !== undefined) {
      // The sink stopped resolving while this was in flight: the event waits for it, as new ones do.
      await this.#owner.store.recordAttempts(config.key, delivery.seq, attempts);
      if (last !== undefined) this.#failedBefore.set(delivery.seq, last);
      this.#queue.push({ ...delivery, attempts });
      return;
    }
    if (dls === undefined) {
      logger?.warn(failure, 'delivery failed and the trigger has no dead-letter sink: event dropped');
      await this.#owner.store.markDeadLettered(config.key, delivery.seq);
      report('dropped');
      return;
    }
    const event: CloudEvent = { ...delivery.event, extensions: { ...delivery.event.extensions, ...errorExtensions(subscriberUri, last) } };
    const spec = config.delivery;
    const maxAttempts = 1 + spec.retry;
    let attempt: Attempt | undefined;
    for (let n = 0; n < maxAttempts; n++) {
      if (n > 0) {
        const waited = await sleep(backoffMs(spec, n), true, { signal: this.#owner.closing }).catch(() => false);
        if (!waited) return;
      }
      attempt = await this.#owner.send(dls, event, spec.format, this.#owner.timeoutFor(spec), false);
      if (attempt.ok || !attempt.retryable || this.#owner.closing.aborted) break;
    }
    if (this.#owner.closing.aborted && attempt?.ok !== true) return;
    if (attempt?.ok === true) logger?.info(failure, 'delivery failed: event sent to the dead-letter sink');
    else logger?.error({ ...failure, deadLetterStatus: attempt?.status, deadLetterError: attempt?.error }, 'delivery and dead-lettering failed: event dropped');
    await this.#owner.store.markDeadLettered(config.key, delivery.seq);
    report(attempt?.ok === true ? 'deadLettered' : 'dropped');
  }
}
