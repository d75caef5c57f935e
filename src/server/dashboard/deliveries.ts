/**
 * The delivery journal: the last delivery attempts the broker made (`Eventing`'s `onAttempt`),
 * kept in a ring for `GET /dashboard/api/deliveries` and told to the dashboard's feed as they come
 * (`event: delivery`). Memory stays bounded: the oldest attempt goes when a new one comes past
 * `capacity`; each holds at most the first 2 KiB of its answer (the broker cuts it).
 */
import type { DeliveryRecord } from '../../web/index.ts';
import type { DeliveryQuery } from './api.ts';

/** How many attempts a journal keeps unless told otherwise. */
export const DELIVERIES_KEPT = 500;

export class DeliveryJournal {
  readonly #capacity: number;
  /** A ring: `#next` is where the next record goes; once full, it is also the oldest. */
  readonly #ring: DeliveryRecord[] = [];
  #next = 0;
  readonly #listeners = new Set<(record: DeliveryRecord) => void>();

  constructor(capacity: number = DELIVERIES_KEPT) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a delivery journal keeps at least 1 attempt, got ${capacity}`);
    this.#capacity = capacity;
  }

  /** Takes one attempt (hand this to `Eventing`'s `onAttempt`) and tells the listeners. */
  readonly record = (record: DeliveryRecord): void => {
    if (this.#ring.length < this.#capacity) this.#ring.push(record);
    else this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.#capacity;
    for (const listener of [...this.#listeners]) listener(record);
  };

  /** Calls `listener` with each attempt from now on; returns how to stop. */
  subscribe(listener: (record: DeliveryRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The attempts kept that match every field the query gives, oldest first. */
  list(query: DeliveryQuery = {}): DeliveryRecord[] {
    const { namespace, broker, eventId, limit } = query;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError(`limit must be a whole number of attempts, got ${limit}`);
    const ordered = this.#ring.length < this.#capacity ? this.#ring : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    const out = ordered.filter(
      (r) => (namespace === undefined || r.namespace === namespace) && (broker === undefined || r.broker === broker) && (eventId === undefined || r.eventId === eventId),
    );
    return limit === undefined || out.length <= limit ? out : out.slice(out.length - limit);
  }

  get size(): number {
    return this.#ring.length;
  }
}
