/**
 * Unary gRPC served straight on `node:http2`: an HTTP/2 stream, one length-prefixed message in
 * (the 5-byte prefix: a compressed flag and a big-endian length), one out, and `grpc-status` /
 * `grpc-message` trailers. grpc-js's server does the same with an interceptor chain, a Metadata
 * object, a deadline timer and several event hops per call; on the gateway's hot methods that cost
 * more than the rest of the call (bench/grpc-floor.ts). Streams for any other path (health,
 * reflection, and unknown methods) are handed, one by one, to a grpc-js server, which answers them
 * as it would on a connection of its own: one port, one HTTP/2 session, both servers.
 */
import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { gunzipSync, inflateSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { TrantorError } from '../protocol/index.ts';

/** One unary call: its request message whole, and the means to answer it once. */
export interface UnaryCall {
  /** The full method, `/package.Service/Method`. */
  readonly path: string;
  /** The request's headers: metadata keys as sent (lower case), `:authority` among them. */
  readonly headers: IncomingHttpHeaders;
  /** The call's deadline (ms since the epoch, from `grpc-timeout`); Infinity without one. */
  readonly deadline: number;
  readonly request: Buffer;
}

/** How a handler answers: `metadata` goes out as the initial metadata (headers) either way. */
export interface UnaryReply {
  ok(message: Uint8Array, metadata?: OutgoingHttpHeaders): void;
  fail(code: grpc.status, details: string, metadata?: OutgoingHttpHeaders): void;
  /** The client has gone (cancelled, reset, or its deadline passed): nobody reads an answer. */
  readonly cancelled: boolean;
}

export type UnaryHandler = (call: UnaryCall, reply: UnaryReply) => void;

export interface UnaryServerOptions {
  /** Handlers by full method path. */
  unary: ReadonlyMap<string, UnaryHandler>;
  /** Serves every other path (health, reflection, unknown methods). */
  others: grpc.Server;
  /** The largest request message taken; RESOURCE_EXHAUSTED past it, as grpc-js words it. */
  maxMessageBytes: number;
}

const { HTTP2_HEADER_STATUS, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_PATH } = constants;
const CONTENT_TYPE = 'application/grpc+proto';
const PREFIX = 5;
const TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const MS_PER_UNIT: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
/**
 * HTTP/2 flow-control window, per stream and per session, of our unary servers and clients.
 * HTTP/2's default 64 KiB makes a large message wait for a window update every 64 KiB: with 8 MiB
 * a 4 MB echo took 6 ms instead of 12, a 100 kB one 0.3 ms instead of 0.55.
 */
export const HTTP2_WINDOW_BYTES = 8 * 1024 * 1024;
const OK_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': '0' };

/** grpc-js's server's own stream handler, which it attaches to the HTTP/2 servers it makes. */
type StreamHandler = (extraInterceptors: readonly unknown[], stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

/**
 * The grpc-js server's per-stream entry point. Not in its typed API, but the one it calls for
 * every stream of its own servers (1.x): checked here once, so an upgrade that renames it fails
 * at start, not on the first health probe.
 */
function streamHandlerOf(server: grpc.Server): (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void {
  const handler = (server as unknown as { _streamHandler?: StreamHandler })._streamHandler;
  if (typeof handler !== 'function') throw new TrantorError('INTERNAL', 'this @grpc/grpc-js has no Server._streamHandler: the gRPC server cannot hand it health and reflection calls');
  return (stream, headers) => handler.call(server, [], stream, headers);
}

/** The deadline a `grpc-timeout` header gives, or a message saying why it is not one. */
function deadlineOf(header: string | string[] | undefined, now: number): number | string {
  if (header === undefined) return Infinity;
  const match = TIMEOUT.exec(Array.isArray(header) ? header[0]! : header);
  if (match === null) return `Invalid grpc-timeout value "${String(header)}"`;
  return now + Number(match[1]) * MS_PER_UNIT[match[2]!]!;
}

function decompress(encoding: string | string[] | undefined, bytes: Buffer): Buffer | string {
  const name = Array.isArray(encoding) ? encoding[0] : encoding;
  try {
    if (name === 'gzip') return gunzipSync(bytes);
    if (name === 'deflate') return inflateSync(bytes);
  } catch (err) {
    return `Failed to decompress message: ${err instanceof Error ? err.message : String(err)}`;
  }
  return `Received message compressed with unsupported encoding "${name ?? 'identity'}"`;
}

/** A response's headers: status, content type, then the call's metadata (a spread of computed keys cost a µs a call). */
function headersWith(metadata: OutgoingHttpHeaders | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ':status': 200, 'content-type': CONTENT_TYPE };
  if (metadata !== undefined) for (const key of Object.keys(metadata)) headers[key] = metadata[key];
  return headers;
}

/** One stream of a unary method: reads its message, runs the handler, writes the answer once. */
class UnaryStream implements UnaryReply, UnaryCall {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  deadline = Infinity;
  request: Buffer = Buffer.alloc(0);
  private readonly stream: ServerHttp2Stream;
  private answered = false;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, path: string) {
    this.stream = stream;
    this.headers = headers;
    this.path = path;
  }

  get cancelled(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  /** Reads the request, then runs `handler`; a request that is not one message is answered here. */
  read(handler: UnaryHandler, maxMessageBytes: number): void {
    const deadline = deadlineOf(this.headers['grpc-timeout'], Date.now());
    if (typeof deadline === 'string') return this.fail(grpc.status.INTERNAL, deadline);
    this.deadline = deadline;
    const chunks: Buffer[] = [];
    let length = 0;
    let sized = false;
    let refused = false;
    const stream = this.stream;
    stream.on('data', (chunk: Buffer) => {
      if (refused) return;
      chunks.push(chunk);
      length += chunk.length;
      // The prefix says how long the message is: one too large is refused before it is read.
      if (!sized && length >= PREFIX) {
        sized = true;
        const size = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
        if (size > maxMessageBytes) {
          refused = true;
          this.fail(grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${size} vs. ${maxMessageBytes})`);
        }
      }
    });
    stream.once('end', () => {
      if (refused) return;
      const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      const size = whole.length >= PREFIX ? whole.readUInt32BE(1) : -1;
      if (size < 0 || whole.length !== PREFIX + size) {
        const what = size < 0 ? 'no request message' : whole.length < PREFIX + size ? 'a request message cut short' : 'more than one request message';
        return this.fail(grpc.status.UNIMPLEMENTED, `${this.path} is unary: expected one request message, got ${what}`);
      }
      let message = whole.subarray(PREFIX);
      if (whole[0] !== 0) {
        const plain = decompress(this.headers['grpc-encoding'], message);
        if (typeof plain === 'string') return this.fail(grpc.status.INTERNAL, plain);
        if (plain.length > maxMessageBytes) return this.fail(grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${plain.length} vs. ${maxMessageBytes})`);
        message = plain;
      }
      this.request = message;
      handler(this, this);
    });
  }

  ok(message: Uint8Array, metadata?: OutgoingHttpHeaders): void {
    if (this.answered || this.cancelled) return;
    this.answered = true;
    const frame = Buffer.allocUnsafe(PREFIX + message.byteLength);
    frame[0] = 0;
    frame.writeUInt32BE(message.byteLength, 1);
    frame.set(message, PREFIX);
    const stream = this.stream;
    stream.respond(headersWith(metadata), { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
    stream.end(frame);
  }

  fail(code: grpc.status, details: string, metadata?: OutgoingHttpHeaders): void {
    if (this.answered || this.cancelled) return;
    this.answered = true;
    const stream = this.stream;
    // Headers then trailers, as grpc-js answers a failure: the metadata reads as initial metadata.
    stream.respond(headersWith(metadata), { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeURI(details) }));
    stream.end();
  }
}

export interface UnaryServer {
  /** Serves an HTTP/2 connection accepted elsewhere. */
  inject(connection: Duplex): void;
  /** Listens on a port of its own; resolves with the port (0 picks one). */
  listen(host: string, port: number): Promise<number>;
  /** Stops listening, lets calls in flight finish for up to `graceMs`, then cuts what remains. */
  close(graceMs: number): Promise<void>;
}

export function createUnaryServer(options: UnaryServerOptions): UnaryServer {
  const others = streamHandlerOf(options.others);
  const { unary, maxMessageBytes } = options;
  // grpc-js's choice too: node's per-session memory cap, once reached, fails streams badly.
  const http2: Http2Server = createServer({ maxSessionMemory: Number.MAX_SAFE_INTEGER, maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER, settings: { initialWindowSize: HTTP2_WINDOW_BYTES } });
  const sessions = new Set<Http2Session>();
  let listening = false;
  http2.setTimeout(0);
  http2.on('session', (session: Http2Session) => {
    sessions.add(session);
    if (!session.destroyed) session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
    session.once('close', () => sessions.delete(session));
    // A connection reset under the session; its streams get their own close.
    session.on('error', () => undefined);
  });
  http2.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const raw = headers[HTTP2_HEADER_PATH];
    const path = typeof raw === 'string' ? raw : '';
    const handler = unary.get(path);
    if (handler === undefined) return others(stream, headers);
    // Errors come with a close; the call sees it as cancelled.
    stream.on('error', () => undefined);
    const contentType = headers[HTTP2_HEADER_CONTENT_TYPE];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
      stream.respond({ [HTTP2_HEADER_STATUS]: constants.HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE }, { endStream: true });
      return;
    }
    new UnaryStream(stream, headers, path).read(handler, maxMessageBytes);
  });
  let closing: Promise<void> | undefined;
  return {
    inject(connection) {
      http2.emit('connection', connection);
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        http2.once('error', reject);
        http2.listen(port, host, () => {
          http2.off('error', reject);
          listening = true;
          const address = http2.address();
          resolve(typeof address === 'object' && address !== null ? address.port : port);
        });
      });
    },
    close(graceMs) {
      closing ??= new Promise<void>((done) => {
        if (listening) http2.close();
        const left = [...sessions];
        if (left.length === 0) return done();
        let open = left.length;
        const force = setTimeout(() => {
          for (const session of sessions) session.destroy();
        }, graceMs);
        force.unref();
        for (const session of left) {
          // GOAWAY, then the session closes when its streams have.
          session.close(() => {
            if (--open === 0) {
              clearTimeout(force);
              done();
            }
          });
        }
      });
      return closing;
    },
  };
}
