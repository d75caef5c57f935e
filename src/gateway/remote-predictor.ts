/**
 * A predictor served elsewhere: its executor (`trantor executor` in the predictor's pods, behind
 * the predictor's Service) answers Seldon's API at the root of `url`. The gateway in front
 * (`trantor gateway`) splits traffic, copies to shadows and checks requests as `trantor up`'s
 * does; each predictor call is one HTTP request to the executor, over the HTTP transport's
 * keep-alive pools with its timeouts, retries and outlier ejection. The executor has applied its
 * own limits and gathered the graph's meta: its answer, or its Seldon failure with status and
 * reason, is passed on as it came.
 *
 * A `protocol: v2` deployment's executors answer the Open Inference Protocol at their root: the
 * V2 face forwards each call to the same path there (`/v2/models/<m>[/versions/<v>]/infer`, the
 * ready checks, metadata), whichever wire the gateway's client used (REST JSON, binary_data, or
 * gRPC). Inputs that came as JSON go as JSON, keeping their text; inputs that came as binary data
 * or raw gRPC contents go as binary data. The executor is asked for JSON outputs (the raw HTTP
 * call reads text), and the gateway writes the outputs its client asked for as binary itself.
 * The executor's V2 failure (`{"error": …}`) comes back with its status and message.
 */
import {
  HttpTransport,
  httpTransportOptions,
  replyOfText,
  v2RestInfer,
  v2RestModelMetadata,
  v2RestReady,
  type CallLimits,
  type EndpointSource,
  type ExecutorOptions,
  type Metrics,
  type PredictorMetrics,
  type ReplicaAddress,
  type UnitKey,
  type V2CallOptions,
  type V2RestTarget,
} from '../executor/index.ts';
import type { Predictor } from '../manifest/index.ts';
import { binaryDataSize, stringifyJson, type Feedback, type SeldonMessage, type V2DecodedBody, type V2InferenceRequest, type V2InferenceResponse, type V2ModelMetadata } from '../protocol/index.ts';
import type { DeploymentEntry } from './deployments.ts';
import type { GatewayPredictor, V2Predictor } from './predictor.ts';

/** One predictor as the gateway's Deployment is told it (TRANTOR_GATEWAY_PREDICTORS). */
export interface RemotePredictorSpec {
  readonly name: string;
  readonly traffic: number;
  readonly shadow: boolean;
  /** The executor's address, `http://<predictor service>.<ns>.svc.cluster.local:8000`. */
  readonly url: URL;
  /** The graph's node names, root first, when known: feedback then finds the predictor that made its prediction. */
  readonly nodes: readonly string[];
  /** The deployment's `spec.protocol`: what the executor answers at its root. */
  readonly protocol: 'seldon' | 'v2';
}

export interface RemoteDeploymentOptions {
  readonly namespace: string;
  /** The SeldonDeployment's name. */
  readonly name: string;
  readonly predictors: readonly RemotePredictorSpec[];
  /** The executor's compiled options: the HTTP transport's pools, timeouts, retries and ejection. */
  readonly executor: ExecutorOptions;
  /** How long a call may take when the caller does not say. */
  readonly timeoutMs: number;
  /** Where the gateway times requests (`seldon_api_executor_server_requests_seconds`); off when absent. */
  readonly metrics?: Metrics;
}

/** A SeldonDeployment whose predictors all run elsewhere: the gateway's one table entry, over one transport. */
export interface RemoteDeployment {
  readonly entry: DeploymentEntry;
  readonly predictors: readonly RemotePredictor[];
  /** Why the deployment cannot serve yet (the non-shadow predictors whose executor is not ready), or undefined. */
  notReady(timeoutMs: number): Promise<string | undefined>;
  /** Closes the transport's connections. */
  close(): Promise<void>;
}

export function remoteDeployment(options: RemoteDeploymentOptions): RemoteDeployment {
  const { namespace, name } = options;
  const addresses = new Map(options.predictors.map((spec) => [spec.name, Object.freeze([remoteAddress(spec)])]));
  const endpoints: EndpointSource = { replicasOf: (unit) => addresses.get(unit.predictor) ?? [] };
  const transport = new HttpTransport(httpTransportOptions(endpoints, options.executor));
  const predictors = options.predictors.map((spec) => new RemotePredictor({ namespace, deployment: name, spec, transport, timeoutMs: options.timeoutMs, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) }));
  const serving = predictors.filter((p) => !p.shadow);
  return {
    entry: { namespace, name, executors: predictors },
    predictors,
    notReady: async (timeoutMs) => {
      const missing = (await Promise.all(serving.map((p) => p.notReady(timeoutMs)))).filter((why) => why !== undefined);
      return missing.length === 0 ? undefined : `not every predictor's executor is ready: ${missing.join('; ')}`;
    },
    close: () => transport.close(),
  };
}

interface RemotePredictorOptions {
  readonly namespace: string;
  readonly deployment: string;
  readonly spec: RemotePredictorSpec;
  /** Shared by the deployment's predictors; its endpoints offer `remoteAddress(spec)` for the predictor. */
  readonly transport: HttpTransport;
  readonly timeoutMs: number;
  readonly metrics?: Metrics;
}

const NO_LIMITS: CallLimits = {};
const PUID_HEADER = 'seldon-puid';
const SKIP_LOGGING_HEADER = 'seldon-skip-logging';

/** The transport's key for a predictor's executor: one "node" standing for the whole graph. */
function unitOf(namespace: string, deployment: string, predictor: string): UnitKey {
  return { namespace, deployment, predictor, node: 'executor' };
}

/** The executor's address as the transport's replica: the Service is its one replica (the Service balances over pods). */
function remoteAddress(spec: RemotePredictorSpec): ReplicaAddress {
  const { hostname, port, protocol, host } = spec.url;
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return { id: `${spec.name}@${host}`, host: bare, port: port === '' ? (protocol === 'https:' ? 443 : 80) : Number(port) };
}

export class RemotePredictor implements GatewayPredictor {
  readonly name: string;
  readonly traffic: number;
  readonly shadow: boolean;
  readonly metrics: PredictorMetrics | undefined;
  readonly nodeNames: readonly string[];
  readonly plan: { readonly nodes: ReadonlySet<string> };
  readonly protocol: 'seldon' | 'v2';
  readonly v2: V2Predictor | undefined;
  private readonly unit: UnitKey;
  private readonly transport: HttpTransport;
  private readonly timeoutMs: number;
  /** The URL's path, put before each API path (empty for a Service's root). */
  private readonly base: string;

  constructor(options: RemotePredictorOptions) {
    const { spec } = options;
    this.name = spec.name;
    this.traffic = spec.traffic;
    this.shadow = spec.shadow;
    this.nodeNames = spec.nodes;
    this.plan = { nodes: new Set(spec.nodes) };
    this.unit = unitOf(options.namespace, options.deployment, spec.name);
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs;
    this.base = spec.url.pathname.replace(/\/+$/, '');
    this.metrics = options.metrics?.forPredictor(options.deployment, metricsPredictor(spec), options.namespace);
    this.protocol = spec.protocol;
    this.v2 = spec.protocol === 'v2' ? new RemoteV2(this.name, this.unit, this.base, this.transport, (limits) => this.remaining(limits)) : undefined;
  }

  async predict(message: SeldonMessage, puid: string, limits: CallLimits = NO_LIMITS): Promise<SeldonMessage> {
    return (await this.call('POST', '/api/v1.0/predictions', stringifyJson(message), puid, limits, 'predict')) as SeldonMessage;
  }

  async feedback(feedback: Feedback, puid: string, limits: CallLimits = NO_LIMITS): Promise<SeldonMessage> {
    // Feedback changes routers' state: not sent twice when a connection breaks mid-call.
    return (await this.call('POST', '/api/v1.0/feedback', stringifyJson(feedback), puid, limits, 'sendFeedback', false)) as SeldonMessage;
  }

  metadata(model?: string, limits: CallLimits = NO_LIMITS): Promise<unknown> {
    const path = model === undefined ? '/api/v1.0/metadata' : `/api/v1.0/metadata/${encodeURIComponent(model)}`;
    return this.call('GET', path, '', undefined, limits, 'metadata');
  }

  health(limits: CallLimits = NO_LIMITS): Promise<unknown> {
    return this.call('GET', '/api/v1.0/health/status', '', undefined, limits, 'health');
  }

  status(model: string, limits: CallLimits = NO_LIMITS): Promise<unknown> {
    return this.call('GET', `/api/v1.0/status/${encodeURIComponent(model)}`, '', undefined, limits, 'health');
  }

  /** Why the executor is not ready (its own `/ready` text, or no answer), or undefined when it is. */
  async notReady(timeoutMs: number): Promise<string | undefined> {
    try {
      const { status, body } = await this.transport.call(this.unit, `${this.base}/ready`, '', { method: 'GET', idempotent: true, timeoutMs });
      if (status === 200) return undefined;
      return `${this.name} (HTTP ${status}${detailOf(body)})`;
    } catch (err) {
      return `${this.name} (${err instanceof Error ? err.message : String(err)})`;
    }
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body: string,
    puid: string | undefined,
    limits: CallLimits,
    reads: 'predict' | 'sendFeedback' | 'metadata' | 'health',
    idempotent = true,
  ): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (puid !== undefined) headers[PUID_HEADER] = puid;
    if (limits.skipLogging === true) headers[SKIP_LOGGING_HEADER] = 'true';
    const response = await this.transport.call(this.unit, this.base + path, body, { method, headers, idempotent, timeoutMs: this.remaining(limits) });
    const reply = replyOfText(this.unit, reads, response.status, response.body);
    if (reply.failure !== undefined) throw reply.failure;
    return reply.message;
  }

  /** What is left of the request's time. */
  private remaining(limits: CallLimits): number {
    const timeoutMs = limits.timeoutMs ?? this.timeoutMs;
    return limits.since === undefined ? timeoutMs : Math.max(1, limits.since + timeoutMs - Date.now());
  }
}

/** The V2 face of a `protocol: v2` predictor: the executor's own V2 paths, called as the executor calls a V2 node. */
class RemoteV2 implements V2Predictor {
  private readonly who: string;

  constructor(
    name: string,
    private readonly unit: UnitKey,
    private readonly base: string,
    private readonly transport: HttpTransport,
    private readonly remaining: (limits: CallLimits) => number,
  ) {
    this.who = `predictor "${name}"'s executor`;
  }

  infer(model: string, version: string | undefined, request: V2DecodedBody<V2InferenceRequest>, puid: string, limits: CallLimits = NO_LIMITS): Promise<V2DecodedBody<V2InferenceResponse>> {
    // An input without JSON data came as binary data or gRPC contents: it stays binary.
    const binary = new Set(request.message.inputs.filter((input) => input.data === undefined || binaryDataSize(input.parameters) !== undefined).map((input) => input.name));
    return v2RestInfer(this.transport, this.target(modelPath(model, version, '/infer')), request, (name) => binary.has(name), this.options(limits, puid));
  }

  modelReady(model: string, version: string | undefined, limits: CallLimits = NO_LIMITS): Promise<boolean> {
    return v2RestReady(this.transport, this.target(modelPath(model, version, '/ready')), this.options(limits));
  }

  modelMetadata(model: string, version: string | undefined, limits: CallLimits = NO_LIMITS): Promise<V2ModelMetadata> {
    return v2RestModelMetadata(this.transport, this.target(modelPath(model, version, '')), this.options(limits));
  }

  serverReady(limits: CallLimits = NO_LIMITS): Promise<boolean> {
    return v2RestReady(this.transport, this.target('/v2/health/ready'), this.options(limits));
  }

  private target(path: string): V2RestTarget {
    return { unit: this.unit, path: this.base + path, who: this.who };
  }

  /** Idempotent, as predictions are: a call lost with its connection is sent again. */
  private options(limits: CallLimits, puid?: string): V2CallOptions {
    return { idempotent: true, timeoutMs: this.remaining(limits), puid, skipLogging: limits.skipLogging };
  }
}

/** A model's V2 path on the executor: `/v2/models/<m>[/versions/<v>]` and the action. */
function modelPath(model: string, version: string | undefined, action: '/infer' | '/ready' | ''): string {
  const versioned = version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
  return `/v2/models/${encodeURIComponent(model)}${versioned}${action}`;
}

/** The `status.info` of an executor's failure body, else the start of its text. */
function detailOf(body: string): string {
  try {
    const info = (JSON.parse(body) as { status?: { info?: unknown } }).status?.info;
    if (typeof info === 'string') return `: ${info}`;
  } catch {
    // Not JSON: the text itself.
  }
  const text = body.trim();
  return text === '' ? '' : `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** The labels the request histogram takes from a predictor: its name (the version label stays empty). */
function metricsPredictor(spec: RemotePredictorSpec): Predictor {
  return {
    name: spec.name,
    graph: { name: spec.nodes[0] ?? spec.name, endpoint: { type: 'REST' }, parameters: [], children: [] },
    componentSpecs: [],
    replicas: 1,
    traffic: spec.traffic,
    shadow: spec.shadow,
    labels: {},
    annotations: {},
  };
}
