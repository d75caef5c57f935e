/**
 * The rollout tab's arithmetic: predictors' traffic weights kept summing to 100 as one moves,
 * shadows toggled, a canary promoted, and the changed manifest built from the stored one. No
 * preact here: the tests import it.
 */

/** One predictor as the rollout tab edits it. */
export interface Share {
  name: string;
  traffic: number;
  shadow: boolean;
}

/** Integer parts of `total` in proportion to `weights` (largest remainders get the leftover units); equal parts when all are 0. */
export function apportion(total: number, weights: number[]): number[] {
  if (weights.length === 0) return [];
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : total / weights.length));
  const parts = exact.map((x) => Math.floor(x));
  let left = total - parts.reduce((s, p) => s + p, 0);
  const order = exact.map((x, i) => ({ i, rest: x - Math.floor(x) })).sort((p, q) => q.rest - p.rest || p.i - q.i);
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i]! += 1;
    left--;
  }
  return parts;
}

/** The predictors that split the traffic (not shadows). */
function live(shares: Share[]): number[] {
  return shares.flatMap((s, i) => (s.shadow ? [] : [i]));
}

/**
 * `name` set to `value` (0–100, whole), the other live predictors sharing the rest in proportion to
 * their weights now, so the live ones still sum to 100. A lone live predictor stays at 100.
 */
export function setWeight(shares: Share[], name: string, value: number): Share[] {
  const index = shares.findIndex((s) => s.name === name);
  const target = shares[index];
  if (target === undefined || target.shadow) return shares;
  const others = live(shares).filter((i) => i !== index);
  if (others.length === 0) return shares.map((s, i) => (i === index ? { ...s, traffic: 100 } : s));
  const v = Math.min(100, Math.max(0, Math.round(value)));
  const parts = apportion(100 - v, others.map((i) => shares[i]!.traffic));
  return shares.map((s, i) => (i === index ? { ...s, traffic: v } : others.includes(i) ? { ...s, traffic: parts[others.indexOf(i)]! } : s));
}

/**
 * `name` made a shadow (it keeps no share: the live ones take its weight in proportion) or made live
 * again (with a share of 0, to be moved up). The validator's rules are checked by `problems`.
 */
export function setShadow(shares: Share[], name: string, shadow: boolean): Share[] {
  const index = shares.findIndex((s) => s.name === name);
  const target = shares[index];
  if (target === undefined || target.shadow === shadow) return shares;
  let next = shares.map((s, i) => (i === index ? { ...s, shadow, traffic: 0 } : s));
  const rest = live(next);
  if (rest.length === 1) next = next.map((s, i) => (i === rest[0] ? { ...s, traffic: 100 } : s));
  else if (rest.length > 1) {
    const parts = apportion(100, rest.map((i) => next[i]!.traffic));
    next = next.map((s, i) => (rest.includes(i) ? { ...s, traffic: parts[rest.indexOf(i)]! } : s));
  }
  return next;
}

/**
 * Promoting `name`, as Seldon users expect of a canary that did well: it takes all the traffic and
 * the other predictors that served traffic are removed (their replicas stop); a shadow stays, as it
 * only ever gets a copy. Promoting the shadow makes it the live predictor.
 */
export function promote(shares: Share[], name: string): Share[] {
  return shares.flatMap((s) => (s.name === name ? [{ ...s, shadow: false, traffic: 100 }] : s.shadow ? [s] : []));
}

/** What stops these shares from being applied, as the validator would say it; empty when none. */
export function problems(shares: Share[]): string[] {
  const out: string[] = [];
  const liveOnes = shares.filter((s) => !s.shadow);
  const shadows = shares.filter((s) => s.shadow);
  if (liveOnes.length === 0) out.push('at least one predictor must not be a shadow: a shadow only gets a copy of the traffic another predictor serves');
  if (shadows.length > 1) out.push(`at most one predictor may be a shadow, got ${shadows.length} (${shadows.map((s) => s.name).join(', ')})`);
  for (const s of liveOnes) {
    if (!Number.isInteger(s.traffic) || s.traffic < 0 || s.traffic > 100) out.push(`${s.name}: traffic must be a whole number from 0 to 100, got ${s.traffic}`);
  }
  const sum = liveOnes.reduce((t, s) => t + s.traffic, 0);
  if (liveOnes.length > 0 && sum !== 100) out.push(`the traffic of the predictors that are not shadows must sum to 100, got ${sum}`);
  return out;
}

interface PredictorLike {
  name: string;
  traffic?: number;
  shadow?: boolean;
  [key: string]: unknown;
}

/** The shares of a manifest's predictors as stored (a lone live predictor with no traffic takes 100, as the validator fills it in). */
export function sharesOf(predictors: readonly { name: string; traffic?: number | undefined; shadow?: boolean | undefined }[]): Share[] {
  const shares = predictors.map((p) => ({ name: p.name, traffic: p.traffic ?? 0, shadow: p.shadow === true }));
  const liveOnes = shares.filter((s) => !s.shadow);
  if (liveOnes.length === 1 && liveOnes[0]!.traffic === 0) liveOnes[0]!.traffic = 100;
  return shares;
}

/**
 * `manifest` (the stored one, a SeldonDeployment) with its predictors' traffic and shadow set from
 * `shares`, in the stored order; predictors not in `shares` are removed. Fields are changed only
 * where the value differs, so an unchanged predictor reads back the same.
 */
export function withShares(manifest: Record<string, unknown>, shares: Share[]): Record<string, unknown> {
  const spec = manifest['spec'] as { predictors?: PredictorLike[] } & Record<string, unknown>;
  const stored = sharesOf(spec.predictors ?? []);
  const predictors = (spec.predictors ?? []).flatMap((p, i) => {
    const share = shares.find((s) => s.name === p.name);
    if (share === undefined) return [];
    const before = stored[i]!;
    const next: PredictorLike = { ...p };
    if (share.traffic !== before.traffic || (p.traffic !== undefined && p.traffic !== share.traffic)) next.traffic = share.traffic;
    if (share.shadow !== before.shadow) {
      if (share.shadow) next.shadow = true;
      else delete next.shadow;
    }
    return [next];
  });
  return { ...manifest, spec: { ...spec, predictors } };
}
