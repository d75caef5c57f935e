/**
 * The delivery journal: the last delivery attempts the broker made (`Eventing`'s `onAttempt`),
 * kept in a ring for `GET /dashboard/api/deliveries` and told to the dashboard's feed as they come
 * (`event: delivery`). Memory stays bounded: the oldest attempt goes when a new one comes past
 * `capacity`; each holds at most the first 2 KiB of its answer (the broker cuts it).
 */
import type { DeliveryRecord } from '../../web/index.ts';
import type { DeliveryQuery } from './api.ts';
import { Listeners, Ring } from './ring.ts';

/** How many attempts a journal keeps unless told otherwise. */
export const DELIVERIES_KEPT = 500;

export class DeliveryJournal {
  readonly #ring: Ring<DeliveryRecord>;
  readonly #listeners = new Listeners<DeliveryRecord>();

  constructor(capacity: number = DELIVERIES_KEPT) {
    this.#ring = new Ring(capacity, 'attempt');
  }

  /** Takes one attempt (hand this to `Eventing`'s `onAttempt`) and tells the listeners. */
  readonly record = (record: DeliveryRecord): void => {
    this.#ring.push(record);
    this.#listeners.tell(record);
  };

  /** Calls `listener` with each attempt from now on; returns how to stop. */
  subscribe(listener: (record: DeliveryRecord) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** The attempts kept that match every field the query gives, oldest first. */
  list(query: DeliveryQuery = {}): DeliveryRecord[] {
    const { namespace, broker, eventId, limit } = query;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new RangeError(`limit must be a whole number of attempts, got ${limit}`);
    const out: DeliveryRecord[] = [];
    for (const r of this.#ring.oldestFirst()) {
      if ((namespace === undefined || r.namespace === namespace) && (broker === undefined || r.broker === broker) && (eventId === undefined || r.eventId === eventId)) out.push(r);
    }
    return limit === undefined || out.length <= limit ? out : out.slice(out.length - limit);
  }

  get size(): number {
    return this.#ring.size;
  }
}
