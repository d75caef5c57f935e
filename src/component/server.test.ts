import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, test } from 'node:test';
import type { Features, SeldonComponent } from './contract.ts';
import { serveComponent, type ComponentServer } from './server.ts';

class Identity implements SeldonComponent {
  predict(X: Features): Features {
    return X;
  }
}

const SEED_REQUEST = '{"data":{"names":["a","b"],"tensor":{"shape":[2,2],"values":[0,0,1,1]}}}';
const SEED_REPLY = { data: { names: ['t:0', 't:1'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } }, meta: {} };

let served: ComponentServer;
let base: string;

before(async () => {
  served = await serveComponent(new Identity(), { port: 0, maxBodyBytes: 64 * 1024 });
  base = `http://127.0.0.1:${served.port}`;
});

after(async () => {
  await served.close();
});

test('the seed tensor request posted as JSON gets a tensor with names t:0, t:1', async () => {
  const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEED_REQUEST });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.deepEqual(await res.json(), SEED_REPLY);
});

test('the seed tensor request posted as form field json= gets the same reply', async () => {
  const res = await fetch(`${base}/predict`, { method: 'POST', body: new URLSearchParams({ json: SEED_REQUEST }) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), SEED_REPLY);
});

test('GET with ?json= is a prediction', async () => {
  const res = await fetch(`${base}/api/v1.0/predictions?json=${encodeURIComponent(SEED_REQUEST)}`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), SEED_REPLY);
});

test('/api/v0.1/predictions is an alias of /predict', async () => {
  const res = await fetch(`${base}/api/v0.1/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEED_REQUEST });
  assert.deepEqual(await res.json(), SEED_REPLY);
});

test('/aggregate takes a JSON array of messages', async () => {
  const combiner = await serveComponent({ aggregate: (Xs: Features[]) => Xs[1] as unknown[] }, { port: 0, serviceType: 'COMBINER' });
  try {
    const res = await fetch(`http://127.0.0.1:${combiner.port}/aggregate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ data: { ndarray: [[1]] } }, { data: { ndarray: [[2]] } }]),
    });
    assert.deepEqual(await res.json(), { data: { names: ['t:0'], ndarray: [[2]] }, meta: {} });
  } finally {
    await combiner.close();
  }
});

test('GET /health/ping answers pong as text', async () => {
  const res = await fetch(`${base}/health/ping`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  assert.equal(await res.text(), 'pong');
});

test('GET /health/status answers a Seldon message', async () => {
  const res = await fetch(`${base}/health/status`);
  assert.deepEqual(await res.json(), { strData: 'healthy', meta: {} });
});

test('GET /ready and /live answer 200', async () => {
  assert.equal((await fetch(`${base}/ready`)).status, 200);
  assert.equal((await fetch(`${base}/live`)).status, 200);
});

test('an unknown path answers 404 with a failure body', async () => {
  const res = await fetch(`${base}/nowhere`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 404);
  const body = (await res.json()) as { status: { code: number; reason: string; status: string } };
  assert.deepEqual([body.status.code, body.status.reason, body.status.status], [404, 'NOT_FOUND', 'FAILURE']);
});

test('another method on /predict answers 405 with Allow', async () => {
  const res = await fetch(`${base}/predict`, { method: 'PUT', body: SEED_REQUEST });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST, GET');
  assert.equal(((await res.json()) as { status: { reason: string } }).status.reason, 'METHOD_NOT_ALLOWED');
});

test('POST on /health/ping answers 405', async () => {
  const res = await fetch(`${base}/health/ping`, { method: 'POST', body: '' });
  assert.equal(res.status, 405);
});

test('a body that is not JSON answers 400 saying so', async () => {
  const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":' });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { status: { info: string; reason: string } };
  assert.equal(body.status.reason, 'MICROSERVICE_BAD_DATA');
  assert.match(body.status.info, /not valid JSON/);
});

test('a body over the limit answers 413', async () => {
  const big = JSON.stringify({ data: { ndarray: [new Array(40_000).fill(1)] } });
  const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  assert.equal(res.status, 413);
});

test('the server keeps answering after bad input', async () => {
  await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,' });
  await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
  const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: SEED_REQUEST });
  assert.equal(res.status, 200);
});

test('a keep-alive client reuses one connection for many requests', async () => {
  let connections = 0;
  const count = (): void => void connections++;
  served.server.on('connection', count);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 5; i++) {
      const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const req = request(`${base}/predict`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        });
        req.on('error', reject);
        req.end(SEED_REQUEST);
      });
      assert.equal(status, 200);
      assert.equal(headers['connection'], 'keep-alive');
    }
    assert.equal(connections, 1);
  } finally {
    served.server.off('connection', count);
    agent.destroy();
  }
});

test('the server says it keeps idle connections for 65 s', () => {
  assert.equal(served.server.keepAliveTimeout, 65_000);
  // Node counts the header timeout from the first byte of a request, not from the last answer:
  // an idle kept-alive connection is not cut by it.
  assert.ok(served.server.headersTimeout > 0 && served.server.headersTimeout <= served.server.requestTimeout);
});
