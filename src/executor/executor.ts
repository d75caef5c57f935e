/**
 * One predictor's executor: predictions, feedback, metadata and health of its graph, over a
 * Transport. Everything about the graph is compiled when the executor is built.
 */
import { TrantorError } from '../protocol/index.ts';
import type { Feedback, SeldonMessage } from '../protocol/index.ts';
import { graphNodes, isExecutorBuiltIn } from '../manifest/index.ts';
import type { Predictor } from '../manifest/index.ts';
import { BatchingTransport, batchedUnits } from './batching.ts';
import { MetaTrail } from './meta.ts';
import { EXECUTOR_DEFAULTS } from './options.ts';
import type { ExecutorOptions } from './options.ts';
import { MeteredTransport } from './metrics.ts';
import type { Metrics, NodeMetrics, PredictorMetrics } from './metrics.ts';
import { planGraph, remoteNodes } from './plan.ts';
import type { GraphPlan, NodePlan } from './plan.ts';
import { planLoggers } from './request-logger.ts';
import type { NodeLogger, RequestLogger } from './request-logger.ts';
import type { UnitKey } from './transport/endpoints.ts';
import type { Reply, Transport } from './transport/transport.ts';
import { feedbackNode, predictNode } from './walk.ts';
import type { Walk } from './walk.ts';
import { ByEndpointV2Transport } from './v2/by-endpoint.ts';
import { V2Graph } from './v2/graph.ts';
import { MeteredV2Transport } from './v2/metered.ts';
import type { V2Transport } from './v2/transport.ts';

export interface PredictorExecutorOptions {
  namespace: string;
  /** The SeldonDeployment's `metadata.name`. */
  deployment: string;
  predictor: Predictor;
  transport: Transport;
  /** How long a request may take when the caller does not say; default 30 s. */
  timeoutMs?: number;
  /** Where calls to components and the components' `meta.metrics` are recorded; none when absent. */
  metrics?: Metrics;
  /** Where the nodes' `logger`s queue their events; the process's shared one when absent. */
  requestLogger?: RequestLogger;
  /** The executor's compiled options (batching's default wait); the defaults when absent. */
  options?: ExecutorOptions;
  /** The deployment's `spec.protocol`; `seldon` when absent. */
  protocol?: 'seldon' | 'v2';
  /** How a `protocol: v2` graph's nodes are called; required for one, unused otherwise. */
  v2Transport?: V2Transport;
  /** How its nodes with `endpoint.type: GRPC` are called; such a node fails without it. */
  v2GrpcTransport?: V2Transport;
}

export interface CallLimits {
  /** How long the whole request may take; the executor's own limit when absent. */
  timeoutMs?: number;
  /** `Date.now()` when the request's time started counting (when it arrived); now when absent. */
  since?: number;
  /** The request said `Seldon-Skip-Logging`: its nodes log nothing. */
  skipLogging?: boolean;
}

/** The graph's metadata, shaped like Seldon's: each node's own metadata, and the graph's inputs and outputs. */
export interface GraphMetadata {
  name: string;
  models: Record<string, unknown>;
  graphinputs: unknown;
  graphoutputs: unknown;
}

const NO_LIMITS: CallLimits = {};

export class PredictorExecutor {
  readonly namespace: string;
  readonly deployment: string;
  /** The predictor's name. */
  readonly name: string;
  readonly predictor: Predictor;
  /** Share of the deployment's traffic (non-shadow predictors). */
  readonly traffic: number;
  /** A shadow gets a copy of the traffic; its answers are ignored. */
  readonly shadow: boolean;
  readonly plan: GraphPlan;
  /** This predictor's metric labels, for the gateway's request histogram; undefined when metrics are off. */
  readonly metrics: PredictorMetrics | undefined;
  /** The deployment's `spec.protocol`. */
  readonly protocol: 'seldon' | 'v2';
  /** The graph's V2 face, for `protocol: v2`; undefined for `protocol: seldon`. */
  readonly v2: V2Graph | undefined;
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly records: boolean;
  private readonly fixedPath: Record<string, string>;
  /** The nodes' request loggers; undefined when no node has one. */
  private readonly loggers: ReadonlyMap<string, NodeLogger> | undefined;

  constructor(options: PredictorExecutorOptions) {
    this.namespace = options.namespace;
    this.deployment = options.deployment;
    this.predictor = options.predictor;
    this.name = options.predictor.name;
    this.protocol = options.protocol ?? 'seldon';
    this.traffic = options.predictor.traffic;
    this.shadow = options.predictor.shadow;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.plan = planGraph(options.namespace, options.deployment, options.predictor);
    this.metrics = options.metrics?.forPredictor(options.deployment, options.predictor, options.namespace);
    const metered = this.metrics === undefined ? options.transport : new MeteredTransport(options.transport, nodeMetrics(this.plan, this.metrics, grpcNodeNames(options.predictor)));
    // Nodes with `batch_max_size` get their concurrent predictions stacked; metrics count the calls made.
    const batched = batchedUnits(this.plan, (options.options ?? EXECUTOR_DEFAULTS).batchMaxWait);
    this.transport = batched.size === 0 ? metered : new BatchingTransport(metered, batched);
    this.records = this.plan.fixedRequestPath === undefined;
    this.nodeNames = this.plan.order.map((n) => n.name);
    // Shared by every reply; replies are serialised, never mutated.
    this.fixedPath = this.plan.fixedRequestPath ?? {};
    this.loggers = planLoggers(this.plan, options.predictor, options.namespace, options.deployment, options.requestLogger);
    this.v2 = this.protocol === 'v2' ? this.v2Graph(options.v2Transport, options.v2GrpcTransport) : undefined;
  }

  private v2Graph(rest: V2Transport | undefined, grpc: V2Transport | undefined): V2Graph {
    const label = `predictor ${this.name} of ${this.namespace}/${this.deployment}`;
    if (rest === undefined) throw new TrantorError('INTERNAL', `${label} is protocol: v2, but its executor was given no V2 transport`);
    const grpcNodes = grpcNodeNames(this.predictor);
    const transport = grpcNodes.size === 0 ? rest : new ByEndpointV2Transport(rest, grpc, grpcNodes);
    const metrics = this.metrics;
    const metered = metrics === undefined ? transport : new MeteredV2Transport(transport, nodeMetrics(this.plan, metrics));
    return new V2Graph({ label, plan: this.plan, transport: metered, timeoutMs: this.timeoutMs, loggers: this.loggers });
  }

  /** The names of the graph's nodes, root first. */
  readonly nodeNames: readonly string[];

  /** Sends `message` through the graph; the reply carries the gathered `meta` (puid, requestPath …). */
  async predict(message: SeldonMessage, puid: string, limits: CallLimits = NO_LIMITS): Promise<SeldonMessage> {
    const walk = this.walk(puid, message.meta?.tags, limits);
    let reply = await predictNode(this.plan.root, message, walk);
    if (reply === message) reply = { ...message };
    reply.meta = walk.trail.toMeta();
    return reply;
  }

  /**
   * Sends feedback to the nodes that take it (models, routers) along the path the prediction
   * took, as `feedback.response.meta.routing` records it. Resolves with the root-most answer.
   */
  async feedback(feedback: Feedback, puid: string, limits: CallLimits = NO_LIMITS): Promise<SeldonMessage> {
    const walk = this.walk(puid, undefined, limits);
    const answers: SeldonMessage[] = [];
    await feedbackNode(this.plan.root, feedback, feedback.response?.meta?.routing, walk, answers);
    const first = answers[0];
    const reply: SeldonMessage = first === undefined ? {} : { ...first };
    reply.meta = walk.trail.toMeta();
    return reply;
  }

  /** One node's metadata (`model` given), or the graph's. */
  async metadata(model?: string, limits: CallLimits = NO_LIMITS): Promise<unknown> {
    if (model !== undefined) return this.nodeMetadata(this.node(model), limits, false);
    const models: Record<string, unknown> = {};
    const remote = remoteNodes(this.plan);
    const answers = await Promise.all(remote.map((node) => this.nodeMetadata(node, limits, true)));
    remote.forEach((node, i) => {
      models[node.name] = answers[i];
    });
    const inputs = models[this.plan.root.name];
    const outputs = models[outputNode(this.plan.root).name];
    const metadata: GraphMetadata = {
      name: this.name,
      models,
      graphinputs: fieldOf(inputs, 'inputs'),
      graphoutputs: fieldOf(outputs, 'outputs'),
    };
    return metadata;
  }

  /** The root component's `/health/status` answer. */
  health(limits: CallLimits = NO_LIMITS): Promise<unknown> {
    const node = firstRemote(this.plan.root);
    if (node === undefined) return Promise.resolve({ status: { status: 'SUCCESS' } });
    return this.healthOf(node, limits);
  }

  /** One node's `/health/status` answer. */
  status(model: string, limits: CallLimits = NO_LIMITS): Promise<unknown> {
    const node = this.node(model);
    if (node.builtIn !== undefined) return Promise.resolve({ status: { status: 'SUCCESS' } });
    return this.healthOf(node, limits);
  }

  private walk(puid: string, tags: Record<string, unknown> | undefined, limits: CallLimits): Walk {
    const timeoutMs = limits.timeoutMs ?? this.timeoutMs;
    return {
      transport: this.transport,
      trail: new MetaTrail(puid, tags, this.records ? {} : this.fixedPath),
      deadline: (limits.since ?? Date.now()) + timeoutMs,
      timeoutMs,
      recordsPath: this.records,
      metrics: this.metrics,
      log: limits.skipLogging === true ? undefined : this.loggers,
    };
  }

  private node(name: string): NodePlan {
    const node = this.plan.nodes.get(name);
    if (node === undefined) {
      throw new TrantorError('NOT_FOUND', `no node named "${name}" in predictor ${this.name} of ${this.namespace}/${this.deployment}; nodes: ${this.nodeNames.join(', ')}`);
    }
    return node;
  }

  /** What is left of the request's time. */
  private remaining(limits: CallLimits): number {
    const timeoutMs = limits.timeoutMs ?? this.timeoutMs;
    return limits.since === undefined ? timeoutMs : Math.max(1, limits.since + timeoutMs - Date.now());
  }

  private async nodeMetadata(node: NodePlan, limits: CallLimits, lenient: boolean): Promise<unknown> {
    if (node.builtIn !== undefined) return { name: node.name, platform: node.builtIn, versions: [], inputs: [], outputs: [] };
    const reply = await this.transport.metadata(node.unit, { idempotent: true, timeoutMs: this.remaining(limits) });
    // A component that keeps no metadata still belongs in the graph's.
    if (lenient && reply.status === 404) return { name: node.name };
    return answerOf(reply);
  }

  private async healthOf(node: NodePlan, limits: CallLimits): Promise<unknown> {
    return answerOf(await this.transport.health(node.unit, { idempotent: true, timeoutMs: this.remaining(limits) }));
  }
}

function answerOf(reply: Reply<unknown>): unknown {
  if (reply.failure !== undefined) throw reply.failure;
  return reply.message;
}

/** The names of the component nodes the executor calls over gRPC (`endpoint.type: GRPC`). */
function grpcNodeNames(predictor: Predictor): ReadonlySet<string> {
  return new Set(graphNodes(predictor).filter((node) => node.endpoint.type === 'GRPC' && !isExecutorBuiltIn(node.implementation)).map((node) => node.name));
}

/** Each component node's client histogram children, by its UnitKey. */
/** Each component node's client-call histogram children, keyed by its unit. */
function nodeMetrics(plan: GraphPlan, metrics: PredictorMetrics, grpcNodes: ReadonlySet<string> = new Set()): Map<UnitKey, NodeMetrics> {
  const nodes = new Map<UnitKey, NodeMetrics>();
  for (const node of plan.order) if (node.builtIn === undefined) nodes.set(node.unit, metrics.forNode(node.name, grpcNodes.has(node.name)));
  return nodes;
}

function firstRemote(node: NodePlan): NodePlan | undefined {
  if (node.builtIn === undefined) return node;
  for (const child of node.children) {
    const found = firstRemote(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The node whose answer leaves the graph when every router picks its first child. */
function outputNode(node: NodePlan): NodePlan {
  if (node.transformsOutput || node.aggregates || node.children.length === 0) return node;
  return outputNode(node.children[0]!);
}

function fieldOf(value: unknown, field: string): unknown {
  if (typeof value === 'object' && value !== null && field in value) return (value as Record<string, unknown>)[field];
  return [];
}
