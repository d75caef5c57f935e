/**
 * Creating, listening and closing a node:http server, the same way for every server.
 *
 * Timeouts: the whole request (headers and body) must arrive within `requestTimeoutMs`, or the
 * client gets 408 REQUEST_TIMEOUT and the connection is closed. Node checks its request and header
 * timeouts on an interval (30 s by default, which turned a 30 s limit into 54 s); the interval is
 * set here to a twentieth of the timeout (50 ms to 1 s), so the 408 comes on time without a timer
 * per request on the hot path. Requests node cannot parse get 400, oversized headers 431, on the
 * socket — never a crash.
 */
import { STATUS_CODES, createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TrantorError, failureBody } from '../protocol/index.ts';
import { httpOptions, type HttpOptions } from './options.ts';

export interface ServerOptions {
  /** The whole request must arrive within this time (408 otherwise). */
  readonly requestTimeoutMs: number;
  /** How long an idle kept-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  /** Extra headers on answers node:http gives before any handler runs (the gateway's Seldon-Puid). */
  readonly clientErrorHeaders?: () => readonly string[];
  /** The http layer's options (`http.*`); their defaults when absent. */
  readonly http?: HttpOptions;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** How often node looks for requests past their time: often enough for the 408 to be on time. */
export function checkingIntervalOf(requestTimeoutMs: number, maxMs: number = httpOptions.defaults.checkInterval): number {
  return Math.min(maxMs, Math.max(50, Math.floor(requestTimeoutMs / 20)));
}

/** A server with Trantor's timeouts and client-error answers; `handler` may be attached after `listen` (e.g. once the port is known). */
export function createHttpServer(options: ServerOptions, handler?: RequestHandler): Server {
  const requestTimeout = options.requestTimeoutMs;
  const http = options.http ?? httpOptions.defaults;
  const server = createServer(
    {
      requestTimeout,
      // Node requires headersTimeout <= requestTimeout.
      headersTimeout: Math.min(http.headersTimeout, requestTimeout),
      connectionsCheckingInterval: checkingIntervalOf(requestTimeout, http.checkInterval),
      keepAliveTimeout: options.keepAliveTimeoutMs,
    },
  );
  if (handler !== undefined) server.on('request', handler);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket as Socket, options));
  return server;
}

/** A request node:http could not parse, or did not receive in time. */
export function clientFailure(err: NodeJS.ErrnoException, requestTimeoutMs: number): TrantorError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new TrantorError('REQUEST_TIMEOUT', `the request was not received within ${requestTimeoutMs} ms`);
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return new TrantorError('HEADERS_TOO_LARGE', 'the request headers are too large');
  return new TrantorError('BAD_PAYLOAD', `malformed HTTP request: ${err.message}`);
}

function answerClientError(err: NodeJS.ErrnoException, socket: Socket, options: ServerOptions): void {
  // A reset, or a client that ended its side mid-request: nobody is left to read an answer.
  if (!socket.writable || err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'HPE_INVALID_EOF_STATE') {
    socket.destroy();
    return;
  }
  const failure = clientFailure(err, options.requestTimeoutMs);
  const body = JSON.stringify(failureBody(failure));
  const extra = options.clientErrorHeaders?.() ?? [];
  // A request whose handler already runs (it waits for the body): answer through its response, so
  // node's bookkeeping stays right and the handler finds the exchange answered. Undocumented but
  // stable: node's own clientError fallback looks at the same field.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight !== undefined && inFlight !== null) {
    if (inFlight.headersSent) {
      socket.destroy();
      return;
    }
    // Node forgets an unfinished request once its response is done: end it, so its reader settles.
    const req = inFlight.req;
    inFlight.once('close', () => {
      if (!req.complete) req.destroy();
    });
    inFlight.writeHead(failure.status, ['Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(body)), 'Connection', 'close', ...extra]);
    inFlight.end(body, () => socket.destroy());
    return;
  }
  let head = `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`;
  for (let i = 0; i + 1 < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
  socket.end(`${head}\r\n${body}`);
}

/** Listens on `host:port` (0 picks a free port) and resolves with the port actually used. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** `http://host:port`, with brackets around an IPv6 host. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * A close function for `server`: stops taking connections, closes idle ones, lets requests in
 * flight finish for up to `graceMs`, then cuts what is left. Calling it again returns the same promise.
 */
export function closer(server: Server, graceMs: number = httpOptions.defaults.closeGrace): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };
}
