/**
 * Knative's delivery contract, as decisions: which answers are retried, how long to wait before
 * each retry, when a trigger may deliver at all, what a failed event carries to the dead-letter
 * sink, and the `knativebrokerttl` loop guard. No I/O here; the dispatcher acts on these.
 */
import type { CloudEvent } from '../protocol/index.ts';
import type { DeliverySpec } from '../manifest/index.ts';
import type { BrokerKey, TriggerKey } from './store/store.ts';

/** Knative's loop guard: how many more times an event may be re-published as a reply. */
export const TTL_EXTENSION = 'knativebrokerttl';
export const DEFAULT_TTL = 255;
/** The status Knative puts in `knativeerrorcode` when no response came (refused, timed out, cut). */
const NO_RESPONSE_CODE = 500;

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

/** Attempts a delivery spec allows: the first and its retries (to the subscriber, and again to the dead-letter sink). */
export function attemptsAllowed(delivery: Pick<DeliverySpec, 'retry'>): number {
  return 1 + delivery.retry;
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
 * What becomes of an event whose attempts failed: `wait` while the dead-letter sink named does not
 * resolve (it stays pending, as new events do), `drop` with no sink, else `send` it to the sink.
 */
export function deadLetterDecision(config: LaneConfig): 'wait' | 'drop' | 'send' {
  if (config.deadLetterUri !== undefined) return 'send';
  return config.delivery.deadLetterSink === undefined ? 'drop' : 'wait';
}

/**
 * Knative's dead-letter extensions: where it failed, the status (500 when no response came), and
 * the response body (or what went wrong) in base64, cut to `dataLimit` characters (Knative: 1024).
 */
export function errorExtensions(
  destination: string,
  attempt: { status?: number | undefined; body?: Buffer | undefined; error?: string | undefined } | undefined,
  dataLimit: number,
): Record<string, string | number> {
  const responded = attempt?.status !== undefined && attempt.error === undefined;
  const data = responded ? (attempt.body ?? Buffer.alloc(0)) : Buffer.from(`dispatch error: ${attempt?.error ?? 'no attempt was made'}`);
  return {
    knativeerrordest: destination,
    // An integer, as Knative sets it (binary mode sends it as text either way).
    knativeerrorcode: responded ? attempt.status! : NO_RESPONSE_CODE,
    knativeerrordata: data.toString('base64').slice(0, dataLimit),
  };
}

/** An event's TTL (`knativebrokerttl`), or undefined when it has none (or not a number). */
export function ttlOf(event: CloudEvent): number | undefined {
  const raw = event.extensions[TTL_EXTENSION];
  if (raw === undefined) return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The TTL a subscriber's reply to `event` carries into the broker: the event's (already one hop
 * shorter), or undefined when it is spent and the reply must be refused (an event loop).
 */
export function replyTtl(event: CloudEvent): number | undefined {
  const ttl = ttlOf(event) ?? DEFAULT_TTL;
  return ttl <= 0 ? undefined : ttl;
}
