/**
 * A broken store for the contract suite's own test: it acknowledges appends or marks before they
 * are stored (it stores them a moment later), so a kill -9 loses acknowledged work. The kill -9
 * harness must catch it; a harness that passed this store could not fail.
 */
import { openSqliteStore } from './sqlite.ts';
import { forwardingStore } from './forwarding.ts';
import type { EventStore } from './store.ts';

const LATE_MS = 300;

export function openAckEarly(folder: string, early: 'append' | 'mark'): EventStore {
  const inner = openSqliteStore(folder);
  let seq = 0;
  const later = (write: () => Promise<unknown>): void => {
    setTimeout(() => void write().catch(() => undefined), LATE_MS);
  };
  return forwardingStore(inner, {
    append: (broker, records) => {
      if (early === 'mark') return inner.append(broker, records);
      const seqs = records.map(() => ++seq);
      later(() => inner.append(broker, records));
      return Promise.resolve(seqs);
    },
    markDelivered: (trigger, s) => {
      if (early === 'append') return inner.markDelivered(trigger, s);
      later(() => inner.markDelivered(trigger, s));
      return Promise.resolve();
    },
  });
}
