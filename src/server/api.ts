/**
 * The control-plane HTTP API that the CLI (and anyone with curl) uses; docs/api.md lists it.
 * It listens on loopback only, on a port recorded in <home>/control-plane.json.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { announcedLength, assertJsonDepth, closer, compileRequestOrigin, createHttpServer, listen, readText, sendFailure, urlOf } from '../http/index.ts';
import { apiOptions, type ApiOptions } from './api-options.ts';
import { parseJson, TrantorError } from '../protocol/index.ts';
import { requireToken, type ApiToken } from './api-token.ts';
import { checkObjectSegments, pathSegments, percentDecoded } from './api-paths.ts';
import { API_OPENAPI } from './api-openapi.ts';
import { streamWatch, wantsWatch, type Subscribe } from './watch.ts';
import type { ApplyMode, ApplyResponse, BrokerView, ConfigMapView, DeploymentView, KubeDeploymentView, LogLine, ObjectEvent, ObjectEventFilter, ServiceView, SinkRegistration, TriggerView } from '../manifest/index.ts';
import { admits, formatLogLine, parseLogsQuery, selectLogLines } from './logs-query.ts';
import { graphNodes, packageVersion } from '../manifest/index.ts';

export interface ControlPlaneOps {
  apply(text: string, source: string, baseDir: string, mode?: ApplyMode): Promise<ApplyResponse>;
  list(): DeploymentView[];
  get(namespace: string, name: string): DeploymentView | undefined;
  remove(namespace: string, name: string): Promise<boolean>;
  /** The kept lines of a deployment's replicas, oldest first; with `previous`, those of each restarted replica's run before. */
  logs(namespace: string, name: string, options: { previous: boolean }): LogLine[];
  /** Calls `onLine` for each new log line, and `onEnd` once the deployment is deleted, until the returned function is called. */
  followLogs(namespace: string, name: string, onLine: (line: LogLine) => void, onEnd: () => void): () => void;
  /** The recorded Kubernetes-style Events that pass `filter`, newest last. */
  events(filter: ObjectEventFilter): ObjectEvent[];
  /** Tells `onChange` whenever a deployment may have been added, changed or removed (`?watch=1`). */
  watchChanges?: Subscribe;
}

/** `?namespace=&kind=&name=` of `GET /v1/events`; an empty value narrows nothing. */
function eventFilter(url: URL): ObjectEventFilter {
  const filter: ObjectEventFilter = {};
  for (const [key, value] of url.searchParams) {
    if (key !== 'namespace' && key !== 'kind' && key !== 'name') {
      throw new TrantorError('BAD_PATH', `GET /v1/events: unknown query parameter "${key}"; use namespace, kind or name`);
    }
    if (value !== '') filter[key] = value;
  }
  return filter;
}

/** Brokers, triggers, services and event sinks. */
export interface EventingOps {
  triggers(): TriggerView[];
  brokers(): BrokerView[];
  services(): ServiceView[];
  kubeDeployments(): KubeDeploymentView[];
  /** Knative's broker defaults (`config-br-defaults`), when applied. */
  configMaps(): ConfigMapView[];
  remove(plural: string, namespace: string, name: string): Promise<boolean>;
  registerSink(namespace: string, name: string, url: string): Promise<void>;
  unregisterSink(namespace: string, name: string): Promise<boolean>;
  hasBroker(namespace: string, name: string): boolean;
  /** A broker's events as JSON lines (structured mode), from `fromSeq` or from now, until `signal` aborts. */
  tail(namespace: string, name: string, fromSeq: number | undefined, signal: AbortSignal): AsyncIterable<string>;
  /** Tells `onChange` whenever an object of these kinds may have been added, changed or removed (`?watch=1`). */
  watchChanges?: Subscribe;
}

function unwatchable(path: string): TrantorError {
  return new TrantorError('NOT_SUPPORTED', `GET ${path}?watch=1: this control plane sends no changes`);
}

const EVENTING_PLURALS = new Set(['triggers', 'brokers', 'services', 'kubedeployments', 'configmaps']);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const MANIFEST_TYPES = new Set(['application/yaml', 'application/x-yaml', 'application/json']);
const JSON_TYPES = new Set(['application/json']);

/**
 * Refuses a body whose media type is not one of `accepted`: a web page can send text/plain, a
 * form or multipart without asking first (a CORS "simple request"), never these.
 */
function requireMediaType(req: IncomingMessage, accepted: ReadonlySet<string>, what: string): void {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (!accepted.has(type)) {
    throw new TrantorError('UNSUPPORTED_MEDIA_TYPE', `${what}: Content-Type ${type === '' ? '(none)' : type} is not accepted; send ${[...accepted].join(', ')}`);
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? percentDecoded(value, `header ${name}`) : undefined;
}

/** Kubernetes' query parameters for a write: `dryRun=All` (nothing stored) and `fieldValidation=Strict|Warn|Ignore`. */
function applyModeOf(url: URL): ApplyMode {
  const dryRun = url.searchParams.get('dryRun');
  if (dryRun !== null && dryRun !== 'All') throw new TrantorError('BAD_PATH', `dryRun=${dryRun}: the only value is All (validate and answer, store nothing)`);
  const validation = url.searchParams.get('fieldValidation') ?? 'Warn';
  if (validation !== 'Strict' && validation !== 'Warn' && validation !== 'Ignore') {
    throw new TrantorError('BAD_PATH', `fieldValidation=${validation}: use Strict (refuse unknown fields), Warn (the default) or Ignore`);
  }
  return { dryRun: dryRun === 'All', fieldValidation: validation };
}

function notFound(namespace: string, name: string): TrantorError {
  return new TrantorError('NOT_FOUND', `no SeldonDeployment named "${name}" in namespace "${namespace}"`);
}

async function routeEventing(eventing: EventingOps, parts: string[], url: URL, req: IncomingMessage, res: ServerResponse, limits: ApiOptions): Promise<boolean> {
  const method = req.method ?? 'GET';
  const [, plural, namespace = '', name = '', sub] = parts;
  if (plural === 'sinks' && parts.length === 4) {
    if (method === 'PUT') {
      requireMediaType(req, JSON_TYPES, 'sink registration');
      const parsed = parseJson(await readText(req, { limitBytes: limits.bodyLimit, what: 'the sink registration' }, announcedLength(req)), 'sink registration');
      // Any JSON value may arrive (null, an array, a number): only an object with a URL is a registration.
      const registration = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<SinkRegistration>;
      if (typeof registration.url !== 'string' || !/^https?:\/\//.test(registration.url)) {
        throw new TrantorError('BAD_PAYLOAD', 'sink registration: expected {"url": "http://…"}');
      }
      await eventing.registerSink(namespace, name, registration.url);
      send(res, 200, { namespace, name, url: registration.url });
      return true;
    }
    if (method === 'DELETE') {
      if (!(await eventing.unregisterSink(namespace, name))) throw new TrantorError('NOT_FOUND', `no sink registered for Service ${namespace}/${name}`);
      send(res, 200, { deleted: { namespace, name } });
      return true;
    }
    throw new TrantorError('METHOD_NOT_ALLOWED', `${method} ${url.pathname}: use PUT or DELETE`);
  }
  if (plural === undefined || !EVENTING_PLURALS.has(plural)) return false;
  if (parts.length === 2 && method === 'GET') {
    const list = (): (TriggerView | BrokerView | ServiceView | ConfigMapView | KubeDeploymentView)[] =>
      plural === 'triggers' ? eventing.triggers()
      : plural === 'brokers' ? eventing.brokers()
      : plural === 'services' ? eventing.services()
      : plural === 'configmaps' ? eventing.configMaps()
      : eventing.kubeDeployments();
    if (wantsWatch(url)) {
      const watchChanges = eventing.watchChanges?.bind(eventing);
      if (watchChanges === undefined) throw unwatchable(url.pathname);
      streamWatch(req, res, url, list, watchChanges);
      return true;
    }
    send(res, 200, { items: list() });
    return true;
  }
  if (parts.length === 4 && method === 'DELETE') {
    if (!(await eventing.remove(plural, namespace, name))) throw new TrantorError('NOT_FOUND', `no ${plural.replace(/s$/, '')} named "${name}" in namespace "${namespace}"`);
    send(res, 200, { deleted: { plural, namespace, name } });
    return true;
  }
  if (plural === 'brokers' && parts.length === 5 && sub === 'events' && method === 'GET') {
    if (!eventing.hasBroker(namespace, name)) throw new TrantorError('NOT_FOUND', `no broker ${name} in namespace ${namespace}`);
    const from = url.searchParams.get('from');
    const abort = new AbortController();
    req.socket.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.flushHeaders(); // a stream may stay quiet for long: the client learns the status now
    for await (const line of eventing.tail(namespace, name, from === null ? undefined : Number(from), abort.signal)) res.write(`${line}\n`);
    res.end();
    return true;
  }
  return false;
}

/**
 * The API's routes, behind whatever admitted the caller: the API's own server (Origin, Host and
 * the bearer token) or the dashboard's data path on the gateway (same origin and a session).
 * `url` is the path as the API names it (`/v1/…`).
 */
export type ApiRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface ApiParts {
  ops: ControlPlaneOps;
  eventing?: EventingOps | undefined;
  limits?: ApiOptions;
  /** `POST /v1/dashboard/login`: a one-time code for the dashboard's login link. Absent: 404. */
  dashboardLogin?: () => { code: string; url: string; expiresAt: string };
}

export function apiRoutes(parts: ApiParts): ApiRoutes {
  const limits = parts.limits ?? apiOptions.defaults;
  return (req, res, url) => route(parts, req, res, url, limits);
}

async function route({ ops, eventing, dashboardLogin }: ApiParts, req: IncomingMessage, res: ServerResponse, url: URL, limits: ApiOptions): Promise<void> {
  const parts = pathSegments(url.pathname);
  checkObjectSegments(parts);
  const method = req.method ?? 'GET';
  if (parts[0] !== 'v1') throw new TrantorError('NOT_FOUND', `no API path ${url.pathname}; see docs/api.md`);

  if (parts[1] === 'health' && parts.length === 2) return send(res, 200, { status: 'ok' });
  // What `trantor version` prints as the Server Version (kubectl's GET /version).
  if (parts[1] === 'version' && parts.length === 2 && method === 'GET') return send(res, 200, { trantorVersion: packageVersion(), nodeVersion: process.version, platform: `${process.platform}/${process.arch}` });
  // This API as an OpenAPI document (api-openapi.ts).
  if (parts[1] === 'openapi.json' && parts.length === 2 && method === 'GET') return send(res, 200, API_OPENAPI);
  if (parts[1] === 'dashboard' && parts[2] === 'login' && parts.length === 3 && dashboardLogin !== undefined) {
    if (method !== 'POST') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} /v1/dashboard/login: use POST`);
    return send(res, 200, dashboardLogin());
  }
  if (eventing !== undefined && (await routeEventing(eventing, parts, url, req, res, limits))) return;

  if (parts[1] === 'events' && parts.length === 2) {
    if (method !== 'GET') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} /v1/events: use GET`);
    return send(res, 200, { items: ops.events(eventFilter(url)) });
  }

  if (parts[1] === 'apply' && parts.length === 2) {
    if (method !== 'POST') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} /v1/apply: use POST with the manifest as the body`);
    requireMediaType(req, MANIFEST_TYPES, 'POST /v1/apply');
    const source = header(req, 'x-trantor-source') ?? 'request body';
    const baseDir = header(req, 'x-trantor-base-dir') ?? process.cwd();
    const text = await readText(req, { limitBytes: limits.bodyLimit, what: 'the manifest' }, announcedLength(req));
    // YAML flow collections nest like JSON: refuse what the parser would recurse through.
    assertJsonDepth(text, source);
    const result = await ops.apply(text, source, baseDir, applyModeOf(url));
    // As Kubernetes does: each warning also in a `Warning: 299 - "…"` header, for clients that read only headers.
    if (result.warnings !== undefined) res.setHeader('warning', result.warnings.map((w) => `299 - ${JSON.stringify(w.replace(/[^\x20-\x7e]/g, '?'))}`));
    return send(res, 200, result);
  }

  if (parts[1] === 'deployments') {
    if (parts.length === 2) {
      if (method !== 'GET') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} /v1/deployments: use GET`);
      if (wantsWatch(url)) {
        const watchChanges = ops.watchChanges?.bind(ops);
        if (watchChanges === undefined) throw unwatchable(url.pathname);
        return streamWatch(req, res, url, () => ops.list(), watchChanges);
      }
      return send(res, 200, { items: ops.list() });
    }
    const [namespace, name, sub] = [parts[2] ?? '', parts[3] ?? '', parts[4]];
    if (parts.length === 4) {
      if (method === 'GET') {
        const view = ops.get(namespace, name);
        if (view === undefined) throw notFound(namespace, name);
        return send(res, 200, view);
      }
      if (method === 'DELETE') {
        if (!(await ops.remove(namespace, name))) throw notFound(namespace, name);
        return send(res, 200, { deleted: { kind: 'SeldonDeployment', namespace, name } });
      }
      throw new TrantorError('METHOD_NOT_ALLOWED', `${method} ${url.pathname}: use GET or DELETE`);
    }
    if (parts.length === 5 && sub === 'logs' && method === 'GET') {
      const view = ops.get(namespace, name);
      if (view === undefined) throw notFound(namespace, name);
      const query = parseLogsQuery(url.searchParams, Date.now());
      if (query.container !== undefined) {
        const nodes = [...new Set((view.spec.predictors ?? []).flatMap((p) => (p.graph === undefined ? [] : graphNodes({ graph: p.graph }).map((n) => n.name))))];
        if (!nodes.includes(query.container)) {
          throw new TrantorError('NOT_FOUND', `container=${query.container}: SeldonDeployment ${namespace}/${name} has no graph node of that name; its nodes are ${nodes.join(', ')}`);
        }
      }
      const kept = ops.logs(namespace, name, { previous: query.previous });
      if (query.previous && !kept.some((line) => admits(query, line))) {
        throw new TrantorError('NOT_FOUND', `previous=true: no replica of SeldonDeployment ${namespace}/${name}${query.container === undefined ? '' : ` node ${query.container}`} has restarted, so none has a previous run`);
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.flushHeaders(); // with no past lines, following would otherwise send nothing at all
      for (const line of selectLogLines(kept, query)) res.write(formatLogLine(line, query.timestamps));
      // A previous run has ended: there is nothing to follow (as kubectl logs -p -f).
      if (!query.follow || query.previous) {
        res.end();
        return;
      }
      const stop = ops.followLogs(
        namespace,
        name,
        (line) => {
          if (admits(query, line)) res.write(formatLogLine(line, query.timestamps));
        },
        () => res.end(),
      );
      req.socket.on('close', stop);
      res.on('finish', stop);
      return;
    }
  }
  throw new TrantorError('NOT_FOUND', `no API path ${method} ${url.pathname}; see docs/api.md`);
}

export interface ApiServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * The API on its own port. `token` is required on every call (`Authorization: Bearer`),
 * `/v1/health` included; before it, no web page may drive the API (it starts processes), so any
 * Origin but the API's own, and any Host but its loopback names, is refused.
 */
export async function startApi(parts: ApiParts, token: ApiToken, host = '127.0.0.1', port = 0): Promise<ApiServer> {
  const limits = parts.limits ?? apiOptions.defaults;
  const routes = apiRoutes(parts);
  const server = createHttpServer({ requestTimeoutMs: limits.requestTimeout, keepAliveTimeoutMs: limits.keepAliveTimeout });
  const bound = await listen(server, port, host);
  // The Host policy needs the port listened on; no request is read before this handler is added.
  const origin = compileRequestOrigin({ bindHost: host, port: bound });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const admitted = async (): Promise<void> => {
      origin.admit({ host: req.headers.host, origin: req.headers.origin, fetchSite: single(req.headers['sec-fetch-site']), fetchMode: single(req.headers['sec-fetch-mode']) }, req.httpVersionMinor === 0);
      requireToken(token, req, res);
      await routes(req, res, new URL(req.url ?? '/', 'http://control-plane'));
    };
    admitted().catch((err: unknown) => {
      if (res.headersSent) res.end();
      else sendFailure(req, res, err);
    });
  });
  const close = closer(server);
  return {
    server,
    url: urlOf(host, bound),
    close: () => {
      // Log followers and event tails never finish by themselves.
      server.closeAllConnections();
      return close();
    },
  };
}
