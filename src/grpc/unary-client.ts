/**
 * Unary gRPC calls straight on `node:http2`, for the executor's calls to its components: one
 * HTTP/2 session per address, opened on first use and again after the server closes it, each call
 * a stream with one length-prefixed message each way and its status from the trailers. A grpc-js
 * client spent about 65 µs of CPU on a call that this spends about 30 to 40 on (docs/benchmarks.md,
 * the gRPC section): interceptors, filters, Metadata, a load-balancing picker and a deadline per call. Failures read as grpc-js words them where our code reads the
 * words: a call never sent says "No connection established. Last error: …".
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { HTTP2_WINDOW_BYTES } from './unary-server.ts';

/** A call that did not end OK: its status code and details. */
export interface UnaryFailure {
  readonly code: grpc.status;
  readonly details: string;
}

/** A call's answer: the answer message's bytes, or its status when it was not OK. */
export type UnaryOutcome = { readonly bytes: Buffer } | { readonly error: UnaryFailure };

const PREFIX = 5;
/** grpc-timeout takes at most eight digits. */
const MAX_TIMEOUT_DIGITS = 99_999_999;
const EMPTY = Buffer.alloc(0);

/** The gRPC status an HTTP status means when no grpc-status came (gRPC's HTTP-to-gRPC table). */
function statusOfHttp(status: number): grpc.status {
  if (status === 400) return grpc.status.INTERNAL;
  if (status === 401) return grpc.status.UNAUTHENTICATED;
  if (status === 403) return grpc.status.PERMISSION_DENIED;
  if (status === 404) return grpc.status.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return grpc.status.UNAVAILABLE;
  return grpc.status.UNKNOWN;
}

function text(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function decodeDetails(raw: string | undefined): string {
  if (raw === undefined) return '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The `grpc-timeout` header for `ms` milliseconds. */
function timeoutHeader(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole <= MAX_TIMEOUT_DIGITS) return `${whole}m`;
  return `${Math.min(MAX_TIMEOUT_DIGITS, Math.ceil(whole / 1000))}S`;
}

export interface UnaryChannelOptions {
  /** The largest message sent or received, in bytes. */
  maxMessageBytes: number;
}

/** Unary calls to one `host:port`. */
export class UnaryChannel {
  readonly address: string;
  private readonly maxMessageBytes: number;
  private session: ClientHttp2Session | undefined;
  /** Sessions whose connection was made. */
  private readonly connected = new WeakSet<ClientHttp2Session>();
  /** Calls in flight per session: a session holds the process open only while it has some. */
  private readonly inFlight = new WeakMap<ClientHttp2Session, number>();
  private lastError: Error | undefined;
  private closed = false;

  constructor(address: string, options: UnaryChannelOptions) {
    this.address = address;
    this.maxMessageBytes = options.maxMessageBytes;
  }

  /** Calls `path` with `request`; `metadata` goes as headers. Never rejects: a failure is an outcome. */
  call(path: string, request: Uint8Array, metadata: OutgoingHttpHeaders, deadline: number): Promise<UnaryOutcome> {
    if (this.closed) return Promise.resolve({ error: { code: grpc.status.UNAVAILABLE, details: 'No connection established. Last error: the channel is closed' } });
    if (request.byteLength > this.maxMessageBytes) {
      return Promise.resolve({ error: { code: grpc.status.RESOURCE_EXHAUSTED, details: `Sent message larger than max (${request.byteLength} vs. ${this.maxMessageBytes})` } });
    }
    const left = deadline - Date.now();
    if (left <= 0) return Promise.resolve({ error: { code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' } });
    const session = this.open();
    const headers: OutgoingHttpHeaders = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    if (left !== Infinity) headers['grpc-timeout'] = timeoutHeader(left);
    for (const key of Object.keys(metadata)) headers[key] = metadata[key];
    const frame = Buffer.allocUnsafe(PREFIX + request.byteLength);
    frame[0] = 0;
    frame.writeUInt32BE(request.byteLength, 1);
    frame.set(request, PREFIX);
    const calls = this.inFlight.get(session) ?? 0;
    this.inFlight.set(session, calls + 1);
    if (calls === 0) session.ref();
    return new Promise((resolve) => {
      let stream: ClientHttp2Stream;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (outcome: UnaryOutcome): void => {
        if (done) return;
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        const calls = this.inFlight.get(session)! - 1;
        this.inFlight.set(session, calls);
        if (calls === 0 && !session.destroyed) session.unref();
        resolve(outcome);
      };
      try {
        stream = session.request(headers);
      } catch (err) {
        // The session died between open() and here.
        this.forget(session);
        return finish({ error: { code: grpc.status.UNAVAILABLE, details: `No connection established. Last error: ${err instanceof Error ? err.message : String(err)}` } });
      }
      if (left !== Infinity) {
        timer = setTimeout(() => {
          finish({ error: { code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' } });
          stream.close(constants.NGHTTP2_CANCEL);
        }, left);
      }
      const chunks: Buffer[] = [];
      let length = 0;
      let responseHeaders: IncomingHttpHeaders | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      stream.on('response', (h) => (responseHeaders = h));
      stream.on('trailers', (h: IncomingHttpHeaders) => (trailers = h));
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= PREFIX && chunks.length <= 2) {
          const size = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
          if (size > this.maxMessageBytes) {
            finish({ error: { code: grpc.status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${size} vs. ${this.maxMessageBytes})` } });
            stream.close(constants.NGHTTP2_CANCEL);
          }
        }
      });
      // Errors come with a close, where the outcome is decided.
      let streamError: Error | undefined;
      stream.on('error', (err: Error) => (streamError = err));
      stream.on('close', () => {
        if (done) return;
        const status = text(trailers?.['grpc-status'] ?? responseHeaders?.['grpc-status']);
        if (status === undefined) {
          const http = Number(responseHeaders?.[':status'] ?? 200);
          if (http !== 200) {
            return finish({ error: { code: statusOfHttp(http), details: `Received HTTP status code ${http}` } });
          }
          if (!this.connected.has(session) || (responseHeaders === undefined && stream.rstCode === constants.NGHTTP2_REFUSED_STREAM)) {
            // Nothing reached a server that handled it: safe to send elsewhere.
            // A session that failed to connect cancels its streams with its error as the cause.
            const why = streamError?.cause instanceof Error ? streamError.cause : (streamError ?? this.lastError);
            return finish({ error: { code: grpc.status.UNAVAILABLE, details: `No connection established. Last error: ${why?.message ?? `stream reset (${stream.rstCode})`}` } });
          }
          return finish({ error: { code: grpc.status.UNAVAILABLE, details: `Connection dropped (stream closed with code ${stream.rstCode} and no status)` } });
        }
        const code = Number(status) as grpc.status;
        if (code !== grpc.status.OK) return finish({ error: { code, details: decodeDetails(text(trailers?.['grpc-message'] ?? responseHeaders?.['grpc-message'])) } });
        const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
        if (whole.length === 0) return finish({ error: { code: grpc.status.UNIMPLEMENTED, details: 'Received no answer message for a unary call' } });
        const size = whole.length >= PREFIX ? whole.readUInt32BE(1) : -1;
        if (size < 0 || whole.length !== PREFIX + size) return finish({ error: { code: grpc.status.INTERNAL, details: 'Received a unary answer that is not one whole message' } });
        if (whole[0] !== 0) return finish({ error: { code: grpc.status.INTERNAL, details: 'Received a compressed answer, which was not asked for' } });
        finish({ bytes: size === 0 ? EMPTY : whole.subarray(PREFIX) });
      });
      stream.end(frame);
    });
  }

  /** Closes the session once its calls have ended; later calls fail UNAVAILABLE. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  /** The session, connected or connecting: a new one when there is none or the last has gone. */
  private open(): ClientHttp2Session {
    const current = this.session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    // grpc-js's choice: node's per-session memory cap, once reached, fails streams badly.
    const session = connect(`http://${this.address}`, { maxSessionMemory: Number.MAX_SAFE_INTEGER, settings: { initialWindowSize: HTTP2_WINDOW_BYTES } });
    this.session = session;
    session.unref();
    session.once('connect', () => {
      this.connected.add(session);
      if (!session.destroyed) session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
    });
    session.on('error', (err: Error) => {
      this.lastError = err;
      this.forget(session);
    });
    session.once('goaway', () => this.forget(session));
    session.once('close', () => this.forget(session));
    return session;
  }

  /** New calls go to a new session; calls on this one end as it does. */
  private forget(session: ClientHttp2Session): void {
    if (this.session === session) this.session = undefined;
  }
}
