/**
 * The dashboard's live traffic: once a second, while anyone listens, a `TrafficSample` read from
 * the process's `Metrics` — per predictor (the gateway's request histogram) and per graph node
 * (the executor's calls to components): requests/s, errors/s, and p50/p99 of that second's
 * requests; and each router's choices and rewards since the process started.
 *
 * Nothing is added to the request path for this: the histograms' series already count, and
 * each keeps a ring of its last raw observations (`RECENT_OBSERVATIONS`), so the percentiles come
 * from the second's own latencies, not from 5 ms buckets. A series that saw more requests in one
 * second than its ring holds gives the percentiles of its latest ones. No timer runs while no
 * one listens; the first listener starts the count afresh (what happened before is not a burst).
 */
import { RECENT_OBSERVATIONS } from '../../executor/index.ts';
import type { Metrics, SeriesView } from '../../executor/index.ts';
import type { NodeTraffic, PredictorTraffic, RouterTraffic, TrafficSample } from '../../web/index.ts';

export interface TrafficSamplerOptions {
  metrics: Metrics;
  /** How often a sample is taken, ms; 1000 when absent. */
  intervalMs?: number;
  /** The clock (ms since the epoch); `Date.now` when absent. */
  now?: () => number;
}

export type TrafficListener = (sample: TrafficSample) => void;

/** One predictor's or node's traffic in the second being sampled. */
interface Group {
  readonly namespace: string;
  readonly deployment: string;
  readonly predictor: string;
  /** Undefined for a predictor's group. */
  readonly node: string | undefined;
  requests: number;
  errors: number;
  /** The second's latencies (seconds), `filled` of them. */
  latencies: Float64Array;
  filled: number;
}

/** What the sampler remembers of one series. */
interface Tracked {
  /** Its `count` at the last sample. */
  seen: number;
  readonly group: Group;
  /** Counted as traffic (predictions, feedback, a node's calls), not health or metadata. */
  readonly traffic: boolean;
  /** Its code is a failure: HTTP 400 or more, a gRPC code other than OK. */
  readonly error: boolean;
}

/** The gateway's paths whose requests are traffic: REST's kinds (V2 infer is labelled `predictions`) and gRPC's methods. */
const SERVER_TRAFFIC = /^(predictions|feedback)$|\/(Predict|SendFeedback|ModelInfer)$/;

function isError(code: string | undefined): boolean {
  if (code === undefined || code === '') return false;
  const status = Number(code);
  return Number.isInteger(status) ? status >= 400 : code !== 'OK';
}

/** A node's calls that carry a request (POST over HTTP, gRPC's methods bar metadata), not health checks. */
function isNodeTraffic(series: SeriesView): boolean {
  const method = series.labels['method'];
  if (method === 'POST') return true;
  return method === 'unary' && !(series.labels['service'] ?? '').endsWith('Metadata');
}

/** The nearest-rank percentile `p` (0–1) of the sorted `values`, in ms to the µs. */
function percentile(sorted: Float64Array, p: number): number {
  const value = sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return Math.round(value * 1e6) / 1e3;
}

export class TrafficSampler {
  private readonly metrics: Metrics;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly listeners = new Set<TrafficListener>();
  private readonly tracked = new Map<SeriesView, Tracked>();
  private readonly groups = new Map<string, Group>();
  private timer: NodeJS.Timeout | undefined;
  private last: number;

  constructor(options: TrafficSamplerOptions) {
    this.metrics = options.metrics;
    this.intervalMs = options.intervalMs ?? 1000;
    if (!(this.intervalMs >= 10)) throw new RangeError(`TrafficSampler intervalMs: expected at least 10 ms, got ${options.intervalMs}`);
    this.now = options.now ?? Date.now;
    this.last = this.now();
  }

  /** Calls `listener` with a sample every interval until the returned function is called. */
  subscribe(listener: TrafficListener): () => void {
    this.listeners.add(listener);
    if (this.timer === undefined) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Whether a timer is running (someone listens). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Forgets what came before: the next sample counts from now. */
  restart(): void {
    this.tracked.clear();
    this.metrics.eachSeries('server', (series) => this.track(series, series.count, false));
    this.metrics.eachSeries('client', (series) => this.track(series, series.count, true));
    this.last = this.now();
  }

  /** The traffic since the last sample (or `restart`), ending now. */
  sample(): TrafficSample {
    const now = this.now();
    const seconds = Math.max(now - this.last, 1) / 1000;
    this.last = now;
    for (const group of this.groups.values()) {
      group.requests = 0;
      group.errors = 0;
      group.filled = 0;
    }
    this.metrics.eachSeries('server', (series) => this.take(series, false));
    this.metrics.eachSeries('client', (series) => this.take(series, true));
    const predictors: PredictorTraffic[] = [];
    const nodes: NodeTraffic[] = [];
    for (const group of this.groups.values()) {
      const stat = statOf(group, seconds);
      if (group.node === undefined) predictors.push({ namespace: group.namespace, deployment: group.deployment, predictor: group.predictor, ...stat });
      else nodes.push({ namespace: group.namespace, deployment: group.deployment, predictor: group.predictor, node: group.node, ...stat });
    }
    const routers: RouterTraffic[] = [];
    this.metrics.eachRouter((counts) => {
      const branches = [...counts.branches].sort((a, b) => a[0] - b[0]).map(([branch, c]) => ({ branch, chosen: c.chosen, feedback: c.feedback, reward: c.reward }));
      routers.push({ namespace: counts.namespace, deployment: counts.deployment, predictor: counts.predictor, node: counts.node, branches });
    });
    return { t: now, predictors, nodes, routers };
  }

  private start(): void {
    this.restart();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    // The feed's connections keep the process up, not this timer.
    this.timer.unref();
  }

  private tick(): void {
    const sample = this.sample();
    for (const listener of [...this.listeners]) {
      try {
        listener(sample);
      } catch {
        // One listener's failure is its own; the others still get the sample.
      }
    }
  }

  private track(series: SeriesView, seen: number, client: boolean): Tracked {
    const labels = series.labels;
    const node = client ? labels['model_name'] ?? '' : undefined;
    const deployment = labels['deployment_name'] ?? '';
    const predictor = labels['predictor_name'] ?? '';
    const key = `${series.namespace}\u0000${deployment}\u0000${predictor}\u0000${node ?? '\u0001'}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { namespace: series.namespace, deployment, predictor, node, requests: 0, errors: 0, latencies: new Float64Array(RECENT_OBSERVATIONS), filled: 0 };
      this.groups.set(key, group);
    }
    const tracked: Tracked = { seen, group, traffic: client ? isNodeTraffic(series) : SERVER_TRAFFIC.test(labels['service'] ?? ''), error: isError(labels['code']) };
    this.tracked.set(series, tracked);
    return tracked;
  }

  /** Adds what `series` saw since the last sample to its group. */
  private take(series: SeriesView, client: boolean): void {
    // A series first seen now was made since the last sample: all of it is new.
    const tracked = this.tracked.get(series) ?? this.track(series, 0, client);
    const count = series.count;
    const fresh = count - tracked.seen;
    tracked.seen = count;
    if (fresh <= 0 || !tracked.traffic) return;
    const group = tracked.group;
    group.requests += fresh;
    if (tracked.error) group.errors += fresh;
    const kept = Math.min(fresh, RECENT_OBSERVATIONS);
    if (group.latencies.length < group.filled + kept) {
      const grown = new Float64Array(Math.max(group.latencies.length * 2, group.filled + kept));
      grown.set(group.latencies.subarray(0, group.filled));
      group.latencies = grown;
    }
    const ring = series.recent;
    for (let i = count - kept; i < count; i++) group.latencies[group.filled++] = ring[i % RECENT_OBSERVATIONS]!;
  }
}

function statOf(group: Group, seconds: number): { rps: number; errors: number; p50: number | null; p99: number | null } {
  const rps = round(group.requests / seconds);
  const errors = round(group.errors / seconds);
  if (group.filled === 0) return { rps, errors, p50: null, p99: null };
  const sorted = group.latencies.subarray(0, group.filled).sort();
  return { rps, errors, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
