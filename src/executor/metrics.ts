/**
 * Prometheus metrics with Seldon's names and labels: how long the gateway took per request
 * (`seldon_api_executor_server_requests_seconds`), how long each call from the executor to a
 * component took (`seldon_api_executor_client_requests_seconds`), and the custom metrics
 * components send back in `meta.metrics` (COUNTER, GAUGE, TIMER).
 *
 * Everything lives in one Registry that the caller owns; nothing touches prom-client's global
 * registry. The two request histograms are `RequestHistogram`s: a series is created once per
 * label set and cached by the caller, so an observation on the request path is a map lookup and
 * a few increments (a prom-client child hashes its labels on every observation, ~1 µs).
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metric as PromMetric } from 'prom-client';
import { asTrantorError, componentRpc, grpcCodeLabel, grpcStatusOfHttp } from '../protocol/index.ts';
import type { Metric } from '../protocol/index.ts';
import type { Predictor } from '../manifest/index.ts';
import type { UnitKey } from './transport/endpoints.ts';
import { WRAPPER_ROUTES } from './transport/http.ts';
import { invoke, MethodTransport } from './transport/transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Reply, Transport } from './transport/transport.ts';

export const SERVER_REQUESTS = 'seldon_api_executor_server_requests_seconds';
export const CLIENT_REQUESTS = 'seldon_api_executor_client_requests_seconds';

/** Seldon's executor uses the Prometheus client's default buckets (the same as prom-client's). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SERVER_LABELS = ['deployment_name', 'predictor_name', 'predictor_version', 'service', 'method', 'code'] as const;
const CLIENT_LABELS = ['deployment_name', 'predictor_name', 'predictor_version', 'model_name', 'model_image', 'model_version', 'service', 'method', 'code'] as const;
/** Labels every custom metric carries besides its own tags; a tag of the same name is overridden. */
const CUSTOM_BASE_LABELS = ['deployment_name', 'predictor_name', 'model_name'] as const;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Where metric problems are reported; a pino Logger fits. */
export interface MetricsLogger {
  warn(details: object, message: string): void;
}

export interface MetricsOptions {
  /** Defaults to a new, private Registry. */
  registry?: Registry;
  logger?: MetricsLogger;
  buckets?: readonly number[];
}

interface Observer {
  observe(value: number): void;
}

/** How many of a series' latest observations it keeps raw, for percentiles finer than its buckets (a power of two). */
export const RECENT_OBSERVATIONS = 256;
const RECENT_MASK = RECENT_OBSERVATIONS - 1;

/**
 * One series of a request histogram, as `Metrics.eachSeries` hands it out: read it, do not keep
 * or change its label map. `count` numbers the observations; observation `i` (counted from 0)
 * is in `recent` at `i % RECENT_OBSERVATIONS` until `RECENT_OBSERVATIONS` later ones overwrite it.
 */
export interface SeriesView {
  readonly labels: Readonly<Record<string, string>>;
  /** The namespace of the deployment whose predictor made the series; '' when none said. */
  readonly namespace: string;
  readonly count: number;
  readonly sum: number;
  /** The latest observations (seconds), a ring indexed by observation number. */
  readonly recent: Float64Array;
}

/**
 * One label set's counts: per-bucket (not cumulative) counts, the last one for +Inf, and a ring
 * of the latest raw observations (one store per observation) for the dashboard's percentiles.
 */
class Series implements Observer, SeriesView {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  readonly recent = new Float64Array(RECENT_OBSERVATIONS);
  namespace = '';
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    // ToInt32 keeps the low bits of any count below 2^53, so the mask stays right past 2^31.
    this.recent[this.count & RECENT_MASK] = value;
    this.count += 1;
  }
}

interface ExportedValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A histogram for the request path, registered in a prom-client Registry: it answers `get()`
 * with the same shape as prom-client's Histogram, so the registry renders it like one.
 */
export class RequestHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[];
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(options: { name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    options.registry.registerMetric(this as unknown as PromMetric);
  }

  /** The series for these label values (in `labelNames` order); the same object for the same values. */
  labels(...values: string[]): Observer {
    return this.seriesOf('', values);
  }

  /** As `labels`, for a series made on behalf of a deployment in `namespace` (the first maker's namespace stays). */
  seriesOf(namespace: string, values: readonly string[]): Series {
    const key = values.join('\u0000');
    let series = this.series.get(key);
    if (series === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      series = new Series(Object.freeze(labels), this.bounds);
      series.namespace = namespace;
      this.series.set(key, series);
    }
    return series;
  }

  /** Visits every series, as they are (nothing copied): the visitor reads, and keeps nothing it is handed. */
  eachSeries(visit: (series: SeriesView) => void): void {
    for (const series of this.series.values()) visit(series);
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { ...series.labels, le }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { ...series.labels, le: '+Inf' }, value: series.count, metricName: bucket });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.series.clear();
  }
}

type CustomKind = 'COUNTER' | 'GAUGE' | 'TIMER';

/** One custom metric: its prom-client object and the label names fixed when it was first seen. */
interface CustomMetric {
  readonly kind: CustomKind;
  readonly labelNames: readonly string[];
  readonly tagNames: ReadonlySet<string>;
  readonly counter?: Counter;
  readonly gauge?: Gauge;
  readonly histogram?: Histogram;
}

/** The registry, the two request histograms and the custom metrics of one Trantor process. */
export class Metrics {
  readonly registry: Registry;
  readonly server: RequestHistogram;
  readonly client: RequestHistogram;
  private readonly logger: MetricsLogger | undefined;
  private readonly buckets: number[];
  private readonly custom = new Map<string, CustomMetric | null>();
  private readonly routers = new Map<string, RouterCounts>();
  private readonly warned = new Set<string>();

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    this.logger = options.logger;
    this.buckets = [...(options.buckets ?? DEFAULT_BUCKETS)];
    this.server = new RequestHistogram({
      name: SERVER_REQUESTS,
      help: 'A histogram of latencies for executor server',
      labelNames: SERVER_LABELS,
      buckets: this.buckets,
      registry: this.registry,
    });
    this.client = new RequestHistogram({
      name: CLIENT_REQUESTS,
      help: 'A histogram of latencies for executor client',
      labelNames: CLIENT_LABELS,
      buckets: this.buckets,
      registry: this.registry,
    });
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The registry in Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * The label values and cached children for one predictor of one deployment; `namespace` (not a
   * label, as in Seldon) tells the dashboard's traffic whose series they are.
   */
  forPredictor(deployment: string, predictor: Predictor, namespace = ''): PredictorMetrics {
    return new PredictorMetrics(this, deployment, predictor, namespace);
  }

  /**
   * Visits each series of the gateway's request histogram (`server`) or of the executor's calls
   * to components (`client`) as it is, nothing copied: the visitor reads, and keeps nothing.
   */
  eachSeries(histogram: 'server' | 'client', visit: (series: SeriesView) => void): void {
    (histogram === 'server' ? this.server : this.client).eachSeries(visit);
  }

  /** A router node's choices and feedback, made on first use and kept for the process's life. */
  routerCounts(namespace: string, deployment: string, predictor: string, node: string): RouterCounts {
    const key = `${namespace}\u0000${deployment}\u0000${predictor}\u0000${node}`;
    let counts = this.routers.get(key);
    if (counts === undefined) this.routers.set(key, (counts = new RouterCounts(namespace, deployment, predictor, node)));
    return counts;
  }

  /** Visits every router's counts (read them, keep nothing). */
  eachRouter(visit: (counts: RouterCounts) => void): void {
    for (const counts of this.routers.values()) visit(counts);
  }

  /**
   * Records a reply's `meta.metrics`: COUNTER adds its value, GAUGE sets it, TIMER observes it
   * (milliseconds) in seconds. A metric that cannot be recorded (bad name or tag, a key already
   * used with another type, a negative counter step) is skipped and reported once per key.
   */
  recordCustom(base: Readonly<Record<(typeof CUSTOM_BASE_LABELS)[number], string>>, metrics: readonly Metric[]): void {
    for (const metric of metrics) {
      try {
        this.recordOne(base, metric);
      } catch (err) {
        this.warnOnce(`error:${String((metric as { key?: unknown } | null)?.key)}`, { metric, err: (err as Error).message }, 'a custom metric from meta.metrics could not be recorded; skipped');
      }
    }
  }

  private recordOne(base: Readonly<Record<string, string>>, metric: Metric): void {
    if (typeof metric !== 'object' || metric === null) return this.skip('shape', metric, 'a meta.metrics entry is not an object');
    const { key, type, value } = metric;
    if (typeof key !== 'string' || !METRIC_NAME.test(key)) return this.skip(`name:${String(key)}`, metric, 'a custom metric key is not a valid Prometheus metric name');
    if (type !== 'COUNTER' && type !== 'GAUGE' && type !== 'TIMER') return this.skip(`type:${key}`, metric, 'a custom metric has a type other than COUNTER, GAUGE or TIMER');
    if (typeof value !== 'number' || !Number.isFinite(value)) return this.skip(`value:${key}`, metric, 'a custom metric value is not a finite number');
    const tags = typeof metric.tags === 'object' && metric.tags !== null ? metric.tags : {};
    const found = this.metricFor(key, type, tags);
    if (found === undefined) return;
    const labels: Record<string, string> = {};
    for (const name of found.labelNames) labels[name] = '';
    for (const [name, tagValue] of Object.entries(tags)) {
      if (!found.tagNames.has(name)) return this.skip(`tags:${key}`, metric, `custom metric "${key}" was first seen with tags [${[...found.tagNames].join(', ')}]; samples with other tags are skipped`);
      labels[name] = String(tagValue);
    }
    Object.assign(labels, base);
    switch (found.kind) {
      case 'COUNTER':
        if (value < 0) return this.skip(`negative:${key}`, metric, 'a COUNTER cannot go down; negative steps are skipped');
        found.counter!.inc(labels, value);
        return;
      case 'GAUGE':
        found.gauge!.set(labels, value);
        return;
      case 'TIMER':
        found.histogram!.observe(labels, value / 1000);
        return;
    }
  }

  /** The metric object for a key, created on first sight; undefined (reported) when it cannot be. */
  private metricFor(key: string, type: CustomKind, tags: Record<string, unknown>): CustomMetric | undefined {
    const known = this.custom.get(key);
    if (known === null) return undefined;
    if (known !== undefined) {
      if (known.kind !== type) {
        this.skip(`kind:${key}`, { key, type }, `custom metric "${key}" was first seen as ${known.kind}; samples of another type are skipped`);
        return undefined;
      }
      return known;
    }
    const tagNames = Object.keys(tags).filter((name) => !(CUSTOM_BASE_LABELS as readonly string[]).includes(name));
    const bad = tagNames.find((name) => !LABEL_NAME.test(name) || name.startsWith('__'));
    if (bad !== undefined) {
      this.skip(`label:${key}`, { key, tag: bad }, 'a custom metric tag is not a valid Prometheus label name');
      return undefined;
    }
    if (this.registry.getSingleMetric(key) !== undefined) {
      this.custom.set(key, null);
      this.skip(`taken:${key}`, { key }, 'a custom metric key is the name of a built-in metric; skipped');
      return undefined;
    }
    const labelNames = [...CUSTOM_BASE_LABELS, ...tagNames];
    const common = { name: key, help: `custom ${type.toLowerCase()} ${key} from meta.metrics`, labelNames, registers: [this.registry] };
    let created: CustomMetric;
    if (type === 'COUNTER') created = { kind: type, labelNames, tagNames: new Set(tagNames), counter: new Counter(common) };
    else if (type === 'GAUGE') created = { kind: type, labelNames, tagNames: new Set(tagNames), gauge: new Gauge(common) };
    else created = { kind: type, labelNames, tagNames: new Set(tagNames), histogram: new Histogram({ ...common, buckets: this.buckets }) };
    this.custom.set(key, created);
    return created;
  }

  private skip(reason: string, metric: unknown, message: string): void {
    this.warnOnce(reason, { metric }, message);
  }

  private warnOnce(reason: string, details: object, message: string): void {
    if (this.warned.has(reason)) return;
    if (this.warned.size < 1000) this.warned.add(reason);
    this.logger?.warn(details, message);
  }
}

/** One branch of a router: how often it was chosen, and the feedback sent back on its predictions. */
export interface BranchCounts {
  chosen: number;
  feedback: number;
  reward: number;
}

/**
 * One router node's counts since the process started, by branch: the route it answered (a child's
 * index, or -1 for all children, -2 for none) and the feedback (count, reward sum) that came
 * back for predictions that took that route. Not Prometheus metrics: the dashboard reads them.
 */
export class RouterCounts {
  readonly namespace: string;
  readonly deployment: string;
  readonly predictor: string;
  readonly node: string;
  /** By route; a branch appears once chosen or rewarded. */
  readonly branches = new Map<number, BranchCounts>();

  constructor(namespace: string, deployment: string, predictor: string, node: string) {
    this.namespace = namespace;
    this.deployment = deployment;
    this.predictor = predictor;
    this.node = node;
  }

  chose(route: number): void {
    this.branch(route).chosen += 1;
  }

  /** Feedback on a prediction that took `route`; a missing or non-finite reward counts as 0. */
  rewarded(route: number, reward: unknown): void {
    const branch = this.branch(route);
    branch.feedback += 1;
    if (typeof reward === 'number' && Number.isFinite(reward)) branch.reward += reward;
  }

  private branch(route: number): BranchCounts {
    let branch = this.branches.get(route);
    if (branch === undefined) this.branches.set(route, (branch = { chosen: 0, feedback: 0, reward: 0 }));
    return branch;
  }
}

/** Seldon's `model_image` and `model_version`: the image without its tag, and the tag. */
export function imageAndVersion(image: string | undefined): [string, string] {
  if (image === undefined || image === '') return ['', ''];
  const at = image.indexOf('@');
  const name = at === -1 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon === -1 || colon < name.lastIndexOf('/')) return [name, at === -1 ? '' : image.slice(at + 1)];
  return [name.slice(0, colon), name.slice(colon + 1)];
}

/**
 * A histogram's series for one owner, by service, method and status code (HTTP's number, or a
 * gRPC call's code name): nested maps, so a request looks up constants and builds no key.
 */
class SeriesCache {
  private readonly byService = new Map<string, Map<string, Map<number | string, Observer>>>();
  private readonly make: (service: string, method: string, code: number | string) => Observer;

  constructor(make: (service: string, method: string, code: number | string) => Observer) {
    this.make = make;
  }

  get(service: string, method: string, code: number | string): Observer {
    let byMethod = this.byService.get(service);
    if (byMethod === undefined) this.byService.set(service, (byMethod = new Map<string, Map<number | string, Observer>>()));
    let byCode = byMethod.get(method);
    if (byCode === undefined) byMethod.set(method, (byCode = new Map<number | string, Observer>()));
    let series = byCode.get(code);
    if (series === undefined) byCode.set(code, (series = this.make(service, method, code)));
    return series;
  }
}

/** One predictor's label values, with the server histogram's children cached by service, method and code. */
export class PredictorMetrics {
  readonly metrics: Metrics;
  readonly deployment: string;
  readonly predictor: string;
  readonly version: string;
  private readonly predictorSpec: Predictor;
  /** The deployment's namespace ('' when not given): not a label, but the dashboard's traffic names it. */
  readonly namespace: string;
  private readonly serverSeries = new SeriesCache((service, method, code) => this.metrics.server.seriesOf(this.namespace, [this.deployment, this.predictor, this.version, service, method, String(code)]));
  private readonly nodeBases = new Map<string, Readonly<Record<(typeof CUSTOM_BASE_LABELS)[number], string>>>();
  private readonly routers = new Map<string, RouterCounts>();

  constructor(metrics: Metrics, deployment: string, predictor: Predictor, namespace = '') {
    this.metrics = metrics;
    this.namespace = namespace;
    this.deployment = deployment;
    this.predictor = predictor.name;
    this.predictorSpec = predictor;
    this.version = predictor.labels['version'] ?? '';
  }

  /**
   * Records one request the gateway answered for this predictor: REST's path kind, verb and HTTP
   * status, or (as Seldon's executor labels gRPC) the full method, `unary` and the code's name.
   */
  observeServer(service: string, method: string, code: number | string, seconds: number): void {
    this.serverSeries.get(service, method, code).observe(seconds);
  }

  /** The client histogram's children for one graph node; `overGrpc` when the executor calls it over gRPC. */
  forNode(node: string, overGrpc = false): NodeMetrics {
    let image: string | undefined;
    for (const spec of this.predictorSpec.componentSpecs) {
      image = spec.containers.find((c) => c.name === node)?.image;
      if (image !== undefined) break;
    }
    const [modelImage, modelVersion] = imageAndVersion(image);
    return new NodeMetrics(this, node, modelImage, modelVersion, overGrpc);
  }

  /** Records the route a router node answered (a child's index, -1 all, -2 none). */
  routed(node: string, route: number): void {
    this.routerOf(node).chose(route);
  }

  /** Records feedback that reached a router node for a prediction that took `route`. */
  rewarded(node: string, route: number, reward: unknown): void {
    this.routerOf(node).rewarded(route, reward);
  }

  private routerOf(node: string): RouterCounts {
    let counts = this.routers.get(node);
    if (counts === undefined) this.routers.set(node, (counts = this.metrics.routerCounts(this.namespace, this.deployment, this.predictor, node)));
    return counts;
  }

  /** Records the custom metrics a node's reply carried. */
  recordCustom(node: string, metrics: readonly Metric[]): void {
    let base = this.nodeBases.get(node);
    if (base === undefined) {
      base = Object.freeze({ deployment_name: this.deployment, predictor_name: this.predictor, model_name: node });
      this.nodeBases.set(node, base);
    }
    this.metrics.recordCustom(base, metrics);
  }
}

/** One graph node's client-call histogram children, cached by path, method and code. */
export class NodeMetrics {
  private readonly owner: PredictorMetrics;
  private readonly node: string;
  private readonly image: string;
  private readonly version: string;
  private readonly series = new SeriesCache((service, method, code) => {
    const o = this.owner;
    return o.metrics.client.seriesOf(o.namespace, [o.deployment, o.predictor, o.version, this.node, this.image, this.version, service, method, String(code)]);
  });

  /** Its calls travel over gRPC (`endpoint.type: GRPC`), and are labelled as Seldon labels gRPC calls. */
  readonly overGrpc: boolean;

  constructor(owner: PredictorMetrics, node: string, image: string, version: string, overGrpc = false) {
    this.owner = owner;
    this.overGrpc = overGrpc;
    this.node = node;
    this.image = image;
    this.version = version;
  }

  observe(service: string, method: string, code: number | string, seconds: number): void {
    this.series.get(service, method, code).observe(seconds);
  }
}

/**
 * Records one call as Seldon's executor labels it: over HTTP by wrapper path, verb and HTTP status;
 * over gRPC by the full RPC path, `unary` and the code's Go name (health always travels over HTTP).
 */
function observeCall(node: NodeMetrics, method: ComponentMethod, status: number, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  if (node.overGrpc && method !== 'health') {
    node.observe(componentRpc(method).path, 'unary', grpcCodeLabel(status >= 200 && status < 300 ? 0 : grpcStatusOfHttp(status)), seconds);
    return;
  }
  const { verb, path } = WRAPPER_ROUTES[method];
  node.observe(path, verb, status, seconds);
}

/**
 * A Transport that times every call to a known node and records it in the client histogram
 * (the component's status, or the error's status when no answer came).
 */
export class MeteredTransport extends MethodTransport {
  private readonly inner: Transport;
  private readonly nodes: ReadonlyMap<UnitKey, NodeMetrics>;

  constructor(inner: Transport, nodes: ReadonlyMap<UnitKey, NodeMetrics>) {
    super();
    this.inner = inner;
    this.nodes = nodes;
  }

  protected send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
    const node = this.nodes.get(unit);
    if (node === undefined) return invoke(this.inner, unit, method, payload, options);
    const started = performance.now();
    return invoke(this.inner, unit, method, payload, options).then(
      (response) => {
        observeCall(node, method, response.status, started);
        return response;
      },
      (err: unknown) => {
        observeCall(node, method, asTrantorError(err).status, started);
        throw err;
      },
    );
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
