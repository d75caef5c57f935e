import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics, PredictorExecutor } from '../../executor/index.ts';
import { graphNode, predictorOf, transportAnswering } from '../../executor/testing.ts';
import type { TrafficSample } from '../../web/index.ts';
import { TrafficSampler } from './traffic.ts';

const predictor = predictorOf('default', graphNode('classifier'));

/** A sampler over `metrics` on a clock the test moves. */
function sampler(metrics: Metrics): { sampler: TrafficSampler; advance: (ms: number) => void } {
  let now = 1_000_000;
  const s = new TrafficSampler({ metrics, now: () => now });
  return { sampler: s, advance: (ms) => (now += ms) };
}

test('a sample gives each predictor\'s requests and errors per second and the second\'s p50 and p99', () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris', predictor, 'seldon');
  const { sampler: s, advance } = sampler(metrics);
  s.restart();
  // 98 fast answers, one slow, one failure: p50 is a fast one, p99 the slowest but one.
  for (let i = 0; i < 98; i++) p.observeServer('predictions', 'POST', 200, 0.001);
  p.observeServer('predictions', 'POST', 200, 0.25);
  p.observeServer('predictions', 'POST', 500, 0.002);
  // Not traffic: the docs and health paths.
  p.observeServer('health', 'GET', 200, 0.5);
  advance(2000);
  const sample = s.sample();
  assert.equal(sample.t, 1_002_000);
  assert.deepEqual(sample.predictors, [{ namespace: 'seldon', deployment: 'iris', predictor: 'default', rps: 50, errors: 0.5, p50: 1, p99: 2 }]);
  assert.deepEqual(sample.nodes, []);
  // The next second saw nothing: zeros, no percentiles.
  advance(1000);
  assert.deepEqual(s.sample().predictors, [{ namespace: 'seldon', deployment: 'iris', predictor: 'default', rps: 0, errors: 0, p50: null, p99: null }]);
});

test('what happened before the first listener (restart) is not counted', () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris', predictor, 'seldon');
  for (let i = 0; i < 10; i++) p.observeServer('predictions', 'POST', 200, 0.001);
  const { sampler: s, advance } = sampler(metrics);
  s.restart();
  p.observeServer('predictions', 'POST', 200, 0.003);
  advance(1000);
  assert.deepEqual(s.sample().predictors.map((t) => [t.rps, t.p50]), [[1, 3]]);
});

test('nodes are sampled from the executor\'s calls, gRPC failures counted as errors and health checks left out', () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris', predictor, 'seldon');
  const { sampler: s, advance } = sampler(metrics);
  s.restart();
  const rest = p.forNode('classifier');
  rest.observe('/predict', 'POST', 200, 0.0004);
  rest.observe('/health/status', 'GET', 200, 0.1);
  const grpc = p.forNode('scorer', true);
  grpc.observe('/seldon.protos.Model/Predict', 'unary', 'OK', 0.001);
  grpc.observe('/seldon.protos.Model/Predict', 'unary', 'UNAVAILABLE', 0.001);
  grpc.observe('/seldon.protos.Model/Metadata', 'unary', 'OK', 0.1);
  advance(1000);
  const nodes = s.sample().nodes;
  assert.deepEqual(nodes, [
    { namespace: 'seldon', deployment: 'iris', predictor: 'default', node: 'classifier', rps: 1, errors: 0, p50: 0.4, p99: 0.4 },
    { namespace: 'seldon', deployment: 'iris', predictor: 'default', node: 'scorer', rps: 2, errors: 1, p50: 1, p99: 1 },
  ]);
});

test('more requests in a second than a series keeps gives the percentiles of its latest ones and the full count', () => {
  const metrics = new Metrics();
  const p = metrics.forPredictor('iris', predictor, 'seldon');
  const { sampler: s, advance } = sampler(metrics);
  s.restart();
  for (let i = 0; i < 1000; i++) p.observeServer('predictions', 'POST', 200, i < 744 ? 0.1 : 0.001);
  advance(1000);
  const [t] = s.sample().predictors;
  assert.equal(t?.rps, 1000);
  assert.equal(t?.p99, 1);
});

test('routers\' choices and rewards come in every sample, branches in order', async () => {
  const metrics = new Metrics();
  const router = predictorOf('default', graphNode('router', { type: 'ROUTER', children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })] }));
  const transport = transportAnswering((_unit, method) => Promise.resolve({ status: 200, message: { data: { ndarray: [[method === 'route' ? 1 : 0]] } } }));
  const executor = new PredictorExecutor({ namespace: 'seldon', deployment: 'ab', predictor: router, transport, metrics });
  const { sampler: s } = sampler(metrics);
  s.restart();
  const answer = await executor.predict({ data: { ndarray: [[1]] } }, 'p');
  await executor.feedback({ response: answer, reward: 2 }, 'p');
  const sample = s.sample();
  assert.deepEqual(sample.routers, [{ namespace: 'seldon', deployment: 'ab', predictor: 'default', node: 'router', branches: [{ branch: 1, chosen: 1, feedback: 1, reward: 2 }] }]);
  assert.deepEqual(sample.predictors, []);
  assert.deepEqual(sample.nodes.map((n) => [n.node, n.rps > 0]), [['router', true], ['b', true]]);
});

test('a timer runs only while someone listens, and each listener gets a sample each interval', async () => {
  const metrics = new Metrics();
  const s = new TrafficSampler({ metrics, intervalMs: 20 });
  assert.equal(s.running, false);
  const got: TrafficSample[] = [];
  let resolve!: () => void;
  const two = new Promise<void>((r) => (resolve = r));
  const stop = s.subscribe((sample) => {
    got.push(sample);
    if (got.length === 2) resolve();
  });
  const stopThrowing = s.subscribe(() => {
    throw new Error('a bad listener');
  });
  assert.equal(s.running, true);
  // The sampler's timer does not hold the process open; this one does, until the samples came.
  const guard = setTimeout(() => assert.fail('no two samples in 5 s'), 5000);
  await two;
  clearTimeout(guard);
  stop();
  assert.equal(s.running, true);
  stopThrowing();
  assert.equal(s.running, false);
  assert.ok(got[1]!.t >= got[0]!.t);
});

test('a bad interval is refused, naming it', () => {
  assert.throws(() => new TrafficSampler({ metrics: new Metrics(), intervalMs: 0 }), /intervalMs: expected at least 10 ms, got 0/);
});
