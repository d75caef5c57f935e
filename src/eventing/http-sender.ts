/**
 * The HTTP side of delivery: one POST of an event (binary mode, or structured when the delivery
 * format is json) over a kept-alive undici agent, within a per-attempt timeout from the first
 * byte sent to the last byte read, the answer read up to a limit and classified. Never throws.
 */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { decodeHttpEvent, encodeBinary, encodeStructured, httpEventMode } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import type { DeliverySpec } from '../manifest/index.ts';
import { isRetryableStatus, TTL_EXTENSION } from './delivery-policy.ts';

/** The outcome of one HTTP attempt. */
export interface Attempt {
  ok: boolean;
  retryable: boolean;
  status?: number;
  body?: Buffer;
  reply?: CloudEvent;
  error?: string;
  /** When the attempt started (milliseconds since the epoch) and how long it took; only when the sender times attempts. */
  startedAt?: number;
  durationMs?: number;
}

export interface HttpSenderOptions {
  /** Per-attempt timeout when the delivery spec sets none. */
  defaultTimeoutMs: number;
  /** Largest answer body read. */
  replyLimitBytes: number;
  /** How long an idle connection is kept. */
  keepAliveMs: number;
  /** Connections per origin. */
  connections: number;
  /** Whether each attempt records when it started and how long it took (someone watches attempts). */
  timed?: boolean;
}

export class HttpSender {
  readonly #defaultTimeoutMs: number;
  readonly #replyLimit: number;
  readonly #agent: Agent;
  readonly #timed: boolean;

  constructor(options: HttpSenderOptions) {
    this.#defaultTimeoutMs = options.defaultTimeoutMs;
    this.#replyLimit = options.replyLimitBytes;
    this.#timed = options.timed === true;
    this.#agent = new Agent({ keepAliveTimeout: options.keepAliveMs, connections: options.connections });
  }

  /** The per-attempt timeout for a delivery spec. */
  timeoutFor(delivery: DeliverySpec): number {
    return delivery.timeoutMs ?? this.#defaultTimeoutMs;
  }

  /**
   * One POST of an event, within `timeoutMs` from the first byte sent to the last byte read; never
   * throws. To a subscriber (`readReply`) it says `Prefer: reply`, as Knative's brokers must. The
   * broker's `knativebrokerttl` stays inside the broker: it is not sent.
   */
  async send(uri: string, event: CloudEvent, format: DeliverySpec['format'], timeoutMs: number | undefined, readReply: boolean): Promise<Attempt> {
    const { [TTL_EXTENSION]: _ttl, ...extensions } = event.extensions;
    const outgoing: CloudEvent = { ...event, extensions };
    const encoded = format === 'json' ? encodeStructured(outgoing) : encodeBinary(outgoing);
    const message = readReply ? { headers: { ...encoded.headers, prefer: 'reply' }, body: encoded.body } : encoded;
    const limitMs = timeoutMs ?? this.#defaultTimeoutMs;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no complete answer within ${limitMs} ms`)), limitMs);
    try {
      if (!this.#timed) return await this.#exchange(uri, message, abort.signal, readReply);
      const startedAt = Date.now();
      const t0 = performance.now();
      const attempt = await this.#exchange(uri, message, abort.signal, readReply);
      attempt.startedAt = startedAt;
      attempt.durationMs = performance.now() - t0;
      return attempt;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cuts attempts in flight short and closes the connections. */
  close(): Promise<void> {
    return this.#agent.destroy();
  }

  async #exchange(uri: string, message: { headers: Record<string, string>; body: Buffer }, signal: AbortSignal, readReply: boolean): Promise<Attempt> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(uri, { method: 'POST', headers: message.headers, body: message.body, dispatcher: this.#agent, signal });
    } catch (err) {
      return { ok: false, retryable: true, error: describe(err, signal) };
    }
    const status = response.statusCode;
    let body: Buffer;
    try {
      body = await readLimited(response.body, this.#replyLimit);
    } catch (err) {
      return { ok: false, retryable: true, status, error: `reading the response: ${describe(err, signal)}` };
    }
    if (status < 200 || status > 299) return { ok: false, retryable: isRetryableStatus(status), status, body };
    // A 202 is never a reply, even with an event in it (Knative's data-plane contract).
    // The body is kept (not copied) so that a watcher of attempts can show the answer's start.
    if (!readReply || status === 202) return { ok: true, retryable: false, status, body };
    // A body that is not an event is discarded, as Knative's dispatcher does: the event was taken.
    if (httpEventMode(response.headers) === 'none') return { ok: true, retryable: false, status, body };
    try {
      return { ok: true, retryable: false, status, body, reply: decodeHttpEvent(response.headers, body) };
    } catch (err) {
      return { ok: false, retryable: true, status, body, error: `the reply is not a valid CloudEvent: ${describe(err, signal)}` };
    }
  }
}

function describe(err: unknown, signal: AbortSignal): string {
  const cause: unknown = signal.aborted ? signal.reason : err;
  return cause instanceof Error ? cause.message : String(cause);
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new Error(`the response is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
