import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PredictorExecutor, HttpTransport } from '../executor/index.ts';
import { RequestLogger, StaticEndpoints, answerJson, graphNode, predictorOf, standIn } from '../executor/testing.ts';
import type { DeploymentEntry } from './deployments.ts';
import { scanHeaders } from './request.ts';
import { createGateway } from './server.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const REQUEST = { data: { ndarray: [[1, 2]] } };

test('scanHeaders notes Seldon-Skip-Logging whatever its value', () => {
  assert.equal(scanHeaders(['Seldon-Skip-Logging', '']).skipLogging, true);
  assert.equal(scanHeaders(['seldon-skip-logging', 'false']).skipLogging, true);
  assert.equal(scanHeaders(['Seldon-Puid', 'x']).skipLogging, false);
});

test('the gateway passes Seldon-Skip-Logging through to the executor', async () => {
  const events = await standIn((_request, res) => answerJson(res, 200, ''));
  cleanup.push(() => events.close());
  const component = await standIn((request, res) => answerJson(res, 200, request.body));
  cleanup.push(() => component.close());
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [component.replica()]);
  const transport = new HttpTransport({ endpoints, retryWindowMs: 100 });
  cleanup.push(() => transport.close());
  const logger = new RequestLogger();
  cleanup.push(() => logger.close());
  const predictor = predictorOf('main', graphNode('classifier', { type: 'MODEL', logger: { url: `http://127.0.0.1:${events.port}/`, mode: 'request' } }));
  const executor = new PredictorExecutor({ namespace: 'prod', deployment: 'iris', predictor, transport, requestLogger: logger });
  const entry: DeploymentEntry = { namespace: 'prod', name: 'iris', executors: [executor] };
  const gateway = await createGateway({
    host: '127.0.0.1',
    port: 0,
    limits: { bodyLimit: 1024 * 1024, requestTimeout: 30_000 },
    deployments: { lookup: (ns, name) => (ns === 'prod' && name === 'iris' ? entry : undefined) },
  });
  cleanup.push(() => gateway.close());
  const url = `${gateway.url}/seldon/prod/iris/api/v1.0/predictions`;
  const skipped = await fetch(url, { method: 'POST', body: JSON.stringify(REQUEST), headers: { 'content-type': 'application/json', 'seldon-skip-logging': 'true' } });
  assert.equal(skipped.status, 200);
  await skipped.text();
  const logged = await fetch(url, { method: 'POST', body: JSON.stringify(REQUEST), headers: { 'content-type': 'application/json', 'seldon-puid': 'gw-1' } });
  assert.equal(logged.status, 200);
  await logged.text();
  await logger.idle();
  assert.deepEqual(events.received.map((r) => r.headers['ce-requestid']), ['gw-1']);
});
