import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { TrantorError } from '../protocol/index.ts';
import type { Metric } from '../protocol/index.ts';
import { MeteredTransport, Metrics, RECENT_OBSERVATIONS, RequestHistogram, imageAndVersion } from './metrics.ts';
import type { NodeMetrics, SeriesView } from './metrics.ts';
import { PredictorExecutor } from './executor.ts';
import { graphNode, predictorOf, transportAnswering } from './testing.ts';
import { failureOf } from './transport/transport.ts';
import type { Container } from '../manifest/index.ts';
import type { UnitKey } from './transport/endpoints.ts';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

async function samplesOf(metrics: Metrics, name: string): Promise<Sample[]> {
  const all = await metrics.registry.getMetricsAsJSON();
  const found = all.find((m) => m.name === name) as unknown as { values: Sample[] } | undefined;
  return found?.values ?? [];
}

const predictor = predictorOf('default', graphNode('classifier'), {
  labels: { version: 'v3' },
  componentSpecs: [{ containers: [{ name: 'classifier', image: 'registry:5000/team/iris:1.2' } as Container] }],
});

function warnings(): { logger: { warn(details: object, message: string): void }; seen: string[] } {
  const seen: string[] = [];
  return { logger: { warn: (_details, message) => seen.push(message) }, seen };
}

test('imageAndVersion splits the tag off, not a registry port', () => {
  assert.deepEqual(imageAndVersion('seldonio/sklearnserver:1.17.1'), ['seldonio/sklearnserver', '1.17.1']);
  assert.deepEqual(imageAndVersion('registry:5000/team/iris'), ['registry:5000/team/iris', '']);
  assert.deepEqual(imageAndVersion('registry:5000/team/iris:2'), ['registry:5000/team/iris', '2']);
  assert.deepEqual(imageAndVersion(undefined), ['', '']);
});

test('each Metrics has its own registry; two can coexist in one process', async () => {
  const a = new Metrics();
  const b = new Metrics();
  a.forPredictor('dep', predictor).observeServer('predictions', 'POST', 200, 0.01);
  assert.equal((await samplesOf(a, 'seldon_api_executor_server_requests_seconds')).length > 0, true);
  assert.equal((await samplesOf(b, 'seldon_api_executor_server_requests_seconds')).length, 0);
  assert.match(a.contentType, /^text\/plain/);
});

test('server observations carry Seldon\'s labels, one child per service, method and code', async () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris-model', predictor);
  p.observeServer('predictions', 'POST', 200, 0.002);
  p.observeServer('predictions', 'POST', 200, 0.2);
  p.observeServer('predictions', 'POST', 500, 0.003);
  const counts = (await samplesOf(metrics, 'seldon_api_executor_server_requests_seconds')).filter((s) => s.metricName?.endsWith('_count'));
  assert.deepEqual(
    counts.map((s) => [s.labels, s.value]),
    [
      [{ deployment_name: 'iris-model', predictor_name: 'default', predictor_version: 'v3', service: 'predictions', method: 'POST', code: '200' }, 2],
      [{ deployment_name: 'iris-model', predictor_name: 'default', predictor_version: 'v3', service: 'predictions', method: 'POST', code: '500' }, 1],
    ],
  );
});

test('MeteredTransport times answers and failures of known nodes and passes others through', async () => {
  const metrics = new Metrics();
  const node = metrics.forPredictor('iris-model', predictor).forNode('classifier');
  const unit: UnitKey = { namespace: 'seldon', deployment: 'iris-model', predictor: 'default', node: 'classifier' };
  const other: UnitKey = { ...unit, node: 'other' };
  let fail = false;
  const inner = transportAnswering((u) => (fail ? Promise.reject(new TrantorError('UNAVAILABLE', 'down')) : Promise.resolve(u === unit ? { status: 200, message: {} } : failureOf(u, 404, undefined, ''))));
  const transport = new MeteredTransport(inner, new Map<UnitKey, NodeMetrics>([[unit, node]]));
  assert.equal((await transport.predict(unit, {}, { idempotent: true, timeoutMs: 100 })).status, 200);
  await transport.predict(other, {}, { idempotent: true, timeoutMs: 100 });
  await transport.health(unit, { idempotent: true, timeoutMs: 100 });
  fail = true;
  await assert.rejects(transport.predict(unit, {}, { idempotent: true, timeoutMs: 100 }), /down/);
  const counts = (await samplesOf(metrics, 'seldon_api_executor_client_requests_seconds')).filter((s) => s.metricName?.endsWith('_count'));
  const base = { deployment_name: 'iris-model', predictor_name: 'default', predictor_version: 'v3', model_name: 'classifier', model_image: 'registry:5000/team/iris', model_version: '1.2' };
  assert.deepEqual(
    counts.map((s) => [s.labels, s.value]),
    [
      [{ ...base, service: '/predict', method: 'POST', code: '200' }, 1],
      [{ ...base, service: '/health/status', method: 'GET', code: '200' }, 1],
      [{ ...base, service: '/predict', method: 'POST', code: '503' }, 1],
    ],
  );
});

test('custom COUNTER adds, GAUGE sets, TIMER observes milliseconds as seconds, with tags and the node\'s labels', async () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris-model', predictor);
  const send = (list: Metric[]): void => p.recordCustom('classifier', list);
  send([
    { key: 'my_counter', type: 'COUNTER', value: 2, tags: { colour: 'red' } },
    { key: 'my_gauge', type: 'GAUGE', value: 7 },
    { key: 'my_timer', type: 'TIMER', value: 20 },
  ]);
  send([
    { key: 'my_counter', type: 'COUNTER', value: 3, tags: { colour: 'red' } },
    { key: 'my_gauge', type: 'GAUGE', value: 4 },
  ]);
  const labels = { deployment_name: 'iris-model', predictor_name: 'default', model_name: 'classifier' };
  assert.deepEqual((await samplesOf(metrics, 'my_counter')).map((s) => [s.labels, s.value]), [[{ ...labels, colour: 'red' }, 5]]);
  assert.deepEqual((await samplesOf(metrics, 'my_gauge')).map((s) => [s.labels, s.value]), [[labels, 4]]);
  const timer = await samplesOf(metrics, 'my_timer');
  assert.equal(timer.find((s) => s.metricName === 'my_timer_sum')?.value, 0.02);
  assert.equal(timer.find((s) => s.metricName === 'my_timer_bucket' && s.labels['le'] === 0.025)?.value, 1);
  assert.equal(timer.find((s) => s.metricName === 'my_timer_bucket' && s.labels['le'] === 0.01)?.value, 0);
});

test('invalid custom metrics are skipped and reported once, never thrown', async () => {
  const { logger, seen } = warnings();
  const metrics = new Metrics({ logger });
  const p = metrics.forPredictor('iris-model', predictor);
  const bad = [
    { key: 'has space', type: 'COUNTER', value: 1 },
    { key: 'bad_tag', type: 'GAUGE', value: 1, tags: { 'no-dash': 'x' } },
    { key: 'reserved_tag', type: 'GAUGE', value: 1, tags: { __name: 'x' } },
    { key: 'nan_value', type: 'GAUGE', value: Number.NaN },
    { key: 'string_value', type: 'GAUGE', value: '3' },
    { key: 'odd_type', type: 'SUMMARY', value: 1 },
    { key: 'down', type: 'COUNTER', value: -1 },
    { key: 'seldon_api_executor_server_requests_seconds', type: 'GAUGE', value: 1 },
    null,
    { key: 'ok', type: 'COUNTER', value: 1, tags: { a: '1' } },
    { key: 'ok', type: 'GAUGE', value: 1 },
    { key: 'ok', type: 'COUNTER', value: 1, tags: { b: '1' } },
    { key: 'ok', type: 'COUNTER', value: 1 },
  ] as unknown as Metric[];
  p.recordCustom('classifier', bad);
  p.recordCustom('classifier', bad);
  assert.equal(seen.length, 11);
  const ok = await samplesOf(metrics, 'ok');
  // The first and last samples: a missing tag is an empty label.
  assert.deepEqual(ok.map((s) => [s.labels['a'], s.value]).sort(), [['', 2], ['1', 2]]);
  assert.equal((await samplesOf(metrics, 'has space')).length, 0);
  assert.doesNotMatch(await metrics.text(), /has space|no-dash|nan_value/);
});

test('RequestHistogram renders like a prom-client histogram: cumulative buckets, +Inf, _sum and _count', async () => {
  const registry = new Registry();
  const histogram = new RequestHistogram({ name: 'h_seconds', help: 'help', labelNames: ['a', 'b'], buckets: [1, 0.1], registry });
  assert.equal(histogram.labels('x', 'y'), histogram.labels('x', 'y'));
  histogram.labels('x', 'y').observe(0.05);
  histogram.labels('x', 'y').observe(0.1);
  histogram.labels('x', 'y').observe(5);
  histogram.labels('x', 'z').observe(0.5);
  assert.equal(
    await registry.metrics(),
    [
      '# HELP h_seconds help',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{a="x",b="y",le="0.1"} 2',
      'h_seconds_bucket{a="x",b="y",le="1"} 2',
      'h_seconds_bucket{a="x",b="y",le="+Inf"} 3',
      'h_seconds_sum{a="x",b="y"} 5.15',
      'h_seconds_count{a="x",b="y"} 3',
      'h_seconds_bucket{a="x",b="z",le="0.1"} 0',
      'h_seconds_bucket{a="x",b="z",le="1"} 1',
      'h_seconds_bucket{a="x",b="z",le="+Inf"} 1',
      'h_seconds_sum{a="x",b="z"} 0.5',
      'h_seconds_count{a="x",b="z"} 1',
      '',
    ].join('\n'),
  );
  registry.resetMetrics();
  assert.equal(await registry.metrics(), '# HELP h_seconds help\n# TYPE h_seconds histogram\n');
});

function seriesOf(metrics: Metrics, histogram: 'server' | 'client'): SeriesView[] {
  const found: SeriesView[] = [];
  metrics.eachSeries(histogram, (series) => found.push(series));
  return found;
}

test('eachSeries hands out each series itself, with the namespace its predictor was made for', () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris-model', predictor, 'seldon');
  p.observeServer('predictions', 'POST', 200, 0.001);
  p.forNode('classifier').observe('/predict', 'POST', 200, 0.0005);
  const [server] = seriesOf(metrics, 'server');
  assert.equal(server?.namespace, 'seldon');
  assert.equal(server?.labels['service'], 'predictions');
  assert.equal(server?.count, 1);
  // The same object each time: nothing copied.
  assert.equal(seriesOf(metrics, 'server')[0], server);
  const [client] = seriesOf(metrics, 'client');
  assert.equal(client?.labels['model_name'], 'classifier');
  assert.equal(client?.namespace, 'seldon');
});

test('a series keeps its latest raw observations in a ring indexed by observation number', () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris-model', predictor, 'seldon');
  const total = RECENT_OBSERVATIONS + 10;
  for (let i = 0; i < total; i++) p.observeServer('predictions', 'POST', 200, i / 1000);
  const [series] = seriesOf(metrics, 'server');
  assert.equal(series?.count, total);
  // Observation i sits at i % RECENT_OBSERVATIONS; the first ten were overwritten by the last ten.
  assert.equal(series?.recent[0], RECENT_OBSERVATIONS / 1000);
  assert.equal(series?.recent[9], (RECENT_OBSERVATIONS + 9) / 1000);
  assert.equal(series?.recent[10], 10 / 1000);
});

test('the ring costs an observation no visible time', () => {
  // A guard against a slow store, not a benchmark: a million observations well under a second.
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris-model', predictor, 'seldon');
  const started = performance.now();
  for (let i = 0; i < 1_000_000; i++) p.observeServer('predictions', 'POST', 200, 0.001);
  assert.ok(performance.now() - started < 1000, 'a million observations took over a second');
});

test('a router\'s choices and the feedback on them are counted per branch, -1 and -2 included', async () => {
  const metrics = new Metrics();
  const router = predictorOf('default', graphNode('router', { type: 'ROUTER', children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })] }));
  let route = 1;
  const transport = transportAnswering((unit, method) => {
    if (method === 'route') return Promise.resolve({ status: 200, message: { data: { ndarray: [[route]] } } });
    return Promise.resolve({ status: 200, message: { data: { ndarray: [[unit.node]] } } });
  });
  const executor = new PredictorExecutor({ namespace: 'seldon', deployment: 'ab', predictor: router, transport, metrics });
  const request = { data: { ndarray: [[1]] } };
  const first = await executor.predict(request, 'p1');
  await executor.predict(request, 'p2');
  route = -2;
  await executor.predict(request, 'p3');
  await executor.feedback({ request, response: first, reward: 0.5 }, 'p1');
  await executor.feedback({ request, response: first, reward: 1 }, 'p1');
  // No recorded route: no branch to credit.
  await executor.feedback({ request, response: { data: { ndarray: [[1]] } }, reward: 1 }, 'p4');
  const seen: unknown[] = [];
  metrics.eachRouter((counts) => seen.push({ ...counts, branches: [...counts.branches.entries()] }));
  assert.deepEqual(seen, [{
    namespace: 'seldon', deployment: 'ab', predictor: 'default', node: 'router',
    branches: [[1, { chosen: 2, feedback: 2, reward: 1.5 }], [-2, { chosen: 1, feedback: 0, reward: 0 }]],
  }]);
});
