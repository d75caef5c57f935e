/**
 * A component's HTTP server: Seldon's wrapper paths on node:http, with no framework between
 * the socket and the model. Connections are kept alive (65 s, longer than the usual 60 s of
 * a client's pool, so the server is never the one to close a connection a client is about to
 * reuse); a request costs one body buffer, one JSON parse and one JSON serialisation.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { closer, createHttpServer, listen, readBody, sendFailure as sendHttpFailure, type BodyLimit } from '../http/index.ts';
import { componentOptions } from './options.ts';
import { TrantorError, decodeBody, decodeMultipart, failureBody, mediaType, stringifyJson } from '../protocol/index.ts';
import { SERVICE_TYPES, type SeldonComponent, type ServiceType } from './contract.ts';
import { createDispatcher, type ComponentMethod, type DispatchOptions, type Dispatcher } from './dispatch.ts';
import { handleV2, isV2Path } from './v2.ts';

export interface ServeOptions extends DispatchOptions {
  host?: string;
  /** 0 (the default) picks a free port; the handle says which. */
  port?: number;
  serviceType?: ServiceType;
  /** Larger bodies are refused with 413 (default 32 MiB). */
  maxBodyBytes?: number;
  keepAliveTimeoutMs?: number;
  /** The whole request must arrive within this time, or 408 (default 60 s). */
  requestTimeoutMs?: number;
}

export interface ComponentServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  readonly serviceType: ServiceType;
  /** Stops accepting, lets requests in flight finish (forcing them after 5 s), then resolves. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = componentOptions.defaults.bodyLimit;

/** Paths that carry a Seldon message (POST, or GET with `?json=`). */
const MESSAGE_PATHS: ReadonlyMap<string, ComponentMethod> = new Map([
  ['/predict', 'predict'],
  ['/api/v1.0/predictions', 'predict'],
  ['/api/v0.1/predictions', 'predict'],
  ['/transform-input', 'transformInput'],
  ['/transform-output', 'transformOutput'],
  ['/route', 'route'],
  ['/aggregate', 'aggregate'],
  ['/send-feedback', 'sendFeedback'],
  ['/api/v1.0/feedback', 'sendFeedback'],
  ['/api/v0.1/feedback', 'sendFeedback'],
]);

/** Paths read with GET (or HEAD) and no body that ask the model. */
const MODEL_READ_PATHS: ReadonlyMap<string, ComponentMethod> = new Map([
  ['/health/status', 'healthStatus'],
  ['/api/v1.0/health/status', 'healthStatus'],
  ['/metadata', 'metadata'],
  ['/api/v1.0/metadata', 'metadata'],
]);

/**
 * Paths read with GET (or HEAD) and no body. `/live` and `/ready` are Trantor's own (Seldon's
 * wrapper has neither); both hosts answer them with these words.
 */
const READ_PATHS: ReadonlySet<string> = new Set(['/health/ping', '/live', '/ready', ...MODEL_READ_PATHS.keys()]);

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

function send(res: ServerResponse, status: number, type: string, text: string, extra?: string[]): void {
  const headers = ['content-type', type, 'content-length', String(Buffer.byteLength(text))];
  if (extra !== undefined) headers.push(...extra);
  res.writeHead(status, headers);
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  let text: string;
  try {
    // NaN, Infinity and numbers read exactly are written back as they came (as Python's json writes them).
    text = stringifyJson(body);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const failure = new TrantorError('MODEL_ERROR', `the reply cannot be serialised as JSON (${message})`);
    status = failure.status;
    text = JSON.stringify(failureBody(failure));
  }
  send(res, status, JSON_TYPE, text);
}

function sendFailure(res: ServerResponse, err: TrantorError, extra?: string[]): void {
  send(res, err.status, JSON_TYPE, JSON.stringify(failureBody(err)), extra);
}

function knownPaths(): string {
  return [...MESSAGE_PATHS.keys(), ...READ_PATHS].join(', ');
}

/**
 * Content-Type and Content-Length, by one pass over the raw headers: reading `req.headers` would
 * build an entry for every header. The first of a repeated header counts, as in `req.headers`.
 */
function scanHeaders(raw: readonly string[]): { contentType: string | undefined; contentLength: number | undefined } {
  let contentType: string | undefined;
  let contentLength: number | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 12 && contentType === undefined && name.toLowerCase() === 'content-type') contentType = raw[i + 1];
    else if (name.length === 14 && contentLength === undefined && name.toLowerCase() === 'content-length') {
      const n = Number(raw[i + 1]);
      if (Number.isFinite(n)) contentLength = n;
    }
  }
  return { contentType, contentLength };
}

/** The request handler for a dispatcher; exported so it can be mounted on any node:http server. */
export function componentHandler(dispatcher: Dispatcher, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, serviceType: ServiceType = 'MODEL'): (req: IncomingMessage, res: ServerResponse) => void {
  const limit: BodyLimit = Object.freeze({ limitBytes: maxBodyBytes });

  const answer = (res: ServerResponse, which: ComponentMethod, body?: unknown): void => {
    dispatcher.handle(which, body).then(
      (reply) => sendJson(res, reply.status, reply.body),
      // handle() never rejects; this is the last line of defence for the process.
      (err: unknown) => sendFailure(res, new TrantorError('INTERNAL', err instanceof Error ? err.message : String(err))),
    );
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q === -1 ? url : url.slice(0, q);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    const method = req.method ?? 'GET';

    const which = MESSAGE_PATHS.get(path);
    if (which === undefined) {
      // The Open Inference Protocol's paths, for the nodes of protocol: v2 graphs.
      if (isV2Path(path)) return handleV2(dispatcher, serviceType, limit, req, res, path);
      if (!READ_PATHS.has(path)) {
        req.resume();
        sendFailure(res, new TrantorError('NOT_FOUND', `no such path ${path}; a component serves ${knownPaths()}`));
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        req.resume();
        sendFailure(res, new TrantorError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use GET`), ['allow', 'GET, HEAD']);
        return;
      }
      req.resume();
      if (path === '/health/ping') send(res, 200, TEXT_TYPE, 'pong');
      else if (path === '/live') send(res, 200, TEXT_TYPE, 'live');
      else if (path === '/ready') send(res, 200, TEXT_TYPE, 'ready');
      else answer(res, MODEL_READ_PATHS.get(path) ?? 'healthStatus');
      return;
    }
    if (method !== 'POST' && method !== 'GET') {
      req.resume();
      sendFailure(res, new TrantorError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use POST (or GET with ?json=)`), ['allow', 'POST, GET']);
      return;
    }
    const query = q === -1 ? '' : url.slice(q + 1);
    const { contentType, contentLength } = scanHeaders(req.rawHeaders);
    readBody(req, limit, contentLength).then(
      (body) => {
        const fail = (err: unknown): void => sendFailure(res, err instanceof TrantorError ? err : new TrantorError('BAD_PAYLOAD', String(err)));
        // multipart/form-data (`curl -F strData=@file`), as Seldon's wrapper and the Python host take it.
        if (contentType !== undefined && mediaType(contentType) === 'multipart/form-data') {
          decodeMultipart(contentType, body).then((parsed) => answer(res, which, parsed), fail);
          return;
        }
        let parsed: unknown;
        try {
          parsed = decodeBody(contentType, body.toString('utf8'), query);
        } catch (err) {
          fail(err);
          return;
        }
        answer(res, which, parsed);
      },
      // Too large (answered with Connection: close, the rest unread), or the client is gone.
      (err: unknown) => void sendHttpFailure(req, res, err),
    );
  };
}

/**
 * Serves a model instance (already loaded) on `host:port` until `close()`. Resolves once the
 * server is listening.
 */
export async function serveComponent(model: SeldonComponent, options: ServeOptions = {}): Promise<ComponentServer> {
  const host = options.host ?? '127.0.0.1';
  const serviceType = options.serviceType ?? 'MODEL';
  if (!SERVICE_TYPES.includes(serviceType)) {
    throw new TrantorError('BAD_MANIFEST', `service type ${String(serviceType)} is not one of ${SERVICE_TYPES.join(', ')}`);
  }
  const dispatcher = createDispatcher(model, options);
  const server = createHttpServer(
    {
      requestTimeoutMs: options.requestTimeoutMs ?? componentOptions.defaults.requestTimeout,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? componentOptions.defaults.keepAliveTimeout,
    },
    componentHandler(dispatcher, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, serviceType),
  );
  const port = await listen(server, options.port ?? 0, host);
  const close = closer(server, 5_000);
  return { server, host, port, serviceType, close };
}
