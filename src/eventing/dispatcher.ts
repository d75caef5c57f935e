/**
 * Delivery: every pending delivery of a trigger is POSTed to its subscriber (binary mode, or
 * structured when `delivery.format` is json) with `Prefer: reply`, at least once, retried as the
 * DeliverySpec in force says (the trigger's, else its broker's, else the broker defaults), then
 * sent to the dead-letter sink with Knative's error extensions, or dropped; either is counted per
 * trigger and reported. A 2xx reply other than 202 that is a CloudEvent goes back into the broker
 * carrying the event's `knativebrokerttl`, which the ingress decrements, so a loop ends.
 *
 * The dispatcher composes three parts: each trigger's lane (lane.ts: its queue, in-flight limit and
 * read-back from the store), Knative's delivery policy (delivery-policy.ts: what is retried, when,
 * and what a failure becomes) and the HTTP sender (http-sender.ts). It runs each delivery's
 * attempts, records them in the store, and counts and reports what became of each event.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CloudEvent } from '../protocol/index.ts';
import { NO_OBJECT_EVENTS, type ObjectEventRecorder } from '../manifest/index.ts';
import { attemptsAllowed, backoffMs, deadLetterDecision, errorExtensions, laneReady, replyTtl, TTL_EXTENSION, type LaneConfig } from './delivery-policy.ts';
import { attemptCause, failureSummary } from './failure-notice.ts';
import { HttpSender, type Attempt } from './http-sender.ts';
import { Lane, type LaneContext } from './lane.ts';
import type { EventingLimits } from './options.ts';
import type { BrokerKey, EventStore, PendingDelivery, TriggerKey } from './store/store.ts';

export type { LaneConfig } from './delivery-policy.ts';

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

/** What one attempt to deliver an event to a trigger's subscriber came to. */
export type AttemptOutcome = 'delivered' | 'retrying' | 'dead-lettered' | 'dropped';

/** How much of a subscriber's answer an attempt report carries. */
export const ATTEMPT_ANSWER_BYTES = 2048;

/**
 * One delivery attempt, as reported to `onAttempt`: the last attempt of a failed delivery is
 * reported once its fate is known (dead-lettered or dropped), after the dead-letter sink answered.
 * Each attempt to send the event to the trigger's dead-letter sink is reported too, with
 * `deadLetterSink: true` and the sink as `target`: `delivered` when the sink took it, `retrying`,
 * or `dropped` when the sink's last attempt failed.
 */
export interface DeliveryAttempt {
  /** When the attempt started, milliseconds since the epoch. */
  time: number;
  namespace: string;
  /** The broker's name (in `namespace`). */
  broker: string;
  /** The trigger's name (in `namespace`). */
  trigger: string;
  seq: number;
  eventId: string;
  eventType: string;
  eventSource: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** The subscriber's URI. */
  target: string;
  /** The subscriber's HTTP status; absent when none came (refused, timed out). */
  status?: number;
  outcome: AttemptOutcome;
  durationMs: number;
  /** The start of the subscriber's answer (at most ATTEMPT_ANSWER_BYTES, as UTF-8). */
  answer?: string;
  /** What went wrong, when the subscriber did not answer or the dead-letter sink failed too. */
  error?: string;
  /** An attempt to send the failed event to the trigger's dead-letter sink (numbered from 1 on its own). */
  deadLetterSink?: true;
}

/** The `eventing` options the dispatcher and its parts use. */
export type DispatcherLimits = Pick<
  EventingLimits,
  'maxInFlightPerTrigger' | 'maxQueuedPerTrigger' | 'pendingReadBatch' | 'pendingReadRetry' | 'deliveryTimeout' | 'replyLimit' | 'keepAlive' | 'errorDataLimit'
>;

export interface DispatcherOptions {
  store: EventStore;
  /** Publishes a subscriber's reply into a broker (stamped and stored like any event). */
  publishReply: (broker: BrokerKey, event: CloudEvent) => Promise<void>;
  logger?: Logger | undefined;
  limits: DispatcherLimits;
  /** Called once per event dead-lettered or dropped (after it is recorded). */
  onFailure?: ((failure: DeliveryFailure) => void) | undefined;
  /** Where Kubernetes-style Events about triggers go (DeliveryFailed, DeadLettered, Dropped); nowhere when absent. */
  recorder?: ObjectEventRecorder | undefined;
  /** Called once per delivery attempt to a subscriber (the dashboard's delivery journal). */
  onAttempt?: ((attempt: DeliveryAttempt) => void) | undefined;
}

/** The Trigger a key (`<namespace>/<name>`) names, as an Event's involvedObject. */
function triggerObject(key: TriggerKey): { kind: string; namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { kind: 'Trigger', namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const noCounts = (): DeliveryCounters => ({ delivered: 0, retried: 0, deadLettered: 0, dropped: 0 });

export class DeliveryDispatcher {
  readonly #store: EventStore;
  readonly #publishReply: DispatcherOptions['publishReply'];
  readonly #logger: Logger | undefined;
  readonly #errorDataLimit: number;
  readonly #sender: HttpSender;
  readonly #lanes = new Map<TriggerKey, Lane>();
  readonly #counters = new Map<TriggerKey, DeliveryCounters>();
  /** The last failed attempt of deliveries put back to wait for their dead-letter sink, per trigger. */
  readonly #failedBefore = new Map<TriggerKey, Map<number, Attempt>>();
  readonly #onFailure: DispatcherOptions['onFailure'];
  readonly #onAttempt: DispatcherOptions['onAttempt'];
  readonly #recorder: ObjectEventRecorder;
  readonly #closing = new AbortController();
  readonly #laneContext: LaneContext;

  constructor(options: DispatcherOptions) {
    const { limits } = options;
    this.#store = options.store;
    this.#publishReply = options.publishReply;
    this.#logger = options.logger;
    this.#onFailure = options.onFailure;
    this.#onAttempt = options.onAttempt;
    this.#recorder = options.recorder ?? NO_OBJECT_EVENTS;
    this.#errorDataLimit = limits.errorDataLimit;
    this.#sender = new HttpSender({
      defaultTimeoutMs: limits.deliveryTimeout,
      replyLimitBytes: limits.replyLimit,
      keepAliveMs: limits.keepAlive,
      connections: limits.maxInFlightPerTrigger * 2,
      timed: options.onAttempt !== undefined,
    });
    this.#laneContext = {
      store: this.#store,
      logger: this.#logger,
      limits: { maxInFlight: limits.maxInFlightPerTrigger, maxQueued: limits.maxQueuedPerTrigger, readBatch: limits.pendingReadBatch, readRetryMs: limits.pendingReadRetry },
      closing: this.#closing.signal,
      run: (lane, delivery) => this.#deliver(lane, delivery),
    };
  }

  /** Sets the triggers to deliver for. Lanes of triggers not listed stop (their state stays in the store). */
  setLanes(configs: readonly LaneConfig[]): void {
    const keep = new Set<TriggerKey>();
    for (const config of configs) {
      keep.add(config.key);
      const lane = this.#lanes.get(config.key);
      if (lane === undefined) this.#lanes.set(config.key, new Lane(this.#laneContext, config));
      else lane.configure(config);
    }
    for (const [key, lane] of this.#lanes) {
      if (!keep.has(key)) {
        void lane.stop();
        this.#lanes.delete(key);
        this.#counters.delete(key);
        this.#failedBefore.delete(key);
      }
    }
  }

  /** Hands a just-stored delivery to its trigger's lane. */
  offer(trigger: TriggerKey, delivery: PendingDelivery): void {
    this.#lanes.get(trigger)?.offer(delivery);
  }

  /** What became of a trigger's deliveries since this dispatcher started. */
  counters(trigger: TriggerKey): DeliveryCounters {
    return { ...(this.#counters.get(trigger) ?? noCounts()) };
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
    await this.#sender.close();
    await stopped;
    this.#lanes.clear();
  }

  #count(trigger: TriggerKey, what: keyof DeliveryCounters): void {
    let counters = this.#counters.get(trigger);
    if (counters === undefined) {
      counters = noCounts();
      this.#counters.set(trigger, counters);
    }
    counters[what] += 1;
  }

  #reportFailure(failure: DeliveryFailure): void {
    this.#count(failure.trigger, failure.outcome);
    const reason = failure.outcome === 'deadLettered' ? 'DeadLettered' : 'Dropped';
    const summary = failureSummary(failure);
    const message = `${summary.charAt(0).toUpperCase()}${summary.slice(1)}${failure.outcome === 'dropped' ? '; it is lost (no dead-letter sink took it)' : ''}`;
    this.#recorder.record({ type: 'Warning', reason, message, source: 'broker', involvedObject: triggerObject(failure.trigger) });
    try {
      this.#onFailure?.(failure);
    } catch (err) {
      this.#logger?.error({ err }, 'reporting a failed delivery failed');
    }
  }

  /** Tells `onAttempt` of one attempt (nothing is built when no one listens). */
  #reportAttempt(
    config: LaneConfig, delivery: PendingDelivery, target: string, n: number,
    last: Attempt | undefined, outcome: AttemptOutcome, error?: string, toDeadLetterSink = false,
  ): void {
    const onAttempt = this.#onAttempt;
    if (onAttempt === undefined) return;
    const slash = config.key.indexOf('/');
    const { event } = delivery;
    const report: DeliveryAttempt = {
      time: last?.startedAt ?? Date.now(),
      namespace: config.key.slice(0, slash),
      broker: config.broker.slice(config.broker.indexOf('/') + 1),
      trigger: config.key.slice(slash + 1),
      seq: delivery.seq,
      eventId: event.id,
      eventType: event.type,
      eventSource: event.source,
      attempt: n,
      target,
      outcome,
      durationMs: last?.durationMs === undefined ? 0 : Math.round(last.durationMs * 10) / 10,
    };
    if (last?.status !== undefined) report.status = last.status;
    if (last?.body !== undefined && last.body.length > 0) report.answer = last.body.subarray(0, ATTEMPT_ANSWER_BYTES).toString('utf8');
    const why = error ?? last?.error;
    if (why !== undefined) report.error = why;
    if (toDeadLetterSink) report.deadLetterSink = true;
    try {
      onAttempt(report);
    } catch (err) {
      this.#logger?.error({ err }, 'reporting a delivery attempt failed');
    }
  }

  /** Waits out the backoff before retry number `retry`; false when the dispatcher closes meanwhile. */
  #backoff(config: LaneConfig, retry: number): Promise<boolean> {
    return sleep(backoffMs(config.delivery, retry), true, { signal: this.#closing.signal }).catch(() => false);
  }

  async #deliver(lane: Lane, delivery: PendingDelivery): Promise<void> {
    const config = lane.config;
    const uri = config.subscriberUri;
    if (uri === undefined || !laneReady(config)) return;
    const spec = config.delivery;
    const maxAttempts = attemptsAllowed(spec);
    const timeoutMs = this.#sender.timeoutFor(spec);
    const closing = this.#closing.signal;
    let attempts = delivery.attempts;
    const waited = this.#failedBefore.get(config.key);
    let last: Attempt | undefined = waited?.get(delivery.seq);
    waited?.delete(delivery.seq);
    while (attempts < maxAttempts) {
      if (attempts > 0 && !(await this.#backoff(config, attempts))) return; // closing: the delivery stays pending for the next start
      if (closing.aborted) return;
      last = await this.#sender.send(uri, delivery.event, spec.format, timeoutMs, true);
      attempts += 1;
      if (last.ok) {
        if (last.reply !== undefined) await this.#publishReplyOf(config, delivery, last.reply);
        await this.#store.markDelivered(config.key, delivery.seq);
        this.#count(config.key, 'delivered');
        this.#reportAttempt(config, delivery, uri, attempts, last, 'delivered');
        return;
      }
      if (closing.aborted) return;
      this.#logger?.debug(
        { trigger: config.key, seq: delivery.seq, attempt: attempts, status: last.status, error: last.error },
        'delivery attempt failed',
      );
      this.#recorder.record({
        type: 'Warning',
        reason: 'DeliveryFailed',
        message: `Delivery to ${uri} failed (${attemptCause(last.status, last.error)})`,
        source: 'broker',
        involvedObject: triggerObject(config.key),
      });
      if (!last.retryable) break;
      if (attempts < maxAttempts) {
        await this.#store.recordAttempts(config.key, delivery.seq, attempts);
        this.#count(config.key, 'retried');
        this.#reportAttempt(config, delivery, uri, attempts, last, 'retrying');
      }
    }
    await this.#deadLetter(lane, delivery, uri, last, attempts);
  }

  /** The reply carries the event's TTL (already one hop shorter); the ingress takes one more off it. */
  async #publishReplyOf(config: LaneConfig, delivery: PendingDelivery, reply: CloudEvent): Promise<void> {
    const ttl = replyTtl(delivery.event);
    if (ttl === undefined) {
      this.#logger?.warn(
        { trigger: config.key, seq: delivery.seq, id: reply.id, type: reply.type },
        'reply dropped: its knativebrokerttl is spent (an event loop?)',
      );
      this.#reportFailure({
        trigger: config.key, outcome: 'dropped', eventId: reply.id, eventType: reply.type,
        status: undefined, error: `the reply's ${TTL_EXTENSION} is spent (an event loop?)`, attempts: 0,
      });
      return;
    }
    const event: CloudEvent = { ...reply, extensions: { ...reply.extensions, [TTL_EXTENSION]: ttl } };
    await this.#publishReply(config.broker, event);
  }

  async #deadLetter(lane: Lane, delivery: PendingDelivery, subscriberUri: string, last: Attempt | undefined, attempts: number): Promise<void> {
    const config = lane.config;
    const logger = this.#logger;
    const failure = { trigger: config.key, seq: delivery.seq, id: delivery.event.id, status: last?.status, error: last?.error };
    const report = (outcome: DeliveryFailure['outcome'], deadLetterError?: string): void => {
      this.#reportFailure({
        trigger: config.key, outcome, eventId: delivery.event.id, eventType: delivery.event.type,
        status: last?.status, error: last?.error, attempts,
      });
      // The last attempt is reported now that its fate is known.
      const error = deadLetterError ?? (last === undefined && attempts > 0 ? 'its attempts were made before the broker restarted' : undefined);
      this.#reportAttempt(config, delivery, subscriberUri, attempts, last, outcome === 'deadLettered' ? 'dead-lettered' : 'dropped', error);
    };
    const decision = deadLetterDecision(config);
    if (decision === 'wait') {
      // The sink stopped resolving while this was in flight: the event waits for it, as new ones do.
      await this.#store.recordAttempts(config.key, delivery.seq, attempts);
      if (last !== undefined) {
        let waiting = this.#failedBefore.get(config.key);
        if (waiting === undefined) this.#failedBefore.set(config.key, (waiting = new Map<number, Attempt>()));
        waiting.set(delivery.seq, last);
      }
      lane.requeue({ ...delivery, attempts });
      return;
    }
    if (decision === 'drop') {
      logger?.warn(failure, 'delivery failed and the trigger has no dead-letter sink: event dropped');
      await this.#store.markDeadLettered(config.key, delivery.seq);
      report('dropped');
      return;
    }
    const dls = config.deadLetterUri!;
    const event: CloudEvent = { ...delivery.event, extensions: { ...delivery.event.extensions, ...errorExtensions(subscriberUri, last, this.#errorDataLimit) } };
    const spec = config.delivery;
    const maxAttempts = attemptsAllowed(spec);
    const closing = this.#closing.signal;
    let attempt: Attempt | undefined;
    for (let n = 0; n < maxAttempts; n++) {
      if (n > 0 && !(await this.#backoff(config, n))) return;
      attempt = await this.#sender.send(dls, event, spec.format, this.#sender.timeoutFor(spec), false);
      const final = attempt.ok || !attempt.retryable || closing.aborted || n + 1 === maxAttempts;
      // An attempt cut short by closing is made again after the restart: not reported as a fate.
      if (attempt.ok || !closing.aborted) this.#reportAttempt(config, delivery, dls, n + 1, attempt, attempt.ok ? 'delivered' : final ? 'dropped' : 'retrying', undefined, true);
      if (final) break;
    }
    if (closing.aborted && attempt?.ok !== true) return;
    if (attempt?.ok === true) logger?.info(failure, 'delivery failed: event sent to the dead-letter sink');
    else logger?.error({ ...failure, deadLetterStatus: attempt?.status, deadLetterError: attempt?.error }, 'delivery and dead-lettering failed: event dropped');
    await this.#store.markDeadLettered(config.key, delivery.seq);
    if (attempt?.ok === true) report('deadLettered');
    else {
      const own = last?.error ?? (last?.status === undefined ? undefined : `the subscriber answered ${last.status}`);
      report('dropped', `${own === undefined ? '' : `${own}; `}the dead-letter sink ${dls} failed too (${attemptCause(attempt?.status, attempt?.error)})`);
    }
  }
}
