/**
 * A store that passes every call to `inner` except the ones `changes` replaces: the way tests put
 * a gate, a full disk or a broken acknowledgement in front of a real store.
 */
import type { EventStore } from './store.ts';

export function forwardingStore(inner: EventStore, changes: Partial<EventStore>): EventStore {
  return {
    append: (broker, records) => inner.append(broker, records),
    pending: (trigger, options) => inner.pending(trigger, options),
    recordAttempts: (trigger, seq, attempts) => inner.recordAttempts(trigger, seq, attempts),
    markDelivered: (trigger, seq) => inner.markDelivered(trigger, seq),
    markDeadLettered: (trigger, seq) => inner.markDeadLettered(trigger, seq),
    triggers: () => inner.triggers(),
    counts: (trigger) => inner.counts(trigger),
    dropTrigger: (trigger) => inner.dropTrigger(trigger),
    read: (broker, fromSeq, limit) => inner.read(broker, fromSeq, limit),
    lastSeq: () => inner.lastSeq(),
    compact: (options) => inner.compact(options),
    close: () => inner.close(),
    ...changes,
  };
}
