/**
 * One trigger's lane: a queue of its pending deliveries, in store order, with up to
 * `maxInFlight` of them in flight at once. New deliveries are offered straight after they are
 * stored; when the queue is full (a slow or absent subscriber) the lane stops taking them and
 * reads them back from the store once it has room, so memory stays bounded and nothing is lost.
 * A lane starts that way too, which is how deliveries left pending by a previous process resume.
 * What a delivery does is the dispatcher's (`run`); the lane only decides when it starts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { laneReady, type LaneConfig } from './delivery-policy.ts';
import type { EventStore, PendingDelivery } from './store/store.ts';

export interface LaneLimits {
  /** Deliveries in flight at once. */
  maxInFlight: number;
  /** Deliveries held in memory; beyond that they are read back from the store. */
  maxQueued: number;
  /** Pending deliveries read from the store at a time (at most `maxQueued`). */
  readBatch: number;
  /** The wait after a failed read before the next. */
  readRetryMs: number;
}

export interface LaneContext {
  store: EventStore;
  logger: Logger | undefined;
  limits: LaneLimits;
  /** Aborts when the dispatcher closes: nothing more starts. */
  closing: AbortSignal;
  /** Delivers one event; the lane counts it in flight until this settles. */
  run: (lane: Lane, delivery: PendingDelivery) => Promise<void>;
}

export class Lane {
  readonly #context: LaneContext;
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

  constructor(context: LaneContext, config: LaneConfig) {
    this.#context = context;
    this.#config = config;
    this.#pump();
  }

  get config(): LaneConfig {
    return this.#config;
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
    if (this.#behind || this.queued >= this.#context.limits.maxQueued) {
      this.#behind = true;
      if (this.#loading) this.#missedWhileLoading = true;
      return;
    }
    this.#queue.push(delivery);
    if (delivery.seq > this.#highestSeq) this.#highestSeq = delivery.seq;
    this.#pump();
  }

  /** Puts a delivery already handed to this lane back at the end of the queue (it starts once the lane is ready). */
  requeue(delivery: PendingDelivery): void {
    this.#queue.push(delivery);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#queue = [];
    this.#head = 0;
    await Promise.all(this.#running);
  }

  #pump(): void {
    if (this.#stopped || this.#context.closing.aborted || !laneReady(this.#config)) return;
    while (this.#inFlight < this.#context.limits.maxInFlight && this.#head < this.#queue.length) {
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
    const run = this.#context
      .run(this, delivery)
      .catch((err: unknown) => {
        this.#context.logger?.error({ err, trigger: this.#config.key, seq: delivery.seq }, 'delivery failed unexpectedly; it stays pending');
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
    const { maxQueued, readBatch, readRetryMs } = this.#context.limits;
    const limit = Math.max(1, Math.min(readBatch, maxQueued));
    try {
      const rows = await this.#context.store.pending(this.#config.key, { afterSeq: this.#highestSeq, limit });
      if (this.#stopped) return;
      for (const row of rows) {
        if (row.seq <= this.#highestSeq) continue;
        this.#queue.push(row);
        this.#highestSeq = row.seq;
      }
      // Caught up only if the read returned everything and nothing was turned away meanwhile.
      if (rows.length < limit && !this.#missedWhileLoading) this.#behind = false;
    } catch (err) {
      this.#context.logger?.error({ err, trigger: this.#config.key }, 'reading pending deliveries failed; retrying');
      await sleep(readRetryMs, undefined, { signal: this.#context.closing }).catch(() => undefined);
    } finally {
      this.#loading = false;
    }
    this.#pump();
  }
}
