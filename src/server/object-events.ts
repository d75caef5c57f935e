/**
 * The control plane's Kubernetes-style Events (`trantor get events`, `trantor describe`): every
 * part records into one log, built in `up` and handed to each part as an ObjectEventRecorder.
 *
 * As Kubernetes' event correlator does, a repeat of an event (same object, replica, type, reason
 * and message) is folded into the first: its count grows, its lastTimestamp moves, and it becomes
 * the newest. Memory is bounded twice: at most `maxEvents` are kept (the least recently seen go
 * first), and one not seen again within `maxAge` is dropped (Kubernetes keeps events an hour).
 */
import type { ObjectEvent, ObjectEventFilter, ObjectEventRecord, ObjectEventRecorder } from '../manifest/index.ts';

export interface ObjectEventLogOptions {
  /** The most events kept (`api.eventsKept`). */
  maxEvents: number;
  /** How long an event not seen again is kept, in milliseconds (`api.eventsMaxAge`). */
  maxAgeMs: number;
  /** The clock, for tests. */
  now?: () => number;
}

interface Entry {
  event: ObjectEvent;
  last: number;
}

function foldKey(e: ObjectEventRecord): string {
  const o = e.involvedObject;
  return JSON.stringify([o.kind, o.namespace, o.name, o.replica ?? '', e.type, e.reason, e.message, e.source]);
}

export class ObjectEventLog implements ObjectEventRecorder {
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  /** In the order last seen, oldest first: a Map keeps insertion order, and a repeat is re-inserted. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: ObjectEventLogOptions) {
    this.#maxEvents = Math.max(1, options.maxEvents);
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? Date.now;
  }

  record(record: ObjectEventRecord): void {
    const now = this.#now();
    const stamp = new Date(now).toISOString();
    const key = foldKey(record);
    const seen = this.#entries.get(key);
    this.#entries.delete(key);
    const event: ObjectEvent =
      seen === undefined
        ? { ...record, involvedObject: { ...record.involvedObject }, count: 1, firstTimestamp: stamp, lastTimestamp: stamp }
        : { ...seen.event, count: seen.event.count + 1, lastTimestamp: stamp };
    this.#entries.set(key, { event, last: now });
    this.#prune(now);
  }

  /** The events that pass `filter`, newest last (as `kubectl get events` sorts them). */
  list(filter: ObjectEventFilter = {}): ObjectEvent[] {
    this.#prune(this.#now());
    const out: ObjectEvent[] = [];
    for (const { event } of this.#entries.values()) {
      const o = event.involvedObject;
      if (filter.namespace !== undefined && o.namespace !== filter.namespace) continue;
      if (filter.kind !== undefined && o.kind.toLowerCase() !== filter.kind.toLowerCase()) continue;
      if (filter.name !== undefined && o.name !== filter.name) continue;
      out.push({ ...event, involvedObject: { ...o } });
    }
    return out;
  }

  get size(): number {
    return this.#entries.size;
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      // Oldest first: stop at the first one that is young enough and within the count.
      if (this.#entries.size <= this.#maxEvents && now - entry.last <= this.#maxAgeMs) break;
      this.#entries.delete(key);
    }
  }
}
