/**
 * The dashboard's live feed, `GET /dashboard/api/stream`: server-sent events on one connection (a
 * browser opens at most six to a host; logs and a broker's tail need theirs too).
 *
 * - `overview`: everything the overview shows, whole, when anything may have changed (debounced,
 *   and only when it differs from what was sent last);
 * - `traffic`, `request`, `delivery`: each item as its source gives it.
 *
 * A reader that falls behind (more than `maxBufferBytes` unsent) misses `traffic`, `request` and
 * `delivery` items until it catches up; the overview is never lost, only sent later, whole.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Overview } from '../../web/index.ts';
import type { Subscribe } from '../watch.ts';

/** Something that tells listeners of new items; returns how to stop listening. */
export interface FeedSource<T> {
  subscribe(listener: (item: T) => void): () => void;
}

export interface FeedParts {
  overview(): Overview;
  /** "Something may have changed" notices, from the control plane and from eventing. */
  changes: readonly Subscribe[];
  /** Named sources of items sent as they come: `traffic`, `request`, `delivery`. */
  sources: Readonly<Record<string, FeedSource<unknown> | undefined>>;
}

export interface FeedOptions {
  /** How long after a change notice the overview is sent (notices within it are one). */
  readonly debounceMs: number;
  /** A comment line this often keeps proxies and the page's reconnect logic from seeing a dead stream. */
  readonly heartbeatMs: number;
  readonly maxBufferBytes: number;
}

export const FEED_DEFAULTS: FeedOptions = Object.freeze({ debounceMs: 50, heartbeatMs: 15_000, maxBufferBytes: 1 << 20 });

export function streamFeed(req: IncomingMessage, res: ServerResponse, parts: FeedParts, options: FeedOptions = FEED_DEFAULTS): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
  res.write(': open\n\n');
  let lastOverview = '';
  let overviewDue = false;
  let timer: NodeJS.Timeout | undefined;
  const behind = (): boolean => res.writableLength > options.maxBufferBytes;

  const sendOverview = (): void => {
    timer = undefined;
    if (behind()) {
      overviewDue = true;
      return;
    }
    overviewDue = false;
    const text = JSON.stringify(parts.overview());
    if (text === lastOverview) return;
    lastOverview = text;
    res.write(`event: overview\ndata: ${text}\n\n`);
  };
  const changed = (): void => {
    timer ??= setTimeout(sendOverview, options.debounceMs);
  };
  const onDrain = (): void => {
    if (overviewDue) sendOverview();
  };
  res.on('drain', onDrain);

  const stops: (() => void)[] = parts.changes.map((subscribe) => subscribe(changed));
  for (const [event, source] of Object.entries(parts.sources)) {
    if (source === undefined) continue;
    stops.push(
      source.subscribe((item) => {
        if (!behind()) res.write(`event: ${event}\ndata: ${JSON.stringify(item)}\n\n`);
      }),
    );
  }
  const heartbeat = setInterval(() => res.write(': ping\n\n'), options.heartbeatMs);
  heartbeat.unref();
  sendOverview();

  const stop = (): void => {
    clearInterval(heartbeat);
    if (timer !== undefined) clearTimeout(timer);
    res.off('drain', onDrain);
    for (const s of stops) s();
    stops.length = 0;
  };
  req.socket.once('close', stop);
  res.once('close', stop);
}
