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
 * Under load an open dashboard costs the request path little: a request becomes a record of
 * short strings (no buffer is kept); at most `maxRecordsPerSecond` requests are recorded each
 * second (past that, `active` is false until the next second: recording every one of 40,000 a
 * second kept each record alive long enough to reach the old generation, and the collector's
 * threads spent 3 µs a request on them); and the feed gets at most `maxEventsPerSecond` of them
 * (the first each second) — no one reads 20,000 rows a second, and serialising them all halved a
 * fast model's throughput.
 */
import type { RequestTap, TappedRequest } from '../../gateway/index.ts';
import type { RequestRecord } from '../../web/index.ts';
import type { RequestQuery } from './api.ts';
import { Listeners, Ring } from './ring.ts';

/** How much of each body a record keeps: 16 KiB (bytes of a body read as bytes, characters of one read as text). */
export const BODY_LIMIT = 16 * 1024;
export const DEFAULT_CAPACITY = 500;
export const DEFAULT_MAX_EVENTS_PER_SECOND = 50;
export const DEFAULT_MAX_RECORDS_PER_SECOND = 1000;

export interface RequestJournalOptions {
  /** How many records it keeps, newest last; 500 when absent. */
  capacity?: number;
  /** The most requests it records in one second; 1000 when absent. */
  maxRecordsPerSecond?: number;
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
  if (request.grpcStatus !== undefined) record.grpcStatus = request.grpcStatus;
  if (sent.cut || answered.cut) record.truncated = true;
  // The answer's own object, which no one changes once it is sent.
  if (request.requestPath !== undefined) record.requestPath = request.requestPath;
  return record;
}

export class RequestJournal implements RequestTap {
  readonly capacity: number;
  private readonly maxRecordsPerSecond: number;
  private readonly maxEventsPerSecond: number;
  private readonly records: Ring<RequestRecord>;
  private readonly listeners = new Listeners<RequestRecord>();
  /** What is left of this second's records and events; 0 while no one listens. */
  private recordsLeft = 0;
  private eventsLeft = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RequestJournalOptions = {}) {
    this.capacity = wholeNumber('capacity', options.capacity ?? DEFAULT_CAPACITY, 1);
    this.records = new Ring(this.capacity, 'request');
    this.maxRecordsPerSecond = wholeNumber('maxRecordsPerSecond', options.maxRecordsPerSecond ?? DEFAULT_MAX_RECORDS_PER_SECOND, 1);
    this.maxEventsPerSecond = wholeNumber('maxEventsPerSecond', options.maxEventsPerSecond ?? DEFAULT_MAX_EVENTS_PER_SECOND, 0);
  }

  /**
   * True while someone listens and this second's share of records is not spent: the gateway
   * reads it before keeping anything of a request.
   */
  get active(): boolean {
    return this.recordsLeft > 0;
  }

  /**
   * Calls `listener` with records as they are made (at most `maxEventsPerSecond` a second), until
   * the returned function is called. While anyone listens, a timer renews the shares each second.
   */
  subscribe(listener: RequestListener): () => void {
    const remove = this.listeners.add(listener);
    if (this.timer === undefined) {
      this.renew();
      this.timer = setInterval(() => this.renew(), 1000);
      // The feed's connections keep the process up, not this timer.
      this.timer.unref();
    }
    return () => {
      remove();
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.recordsLeft = 0;
        this.eventsLeft = 0;
      }
    };
  }

  record(request: TappedRequest): void {
    const record = recordOf(request);
    this.records.push(record);
    this.recordsLeft -= 1;
    if (this.eventsLeft <= 0) return;
    this.eventsLeft -= 1;
    this.listeners.tell(record);
  }

  /** The records that match every given field, newest first, at most `limit` (all it keeps when absent). */
  list(query: RequestQuery = {}): RequestRecord[] {
    const { puid, namespace, deployment } = query;
    const limit = wholeNumber('limit', query.limit ?? this.capacity, 1);
    const found: RequestRecord[] = [];
    for (const record of this.records.newestFirst()) {
      if (found.length >= limit) break;
      if (puid !== undefined && record.puid !== puid) continue;
      if (namespace !== undefined && record.namespace !== namespace) continue;
      if (deployment !== undefined && record.deployment !== deployment) continue;
      found.push(record);
    }
    return found;
  }

  private renew(): void {
    this.recordsLeft = this.maxRecordsPerSecond;
    this.eventsLeft = this.maxEventsPerSecond;
  }
}

function wholeNumber(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`RequestJournal ${name}: expected a whole number, ${min} or more, got ${String(value)}`);
  return value;
}
