/**
 * The dashboard's request journal: the last N predictions and feedback the gateway answered
 * (`RequestRecord`s), for the request inspector (`GET /dashboard/api/requests`) and the live
 * feed (`event: request`). It is the gateway's `RequestTap`.
 *
 * It records only while someone listens (a dashboard has the feed open): `active` is true then
 * and only then, so with no dashboard open the gateway keeps nothing of any request and the tap
 * costs one property read per request. What was recorded stays (the last N) after the
 * dashboard closes, for the next one to list.
 *
 * Under load the request path pays little for an open dashboard: a request is kept as the
 * gateway handed it (its body buffers by reference, a large one cut to 16 KiB) and made into a
 * `RequestRecord` only when it is listed or sent; and the feed gets at most `maxEventsPerSecond`
 * request events a second (the first ones to arrive in each second) — no one reads 20,000 rows a second,
 * and serialising them all would halve a fast model's throughput. Every request is still listed.
 */
import type { RequestTap, TappedRequest } from '../../gateway/index.ts';
import type { RequestRecord } from '../../web/index.ts';
import type { RequestQuery } from './api.ts';

/** How much of each body a record keeps: 16 KiB (bytes of a body read as bytes, characters of one read as text). */
export const BODY_LIMIT = 16 * 1024;
export const DEFAULT_CAPACITY = 500;
export const DEFAULT_MAX_EVENTS_PER_SECOND = 50;

export interface RequestJournalOptions {
  /** How many records it keeps, newest last; 500 when absent. */
  capacity?: number;
  /** The most `request` events it sends listeners in one second; 50 when absent. */
  maxEventsPerSecond?: number;
}

export type RequestListener = (record: RequestRecord) => void;

const decoder = new TextDecoder('utf-8');

/** `body` as text, cut at BODY_LIMIT; `cut` says whether it was. */
function cutBody(body: string | Uint8Array): { text: string; cut: boolean } {
  if (typeof body === 'string') {
    if (body.length <= BODY_LIMIT) return { text: body, cut: false };
    // Not between the halves of a surrogate pair.
    const end = /[\uD800-\uDBFF]/.test(body.charAt(BODY_LIMIT - 1)) ? BODY_LIMIT - 1 : BODY_LIMIT;
    return { text: body.slice(0, end), cut: true };
  }
  if (body.length <= BODY_LIMIT) return { text: decoder.decode(body), cut: false };
  // A character cut at the end decodes as U+FFFD; the record says it was cut.
  return { text: decoder.decode(body.subarray(0, BODY_LIMIT)), cut: true };
}

/** A large body's first BODY_LIMIT + 1 bytes, copied, so the journal does not hold megabytes alive. */
function kept(body: string | Uint8Array): string | Uint8Array {
  if (body.length <= BODY_LIMIT) return body;
  // `new Uint8Array(view)` copies; a Buffer's `slice` would not.
  return typeof body === 'string' ? body.slice(0, BODY_LIMIT + 1) : new Uint8Array(body.subarray(0, BODY_LIMIT + 1));
}

function recordOf(request: TappedRequest): RequestRecord {
  const sent = cutBody(request.request);
  const answered = cutBody(request.response);
  return {
    puid: request.puid,
    time: request.time,
    namespace: request.namespace,
    deployment: request.deployment,
    ...(request.predictor === undefined ? {} : { predictor: request.predictor }),
    method: request.method,
    path: request.path,
    status: request.status,
    latencyMs: Math.round(request.latencyMs * 1000) / 1000,
    request: sent.text,
    response: answered.text,
    ...(sent.cut || answered.cut ? { truncated: true } : {}),
    ...(request.requestPath === undefined ? {} : { requestPath: { ...request.requestPath } }),
  };
}

export class RequestJournal implements RequestTap {
  readonly capacity: number;
  private readonly maxEventsPerSecond: number;
  /** What the gateway handed over, by slot; `records` holds each one's record once made. */
  private readonly tapped: (TappedRequest | undefined)[];
  private readonly records: (RequestRecord | undefined)[];
  /** How many were ever recorded; the next goes at `written % capacity`. */
  private written = 0;
  private readonly listeners = new Set<RequestListener>();
  private second = 0;
  private sentThisSecond = 0;

  constructor(options: RequestJournalOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`RequestJournal capacity: expected a whole number of records, 1 or more, got ${capacity}`);
    const maxEvents = options.maxEventsPerSecond ?? DEFAULT_MAX_EVENTS_PER_SECOND;
    if (!Number.isInteger(maxEvents) || maxEvents < 0) throw new RangeError(`RequestJournal maxEventsPerSecond: expected a whole number, 0 or more, got ${maxEvents}`);
    this.capacity = capacity;
    this.maxEventsPerSecond = maxEvents;
    this.tapped = new Array<TappedRequest | undefined>(capacity);
    this.records = new Array<RequestRecord | undefined>(capacity);
  }

  /** True while someone listens: only then does the gateway hand requests over. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls `listener` with records as they are made (at most `maxEventsPerSecond` a second), until the returned function is called. */
  subscribe(listener: RequestListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  record(request: TappedRequest): void {
    const large = request.request.length > BODY_LIMIT || request.response.length > BODY_LIMIT;
    const entry: TappedRequest = large ? { ...request, request: kept(request.request), response: kept(request.response) } : request;
    const slot = this.written % this.capacity;
    this.tapped[slot] = entry;
    this.records[slot] = undefined;
    this.written += 1;
    if (this.listeners.size === 0 || !this.mayEmit(request.time)) return;
    const record = recordOf(entry);
    this.records[slot] = record;
    for (const listener of [...this.listeners]) {
      try {
        listener(record);
      } catch {
        // One listener's failure is its own.
      }
    }
  }

  /** The records that match every given field, newest first, at most `limit` (all it keeps when absent). */
  list(query: RequestQuery = {}): RequestRecord[] {
    const { puid, namespace, deployment } = query;
    const limit = query.limit ?? this.capacity;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit: expected a whole number, 1 or more, got ${String(limit)}`);
    const found: RequestRecord[] = [];
    const oldest = Math.max(0, this.written - this.capacity);
    for (let i = this.written - 1; i >= oldest && found.length < limit; i--) {
      const slot = i % this.capacity;
      const entry = this.tapped[slot]!;
      if (puid !== undefined && entry.puid !== puid) continue;
      if (namespace !== undefined && entry.namespace !== namespace) continue;
      if (deployment !== undefined && entry.deployment !== deployment) continue;
      found.push((this.records[slot] ??= recordOf(entry)));
    }
    return found;
  }

  /** Whether the share of events of the second `time` (a request's arrival; no clock read per request) is not spent yet, and counts one if so. */
  private mayEmit(time: number): boolean {
    const second = Math.floor(time / 1000);
    if (second !== this.second) {
      this.second = second;
      this.sentThisSecond = 0;
    }
    if (this.sentThisSecond >= this.maxEventsPerSecond) return false;
    this.sentThisSecond += 1;
    return true;
  }
}
