/**
 * What the gateway calls on a predictor. `trantor up` hands it the predictor's executor in this
 * process (PredictorExecutor); `trantor gateway` hands it a RemotePredictor, which forwards to
 * the executor in the predictor's pods. Either way the gateway splits traffic, copies to shadows,
 * answers errors and meters requests the same.
 */
import type { CallLimits, PredictorMetrics } from '../executor/index.ts';
import type { Feedback, SeldonMessage, V2DecodedBody, V2InferenceRequest, V2InferenceResponse, V2ModelMetadata } from '../protocol/index.ts';

/**
 * The Open Inference Protocol (V2) face of a `protocol: v2` predictor: what the gateway's V2 REST
 * routes and its `inference.GRPCInferenceService` call. Requests and answers are the REST form
 * with typed tensors beside (`V2DecodedBody`), so neither wire's encoding leaks into the other:
 * REST JSON, REST binary_data and gRPC raw contents all arrive as the same value.
 */
export interface V2Predictor {
  /** Runs the graph; `model` is the path's (or the gRPC request's) model name, `version` its version when given. */
  infer(model: string, version: string | undefined, request: V2DecodedBody<V2InferenceRequest>, puid: string, limits?: CallLimits): Promise<V2DecodedBody<V2InferenceResponse>>;
  /** Whether the named model (a graph node) is ready to answer. */
  modelReady(model: string, version: string | undefined, limits?: CallLimits): Promise<boolean>;
  /** The named model's metadata, as its server gives it. */
  modelMetadata(model: string, version: string | undefined, limits?: CallLimits): Promise<V2ModelMetadata>;
  /** Whether every node of the graph is ready. */
  serverReady(limits?: CallLimits): Promise<boolean>;
}

export interface GatewayPredictor {
  /** The predictor's name. */
  readonly name: string;
  /** Share of the deployment's traffic (non-shadow predictors). */
  readonly traffic: number;
  /** A shadow gets a copy of the traffic; its answers are ignored. */
  readonly shadow: boolean;
  /** Its labels in the gateway's request histogram; undefined when metrics are off. */
  readonly metrics: PredictorMetrics | undefined;
  /** The graph's node names, root first (the `<model>` values the docs offer); empty when unknown. */
  readonly nodeNames: readonly string[];
  /** The graph's nodes by name: feedback goes to the predictor whose graph holds its requestPath. */
  readonly plan: { readonly nodes: { has(name: string): boolean } };
  /** The deployment's `spec.protocol`: which of `predict`/`feedback` and `v2` its graph answers. */
  readonly protocol: 'seldon' | 'v2';
  /** The V2 face; undefined for a `protocol: seldon` predictor. */
  readonly v2: V2Predictor | undefined;
  predict(message: SeldonMessage, puid: string, limits?: CallLimits): Promise<SeldonMessage>;
  feedback(feedback: Feedback, puid: string, limits?: CallLimits): Promise<SeldonMessage>;
  /** One node's metadata (`model` given), or the graph's. */
  metadata(model?: string, limits?: CallLimits): Promise<unknown>;
  /** The root component's health. */
  health(limits?: CallLimits): Promise<unknown>;
  /** One node's health. */
  status(model: string, limits?: CallLimits): Promise<unknown>;
}
