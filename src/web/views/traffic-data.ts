/**
 * The traffic tab's numbers, apart from drawing them: one deployment's series over the kept
 * seconds (one value per sample, null where a predictor or node had no entry), a router's branch
 * shares over a sliding window, the readout of the latest second. Imports no preact, so the maths
 * can be checked on its own.
 */
import type { GraphNode, NodeTraffic, PredictorSpec, PredictorTraffic, RouterTraffic, TrafficSample, TrafficStat } from '../types.ts';

/** A series' values, one per sample (null: nothing that second). */
export type Values = (number | null)[];

export interface Series {
  /** `default` for a predictor, `default/classifier` for a node. */
  key: string;
  values: Values;
}

/** The samples' times in seconds (uPlot's x axis). */
export function timesOf(samples: readonly TrafficSample[]): number[] {
  return samples.map((s) => s.t / 1000);
}

/** The samples within the last `seconds` before the newest one. */
export function lastSeconds(samples: readonly TrafficSample[], seconds: number): readonly TrafficSample[] {
  const newest = samples.at(-1);
  if (newest === undefined) return samples;
  const from = newest.t - seconds * 1000;
  const first = samples.findIndex((s) => s.t > from);
  return first <= 0 ? samples : samples.slice(first);
}

type Entry = PredictorTraffic | NodeTraffic;

function mine<T extends { namespace: string; deployment: string }>(items: readonly T[], namespace: string, deployment: string): T[] {
  return items.filter((i) => i.namespace === namespace && i.deployment === deployment);
}

export function predictorKey(entry: { predictor: string }): string {
  return entry.predictor;
}

export function nodeKey(entry: { predictor: string; node: string }): string {
  return `${entry.predictor}/${entry.node}`;
}

/**
 * One series per key seen in any sample (in order of first appearance), `field` of its entry
 * per sample. `only` keeps the keys it accepts.
 */
export function seriesOf<T extends Entry>(
  samples: readonly TrafficSample[],
  entries: (sample: TrafficSample) => readonly T[],
  keyOf: (entry: T) => string,
  field: keyof TrafficStat,
  only: (key: string) => boolean = () => true,
): Series[] {
  const byKey = new Map<string, Values>();
  samples.forEach((sample, i) => {
    for (const entry of entries(sample)) {
      const key = keyOf(entry);
      if (!only(key)) continue;
      let values = byKey.get(key);
      if (values === undefined) {
        values = new Array<number | null>(samples.length).fill(null);
        byKey.set(key, values);
      }
      values[i] = entry[field];
    }
  });
  return [...byKey].map(([key, values]) => ({ key, values }));
}

/** A deployment's predictor entries of a sample. */
export function predictorsOf(namespace: string, deployment: string): (sample: TrafficSample) => readonly PredictorTraffic[] {
  return (sample) => mine(sample.predictors, namespace, deployment);
}

/** A deployment's node entries of a sample. */
export function nodesOf(namespace: string, deployment: string): (sample: TrafficSample) => readonly NodeTraffic[] {
  return (sample) => mine(sample.nodes, namespace, deployment);
}

/** One line of the readout: the newest second and the sums over the shown window. */
export interface Reading {
  key: string;
  kind: 'predictor' | 'node';
  /** The newest second's values (zeros and nulls when it had no entry). */
  rps: number;
  errors: number;
  p50: number | null;
  p99: number | null;
  /** Requests and errors answered over the window, and the highest p99 in it. */
  requests: number;
  failed: number;
  worstP99: number | null;
}

function readingOf(kind: Reading['kind'], series: { key: string; rps: Values; errors: Values; p50: Values; p99: Values }): Reading {
  const last = series.rps.length - 1;
  const sum = (values: Values): number => values.reduce<number>((total, v) => total + (v ?? 0), 0);
  const worst = series.p99.reduce<number | null>((max, v) => (v === null ? max : max === null ? v : Math.max(max, v)), null);
  return {
    key: series.key,
    kind,
    rps: series.rps[last] ?? 0,
    errors: series.errors[last] ?? 0,
    p50: series.p50[last] ?? null,
    p99: series.p99[last] ?? null,
    // Whole requests: a second's rate can be a fraction (a request at a second's edge).
    requests: Math.round(sum(series.rps)),
    failed: Math.round(sum(series.errors)),
    worstP99: worst,
  };
}

/** The readout of the predictors and nodes in `samples` (the deployment's, the shown window). */
export function readings(samples: readonly TrafficSample[], namespace: string, deployment: string, onlyNode?: string): Reading[] {
  const out: Reading[] = [];
  const groups: [Reading['kind'], (s: TrafficSample) => readonly Entry[], (e: Entry) => string][] = [
    ['predictor', predictorsOf(namespace, deployment), (e) => predictorKey(e)],
    ['node', nodesOf(namespace, deployment), (e) => nodeKey(e as NodeTraffic)],
  ];
  for (const [kind, entries, keyOf] of groups) {
    const only = kind === 'node' && onlyNode !== undefined ? (key: string) => key.endsWith(`/${onlyNode}`) : undefined;
    const fields = (field: keyof TrafficStat): Series[] => seriesOf(samples, entries, keyOf, field, only);
    const rps = fields('rps');
    const errors = fields('errors');
    const p50 = fields('p50');
    const p99 = fields('p99');
    rps.forEach((s, i) => out.push(readingOf(kind, { key: s.key, rps: s.values, errors: errors[i]!.values, p50: p50[i]!.values, p99: p99[i]!.values })));
  }
  return out;
}

/** A router of the deployment, with its branch counters in the newest sample. */
export interface RouterReading {
  key: string;
  predictor: string;
  node: string;
  branches: { branch: number; name: string; chosen: number; share: number | null; feedback: number; reward: number; meanReward: number | null }[];
  /** Per branch, its share (0-100 %) of the choices made in the `window` seconds before each sample. */
  shares: Series[];
}

/** The graph node `name` of `graph`, searched depth first. */
export function findNode(graph: GraphNode, name: string): GraphNode | undefined {
  if (graph.name === name) return graph;
  for (const child of graph.children ?? []) {
    const found = findNode(child, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A branch's name: the router's child it sent to, or what the feed's -1 and -2 mean. */
export function branchName(children: readonly GraphNode[], branch: number): string {
  if (branch === -1) return 'all children';
  if (branch === -2) return 'stopped the walk';
  return children[branch]?.name ?? `branch ${branch}`;
}

/** The routers of the deployment seen in `samples`, their branches named by the graph's children. */
export function routerReadings(samples: readonly TrafficSample[], namespace: string, deployment: string, predictors: readonly PredictorSpec[], window = 10): RouterReading[] {
  const keyed = new Map<string, { predictor: string; node: string; per: (RouterTraffic | undefined)[] }>();
  samples.forEach((sample, i) => {
    for (const router of mine(sample.routers, namespace, deployment)) {
      const key = nodeKey(router);
      let entry = keyed.get(key);
      if (entry === undefined) {
        entry = { predictor: router.predictor, node: router.node, per: new Array<RouterTraffic | undefined>(samples.length).fill(undefined) };
        keyed.set(key, entry);
      }
      entry.per[i] = router;
    }
  });
  const out: RouterReading[] = [];
  for (const [key, { predictor, node, per }] of keyed) {
    const graph = predictors.find((p) => p.name === predictor)?.graph;
    const children = (graph === undefined ? undefined : findNode(graph, node))?.children ?? [];
    const latest = per.findLast((r) => r !== undefined);
    const branchIds = [...new Set(per.flatMap((r) => r?.branches.map((b) => b.branch) ?? []))].sort((a, b) => a - b);
    const chosenAt = (i: number, branch: number): number | undefined => per[i]?.branches.find((b) => b.branch === branch)?.chosen;
    const shares: Series[] = branchIds.map((branch) => ({ key: branchName(children, branch), values: new Array<number | null>(samples.length).fill(null) }));
    for (let i = 0; i < samples.length; i++) {
      if (per[i] === undefined) continue;
      // The earliest sample of the window that has this router: counts are totals since start.
      let from = Math.max(0, i - window);
      while (from < i && per[from] === undefined) from++;
      if (from === i) continue; // nothing earlier to count from
      const made = branchIds.map((branch) => (chosenAt(i, branch) ?? 0) - (chosenAt(from, branch) ?? 0));
      const total = made.reduce((a, b) => a + b, 0);
      if (total > 0) made.forEach((m, b) => (shares[b]!.values[i] = (100 * m) / total));
    }
    const totalChosen = latest?.branches.reduce((a, b) => a + b.chosen, 0) ?? 0;
    const branches = branchIds.map((branch) => {
      const b = latest?.branches.find((x) => x.branch === branch) ?? { branch, chosen: 0, feedback: 0, reward: 0 };
      return {
        branch,
        name: branchName(children, branch),
        chosen: b.chosen,
        share: totalChosen === 0 ? null : (100 * b.chosen) / totalChosen,
        feedback: b.feedback,
        reward: b.reward,
        meanReward: b.feedback === 0 ? null : b.reward / b.feedback,
      };
    });
    out.push({ key, predictor, node, branches, shares });
  }
  return out;
}

/** A number for the readout: integers as they are, others with up to `digits` decimals. */
export function formatNumber(value: number | null, digits = 1): string {
  if (value === null) return '–';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(digits)));
}
