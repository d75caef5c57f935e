/**
 * What the broker needs from its storage, as an interface so that a distributed backend (NATS
 * JetStream, Postgres, …) can follow the SQLite one and pass the same contract suite (testing.ts).
 *
 * The model: an append-only log of events per broker, each with a sequence number that only grows
 * (unique across the store), and per trigger a set of pending deliveries. The broker evaluates
 * trigger filters once, at ingress, and appends each event with the triggers it matched; each of
 * those gets a pending delivery that stays until it is marked delivered or dead-lettered, across
 * restarts. Events that no trigger still waits for are removed by compaction, oldest first, past a
 * retention window kept for tailing.
 */
import type { CloudEvent } from '../../protocol/index.ts';

/** `<namespace>/<broker name>` */
export type BrokerKey = string;
/** The trigger's identity as the control plane names it, e.g. `<namespace>/<trigger name>`. */
export type TriggerKey = string;

export interface AppendRecord {
  event: CloudEvent;
  /** The triggers whose filter the event matched: each gets a pending delivery. */
  triggers: readonly TriggerKey[];
}

export interface StoredEvent {
  seq: number;
  broker: BrokerKey;
  event: CloudEvent;
}

export interface PendingDelivery {
  seq: number;
  trigger: TriggerKey;
  event: CloudEvent;
  /** Attempts already made (and failed) before now; 0 for a fresh delivery. */
  attempts: number;
}

export interface TriggerCounts {
  pending: number;
  delivered: number;
  deadLettered: number;
}

export interface EventStore {
  /**
   * Stores events and their pending deliveries; resolves with their sequence numbers (in order)
   * once they are durable. Concurrent calls are committed together (group commit).
   */
  append(broker: BrokerKey, records: readonly AppendRecord[]): Promise<number[]>;
  /** A trigger's pending deliveries with `seq > afterSeq` (default 0), oldest first, at most `limit`. */
  pending(trigger: TriggerKey, options?: { afterSeq?: number; limit?: number }): Promise<PendingDelivery[]>;
  /** Records how many attempts a pending delivery has had, so a restart resumes the retry budget. */
  recordAttempts(trigger: TriggerKey, seq: number, attempts: number): Promise<void>;
  /** The delivery succeeded: it is no longer pending. */
  markDelivered(trigger: TriggerKey, seq: number): Promise<void>;
  /** The delivery failed for good and went to the dead-letter sink (or was dropped): no longer pending. */
  markDeadLettered(trigger: TriggerKey, seq: number): Promise<void>;
  /** Triggers that have pending deliveries or counts. */
  triggers(): Promise<TriggerKey[]>;
  counts(trigger: TriggerKey): Promise<TriggerCounts>;
  /** Forgets a trigger: its pending deliveries and counts. */
  dropTrigger(trigger: TriggerKey): Promise<void>;
  /** A broker's events with `seq >= fromSeq`, oldest first, at most `limit` (default 1000). */
  read(broker: BrokerKey, fromSeq: number, limit?: number): Promise<StoredEvent[]>;
  /** The highest sequence number given so far (0 for an empty store). */
  lastSeq(): Promise<number>;
  /**
   * Removes events no trigger waits for, keeping the newest `retain` events (default 10,000) for
   * tailing. Resolves with how many were removed.
   */
  compact(options?: { retain?: number }): Promise<number>;
  /** Commits what is queued and releases the storage. */
  close(): Promise<void>;
}

export function brokerKey(namespace: string, name: string): BrokerKey {
  return `${namespace}/${name}`;
}

/**
 * Whether a store's failure is for want of space: the system's codes, and the ones SQLite's driver
 * passes through as they are. A store should itself refuse such an append with INSUFFICIENT_STORAGE;
 * the broker also checks a raw failure against this, so that a full disk is never answered 500.
 */
export function isOutOfSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR') || code === 'ENOSPC' || code === 'EDQUOT');
}
