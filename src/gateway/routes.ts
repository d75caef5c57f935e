/**
 * The gateway's routes, in one table: each route's paths, methods, handler and OpenAPI path items.
 * `/ready`, `/live` and `/prometheus` sit at the root; each deployment's executor API sits under
 * `/seldon/<namespace>/<deployment>/` (or `/seldon/<deployment>/` for the `default` namespace, as
 * Seldon's Ambassador routes do). A new route (a V2 path, say) is one entry here. Matching is
 * string slicing and one map lookup per request; the maps are built from the table at load.
 */
import type { CallLimits } from '../executor/index.ts';
import type { DeploymentEntry } from './deployments.ts';
import type { Exchange } from './exchange.ts';
import { feedbackItem, graphMetadataItem, healthItem, modelMetadataItem, modelStatusItem, predictionsItem, type OperationContext, type PathItem } from './openapi.ts';
import { primaryOf } from './traffic.ts';
import { v2InferItem, v2LiveItem, v2ModelItem, v2ModelReadyItem, v2ReadyItem, v2ServerItem } from './v2-openapi.ts';
import { v2Live, v2ModelMetadata, v2ModelReady, v2ServerMetadata, v2ServerReady, type V2Answer } from './v2.ts';

export type RouteKind =
  | 'predictions'
  | 'feedback'
  | 'metadata'
  | 'health'
  | 'status'
  | 'doc'
  | 'openapi'
  | 'ready'
  | 'live'
  | 'prometheus'
  | 'v2-live'
  | 'v2-ready'
  | 'v2-server'
  | 'v2-model'
  | 'v2-model-ready'
  | 'v2-infer';

/** What the gateway offers a route's handler. */
export interface GatewayOps {
  /** A 200 with a fixed JSON body. */
  sendJson(exchange: Exchange, body: string): void;
  /** `/ready`: a 200 with `body`, or a 503 while a pod's components are not all up. */
  ready(exchange: Exchange, body: string): void;
  predict(exchange: Exchange, entry: DeploymentEntry, query: string): Promise<void>;
  feedback(exchange: Exchange, entry: DeploymentEntry, query: string): Promise<void>;
  /** A 200 with the JSON of what `answer` resolves to. */
  answerWith(exchange: Exchange, answer: Promise<unknown>): Promise<void>;
  /** The time left and the logging wish of the request, for an executor call. */
  limits(exchange: Exchange): CallLimits;
  /** A V2 inference: the body (JSON or binary_data) through the graph, answered as the request asks. */
  v2Infer(exchange: Exchange, entry: DeploymentEntry, match: RouteMatch): Promise<void>;
  /** Answers a V2 route's status and JSON body. */
  v2Answer(exchange: Exchange, answer: Promise<V2Answer>): Promise<void>;
  /** The deployment's doc page or OpenAPI document. */
  docs(exchange: Exchange, entry: DeploymentEntry, kind: 'doc' | 'openapi'): void;
  /** The metrics text, or 404 when metrics are off. */
  prometheus(exchange: Exchange): void;
}

export interface RoutePath {
  /** After `/seldon/<ns>/<name>` (or the whole path at the root). A last segment `{model}` takes any one segment. */
  readonly path: string;
  /** Its operations in the deployment's OpenAPI document; absent when the document leaves it out. */
  readonly openapi?: (context: OperationContext) => PathItem;
}

interface RouteBase {
  readonly kind: RouteKind;
  /** Methods the paths accept, for 405's `Allow`. */
  readonly methods: readonly string[];
  readonly paths: readonly RoutePath[];
}

export interface RootRoute extends RouteBase {
  readonly scope: 'root';
  serve(ops: GatewayOps, exchange: Exchange): void;
}

export interface DeploymentRoute extends RouteBase {
  readonly scope: 'deployment';
  /** Timed in the serving predictor's request histogram, with `service` (else `kind`) as its `service`. */
  readonly metered: boolean;
  /** The histogram's `service` label when it is not `kind`: Seldon's executor labels V2 calls as their Seldon twins. */
  readonly service?: string;
  /** A V2 (Open Inference Protocol) path: its failures are V2 error bodies, `{"error": "..."}`. */
  readonly v2?: boolean;
  /** Answers, or returns the work that will; a rejection is answered as a failure. */
  serve(ops: GatewayOps, exchange: Exchange, entry: DeploymentEntry, match: RouteMatch, query: string): Promise<void> | void;
}

export type Route = RootRoute | DeploymentRoute;

export interface RouteMatch {
  readonly route: Route;
  /** Absent for root paths (`/ready`, `/live`). */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** The `{model}` of `metadata/{model}`, `status/{model}` and the V2 model paths. */
  readonly model: string | undefined;
  /** The `{version}` of a V2 `…/versions/{version}/…` path. */
  readonly version?: string | undefined;
}

const GET = ['GET', 'HEAD'] as const;
const READY_BODY = JSON.stringify({ status: 'ready' });
const LIVE_BODY = JSON.stringify({ status: 'live' });

/** Every route the gateway serves; the OpenAPI document lists the documented paths in this order. */
export const ROUTES: readonly Route[] = Object.freeze([
  {
    kind: 'predictions', scope: 'deployment', metered: true, methods: ['POST', 'GET'],
    paths: [
      { path: '/api/v1.0/predictions', openapi: () => predictionsItem('Predict', 'predict') },
      { path: '/api/v0.1/predictions', openapi: () => predictionsItem('Predict (v0.1 path)', 'predictV01') },
    ],
    serve: (ops, exchange, entry, _match, query) => ops.predict(exchange, entry, query),
  },
  {
    kind: 'feedback', scope: 'deployment', metered: true, methods: ['POST'],
    paths: [
      { path: '/api/v1.0/feedback', openapi: () => feedbackItem('Send feedback on a prediction') },
      { path: '/api/v0.1/feedback', openapi: () => feedbackItem('Send feedback (v0.1 path)') },
    ],
    serve: (ops, exchange, entry, _match, query) => ops.feedback(exchange, entry, query),
  },
  {
    kind: 'metadata', scope: 'deployment', metered: true, methods: GET,
    paths: [
      { path: '/api/v1.0/metadata', openapi: graphMetadataItem },
      { path: '/api/v1.0/metadata/{model}', openapi: modelMetadataItem },
    ],
    serve: (ops, exchange, entry, match) => ops.answerWith(exchange, primaryOf(entry).metadata(match.model, ops.limits(exchange))),
  },
  {
    kind: 'health', scope: 'deployment', metered: true, methods: GET,
    paths: [{ path: '/api/v1.0/health/status', openapi: healthItem }],
    serve: (ops, exchange, entry) => ops.answerWith(exchange, primaryOf(entry).health(ops.limits(exchange))),
  },
  {
    kind: 'status', scope: 'deployment', metered: true, methods: GET,
    paths: [{ path: '/api/v1.0/status/{model}', openapi: modelStatusItem }],
    serve: (ops, exchange, entry, match) => ops.answerWith(exchange, primaryOf(entry).status(match.model!, ops.limits(exchange))),
  },
  {
    kind: 'doc', scope: 'deployment', metered: true, methods: GET,
    // `doc/` listed too: a trailing slash is stripped once, so `doc//` still reaches the page.
    paths: [{ path: '/api/v1.0/doc' }, { path: '/api/v1.0/doc/' }],
    serve: (ops, exchange, entry) => ops.docs(exchange, entry, 'doc'),
  },
  {
    kind: 'openapi', scope: 'deployment', metered: true, methods: GET,
    paths: [{ path: '/api/v1.0/doc/openapi.json' }],
    serve: (ops, exchange, entry) => ops.docs(exchange, entry, 'openapi'),
  },
  {
    kind: 'prometheus', scope: 'deployment', metered: false, methods: GET,
    paths: [{ path: '/prometheus' }],
    serve: (ops, exchange) => ops.prometheus(exchange),
  },
  // The Open Inference Protocol (V2), for `protocol: v2` deployments; Seldon's executor labels
  // infer, model ready and model metadata as `predictions`, `status` and `metadata`.
  {
    kind: 'v2-live', scope: 'deployment', metered: false, v2: true, methods: GET,
    paths: [{ path: '/v2/health/live', openapi: v2LiveItem }],
    serve: (ops, exchange, entry) => ops.v2Answer(exchange, v2Live(entry)),
  },
  {
    kind: 'v2-ready', scope: 'deployment', metered: false, v2: true, methods: GET,
    paths: [{ path: '/v2/health/ready', openapi: v2ReadyItem }],
    serve: (ops, exchange, entry) => ops.v2Answer(exchange, v2ServerReady(entry, ops.limits(exchange))),
  },
  {
    kind: 'v2-server', scope: 'deployment', metered: false, v2: true, methods: GET,
    paths: [{ path: '/v2', openapi: v2ServerItem }],
    serve: (ops, exchange, entry) => ops.v2Answer(exchange, v2ServerMetadata(entry)),
  },
  {
    kind: 'v2-model', scope: 'deployment', metered: true, service: 'metadata', v2: true, methods: GET,
    paths: [{ path: '/v2/models/{model}', openapi: v2ModelItem }, { path: '/v2/models/{model}/versions/{version}', openapi: (context) => v2ModelItem(context, true) }],
    serve: (ops, exchange, entry, match) => ops.v2Answer(exchange, v2ModelMetadata(entry, match.model!, match.version, ops.limits(exchange))),
  },
  {
    kind: 'v2-model-ready', scope: 'deployment', metered: true, service: 'status', v2: true, methods: GET,
    paths: [{ path: '/v2/models/{model}/ready', openapi: v2ModelReadyItem }, { path: '/v2/models/{model}/versions/{version}/ready', openapi: (context) => v2ModelReadyItem(context, true) }],
    serve: (ops, exchange, entry, match) => ops.v2Answer(exchange, v2ModelReady(entry, match.model!, match.version, ops.limits(exchange))),
  },
  {
    kind: 'v2-infer', scope: 'deployment', metered: true, service: 'predictions', v2: true, methods: ['POST'],
    paths: [{ path: '/v2/models/{model}/infer', openapi: v2InferItem }, { path: '/v2/models/{model}/versions/{version}/infer', openapi: (context) => v2InferItem(context, true) }],
    serve: (ops, exchange, entry, match) => ops.v2Infer(exchange, entry, match),
  },
  { kind: 'ready', scope: 'root', methods: GET, paths: [{ path: '/ready' }], serve: (ops, exchange) => ops.ready(exchange, READY_BODY) },
  { kind: 'live', scope: 'root', methods: GET, paths: [{ path: '/live' }], serve: (ops, exchange) => ops.sendJson(exchange, LIVE_BODY) },
  { kind: 'prometheus', scope: 'root', methods: GET, paths: [{ path: '/prometheus' }], serve: (ops, exchange) => ops.prometheus(exchange) },
] satisfies Route[]);

const MODEL = '{model}';
const VERSION = '{version}';
const ROOT_PATHS = new Map<string, Route>();
/** Paths with `{model}` (and `{version}`) inside them, as segments: the V2 model paths. */
const TEMPLATES: [readonly string[], Route][] = [];
/** Paths under a deployment, after `/seldon/<ns>/<name>`. */
const DEPLOYMENT_PATHS = new Map<string, Route>();
/** `…/metadata/` and `…/status/`: the prefixes of `{model}` paths. */
const WITH_MODEL: [string, Route][] = [];
for (const route of ROUTES) {
  for (const { path } of route.paths) {
    if (path.startsWith('/v2/models/')) {
      TEMPLATES.push([path.split('/'), route]);
      continue;
    }
    const withModel = path.endsWith(`/${MODEL}`);
    const key = withModel ? path.slice(0, -MODEL.length) : path;
    const seen = route.scope === 'root' ? ROOT_PATHS.get(key) : DEPLOYMENT_PATHS.get(key) ?? WITH_MODEL.find(([prefix]) => prefix === key)?.[1];
    if (seen !== undefined) throw new Error(`gateway route table: ${path} is listed twice (${seen.kind}, ${route.kind})`);
    if (route.scope === 'root') ROOT_PATHS.set(key, route);
    else if (withModel) WITH_MODEL.push([key, route]);
    else DEPLOYMENT_PATHS.set(key, route);
  }
}

/** The documented paths' OpenAPI path items, in table order. */
export function documentedPaths(context: OperationContext): Record<string, PathItem> {
  const paths: Record<string, PathItem> = {};
  for (const route of ROUTES) {
    for (const { path, openapi } of route.paths) if (openapi !== undefined) paths[path] = openapi(context);
  }
  return paths;
}

const PREFIX = '/seldon/';

function segment(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The route a path (without its query string) names, or undefined when none does. */
export function matchPath(path: string): RouteMatch | undefined {
  if (!path.startsWith(PREFIX)) {
    const root = ROOT_PATHS.get(path);
    return root === undefined ? undefined : { route: root, namespace: undefined, name: undefined, model: undefined };
  }
  const first = path.indexOf('/', PREFIX.length);
  if (first === -1) return undefined;
  const second = path.indexOf('/', first + 1);
  // `/seldon/<ns>/<name>/api/…`
  if (second !== -1) {
    const found = matchRest(path.slice(second), path.slice(PREFIX.length, first), path.slice(first + 1, second));
    if (found !== undefined) return found;
  }
  // `/seldon/<name>/api/…` — the default namespace.
  return matchRest(path.slice(first), 'default', path.slice(PREFIX.length, first));
}

function matchRest(rest: string, namespace: string, name: string): RouteMatch | undefined {
  if (namespace === '' || name === '') return undefined;
  const exact = DEPLOYMENT_PATHS.get(rest) ?? (rest.length > 1 && rest.endsWith('/') ? DEPLOYMENT_PATHS.get(rest.slice(0, -1)) : undefined);
  if (exact !== undefined) return { route: exact, namespace: segment(namespace), name: segment(name), model: undefined };
  if (rest.startsWith('/v2/models/')) return matchTemplate(rest, namespace, name);
  for (const [prefix, withModel] of WITH_MODEL) {
    if (rest.startsWith(prefix)) {
      let model = rest.slice(prefix.length);
      if (model.endsWith('/')) model = model.slice(0, -1);
      if (model === '' || model.includes('/')) return undefined;
      return { route: withModel, namespace: segment(namespace), name: segment(name), model: segment(model) };
    }
  }
  return undefined;
}

/** A V2 model path: each template segment a literal, `{model}` or `{version}` (one non-empty segment each). */
function matchTemplate(rest: string, namespace: string, name: string): RouteMatch | undefined {
  const parts = (rest.endsWith('/') ? rest.slice(0, -1) : rest).split('/');
  for (const [template, route] of TEMPLATES) {
    if (template.length !== parts.length) continue;
    let model: string | undefined;
    let version: string | undefined;
    let fits = true;
    for (let i = 0; i < parts.length && fits; i++) {
      const want = template[i]!;
      const part = parts[i]!;
      if (want === MODEL) model = part;
      else if (want === VERSION) version = part;
      else fits = want === part;
      if ((want === MODEL || want === VERSION) && part === '') fits = false;
    }
    if (fits) return { route, namespace: segment(namespace), name: segment(name), model: model === undefined ? undefined : segment(model), version: version === undefined ? undefined : segment(version) };
  }
  return undefined;
}
