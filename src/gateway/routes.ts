/**
 * The gateway's paths: `/ready`, `/live` and `/prometheus` at the root, and each deployment's executor API under
 * `/seldon/<namespace>/<deployment>/` (or `/seldon/<deployment>/` for the `default` namespace,
 * as Seldon's Ambassador routes do). Matching is string slicing and one map lookup per request.
 */

export type RouteKind = 'predictions' | 'feedback' | 'metadata' | 'health' | 'status' | 'doc' | 'openapi' | 'ready' | 'live' | 'prometheus';

export interface Route {
  readonly kind: RouteKind;
  /** Methods the path accepts, for 405's `Allow`. */
  readonly methods: readonly string[];
}

export interface RouteMatch {
  readonly route: Route;
  /** Absent for root paths (`/ready`, `/live`). */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  /** The `<model>` of `metadata/<model>` and `status/<model>`. */
  readonly model: string | undefined;
}

const GET = ['GET', 'HEAD'] as const;
const POST = ['POST'] as const;

const route = (kind: RouteKind, methods: readonly string[]): Route => Object.freeze({ kind, methods });

const PREDICTIONS = route('predictions', ['POST', 'GET']);
const FEEDBACK = route('feedback', POST);
const METADATA = route('metadata', GET);
const HEALTH = route('health', GET);
const STATUS = route('status', GET);
const DOC = route('doc', GET);
const OPENAPI = route('openapi', GET);
const READY = route('ready', GET);
const LIVE = route('live', GET);
const PROMETHEUS = route('prometheus', GET);

/** Paths under a deployment, after `/seldon/<ns>/<name>`. */
const DEPLOYMENT_ROUTES = new Map<string, Route>([
  ['/api/v1.0/predictions', PREDICTIONS],
  ['/api/v0.1/predictions', PREDICTIONS],
  ['/api/v1.0/feedback', FEEDBACK],
  ['/api/v0.1/feedback', FEEDBACK],
  ['/api/v1.0/metadata', METADATA],
  ['/api/v1.0/health/status', HEALTH],
  ['/api/v1.0/doc', DOC],
  ['/api/v1.0/doc/', DOC],
  ['/api/v1.0/doc/openapi.json', OPENAPI],
  ['/prometheus', PROMETHEUS],
]);

const WITH_MODEL: readonly (readonly [string, Route])[] = [
  ['/api/v1.0/metadata/', METADATA],
  ['/api/v1.0/status/', STATUS],
];

const ROOT_ROUTES = new Map<string, Route>([
  ['/ready', READY],
  ['/live', LIVE],
  ['/prometheus', PROMETHEUS],
]);

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
    const root = ROOT_ROUTES.get(path);
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
  const exact = DEPLOYMENT_ROUTES.get(rest) ?? (rest.length > 1 && rest.endsWith('/') ? DEPLOYMENT_ROUTES.get(rest.slice(0, -1)) : undefined);
  if (exact !== undefined) return { route: exact, namespace: segment(namespace), name: segment(name), model: undefined };
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
