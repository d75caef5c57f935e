/**
 * The broker's named options (section `eventing`): its queues, timeouts, windows and limits, with
 * their defaults here and nowhere else. `trantor up` compiles them once and hands the frozen
 * values to `Eventing`, which passes each part the ones it uses.
 */
import { defineOptions, type OptionValues } from '../options/index.ts';

export const eventingOptions = defineOptions('eventing', {
  ingressLimit: { kind: 'size', default: 2 ** 20, min: 1, doc: 'largest event the broker ingress takes (larger: 413)' },
  maxInFlightPerTrigger: { kind: 'count', default: 64, doc: 'deliveries of one trigger in flight at once' },
  maxQueuedPerTrigger: { kind: 'count', default: 10_000, doc: 'deliveries of one trigger held in memory; beyond that they wait in the store' },
  pendingReadBatch: { kind: 'count', default: 1000, doc: 'pending deliveries read back from the store at a time (at most maxQueuedPerTrigger)' },
  pendingReadRetry: { kind: 'duration', default: 1000, doc: 'wait before reading pending deliveries again after a failed read' },
  deliveryTimeout: { kind: 'duration', default: 30_000, doc: 'per-attempt delivery timeout when the delivery spec sets none' },
  replyLimit: { kind: 'size', default: 10 * 2 ** 20, min: 1, doc: "largest subscriber reply (or dead-letter sink answer) read" },
  keepAlive: { kind: 'duration', default: 30_000, doc: 'how long an idle connection to a subscriber is kept open' },
  errorDataLimit: { kind: 'count', default: 1024, min: 0, doc: 'characters of knativeerrordata (the failed answer in base64) on a dead-lettered event' },
  replyStoreRetry: { kind: 'duration', default: 1000, doc: 'wait before storing a reply again when the disk is full' },
  storeRetry: { kind: 'duration', default: 1000, doc: 'wait before committing delivery marks again when the disk is full' },
  storeBusyTimeout: { kind: 'duration', default: 5000, doc: "how long a store write waits for SQLite's lock held by another connection" },
  retainEvents: { kind: 'count', default: 10_000, min: 0, doc: 'delivered events kept for tailing' },
  compactEvery: { kind: 'duration', default: 30_000, min: 0, doc: 'how often delivered events past retainEvents are removed (0: never)' },
  compactSlice: { kind: 'count', default: 2000, doc: 'events a compaction removes between yields to the event loop' },
  tailBatch: { kind: 'count', default: 500, doc: 'stored events read at a time by a tail' },
  failureNoticeBurst: { kind: 'count', default: 5, min: 0, doc: 'failed-delivery lines trantor up prints per window' },
  failureNoticeWindow: { kind: 'duration', default: 10_000, doc: 'the window failureNoticeBurst counts in' },
});

/** The broker's compiled options. */
export type EventingLimits = OptionValues<typeof eventingOptions.table>;
