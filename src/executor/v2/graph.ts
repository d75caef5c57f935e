/**
 * A `protocol: v2` predictor's graph, walked as Seldon's executor walks it for the Open Inference
 * Protocol: a chain (the manifest refuses routers, combiners and branches under v2). At each node
 * an input transformer or a model is asked to infer on what came in, its answer's outputs become
 * its child's inputs, and an output transformer infers on what its child answered. The last
 * answer is the graph's. Every call is a V2 inference on the node's own model name.
 *
 * The request's time limit covers the whole chain; each node's request logger logs what it took
 * and what it answered as V2 JSON (Seldon's inference request and response CloudEvent types).
 */
import { TrantorError } from '../../protocol/index.ts';
import type { V2DecodedBody, V2InferenceRequest, V2InferenceResponse, V2ModelMetadata } from '../../protocol/index.ts';
import type { CallLimits } from '../executor.ts';
import type { GraphPlan, NodePlan } from '../plan.ts';
import type { NodeLogger } from '../request-logger.ts';
import { chainRequest, requestJson, responseJson } from './messages.ts';
import type { V2CallOptions, V2Transport } from './transport.ts';

export interface V2GraphOptions {
  /** `predictor <name> of <namespace>/<deployment>`, for messages. */
  readonly label: string;
  readonly plan: GraphPlan;
  readonly transport: V2Transport;
  /** How long a request may take when the caller does not say. */
  readonly timeoutMs: number;
  /** The nodes' request loggers; undefined when no node has one. */
  readonly loggers: ReadonlyMap<string, NodeLogger> | undefined;
}

/** One request's walk down the chain. */
interface V2Walk {
  readonly puid: string;
  /** The outputs the request asks for: they name the graph's answer, so only its last node gets them. */
  readonly outputs: V2InferenceRequest['outputs'];
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly log: ReadonlyMap<string, NodeLogger> | undefined;
}

const NO_LIMITS: CallLimits = {};

/** SIMPLE_MODEL's answer in V2: the same three class scores the Seldon protocol's gives. */
function simpleModelAnswer(node: NodePlan, request: V2DecodedBody<V2InferenceRequest>): V2DecodedBody<V2InferenceResponse> {
  const values = Float64Array.of(0.1, 0.9, 0.5);
  const message: V2InferenceResponse = { model_name: node.name, outputs: [{ name: 'predict', shape: [1, 3], datatype: 'FP64', data: Array.from(values) }] };
  if (request.message.id !== undefined) message.id = request.message.id;
  return { message, tensors: [{ name: 'predict', shape: [1, 3], datatype: 'FP64', values }] };
}

/** What a node that infers on nothing answers: its input, as outputs. */
function echo(node: NodePlan, request: V2DecodedBody<V2InferenceRequest>): V2DecodedBody<V2InferenceResponse> {
  const message: V2InferenceResponse = { model_name: node.name, outputs: request.message.inputs };
  if (request.message.id !== undefined) message.id = request.message.id;
  return { message, tensors: request.tensors };
}

export class V2Graph {
  private readonly options: V2GraphOptions;
  private readonly remote: readonly NodePlan[];
  /** The node whose answer is the graph's: the last one called. */
  private readonly last: NodePlan;

  constructor(options: V2GraphOptions) {
    this.options = options;
    this.remote = options.plan.order.filter((node) => node.builtIn === undefined);
    this.last = lastCalled(options.plan.root);
  }

  /**
   * Runs the chain from the root. The path's model name does not pick a node: as with Seldon's
   * executor, a request to the deployment runs its whole graph.
   */
  async infer(_model: string, _version: string | undefined, request: V2DecodedBody<V2InferenceRequest>, puid: string, limits: CallLimits = NO_LIMITS): Promise<V2DecodedBody<V2InferenceResponse>> {
    const timeoutMs = limits.timeoutMs ?? this.options.timeoutMs;
    const walk: V2Walk = {
      puid,
      outputs: request.message.outputs,
      deadline: (limits.since ?? Date.now()) + timeoutMs,
      timeoutMs,
      log: limits.skipLogging === true ? undefined : this.options.loggers,
    };
    return (await this.inferNode(this.options.plan.root, request, walk)).answer;
  }

  async modelReady(model: string, _version: string | undefined, limits: CallLimits = NO_LIMITS): Promise<boolean> {
    const node = this.node(model);
    if (node.builtIn !== undefined) return true;
    return this.options.transport.modelReady(node.unit, this.callOptions(limits)).catch(() => false);
  }

  async modelMetadata(model: string, _version: string | undefined, limits: CallLimits = NO_LIMITS): Promise<V2ModelMetadata> {
    const node = this.node(model);
    if (node.builtIn !== undefined) return { name: node.name, versions: [], platform: node.builtIn, inputs: [], outputs: [] };
    return this.options.transport.modelMetadata(node.unit, this.callOptions(limits));
  }

  /** Every node ready (the executor's built-ins always are). */
  async serverReady(limits: CallLimits = NO_LIMITS): Promise<boolean> {
    const options = this.callOptions(limits);
    const ready = await Promise.all(this.remote.map((node) => this.options.transport.modelReady(node.unit, options).catch(() => false)));
    return ready.every(Boolean);
  }

  private node(model: string): NodePlan {
    const node = this.options.plan.nodes.get(model);
    if (node === undefined) {
      const names = this.options.plan.order.map((n) => n.name).join(', ');
      throw new TrantorError('NOT_FOUND', `no model named "${model}" in ${this.options.label}; its models (graph nodes): ${names}`);
    }
    return node;
  }

  private callOptions(limits: CallLimits): V2CallOptions {
    const timeoutMs = limits.timeoutMs ?? this.options.timeoutMs;
    const remaining = limits.since === undefined ? timeoutMs : Math.max(1, limits.since + timeoutMs - Date.now());
    return { idempotent: true, timeoutMs: remaining };
  }

  /** One node and the chain below it: the answer, and the request its answer makes for what follows. */
  private async inferNode(
    node: NodePlan,
    request: V2DecodedBody<V2InferenceRequest>,
    walk: V2Walk,
  ): Promise<{ answer: V2DecodedBody<V2InferenceResponse>; next: V2DecodedBody<V2InferenceRequest> }> {
    const logger = walk.log?.get(node.name);
    if (logger?.logsRequest === true) logger.sink.log(logger, 'request', walk.puid, requestJson(request));
    let current = request;
    let answer: V2DecodedBody<V2InferenceResponse> | undefined;
    if (node.inputMethod !== undefined) answer = await this.call(node, current, walk);
    else if (node.builtIn === 'SIMPLE_MODEL') answer = simpleModelAnswer(node, current);
    if (answer !== undefined) current = chainRequest(current, answer);
    const child = node.children[0];
    if (child !== undefined) {
      const below = await this.inferNode(child, current, walk);
      answer = below.answer;
      current = below.next;
    }
    if (node.transformsOutput) {
      answer = await this.call(node, current, walk);
      current = chainRequest(current, answer);
    }
    answer ??= echo(node, current);
    if (logger?.logsResponse === true) logger.sink.log(logger, 'response', walk.puid, responseJson(answer));
    return { answer, next: current };
  }

  private call(node: NodePlan, request: V2DecodedBody<V2InferenceRequest>, walk: V2Walk): Promise<V2DecodedBody<V2InferenceResponse>> {
    const remaining = walk.deadline - Date.now();
    if (remaining <= 0) {
      throw new TrantorError('UPSTREAM_TIMEOUT', `the request's ${walk.timeoutMs} ms ran out before node "${node.name}" of ${this.options.label} was called`);
    }
    let sent = request;
    if (node === this.last && walk.outputs !== undefined && request.message.outputs === undefined) sent = { ...request, message: { ...request.message, outputs: walk.outputs } };
    else if (node !== this.last && request.message.outputs !== undefined) {
      const { outputs: _outputs, ...message } = request.message;
      sent = { ...request, message };
    }
    // Predictions are idempotent, as the Seldon walk sends them: a lost connection is retried.
    return this.options.transport.infer(node.unit, sent, { idempotent: true, timeoutMs: remaining, puid: walk.puid });
  }
}

/** The node a chain calls last: an output transformer after its child, else the end of the chain. */
function lastCalled(node: NodePlan): NodePlan {
  if (node.transformsOutput) return node;
  const child = node.children[0];
  return child === undefined ? node : lastCalled(child);
}
