/**
 * What the operator is told at install time that changes what a SeldonDeployment renders to:
 * images, which ingress objects to make, the executor's ports and resources. Key names follow
 * Seldon's Helm chart values where the meaning is the same (`istio.enabled`, `executor.*`,
 * `predictiveUnit.*`, `storageInitializer.*`, `keda.enabled`, `predictor_servers`), so a user's
 * `--set` flags carry over. Compiled once by the operator's main and passed to render() frozen.
 */

import { RenderError } from './objects.ts';

/** The image of one prepackaged server for one protocol (Seldon's `predictor_servers` entries). */
export interface ServerImage {
  readonly image: string;
  readonly defaultImageVersion: string;
}

/** `IMPLEMENTATION → {protocols: {seldon|v2: {image, defaultImageVersion}}}`, as Seldon's ConfigMap key `predictor_servers`. */
export type PredictorServers = Readonly<Record<string, { readonly protocols: Readonly<Partial<Record<'seldon' | 'v2', ServerImage>>> }>>;

export interface Resources {
  readonly requests: Readonly<Record<string, string>>;
  readonly limits: Readonly<Record<string, string>>;
}

export interface RenderConfig {
  readonly executor: {
    readonly image: string;
    readonly port: number;
    readonly grpcPort: number;
    readonly user: number;
    readonly resources: Resources;
    readonly requestLoggerDefaultEndpoint: string;
    readonly requestLoggerWorkQueueSize: number;
    readonly requestLoggerWriteTimeoutMs: number;
    readonly fullHealthChecks: boolean;
    readonly prometheusPath: string;
  };
  readonly predictiveUnit: {
    /** The first HTTP port of the component containers (9000); each next container name takes the next. */
    readonly httpPort: number;
    readonly grpcPort: number;
    readonly metricsPort: number;
    /** The Secret of storage credentials used when a node names none (`envSecretRefName`). */
    readonly defaultEnvSecretRefName: string;
  };
  readonly storageInitializer: { readonly image: string; readonly resources: Resources };
  readonly predictorServers: PredictorServers;
  /** `runAsUser` of the pods that do not set one (Seldon's `defaultUserID`). */
  readonly defaultUserId: number;
  readonly keda: { readonly enabled: boolean };
  readonly istio: { readonly enabled: boolean; readonly gateway: string; readonly tlsMode: string };
  readonly ambassador: { readonly enabled: boolean };
  /** Trantor's own gateway per SeldonDeployment: traffic split, shadow and Seldon's paths without a mesh. */
  readonly gateway: { readonly enabled: boolean; readonly image: string; readonly replicas: number; readonly resources: Resources };
  readonly ingress: { readonly enabled: boolean; readonly className: string; readonly host: string };
  readonly gatewayApi: { readonly enabled: boolean; readonly parentRefs: readonly Readonly<Record<string, string>>[]; readonly hostnames: readonly string[] };
}

/** The tag of Trantor's own images that this version renders by default. */
export const IMAGE_TAG = '0.1.0';
const TRANTOR_IMAGE = `ghcr.io/trantor-ml/trantor:${IMAGE_TAG}`;

const EXECUTOR_RESOURCES: Resources = { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '500m', memory: '512Mi' } };

export const DEFAULT_RENDER_CONFIG: RenderConfig = deepFreeze({
  executor: {
    image: TRANTOR_IMAGE,
    port: 8000,
    grpcPort: 5001,
    user: 8888,
    resources: EXECUTOR_RESOURCES,
    requestLoggerDefaultEndpoint: 'http://default-broker',
    requestLoggerWorkQueueSize: 10000,
    requestLoggerWriteTimeoutMs: 2000,
    fullHealthChecks: false,
    prometheusPath: '/prometheus',
  },
  predictiveUnit: { httpPort: 9000, grpcPort: 9500, metricsPort: 6000, defaultEnvSecretRefName: '' },
  storageInitializer: {
    // Ours: `trantor storage-init`, the same code as `trantor up`'s fetcher (any KServe-style image works too).
    image: TRANTOR_IMAGE,
    resources: { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  },
  predictorServers: {
    // The Python host serves both protocols (V2 with MLServer's conventions).
    SKLEARN_SERVER: {
      protocols: {
        seldon: { image: 'ghcr.io/trantor-ml/python-host', defaultImageVersion: IMAGE_TAG },
        v2: { image: 'ghcr.io/trantor-ml/python-host', defaultImageVersion: IMAGE_TAG },
      },
    },
    // Seldon's own servers for these, as its chart names them (Trantor runs them locally itself).
    XGBOOST_SERVER: {
      protocols: {
        seldon: { image: 'seldonio/xgboostserver', defaultImageVersion: '1.18.2' },
        v2: { image: 'seldonio/mlserver', defaultImageVersion: '1.3.5-xgboost' },
      },
    },
    MLFLOW_SERVER: {
      protocols: {
        seldon: { image: 'seldonio/mlflowserver', defaultImageVersion: '1.18.2' },
        v2: { image: 'seldonio/mlserver', defaultImageVersion: '1.3.5-mlflow' },
      },
    },
    TRITON_SERVER: { protocols: { v2: { image: 'nvcr.io/nvidia/tritonserver', defaultImageVersion: '21.08-py3' } } },
  },
  defaultUserId: 8888,
  keda: { enabled: false },
  istio: { enabled: false, gateway: 'istio-system/seldon-gateway', tlsMode: '' },
  ambassador: { enabled: false },
  gateway: { enabled: true, image: TRANTOR_IMAGE, replicas: 1, resources: EXECUTOR_RESOURCES },
  ingress: { enabled: false, className: '', host: '' },
  gatewayApi: { enabled: false, parentRefs: [], hostnames: [] },
});

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * The defaults with `given` laid over them key by key, as Helm merges values (a list replaces the
 * default whole; an implementation added to predictorServers keeps the others); a RenderError for
 * settings that cannot work together.
 */
export function renderConfig(given: DeepPartial<RenderConfig> = {}): RenderConfig {
  const config = merge(DEFAULT_RENDER_CONFIG, given) as RenderConfig;
  for (const front of ['ingress', 'gatewayApi'] as const) {
    if (config[front].enabled && !config.gateway.enabled) {
      throw new RenderError(`${front}.enabled needs gateway.enabled: the ${front === 'ingress' ? 'Ingress' : 'HTTPRoute'} routes /seldon/<namespace>/<name>/ to Trantor's gateway`);
    }
  }
  if (config.gatewayApi.enabled && config.gatewayApi.parentRefs.length === 0) {
    throw new RenderError('gatewayApi.enabled needs gatewayApi.parentRefs: the Gateway(s) the HTTPRoute attaches to');
  }
  return deepFreeze(config);
}

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return structuredClone(base);
  if (!isPlainObject(base) || !isPlainObject(over)) return structuredClone(over);
  const out: Record<string, unknown> = { ...structuredClone(base) };
  for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
