/**
 * What the gateway calls on a predictor. `trantor up` hands it the predictor's executor in this
 * process (PredictorExecutor); `trantor gateway` hands it a RemotePredictor, which forwards to
 * the executor in the predictor's pods. Either way the gateway splits traffic, copies to shadows,
 * answers errors and meters requests the same.
 */
import type { CallLimits, PredictorMetrics } from '../executor/index.ts';
import type { Feedback, SeldonMessage } from '../protocol/index.ts';

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
  predict(message: SeldonMessage, puid: string, limits?: CallLimits): Promise<SeldonMessage>;
  feedback(feedback: Feedback, puid: string, limits?: CallLimits): Promise<SeldonMessage>;
  /** One node's metadata (`model` given), or the graph's. */
  metadata(model?: string, limits?: CallLimits): Promise<unknown>;
  /** The root component's health. */
  health(limits?: CallLimits): Promise<unknown>;
  /** One node's health. */
  status(model: string, limits?: CallLimits): Promise<unknown>;
}
