/**
 * The dashboard's live state, filled from the feed: the overview (sent whole on every change),
 * the last minutes of traffic samples, the last requests and delivery attempts. Views read it
 * with `useStore` and redraw when it changes.
 */
import { useEffect, useState } from 'preact/hooks';
import type { DeliveryRecord, Overview, RequestRecord, TrafficSample } from './types.ts';

export class Store<T> {
  #value: T;
  readonly #listeners = new Set<(value: T) => void>();

  constructor(value: T) {
    this.#value = value;
  }

  get value(): T {
    return this.#value;
  }

  set(value: T): void {
    this.#value = value;
    for (const listener of [...this.#listeners]) listener(value);
  }

  subscribe(listener: (value: T) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The store's value, redrawing the calling component when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.value);
  useEffect(() => {
    setValue(store.value);
    return store.subscribe(setValue);
  }, [store]);
  return value;
}

/** How many seconds of traffic are kept for the charts. */
export const TRAFFIC_SECONDS = 300;
/** How many requests and delivery attempts are kept in the page. */
export const RECORDS_KEPT = 500;

export const overview = new Store<Overview | undefined>(undefined);
export const traffic = new Store<readonly TrafficSample[]>([]);
export const requests = new Store<readonly RequestRecord[]>([]);
export const deliveries = new Store<readonly DeliveryRecord[]>([]);
export const connected = new Store<boolean>(false);

function appended<T>(list: readonly T[], item: T, keep: number): readonly T[] {
  const next = list.length >= keep ? list.slice(list.length - keep + 1) : list.slice();
  next.push(item);
  return next;
}

/** Takes one feed event into the stores. */
export function receive(event: string, data: unknown): void {
  switch (event) {
    case 'overview':
      overview.set(data as Overview);
      break;
    case 'traffic':
      traffic.set(appended(traffic.value, data as TrafficSample, TRAFFIC_SECONDS));
      break;
    case 'request':
      requests.set(appended(requests.value, data as RequestRecord, RECORDS_KEPT));
      break;
    case 'delivery':
      deliveries.set(appended(deliveries.value, data as DeliveryRecord, RECORDS_KEPT));
      break;
    default:
      break;
  }
}

/** The graph node the user picked on a deployment's diagram (`<ns>/<name>/<predictor>/<node>`), if any. */
export const selectedNode = new Store<{ namespace: string; deployment: string; predictor: string; node: string } | undefined>(undefined);
/** The path the last request tried from the page took (its answer's `meta.requestPath`), drawn on the diagram. */
export const highlightedPath = new Store<{ namespace: string; deployment: string; predictor?: string; nodes: readonly string[] } | undefined>(undefined);
