/**
 * The broker as one object: brokers and triggers set by the control plane, the ingress, the
 * in-process publish API, tailing, and delivery, over one EventStore.
 *
 * An event's life: ingress decodes and validates it, refuses (400) one whose `knativebrokerttl` is
 * already spent (≤ 0), stamps `knativearrivaltime`, sets the TTL to 255 when absent or takes one
 * hop off it, evaluates the broker's trigger filters once, and stores it with a pending delivery
 * for each trigger that matched; only then does it answer 202. The stored deliveries go straight
 * to the dispatcher's lanes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { validateEvent, TrantorError } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import { BUILT_IN_DELIVERY } from '../manifest/index.ts';
import type { Broker, DeliverySpec, ObjectEventRecorder, Trigger } from '../manifest/index.ts';
import { DEFAULT_TTL, TTL_EXTENSION, ttlOf, type LaneConfig } from './delivery-policy.ts';
import { DeliveryDispatcher } from './dispatcher.ts';
import type { DeliveryAttempt, DeliveryCounters, DeliveryFailure } from './dispatcher.ts';
import { compileTriggerFilter } from './filter.ts';
import type { EventPredicate } from './filter.ts';
import { ingressResponse, serveIngress } from './ingress.ts';
import type { IngressRequest, IngressResponse, IngressTarget } from './ingress.ts';
import { eventingOptions, type EventingLimits } from './options.ts';
import { brokerKey, isOutOfSpace } from './store/store.ts';
import type { BrokerKey, EventStore, StoredEvent, TriggerCounts, TriggerKey } from './store/store.ts';

export const ARRIVAL_TIME_EXTENSION = 'knativearrivaltime';
/** The broker every namespace has without declaring it. */
export const DEFAULT_BROKER = 'default';

/** A trigger as the control plane hands it over, its destinations already resolved to URIs. */
export interface TriggerBinding {
  /** The trigger's identity, e.g. `<namespace>/<name>`; pending deliveries are kept under it. */
  key: TriggerKey;
  trigger: Trigger;
  /** The subscriber's URI; while absent, matching events are stored and wait for it. */
  subscriberUri?: string | undefined;
  /**
   * The delivery spec in force, as the control plane chose it (the trigger's, else its broker's,
   * else the broker defaults); when absent: the trigger's, else its broker's, else BUILT_IN_DELIVERY.
   */
  delivery?: DeliverySpec | undefined;
  /**
   * The resolved `deadLetterSink` of the delivery spec in force. While that spec names a sink and
   * this is absent, the trigger's deliveries wait (stored), as for an unresolved subscriber.
   */
  deadLetterUri?: string | undefined;
}

export interface EventingOptions {
  store: EventStore;
  logger?: Logger | undefined;
  /** The compiled `eventing` options (queues, timeouts, limits); their defaults when absent. */
  limits?: EventingLimits;
  /** The clock, for tests. */
  now?: () => Date;
  /** Called once per event dead-lettered or dropped (the `up` terminal prints these). */
  onFailure?: ((failure: DeliveryFailure) => void) | undefined;
  /** Where Kubernetes-style Events about triggers go (failed deliveries, dead letters). */
  recorder?: ObjectEventRecorder | undefined;
  /**
   * Called once per delivery attempt to a subscriber, with its outcome and the start of the answer
   * (the dashboard's delivery journal); costs nothing when absent.
   */
  onAttempt?: ((attempt: DeliveryAttempt) => void) | undefined;
}

export type PublishResult = { stored: true; seq: number } | { stored: false; reason: string };

interface Route {
  key: TriggerKey;
  matches: EventPredicate;
}

export class Eventing implements IngressTarget {
  readonly #store: EventStore;
  readonly #logger: Logger | undefined;
  readonly #limit: number;
  readonly #retain: number;
  readonly #tailBatch: number;
  readonly #replyStoreRetryMs: number;
  readonly #now: () => Date;
  readonly #dispatcher: DeliveryDispatcher;
  readonly #compactTimer: NodeJS.Timeout | undefined;
  #brokers = new Map<BrokerKey, Broker>();
  #bindings: readonly TriggerBinding[] = [];
  #routes = new Map<BrokerKey, Route[]>();
  #appended = 0;
  #bell = new Set<() => void>();
  #closed = false;

  constructor(options: EventingOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    const limits = options.limits ?? eventingOptions.defaults;
    this.#limit = limits.ingressLimit;
    this.#retain = limits.retainEvents;
    this.#tailBatch = limits.tailBatch;
    this.#replyStoreRetryMs = limits.replyStoreRetry;
    this.#now = options.now ?? (() => new Date());
    this.#dispatcher = new DeliveryDispatcher({
      store: this.#store,
      logger: this.#logger,
      publishReply: (broker, event) => this.#admitReply(broker, event),
      limits,
      onFailure: options.onFailure,
      recorder: options.recorder,
      onAttempt: options.onAttempt,
    });
    const every = limits.compactEvery;
    if (every > 0) {
      this.#compactTimer = setInterval(() => {
        this.compact().catch((err: unknown) => this.#logger?.error({ err }, 'event store compaction failed'));
      }, every);
      this.#compactTimer.unref();
    }
  }

  // -- control plane -----------------------------------------------------------------------------

  /** The declared brokers (all of them; `default` exists in every namespace regardless). */
  setBrokers(brokers: readonly Broker[]): void {
    this.#brokers = new Map(brokers.map((b) => [brokerKey(b.metadata.namespace, b.metadata.name), b]));
    this.#applyBindings();
  }

  /**
   * The full set of triggers. A trigger not listed is deleted with its pending deliveries, so call
   * this with every applied trigger (resolved or not) before the ingress takes events.
   * `keepPending` names triggers that are not listed but whose deliveries must stay stored (a
   * trigger the control plane could not restore, say).
   */
  async setTriggers(bindings: readonly TriggerBinding[], options: { keepPending?: Iterable<TriggerKey> } = {}): Promise<void> {
    this.#bindings = [...bindings];
    this.#applyBindings();
    const keep = new Set([...bindings.map((b) => b.key), ...(options.keepPending ?? [])]);
    for (const key of await this.#store.triggers()) {
      if (!keep.has(key)) await this.#store.dropTrigger(key);
    }
  }

  hasBroker(namespace: string, name: string): boolean {
    return name === DEFAULT_BROKER || this.#brokers.has(brokerKey(namespace, name));
  }

  /** Pending, delivered and dead-lettered counts of a trigger. */
  triggerCounts(key: TriggerKey): Promise<TriggerCounts> {
    return this.#store.counts(key);
  }

  /** Delivered, retried, dead-lettered and dropped counts of a trigger since this broker started. */
  deliveryCounters(key: TriggerKey): DeliveryCounters {
    return this.#dispatcher.counters(key);
  }

  // -- ingress and publishing --------------------------------------------------------------------

  /** The answer to one ingress request, as values. */
  ingress(namespace: string, name: string, request: IngressRequest): Promise<IngressResponse> {
    return ingressResponse(this, namespace, name, request, this.#limit);
  }

  /** Serves one ingress request on node:http (the server maps its path to the broker). */
  handleHttp(namespace: string, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    return serveIngress(this, namespace, name, req, res, this.#limit);
  }

  /** IngressTarget: stores a decoded event. */
  async accept(namespace: string, name: string, event: CloudEvent): Promise<void> {
    await this.#admit(brokerKey(namespace, name), event);
  }

  /**
   * Publishes an event into a broker from inside the process (`trantor events send`): validated,
   * stamped and stored like an ingress event. Throws BAD_EVENT for an invalid event, NOT_FOUND for
   * an unknown broker.
   */
  async publish(namespace: string, name: string, event: CloudEvent): Promise<PublishResult> {
    if (!this.hasBroker(namespace, name)) {
      throw new TrantorError('NOT_FOUND', `no broker ${name} in namespace ${namespace}`);
    }
    validateEvent(event);
    return this.#admit(brokerKey(namespace, name), { ...event, extensions: { ...event.extensions } });
  }

  /**
   * A broker's events from `fromSeq` on (default: only those that arrive from now), then each new
   * one as it is stored, until `signal` aborts or eventing closes.
   */
  async *tail(namespace: string, name: string, options: { fromSeq?: number; signal?: AbortSignal } = {}): AsyncGenerator<StoredEvent> {
    const broker = brokerKey(namespace, name);
    const signal = options.signal;
    const aborted = (): boolean => signal?.aborted === true;
    let next = options.fromSeq ?? (await this.#store.lastSeq()) + 1;
    while (!this.#closed && !aborted()) {
      const seen = this.#appended;
      const batch = await this.#store.read(broker, next, this.#tailBatch);
      for (const stored of batch) {
        yield stored;
        next = stored.seq + 1;
        if (aborted()) return;
      }
      if (batch.length === 0 && seen === this.#appended) await this.#nextAppend(signal);
    }
  }

  /** Removes delivered events past the retention now (it also runs on a timer). */
  compact(): Promise<number> {
    return this.#store.compact({ retain: this.#retain });
  }

  /** Deliveries in flight and queued in memory, per trigger. */
  activity(): Record<TriggerKey, { inFlight: number; queued: number }> {
    return this.#dispatcher.activity();
  }

  /** Stops delivering (what is pending stays stored), ends tails, closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#compactTimer !== undefined) clearInterval(this.#compactTimer);
    this.#ring();
    await this.#dispatcher.close();
    await this.#store.close();
  }

  // -- inside ------------------------------------------------------------------------------------

  /**
   * Stamps, matches and stores an event; hands its deliveries to the dispatcher. An event whose
   * TTL is spent is refused with BAD_EVENT (400); otherwise the TTL loses one hop here.
   */
  async #admit(broker: BrokerKey, event: CloudEvent): Promise<PublishResult> {
    const ttl = ttlOf(event);
    if (ttl !== undefined && ttl <= 0) {
      throw new TrantorError('BAD_EVENT', `the event's ${TTL_EXTENSION} is ${ttl}: it has been through the broker too many times (an event loop?)`);
    }
    event.extensions[ARRIVAL_TIME_EXTENSION] = this.#now().toISOString();
    event.extensions[TTL_EXTENSION] = ttl === undefined ? DEFAULT_TTL : ttl - 1;
    const triggers: TriggerKey[] = [];
    for (const route of this.#routes.get(broker) ?? []) if (route.matches(event)) triggers.push(route.key);
    const [seq] = await this.#append(broker, event, triggers);
    if (seq === undefined) throw new Error('the event store returned no sequence number');
    for (const trigger of triggers) this.#dispatcher.offer(trigger, { seq, trigger, event, attempts: 0 });
    this.#appended += 1;
    this.#ring();
    return { stored: true, seq };
  }

  /** Appends one event; a store that ran out of space answers INSUFFICIENT_STORAGE (507), never 500. */
  async #append(broker: BrokerKey, event: CloudEvent, triggers: TriggerKey[]): Promise<number[]> {
    try {
      return await this.#store.append(broker, [{ event, triggers }]);
    } catch (err) {
      if (err instanceof TrantorError || !isOutOfSpace(err)) throw err;
      throw new TrantorError('INSUFFICIENT_STORAGE', `the broker's disk is full: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /**
   * Stores a subscriber's reply. On a full disk it waits and tries again (the original delivery
   * stays pending meanwhile), so a reply is never lost for want of space while the broker runs.
   */
  async #admitReply(broker: BrokerKey, event: CloudEvent): Promise<void> {
    for (;;) {
      try {
        await this.#admit(broker, event);
        return;
      } catch (err) {
        if (!(err instanceof TrantorError && err.code === 'INSUFFICIENT_STORAGE') || this.#closed) throw err;
        this.#logger?.warn({ broker, id: event.id, err: err.message }, `storing a reply failed on a full disk; retrying in ${this.#replyStoreRetryMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, this.#replyStoreRetryMs).unref());
      }
    }
  }

  #applyBindings(): void {
    const routes = new Map<BrokerKey, Route[]>();
    const lanes: LaneConfig[] = [];
    for (const binding of this.#bindings) {
      const { trigger } = binding;
      const broker = brokerKey(trigger.metadata.namespace, trigger.spec.broker);
      const list = routes.get(broker) ?? [];
      list.push({ key: binding.key, matches: compileTriggerFilter(trigger.spec) });
      routes.set(broker, list);
      lanes.push({
        key: binding.key,
        broker,
        delivery: binding.delivery ?? trigger.spec.delivery ?? this.#brokers.get(broker)?.spec.delivery ?? BUILT_IN_DELIVERY,
        subscriberUri: binding.subscriberUri,
        deadLetterUri: binding.deadLetterUri,
      });
    }
    this.#routes = routes;
    this.#dispatcher.setLanes(lanes);
  }

  #ring(): void {
    const waiters = this.#bell;
    if (waiters.size === 0) return;
    this.#bell = new Set();
    for (const wake of waiters) wake();
  }

  #nextAppend(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed || signal?.aborted === true) {
        resolve();
        return;
      }
      const wake = (): void => {
        signal?.removeEventListener('abort', wake);
        this.#bell.delete(wake);
        resolve();
      };
      this.#bell.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}
