/**
 * Traffic between a deployment's predictors: non-shadow predictors share requests by their
 * `traffic` weights; shadow predictors get a copy of each request.
 */
import type { GatewayPredictor } from './predictor.ts';
import { TrantorError } from '../protocol/index.ts';
import type { DeploymentEntry } from './deployments.ts';

export interface TrafficSplit {
  /** The predictor for the next request, drawn by weight; undefined when the deployment has none. */
  pick(): GatewayPredictor | undefined;
  /** The predictor with the most traffic: the one metadata, health and docs describe. */
  readonly primary: GatewayPredictor | undefined;
  readonly serving: readonly GatewayPredictor[];
  readonly shadows: readonly GatewayPredictor[];
}

export function splitTraffic(executors: readonly GatewayPredictor[]): TrafficSplit {
  const serving = executors.filter((e) => !e.shadow);
  const shadows = executors.filter((e) => e.shadow);
  const weights = serving.map((e) => (Number.isFinite(e.traffic) && e.traffic > 0 ? e.traffic : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  // No weights at all: share equally.
  const effective = total > 0 ? weights : serving.map(() => 1);
  const sum = total > 0 ? total : serving.length;
  const cumulative: number[] = [];
  let running = 0;
  for (const w of effective) cumulative.push((running += w));
  let primary: GatewayPredictor | undefined;
  let best = -1;
  serving.forEach((e, i) => {
    if (effective[i]! > best) {
      best = effective[i]!;
      primary = e;
    }
  });
  const only = serving.length === 1 ? serving[0] : undefined;
  const pick = only !== undefined
    ? (): GatewayPredictor | undefined => only
    : (): GatewayPredictor | undefined => {
        if (serving.length === 0) return undefined;
        const r = Math.random() * sum;
        for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return serving[i];
        return serving[serving.length - 1];
      };
  return { pick, primary: primary ?? shadows[0], serving, shadows };
}

const cache = new WeakMap<readonly GatewayPredictor[], TrafficSplit>();

/** The split for an entry, compiled the first time its executor list is seen. */
export function trafficOf(entry: DeploymentEntry): TrafficSplit {
  let split = cache.get(entry.executors);
  if (split === undefined) {
    split = splitTraffic(entry.executors);
    cache.set(entry.executors, split);
  }
  return split;
}

/** The predictor that answers metadata and health for the deployment; 503 when it has none. */
export function primaryOf(entry: DeploymentEntry): GatewayPredictor {
  const primary = trafficOf(entry).primary;
  if (primary === undefined) throw new TrantorError('UNAVAILABLE', `SeldonDeployment ${entry.namespace}/${entry.name} has no predictor`);
  return primary;
}
