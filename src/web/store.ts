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

/**
 * Items of the many-per-second kinds (`request`, `delivery`) wait here and reach their stores at
 * most four times a second: under load the feed sends up to 50 requests a second, and redrawing
 * for each would cost the browser (and so the machine's gateway) more than the view is worth.
 */
const pending: { request: RequestRecord[]; delivery: DeliveryRecord[] } = { request: [], delivery: [] };
let flushTimer: ReturnType<typeof setTimeout> | undefined;
const FLUSH_MS = 250;

function appendedAll<T>(list: readonly T[], items: readonly T[], keep: number): readonly T[] {
  const next = [...list, ...items];
  return next.length > keep ? next.slice(next.length - keep) : next;
}

function flush(): void {
  flushTimer = undefined;
  if (pending.request.length > 0) requests.set(appendedAll(requests.value, pending.request.splice(0), RECORDS_KEPT));
  if (pending.delivery.length > 0) deliveries.set(appendedAll(deliveries.value, pending.delivery.splice(0), RECORDS_KEPT));
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
    case 'delivery':
      if (event === 'request') pending.request.push(data as RequestRecord);
      else pending.delivery.push(data as DeliveryRecord);
      flushTimer ??= setTimeout(flush, FLUSH_MS);
      break;
    default:
      break;
  }
}

/** The graph node the user picked on a deployment's diagram (`<ns>/<name>/<predictor>/<node>`), if any. */
export const selectedNode = new Store<{ namespace: string; deployment: string; predictor: string; node: string } | undefined>(undefined);
/** The path the last request tried from the page took (its answer's `meta.requestPath`), drawn on the diagram. */
export const highlightedPath = new Store<{ namespace: string; deployment: string; predictor?: string; nodes: readonly string[] } | undefined>(undefined);
