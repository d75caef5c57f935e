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
 * Under load the request path pays little for an open dashboard: a request becomes a record of
 * short strings (no buffer is kept), and the feed gets at most `maxEventsPerSecond` request
 * events a second (the first to arrive in each second) — no one reads 20,000 rows a second, and
 * serialising them all halved a fast model's throughput. Every request is still listed.
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

/**
 * The record of a request, made at once: its bodies become text here, so the journal holds
 * strings, not the gateway's buffers (a kept buffer outlives the young generation and doubled
 * the garbage collector's share of a fast model's time). Built field by field: an object
 * spread costs more than the rest of the record.
 */
function recordOf(request: TappedRequest): RequestRecord {
  const sent = cutBody(request.request);
  const answered = cutBody(request.response);
  const record: RequestRecord = {
    puid: request.puid,
    time: request.time,
    namespace: request.namespace,
    deployment: request.deployment,
    method: request.method,
    path: request.path,
    status: request.status,
    latencyMs: Math.round(request.latencyMs * 1000) / 1000,
    request: sent.text,
    response: answered.text,
  };
  if (request.predictor !== undefined) record.predictor = request.predictor;
  if (sent.cut || answered.cut) record.truncated = true;
  // The answer's own object, which no one changes once it is sent.
  if (request.requestPath !== undefined) record.requestPath = request.requestPath;
  return record;
}

export class RequestJournal implements RequestTap {
  readonly capacity: number;
  private readonly maxEventsPerSecond: number;
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
    const record = recordOf(request);
    this.records[this.written % this.capacity] = record;
    this.written += 1;
    if (this.listeners.size === 0 || !this.mayEmit(request.time)) return;
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
      const record = this.records[i % this.capacity]!;
      if (puid !== undefined && record.puid !== puid) continue;
      if (namespace !== undefined && record.namespace !== namespace) continue;
      if (deployment !== undefined && record.deployment !== deployment) continue;
      found.push(record);
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
