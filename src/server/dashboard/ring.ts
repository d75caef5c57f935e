/**
 * What the dashboard's journals (requests, deliveries) share: the last N records in a ring, and
 * the listeners told of each new one. Memory stays bounded: past `capacity` the oldest record goes
 * as a new one comes, and no record is copied.
 */

export class Ring<T> {
  readonly capacity: number;
  readonly #items: (T | undefined)[];
  /** How many were ever added; the next goes at `#added % capacity`. */
  #added = 0;

  /** `what` names the records in the error for a capacity below 1 ("attempt", "request"). */
  constructor(capacity: number, what: string) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a journal keeps at least 1 ${what}, got ${String(capacity)}`);
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.#items[this.#added % this.capacity] = item;
    this.#added += 1;
  }

  get size(): number {
    return Math.min(this.#added, this.capacity);
  }

  /** The records kept, newest first. */
  *newestFirst(): IterableIterator<T> {
    const oldest = this.#added - this.size;
    for (let i = this.#added - 1; i >= oldest; i--) yield this.#items[i % this.capacity]!;
  }

  /** The records kept, oldest first. */
  *oldestFirst(): IterableIterator<T> {
    for (let i = this.#added - this.size; i < this.#added; i++) yield this.#items[i % this.capacity]!;
  }
}

/** The listeners of a journal: each is told of every record it is given, and one that throws does not stop the others. */
export class Listeners<T> {
  readonly #listeners = new Set<(item: T) => void>();

  get size(): number {
    return this.#listeners.size;
  }

  /** Adds `listener`; returns how to remove it. */
  add(listener: (item: T) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  tell(item: T): void {
    // A copy: a listener may remove itself (or another) while being told.
    for (const listener of [...this.#listeners]) {
      try {
        listener(item);
      } catch {
        // One listener's failure is its own.
      }
    }
  }
}
