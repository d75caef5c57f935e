import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PredictorExecutor } from '../executor/index.ts';
import { graphNode, predictorOf, transportAnswering } from '../executor/testing.ts';
import type { RequestTap, TappedRequest } from './request-tap.ts';
import { createGateway } from './server.ts';
import { MapDeploymentTable } from './testing.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

/** A tap that keeps what it is handed, active as the test says, counting how often `active` was read. */
class KeepingTap implements RequestTap {
  readonly seen: TappedRequest[] = [];
  on = true;
  reads = 0;
  get active(): boolean {
    this.reads += 1;
    return this.on;
  }
  record(request: TappedRequest): void {
    this.seen.push(request);
  }
}

/** A gateway serving seldon/simple, a SIMPLE_MODEL the executor answers itself, with `tap`. */
async function gatewayWith(tap: RequestTap): Promise<string> {
  const transport = transportAnswering(() => Promise.reject(new Error('no component is called')));
  const executor = new PredictorExecutor({ namespace: 'seldon', deployment: 'simple', predictor: predictorOf('main', graphNode('model', { implementation: 'SIMPLE_MODEL' })), transport });
  const table = new MapDeploymentTable();
  table.entries.set('seldon/simple', { namespace: 'seldon', name: 'simple', executors: [executor] });
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, deployments: table, requestTap: tap });
  cleanup.push(() => gateway.close());
  return `${gateway.url}/seldon/seldon/simple`;
}

const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';

test('an answered prediction is handed to the tap with its bodies, predictor, status and requestPath', async () => {
  const tap = new KeepingTap();
  const base = await gatewayWith(tap);
  const before = Date.now();
  const res = await fetch(`${base}/api/v1.0/predictions?ignored=1`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json', 'seldon-puid': 'my-puid' } });
  const answer = await res.text();
  assert.equal(tap.seen.length, 1);
  const [seen] = tap.seen;
  assert.equal(Buffer.from(seen!.request).toString('utf8'), BODY);
  assert.equal(seen!.response, answer);
  assert.deepEqual({ ...seen, request: undefined, response: undefined, time: undefined, latencyMs: undefined }, {
    puid: 'my-puid', time: undefined, namespace: 'seldon', deployment: 'simple', predictor: 'main', method: 'POST',
    path: '/seldon/seldon/simple/api/v1.0/predictions', status: 200, latencyMs: undefined, request: undefined, response: undefined,
    requestPath: { model: 'SIMPLE_MODEL' },
  });
  assert.ok(seen!.time >= before && seen!.latencyMs >= 0);
});

test('a GET prediction\'s request is its query, and feedback is tapped too', async () => {
  const tap = new KeepingTap();
  const base = await gatewayWith(tap);
  const query = `json=${encodeURIComponent(BODY)}`;
  await (await fetch(`${base}/api/v1.0/predictions?${query}`)).text();
  await (await fetch(`${base}/api/v1.0/feedback`, { method: 'POST', body: '{"reward":1}', headers: { 'content-type': 'application/json' } })).text();
  assert.deepEqual(tap.seen.map((r) => [r.method, r.path.split('/').pop(), String(r.request instanceof Uint8Array ? Buffer.from(r.request) : r.request), r.status]), [
    ['GET', 'predictions', query, 200],
    ['POST', 'feedback', '{"reward":1}', 200],
  ]);
});

test('a failed prediction is handed over with its failure body and status', async () => {
  const tap = new KeepingTap();
  const base = await gatewayWith(tap);
  const res = await fetch(`${base}/api/v1.0/predictions`, { method: 'POST', body: '{"data": [', headers: { 'content-type': 'application/json' } });
  const answer = await res.text();
  assert.equal(res.status, 400);
  assert.equal(tap.seen.length, 1);
  assert.equal(tap.seen[0]!.status, 400);
  assert.equal(tap.seen[0]!.response, answer);
  assert.equal(tap.seen[0]!.predictor, undefined);
});

test('an inactive tap is read once per request and handed nothing; other paths are not tapped', async () => {
  const tap = new KeepingTap();
  tap.on = false;
  const base = await gatewayWith(tap);
  await (await fetch(`${base}/api/v1.0/predictions`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } })).text();
  assert.equal(tap.reads, 1);
  tap.on = true;
  await (await fetch(`${base}/api/v1.0/metadata`)).text();
  await (await fetch(`${base}/api/v1.0/doc/`)).text();
  assert.deepEqual(tap.seen, []);
});

test('a tap that throws does not fail the request', async () => {
  const tap = new KeepingTap();
  tap.record = () => {
    throw new Error('tap broke');
  };
  const base = await gatewayWith(tap);
  const res = await fetch(`${base}/api/v1.0/predictions`, { method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 200);
  await res.text();
});
