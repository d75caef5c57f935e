/**
 * The gateway: a node:http server that takes requests for `/seldon/<ns>/<deployment>/…`, picks a
 * predictor by traffic weight (copying the request to shadows), hands the message to its executor
 * and answers. Every answer is JSON (the doc page aside) and carries `Seldon-Puid`; every failure
 * is a Seldon failure body with the error's own status.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { httpOptions, type HttpOptions, closeAfterAnswer, closer, createHttpServer, listen, readBody, unanswerable, urlOf, type BodyLimit, compileRequestOrigin, isUnspecifiedHost, normalizeHost, normalizeOrigin, type RequestOriginPolicy } from '../http/index.ts';
import { decodeBody, mediaType, decodeMultipart, TrantorError, asTrantorError, failureBody, stringifyJson, parseSeldonMessage, isPuid, newPuid, v2ErrorBody } from '../protocol/index.ts';
import type { SeldonMessage, V2DecodedBody, V2InferenceRequest } from '../protocol/index.ts';
import type { CallLimits, Metrics } from '../executor/index.ts';
import type { GatewayPredictor } from './predictor.ts';
import type { DeploymentEntry, DeploymentTable } from './deployments.ts';
import { docPage, openApiDocument } from './docs.ts';
import { dashboardFiles, type DashboardFiles } from './dashboard-files.ts';
import type { DocTarget } from './docs.ts';
import { eventReply, isEventRequest, readEventRequest, type EventRequest } from './cloudevents.ts';
import { parseFeedback, scanHeaders } from './request.ts';
import type { Exchange } from './exchange.ts';
import { handToTap, isTappedRoute, tapAnswer, type RequestTap, type TapState } from './request-tap.ts';
import { gatewayOptions, type GatewayLimits } from './options.ts';
import { matchPath, type GatewayOps, type RouteMatch } from './routes.ts';
import { trafficOf } from './traffic.ts';
import { createGatewayGrpc, type GatewayGrpc } from './grpc.ts';
import { readV2Request, writeV2Response } from './v2-body.ts';
import { seldonOnly, v2Of, type V2Answer } from './v2.ts';

export interface GatewayOptions {
  host: string;
  /** 0 picks a free port; `Gateway.port` says which. */
  port: number;
  /** Its limits and timeouts (`gateway.*` options), compiled; each absent one has its default. */
  limits?: Partial<GatewayLimits>;
  /** The http layer's options (`http.*`), compiled; their defaults when absent. */
  http?: HttpOptions;
  deployments: DeploymentTable;
  logger?: Logger;
  /**
   * Paths outside `/seldon/…` (the broker ingress, say): called for a path the gateway does not
   * serve; returns true when it took the request.
   */
  otherRoutes?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /**
   * Served at `/prometheus` (and each deployment's `…/prometheus`); each request to a deployment
   * is timed in its predictor's `seldon_api_executor_server_requests_seconds`. Off when absent.
   */
  metrics?: Metrics;
  /**
   * The dashboard at `/` (`trantor up`): its files from `webRoot`, and `/dashboard/api/…` handed to
   * `api` (which admits only same-origin calls with a session). Off when absent.
   */
  dashboard?: { readonly webRoot: string; api(req: IncomingMessage, res: ServerResponse, path: string): void };
  /** Further `Host` names answered for, beyond `host` and, for a loopback bind, the loopback names. */
  allowedHosts?: readonly string[];
  /** Host names (any port) answered for but never a page's origin: the broker's in-cluster names. */
  hostPattern?: RegExp;
  /** Web pages allowed to call, with CORS answers; any other page's request gets 403. */
  corsAllowedOrigins?: readonly string[];
  /**
   * A pod's executor (`trantor executor`): this deployment's API is served at the root as well
   * (`/api/v1.0/predictions` …), and `/ready` answers 503 with `ready()`'s text until it resolves undefined.
   */
  pod?: { readonly namespace: string; readonly name: string; ready(): Promise<string | undefined> };
  /**
   * Handed each answered prediction and feedback (Seldon and V2 REST) while its `active` is true:
   * the dashboard's request inspector. Off when absent.
   */
  requestTap?: RequestTap;
  /** `trantor gateway`: `/ready` answers 503 with its text until it resolves undefined (a pod's `ready` wins). */
  ready?: () => Promise<string | undefined>;
  /**
   * gRPC (grpc.ts) is always served on `port` beside REST; given, also on this port of its own
   * (0 picks one; `Gateway.grpcPort` says which).
   */
  grpcPort?: number;
}

export interface Gateway {
  server: Server;
  /** The port actually listened on. */
  port: number;
  /** `http://<host>:<port>` */
  url: string;
  /** The gRPC side's own port, when `grpcPort` was given. */
  grpcPort: number | undefined;
  /** Stops taking connections, lets requests in flight finish (up to a few seconds), then closes. */
  close(): Promise<void>;
}

interface GatewayConfig {
  readonly bodyLimit: BodyLimit;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly http: HttpOptions;
  readonly deployments: DeploymentTable;
  readonly logger: Logger | undefined;
  readonly otherRoutes: GatewayOptions['otherRoutes'];
  readonly dashboard: { readonly files: DashboardFiles; api(req: IncomingMessage, res: ServerResponse, path: string): void } | undefined;
  readonly metrics: Metrics | undefined;
  readonly requestTap: RequestTap | undefined;
  readonly allowedHosts: readonly string[];
  readonly hostPattern: RegExp | undefined;
  readonly corsAllowedOrigins: readonly string[];
  readonly pod: GatewayOptions['pod'];
  /** What `/ready` waits for; undefined when it answers at once. */
  readonly ready: (() => Promise<string | undefined>) | undefined;
  /** `/seldon/<ns>/<name>` of the pod's deployment, put before a root path no route takes. */
  readonly podPrefix: string | undefined;
}

function compileOptions(options: GatewayOptions): GatewayConfig {
  // Checked against the table's bounds, as `--set` values are.
  const limits = gatewayOptions.compile(options.limits);
  const pod = options.pod;
  return Object.freeze({
    bodyLimit: Object.freeze({ limitBytes: limits.bodyLimit }),
    requestTimeoutMs: limits.requestTimeout,
    keepAliveTimeoutMs: limits.keepAliveTimeout,
    http: options.http ?? httpOptions.defaults,
    deployments: options.deployments,
    logger: options.logger,
    otherRoutes: options.otherRoutes,
    dashboard: options.dashboard === undefined ? undefined : { files: dashboardFiles({ webRoot: options.dashboard.webRoot }), api: options.dashboard.api.bind(options.dashboard) },
    metrics: options.metrics,
    requestTap: options.requestTap,
    // Checked here, before listening, so a bad entry fails without leaving a server open.
    allowedHosts: Object.freeze((options.allowedHosts ?? []).map(normalizeHost)),
    hostPattern: options.hostPattern,
    corsAllowedOrigins: Object.freeze((options.corsAllowedOrigins ?? []).map(normalizeOrigin)),
    pod: options.pod,
    ready: pod === undefined ? options.ready : () => pod.ready(),
    podPrefix: options.pod === undefined ? undefined : `/seldon/${options.pod.namespace}/${options.pod.name}`,
  });
}

const JSON_TYPE = 'application/json';
const HTML_TYPE = 'text/html; charset=utf-8';

function send(res: ServerResponse, status: number, puid: string, body: string, type: string = JSON_TYPE): void {
  res.writeHead(status, ['Content-Type', type, 'Seldon-Puid', puid, 'Content-Length', String(Buffer.byteLength(body))]);
  res.end(body);
}

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const config = compileOptions(options);
  const server = createHttpServer({ requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: config.keepAliveTimeoutMs, http: config.http, clientErrorHeaders: () => ['Seldon-Puid', newPuid()] });
  const port = await listen(server, options.port, options.host);
  // The Host policy needs the port listened on. No request can arrive before this line: the
  // listen callback and this continuation run before the event loop polls for connections.
  const origin = compileRequestOrigin({
    bindHost: options.host,
    port,
    allowedHosts: config.allowedHosts,
    ...(config.hostPattern === undefined ? {} : { hostPattern: config.hostPattern }),
    anyHost: isUnspecifiedHost(options.host),
    corsAllowedOrigins: config.corsAllowedOrigins,
  });
  server.on('request', new GatewayHandler(config, origin).onRequest);
  let grpcPort: number | undefined;
  let grpcOrigin: RequestOriginPolicy | undefined;
  const grpc = createGatewayGrpc({
    deployments: config.deployments,
    requestTimeoutMs: config.requestTimeoutMs,
    maxMessageBytes: config.bodyLimit.limitBytes,
    pod: config.pod,
    ready: config.ready,
    logger: config.logger,
    requestTap: config.requestTap,
    // The Host rule REST applies, for either port the call came in on.
    admit: (headers) => {
      try {
        origin.admit(headers);
      } catch (err) {
        if (grpcOrigin === undefined) throw err;
        grpcOrigin.admit(headers);
      }
    },
  });
  const undecided = sniffHttp2(server, grpc, Math.min(config.http.headersTimeout, config.requestTimeoutMs));
  const closeHttp = closer(server, config.http.closeGrace);
  const close = (): Promise<void> => {
    // A connection that has sent nothing yet is neither side's to close: without this, it would hold `server.close` open.
    for (const socket of undecided) socket.destroy();
    return Promise.all([grpc.close(config.http.closeGrace), closeHttp()]).then(() => undefined);
  };
  if (options.grpcPort !== undefined) {
    try {
      grpcPort = await grpc.listen(options.host, options.grpcPort);
    } catch (err) {
      await close();
      throw err;
    }
    grpcOrigin = compileRequestOrigin({
      bindHost: options.host,
      port: grpcPort,
      allowedHosts: config.allowedHosts,
      ...(config.hostPattern === undefined ? {} : { hostPattern: config.hostPattern }),
      anyHost: isUnspecifiedHost(options.host),
      corsAllowedOrigins: config.corsAllowedOrigins,
    });
  }
  return { server, port, url: urlOf(options.host, port), grpcPort, close };
}

/** The first bytes an HTTP/2 client sends (RFC 9113 §3.4); gRPC always starts with them. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Each new connection's first bytes decide who serves it: the HTTP/2 preface goes to the gRPC
 * side, anything else to node:http, with the bytes read put back first. Most requests decide on
 * their first byte or two (only `PRI` and `P…` methods share a prefix). A connection that sends
 * nothing is closed after `timeoutMs`, as node:http closes one whose headers do not arrive.
 * Returns the connections still undecided.
 */
function sniffHttp2(server: Server, grpc: GatewayGrpc, timeoutMs: number): ReadonlySet<Socket> {
  const undecided = new Set<Socket>();
  const http1 = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    undecided.add(socket);
    let seen: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      undecided.delete(socket);
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    const decide = (http2: boolean): void => {
      undecided.delete(socket);
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (seen.length > 0) socket.unshift(seen);
      if (http2) grpc.inject(socket);
      else for (const listener of http1) listener.call(server, socket);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, HTTP2_PREFACE.length);
      const prefix = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
      if (!prefix || n === HTTP2_PREFACE.length) decide(prefix);
    };
    // Ended before deciding, so after at most a piece of the preface: nothing to answer.
    const onEnd = (): void => onError();
    const onError = (): void => {
      undecided.delete(socket);
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
  return undecided;
}

class GatewayHandler implements GatewayOps {
  private readonly config: GatewayConfig;
  private readonly origin: RequestOriginPolicy;

  constructor(config: GatewayConfig, origin: RequestOriginPolicy) {
    this.config = config;
    this.origin = origin;
  }

  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const headers = scanHeaders(req.rawHeaders);
    const headerPuid = headers.puid;
    const fromHeader = headerPuid !== undefined && isPuid(headerPuid);
    const exchange: Exchange = {
      req,
      res,
      headers,
      started: Date.now(),
      puid: fromHeader ? headerPuid : newPuid(),
      puidFromHeader: fromHeader,
      t0: performance.now(),
      meter: undefined,
      service: '',
      tap: undefined,
    };
    try {
      // Before anything else: a web page may not drive the gateway (or the broker behind otherRoutes).
      const corsOrigin = this.origin.admit(headers, req.httpVersionMinor === 0);
      if (corsOrigin !== undefined) {
        if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
          return this.origin.answerPreflight(res, corsOrigin, req.headers['access-control-request-headers']);
        }
        this.origin.allowCors(res, corsOrigin);
      }
      if (headerPuid !== undefined && !fromHeader) {
        throw new TrantorError('BAD_PAYLOAD', 'Seldon-Puid header: expected 1-128 visible ASCII characters');
      }
      this.route(exchange);
    } catch (err) {
      this.fail(exchange, err);
    }
  };

  private route(exchange: Exchange): void {
    const { req } = exchange;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const podPrefix = this.config.podPrefix;
    const match = matchPath(path) ?? (podPrefix === undefined ? undefined : matchPath(podPrefix + path));
    if (match === undefined && this.config.otherRoutes?.(req, exchange.res, path) === true) return;
    const dashboard = this.config.dashboard;
    if (match === undefined && dashboard !== undefined) {
      if (path.startsWith('/dashboard/api/')) return dashboard.api(req, exchange.res, path);
      if (dashboard.files.serve(req, exchange.res, path)) return;
    }
    if (match === undefined) throw new TrantorError('NOT_FOUND', `no such path: ${path}; predictions go to ${podPrefix === undefined ? '/seldon/<namespace>/<deployment>' : ''}/api/v1.0/predictions`);
    const method = req.method ?? 'GET';
    const route = match.route;
    if (!route.methods.includes(method)) {
      throw new TrantorError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${route.methods.join(' or ')}`);
    }
    if (route.scope === 'root') return route.serve(this, exchange);
    const entry = this.entry(match);
    if (route.metered && this.config.metrics !== undefined) {
      exchange.service = route.service ?? route.kind;
      exchange.meter = trafficOf(entry).primary?.metrics;
    }
    const tap = this.config.requestTap;
    if (tap !== undefined && isTappedRoute(route.kind) && tap.active) {
      exchange.tap = { namespace: entry.namespace, deployment: entry.name, predictor: undefined, request: '', response: '', requestPath: undefined };
    }
    const work = route.serve(this, exchange, entry, match, q === -1 ? '' : url.slice(q + 1));
    if (work !== undefined) work.catch((err: unknown) => this.fail(exchange, err));
  }

  sendJson(exchange: Exchange, body: string): void {
    send(exchange.res, 200, exchange.puid, body);
  }

  ready(exchange: Exchange, body: string): void {
    const check = this.config.ready;
    if (check === undefined) return this.sendJson(exchange, body);
    check().then(
      (missing) => (missing === undefined ? this.sendJson(exchange, body) : this.fail(exchange, new TrantorError('UNAVAILABLE', missing))),
      (err: unknown) => this.fail(exchange, err),
    );
  }

  private entry(match: RouteMatch): DeploymentEntry {
    const entry = this.config.deployments.lookup(match.namespace!, match.name!);
    if (entry === undefined) throw new TrantorError('NOT_FOUND', `no SeldonDeployment named "${match.name}" in namespace "${match.namespace}"`);
    return entry;
  }

  limits(exchange: Exchange): CallLimits {
    const limits: CallLimits = { timeoutMs: this.config.requestTimeoutMs, since: exchange.started };
    if (exchange.headers.skipLogging) limits.skipLogging = true;
    return limits;
  }

  private async body(exchange: Exchange, query: string): Promise<unknown> {
    const { req, headers } = exchange;
    if (req.method === 'GET') {
      if (exchange.tap !== undefined) exchange.tap.request = query;
      return decodeBody(headers.contentType, '', query);
    }
    const bytes = await readBody(req, this.config.bodyLimit, headers.contentLength);
    if (exchange.tap !== undefined) exchange.tap.request = bytes;
    // `curl -F strData=@file` and `-F binData=@file`, as Seldon's wrapper takes them.
    if (mediaType(headers.contentType) === 'multipart/form-data') return decodeMultipart(headers.contentType!, bytes);
    return decodeBody(headers.contentType, bytes.toString('utf8'), query);
  }

  async predict(exchange: Exchange, entry: DeploymentEntry, query: string): Promise<void> {
    let event: EventRequest | undefined;
    let payload: unknown;
    if (isEventRequest(exchange.headers)) {
      const { req, headers } = exchange;
      const bytes = await readBody(req, this.config.bodyLimit, headers.contentLength);
      if (exchange.tap !== undefined) exchange.tap.request = bytes;
      event = readEventRequest(req.headers, bytes);
      payload = event.message;
    } else {
      payload = await this.body(exchange, query);
    }
    const message = parseSeldonMessage(payload);
    if (!exchange.puidFromHeader) {
      const bodyPuid = message.meta?.puid;
      if (bodyPuid !== undefined) {
        if (!isPuid(bodyPuid)) throw new TrantorError('BAD_PAYLOAD', 'meta.puid: expected 1-128 visible ASCII characters');
        exchange.puid = bodyPuid;
      }
    }
    const split = trafficOf(entry);
    const executor = split.pick();
    if (executor === undefined) throw new TrantorError('UNAVAILABLE', `SeldonDeployment ${entry.namespace}/${entry.name} has no predictor to serve it`);
    seldonOnly(entry, executor);
    if (exchange.meter !== undefined) exchange.meter = executor.metrics;
    const limits = this.limits(exchange);
    const shadows = split.shadows;
    for (let i = 0; i < shadows.length; i++) this.shadow(shadows[i]!, message, exchange.puid, limits);
    if (exchange.tap !== undefined) exchange.tap.predictor = executor.name;
    const reply = await executor.predict(message, exchange.puid, limits);
    if (event === undefined) {
      const body = stringifyJson(reply);
      send(exchange.res, 200, exchange.puid, body);
      if (exchange.tap !== undefined) tapAnswer(exchange.tap, body, reply);
      return this.done(exchange, 200);
    }
    const answer = eventReply(event, exchange.puid, { namespace: entry.namespace, name: entry.name, naming: entry.eventNaming ?? 'seldon' }, reply);
    exchange.res.writeHead(200, [...answer.headers, 'Content-Length', String(Buffer.byteLength(answer.body))]);
    exchange.res.end(answer.body);
    if (exchange.tap !== undefined) tapAnswer(exchange.tap, answer.body, reply);
    this.done(exchange, 200);
  }

  /**
   * Records the request in its predictor's server histogram (when metrics are on and the
   * predictor is known), and hands it to the request tap (when it was tapped).
   */
  private done(exchange: Exchange, status: number): void {
    const meter = exchange.meter;
    if (meter !== undefined) {
      exchange.meter = undefined;
      meter.observeServer(exchange.service, exchange.req.method ?? 'GET', status, (performance.now() - exchange.t0) / 1000);
    }
    const tap = exchange.tap;
    if (tap !== undefined) {
      exchange.tap = undefined;
      this.tapped(exchange, tap, status);
    }
  }

  private tapped(exchange: Exchange, tap: TapState, status: number): void {
    const url = exchange.req.url ?? '/';
    const q = url.indexOf('?');
    const call = { puid: exchange.puid, started: exchange.started, t0: exchange.t0, method: exchange.req.method ?? 'GET', path: q === -1 ? url : url.slice(0, q), status };
    handToTap(this.config.requestTap, tap, call, this.config.logger);
  }

  prometheus(exchange: Exchange): void {
    const metrics = this.config.metrics;
    if (metrics === undefined) throw new TrantorError('NOT_FOUND', 'metrics are off in this gateway');
    metrics.text().then(
      (text) => send(exchange.res, 200, exchange.puid, text, metrics.contentType),
      (err: unknown) => this.fail(exchange, err),
    );
  }

  private shadow(executor: GatewayPredictor, message: SeldonMessage, puid: string, limits: CallLimits): void {
    executor.predict(message, puid, limits).catch((err: unknown) => {
      this.config.logger?.debug({ err, predictor: executor.name, puid }, 'shadow predictor failed; its answer is ignored');
    });
  }

  async feedback(exchange: Exchange, entry: DeploymentEntry, query: string): Promise<void> {
    const feedback = parseFeedback(await this.body(exchange, query));
    if (!exchange.puidFromHeader) {
      const responsePuid = feedback.response?.meta?.puid;
      if (isPuid(responsePuid)) exchange.puid = responsePuid;
    }
    const split = trafficOf(entry);
    // The predictor that made the prediction: the one whose graph holds every node of its requestPath.
    const path = feedback.response?.meta?.requestPath;
    const visited = path === undefined ? [] : Object.keys(path);
    const executor = (visited.length > 0 ? split.serving.find((e) => visited.every((n) => e.plan.nodes.has(n))) : undefined) ?? split.pick();
    if (executor === undefined) throw new TrantorError('UNAVAILABLE', `SeldonDeployment ${entry.namespace}/${entry.name} has no predictor to serve it`);
    seldonOnly(entry, executor);
    if (exchange.meter !== undefined) exchange.meter = executor.metrics;
    if (exchange.tap !== undefined) exchange.tap.predictor = executor.name;
    const reply = await executor.feedback(feedback, exchange.puid, this.limits(exchange));
    const body = stringifyJson(reply);
    send(exchange.res, 200, exchange.puid, body);
    if (exchange.tap !== undefined) tapAnswer(exchange.tap, body, reply);
    this.done(exchange, 200);
  }

  async v2Infer(exchange: Exchange, entry: DeploymentEntry, match: RouteMatch): Promise<void> {
    const split = trafficOf(entry);
    const executor = split.pick();
    if (executor === undefined) throw new TrantorError('UNAVAILABLE', `SeldonDeployment ${entry.namespace}/${entry.name} has no predictor to serve it`);
    // Checked before the body is read: a Seldon deployment's answer does not wait for a large upload.
    const v2 = v2Of(entry, executor);
    const { req, headers } = exchange;
    const bytes = await readBody(req, this.config.bodyLimit, headers.contentLength);
    if (exchange.tap !== undefined) {
      exchange.tap.request = bytes;
      exchange.tap.predictor = executor.name;
    }
    const request = readV2Request(req.headers, bytes);
    if (exchange.meter !== undefined) exchange.meter = executor.metrics;
    const limits = this.limits(exchange);
    const model = match.model!;
    for (const shadow of split.shadows) this.v2Shadow(shadow, model, match.version, request, exchange.puid, limits);
    const answer = await v2.infer(model, match.version, request, exchange.puid, limits);
    const { body, headers: extra } = writeV2Response(request.message, answer);
    exchange.res.writeHead(200, [...extra, 'Seldon-Puid', exchange.puid, 'Content-Length', String(body.length)]);
    exchange.res.end(body);
    if (exchange.tap !== undefined) exchange.tap.response = body;
    this.done(exchange, 200);
  }

  private v2Shadow(executor: GatewayPredictor, model: string, version: string | undefined, request: V2DecodedBody<V2InferenceRequest>, puid: string, limits: CallLimits): void {
    const v2 = executor.v2;
    if (v2 === undefined) return;
    v2.infer(model, version, request, puid, limits).catch((err: unknown) => {
      this.config.logger?.debug({ err, predictor: executor.name, puid }, 'shadow predictor failed; its answer is ignored');
    });
  }

  async v2Answer(exchange: Exchange, answer: Promise<V2Answer>): Promise<void> {
    const { status, body } = await answer;
    send(exchange.res, status, exchange.puid, stringifyJson(body));
    this.done(exchange, status);
  }

  async answerWith(exchange: Exchange, answer: Promise<unknown>): Promise<void> {
    const value = await answer;
    send(exchange.res, 200, exchange.puid, JSON.stringify(value));
    this.done(exchange, 200);
  }

  docs(exchange: Exchange, entry: DeploymentEntry, kind: 'doc' | 'openapi'): void {
    const split = trafficOf(entry);
    const target: DocTarget = {
      namespace: entry.namespace,
      name: entry.name,
      executors: entry.executors,
      primary: split.primary,
      origin: originOf(exchange),
    };
    const document = openApiDocument(target);
    if (kind === 'openapi') send(exchange.res, 200, exchange.puid, JSON.stringify(document, null, 2));
    else send(exchange.res, 200, exchange.puid, docPage(document, target), HTML_TYPE);
    this.done(exchange, 200);
  }

  private fail(exchange: Exchange, err: unknown): void {
    try {
      this.answerFailure(exchange, err);
    } catch (second) {
      this.config.logger?.error({ err: second, url: exchange.req.url }, 'could not answer a failed request; closing its connection');
      exchange.res.destroy();
    }
    // After the answer, so that the request tap gets the failure's body.
    this.done(exchange, asTrantorError(err).status);
  }

  private answerFailure(exchange: Exchange, err: unknown): void {
    const { res, req } = exchange;
    // The client is gone, or the request timeout has answered already.
    if (unanswerable(req, res, err)) return;
    const error = asTrantorError(err);
    const logger = this.config.logger;
    if (error.code === 'INTERNAL') logger?.error({ err, method: req.method, url: req.url, puid: exchange.puid }, 'unexpected error while answering a request');
    else if (error.status >= 500) logger?.warn({ code: error.code, message: error.message, url: req.url, puid: exchange.puid }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const podPrefix = this.config.podPrefix;
    const match = matchPath(path) ?? (podPrefix === undefined ? undefined : matchPath(podPrefix + path));
    // A V2 path's failures are the protocol's error body, `{"error": "..."}`, with the same status.
    const v2 = match?.route.scope === 'deployment' && match.route.v2 === true;
    const body = JSON.stringify(v2 ? v2ErrorBody(error) : failureBody(error));
    const headers = ['Content-Type', JSON_TYPE, 'Seldon-Puid', exchange.puid, 'Content-Length', String(Buffer.byteLength(body))];
    if (error.code === 'METHOD_NOT_ALLOWED' && match !== undefined) headers.push('Allow', match.route.methods.join(', '));
    // The rest of a refused body is not kept: close the connection once answered.
    if (!req.complete) closeAfterAnswer(req, res, headers, this.config.http.linger);
    res.writeHead(error.status, headers);
    res.end(body);
    if (exchange.tap !== undefined) exchange.tap.response = body;
  }
}


const HOST_TEXT = /^[A-Za-z0-9.\-:[\]]{1,255}$/;

function originOf(exchange: Exchange): string {
  const host = exchange.headers.host;
  if (host !== undefined && HOST_TEXT.test(host)) return `http://${host}`;
  const local = exchange.req.socket.localAddress ?? '127.0.0.1';
  const port = exchange.req.socket.localPort ?? 80;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}
