import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { SeldonMessage } from '../protocol/index.ts';
import type { GraphNode, LoggerSpec, Predictor } from '../manifest/index.ts';
import { PredictorExecutor } from './executor.ts';
import { CE_FEEDBACK, CE_INFERENCE_REQUEST, CE_INFERENCE_RESPONSE, RequestLogger } from './request-logger.ts';
import { StaticEndpoints, answerJson, graphNode, predictorOf, standIn } from './testing.ts';
import type { ComponentBehaviour, StandIn } from './testing.ts';
import { HttpTransport } from './transport/http.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A real HTTP sink recording what loggers send. */
async function sink(status = 200): Promise<StandIn> {
  const s = await standIn((_request, res) => answerJson(res, status, ''));
  cleanup.push(() => s.close());
  return s;
}

const doubling: ComponentBehaviour = (request, res) => {
  if (request.path === '/send-feedback') return answerJson(res, 200, { data: { ndarray: [] } });
  const message = JSON.parse(request.body) as SeldonMessage;
  const rows = message.data?.ndarray as number[][];
  answerJson(res, 200, { data: { ndarray: rows.map((r) => r.map((x) => x * 2)) } });
};

interface Built {
  executor: PredictorExecutor;
  logger: RequestLogger;
  transport: HttpTransport;
}

async function build(logger: LoggerSpec | undefined, requestLogger = new RequestLogger(), node: Partial<GraphNode> = {}): Promise<Built> {
  const component = await standIn(doubling);
  cleanup.push(() => component.close());
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [component.replica()]);
  const transport = new HttpTransport({ endpoints, retryWindowMs: 100 });
  cleanup.push(() => transport.close());
  cleanup.push(() => requestLogger.close());
  const predictor: Predictor = predictorOf('main', graphNode('classifier', { type: 'MODEL', ...(logger === undefined ? {} : { logger }), ...node }));
  const executor = new PredictorExecutor({ namespace: 'prod', deployment: 'iris', predictor, transport, requestLogger });
  return { executor, logger: requestLogger, transport };
}

const REQUEST: SeldonMessage = { data: { ndarray: [[1, 2]] } };

test('mode all sends the node\'s input and output as binary-mode CloudEvents with Seldon\'s headers', async () => {
  const events = await sink();
  const { executor, logger } = await build({ url: `http://127.0.0.1:${events.port}/log/here`, mode: 'all' });
  const reply = await executor.predict(REQUEST, 'puid-1');
  assert.deepEqual(reply.data, { ndarray: [[2, 4]] });
  await logger.idle();
  assert.equal(events.received.length, 2);
  const byType = new Map(events.received.map((r) => [r.headers['ce-type'], r]));
  const req = byType.get(CE_INFERENCE_REQUEST)!;
  const res = byType.get(CE_INFERENCE_RESPONSE)!;
  assert.ok(req !== undefined && res !== undefined);
  for (const r of [req, res]) {
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/log/here');
    assert.equal(r.headers['ce-specversion'], '1.0');
    assert.equal(r.headers['ce-source'], 'http://iris-main.prod:8000/');
    assert.equal(r.headers['ce-modelid'], 'classifier');
    assert.equal(r.headers['ce-requestid'], 'puid-1');
    assert.equal(r.headers['ce-inferenceservicename'], 'iris');
    assert.equal(r.headers['ce-namespace'], 'prod');
    assert.equal(r.headers['ce-endpoint'], 'main');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.ok(typeof r.headers['ce-id'] === 'string' && r.headers['ce-id'] !== '');
    assert.ok(typeof r.headers['ce-time'] === 'string');
  }
  assert.notEqual(req.headers['ce-id'], res.headers['ce-id']);
  assert.deepEqual(JSON.parse(req.body), REQUEST);
  assert.deepEqual(JSON.parse(res.body), { data: { ndarray: [[2, 4]] } });
  assert.deepEqual(logger.stats(), { queued: 2, sent: 2, failed: 0, dropped: 0, waiting: 0, lastError: undefined });
});

test('mode request sends only the input, mode response only the output', async () => {
  const events = await sink();
  const url = `http://127.0.0.1:${events.port}/`;
  const onlyRequest = await build({ url, mode: 'request' });
  await onlyRequest.executor.predict(REQUEST, 'p-req');
  await onlyRequest.logger.idle();
  const onlyResponse = await build({ url, mode: 'response' });
  await onlyResponse.executor.predict(REQUEST, 'p-res');
  await onlyResponse.logger.idle();
  assert.deepEqual(
    events.received.map((r) => [r.headers['ce-type'], r.headers['ce-requestid']]),
    [[CE_INFERENCE_REQUEST, 'p-req'], [CE_INFERENCE_RESPONSE, 'p-res']],
  );
});

test('feedback is logged as io.seldon.serving.feedback with the feedback message', async () => {
  const events = await sink();
  const { executor, logger } = await build({ url: `http://127.0.0.1:${events.port}/`, mode: 'all' });
  const feedback = { request: REQUEST, response: { data: { ndarray: [[2, 4]] } }, reward: 1 };
  await executor.feedback(feedback, 'p-fb');
  await logger.idle();
  assert.equal(events.received.length, 1);
  assert.equal(events.received[0]!.headers['ce-type'], CE_FEEDBACK);
  assert.equal(events.received[0]!.headers['ce-requestid'], 'p-fb');
  assert.deepEqual(JSON.parse(events.received[0]!.body), feedback);
});

test('header values are percent-encoded', async () => {
  const events = await sink();
  const { executor, logger } = await build({ url: `http://127.0.0.1:${events.port}/`, mode: 'request' });
  await executor.predict(REQUEST, 'puid%é');
  await logger.idle();
  assert.equal(events.received[0]!.headers['ce-requestid'], 'puid%25%C3%A9');
});

test('skipLogging (the Seldon-Skip-Logging header) suppresses logging; no url means no logging', async () => {
  const events = await sink();
  const { executor, logger } = await build({ url: `http://127.0.0.1:${events.port}/`, mode: 'all' });
  await executor.predict(REQUEST, 'p-skip', { skipLogging: true });
  const noUrl = await build({ mode: 'all' });
  await noUrl.executor.predict(REQUEST, 'p-nourl');
  await logger.idle();
  assert.equal(events.received.length, 0);
  assert.equal(logger.stats().queued, 0);
  assert.equal(noUrl.logger.stats().queued, 0);
});

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('a dead logger neither fails nor delays predictions', async () => {
  const port = await deadPort();
  const { executor, logger } = await build({ url: `http://127.0.0.1:${port}/`, mode: 'all' });
  const started = performance.now();
  for (let i = 0; i < 50; i++) {
    const reply = await executor.predict(REQUEST, `p-${i}`);
    assert.deepEqual(reply.data, { ndarray: [[2, 4]] });
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 2_000, `50 predictions took ${elapsed.toFixed(0)} ms`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(logger.stats().failed >= 1, JSON.stringify(logger.stats()));
  assert.match(logger.stats().lastError ?? '', /ECONNREFUSED|connect/i);
});

test('a logger that never answers does not delay predictions either', async () => {
  const hang = await standIn(() => undefined);
  cleanup.push(() => hang.close());
  const { executor, logger } = await build({ url: `http://127.0.0.1:${hang.port}/`, mode: 'all' }, new RequestLogger({ timeoutMs: 60_000 }));
  const started = performance.now();
  for (let i = 0; i < 20; i++) await executor.predict(REQUEST, `h-${i}`);
  assert.ok(performance.now() - started < 2_000);
  assert.ok(logger.stats().waiting > 0);
});

test('the queue is bounded: when full the new entry is dropped and counted', async () => {
  const hang = await standIn(() => undefined);
  cleanup.push(() => hang.close());
  const { executor, logger } = await build({ url: `http://127.0.0.1:${hang.port}/`, mode: 'all' }, new RequestLogger({ capacity: 5, connections: 1, timeoutMs: 60_000 }));
  for (let i = 0; i < 10; i++) await executor.predict(REQUEST, `q-${i}`);
  const stats = logger.stats();
  // 20 events: one in flight on the single connection, 5 waiting, the rest dropped.
  assert.equal(stats.waiting, 5, JSON.stringify(stats));
  assert.equal(stats.queued + stats.dropped, 20);
  assert.equal(stats.dropped, 14, JSON.stringify(stats));
});

test('closing with events still queued stops the senders for good', async () => {
  const logger = new RequestLogger();
  const node = { url: 'http://127.0.0.1:9/log', logsRequest: true, logsResponse: true, source: 's', modelId: 'm', deployment: 'd', namespace: 'n', predictor: 'p', sink: logger };
  for (let i = 0; i < 3; i++) logger.log(node, 'request', `puid-${i}`, { data: { ndarray: [[i]] } });
  await logger.close();
  // The senders were scheduled before the close; they must find it closed and not start again and again.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await logger.idle();
  assert.equal(logger.stats().sent + logger.stats().failed, 0);
});
