/**
 * The dashboard's request journal: the last N predictions and feedback the gateway answered
 * (`RequestRecord`s), for the request inspector (`GET /dashboard/api/requests`) and the live
 * feed (`event: request`). It is the gateway's `RequestTap`.
 *
 * It records only while someone listens (a dashboard has the feed open): `active` is true then
 * and only then, so with no dashboard open the gateway keeps nothing of any request and the tap
 * costs one property read per request. What was recorded stays (the last N) after the
 * dashboard closes, for the next one to list.
 */
import { TrantorError } from '../../protocol/index.ts';
import type { RequestTap, TappedRequest } from '../../gateway/index.ts';
import type { RequestRecord } from '../../web/index.ts';
import type { RequestQuery } from './api.ts';

/** How much of each body a record keeps: 16 KiB (bytes of a body read as bytes, characters of one read as text). */
export const BODY_LIMIT = 16 * 1024;
export const DEFAULT_CAPACITY = 500;

export interface RequestJournalOptions {
  /** How many records it keeps, newest last; 500 when absent. */
  capacity?: number;
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

export class RequestJournal implements RequestTap {
  readonly capacity: number;
  private readonly ring: (RequestRecord | undefined)[];
  /** How many were ever recorded; the next goes at `written % capacity`. */
  private written = 0;
  private readonly listeners = new Set<RequestListener>();

  constructor(options: RequestJournalOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`RequestJournal capacity: expected a whole number of records, 1 or more, got ${capacity}`);
    this.capacity = capacity;
    this.ring = new Array<RequestRecord | undefined>(capacity);
  }

  /** True while someone listens: only then does the gateway hand requests over. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls `listener` with each record as it is made, until the returned function is called. */
  subscribe(listener: RequestListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  record(request: TappedRequest): void {
    const sent = cutBody(request.request);
    const answered = cutBody(request.response);
    const record: RequestRecord = {
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
    this.ring[this.written % this.capacity] = record;
    this.written += 1;
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
    if (!Number.isInteger(limit) || limit < 1) throw new TrantorError('BAD_QUERY', `limit: expected a whole number, 1 or more, got ${String(limit)}`);
    const found: RequestRecord[] = [];
    const oldest = Math.max(0, this.written - this.capacity);
    for (let i = this.written - 1; i >= oldest && found.length < limit; i--) {
      const record = this.ring[i % this.capacity]!;
      if (puid !== undefined && record.puid !== puid) continue;
      if (namespace !== undefined && record.namespace !== namespace) continue;
      if (deployment !== undefined && record.deployment !== deployment) continue;
      found.push(record);
    }
    return found;
  }
}
