import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrantorError, stringifyJson } from '../../protocol/index.ts';
import { StaticEndpoints, answerJson, identity, standIn } from '../testing.ts';
import type { StandIn } from '../testing.ts';
import type { UnitKey } from './endpoints.ts';
import { HttpTransport } from './http.ts';
import type { HttpTransportOptions } from './http.ts';

const unit: UnitKey = Object.freeze({ namespace: 'seldon', deployment: 'iris-model', predictor: 'default', node: 'classifier' });
const call = { idempotent: true, timeoutMs: 2000 };
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

async function serve(...args: Parameters<typeof standIn>): Promise<StandIn> {
  const s = await standIn(...args);
  cleanup.push(() => s.close());
  return s;
}

function transportOver(endpoints: StaticEndpoints, options: Omit<HttpTransportOptions, 'endpoints'> = {}): HttpTransport {
  const t = new HttpTransport({ endpoints, ...options });
  cleanup.push(() => t.close());
  return t;
}

test('a call answers with the component\'s status and body', async () => {
  const component = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [component.replica()]);
  const response = await transportOver(endpoints).call(unit, '/predict', '{"data":{"ndarray":[1]}}', call);
  assert.deepEqual(response, { status: 200, body: '{"data":{"ndarray":[1]}}' });
  assert.equal(component.received[0]!.path, '/predict');
  assert.equal(component.received[0]!.headers['content-type'], 'application/json');
});

test('a method\'s answer is parsed once, into the message or the component\'s failure', async () => {
  const component = await serve((request, res) => {
    if (request.path === '/predict') return answerJson(res, 200, '{"data":{"ndarray":[[12345678901234567891,NaN]]}}');
    if (request.path === '/route') return answerJson(res, 200, '<html>proxy error</html>');
    if (request.path === '/metadata') return answerJson(res, 200, '{"name":"m","versions":[1.0]}');
    answerJson(res, 500, 'Internal Server Error');
  });
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [component.replica()]);
  const transport = transportOver(endpoints);
  const answer = await transport.predict(unit, { data: { ndarray: [[1]] } }, call);
  assert.equal(stringifyJson(answer.message), '{"data":{"ndarray":[[12345678901234567891,NaN]]}}');
  // Not JSON: BAD_UPSTREAM, though the status stays the component's (metrics count it as it came).
  const garbage = await transport.route(unit, { data: { ndarray: [[1]] } }, call);
  assert.equal(garbage.status, 200);
  assert.equal(garbage.failure?.code, 'BAD_UPSTREAM');
  assert.equal(garbage.failure.message, 'node "classifier" answered with something that is not JSON: <html>proxy error</html>');
  assert.deepEqual((await transport.metadata(unit, call)).message, { name: 'm', versions: [1] });
  const failed = await transport.transformOutput(unit, { data: { ndarray: [[1]] } }, call);
  assert.equal(failed.status, 500);
  assert.equal(failed.body, undefined);
  assert.equal(failed.failure?.message, 'node "classifier" answered HTTP 500: Internal Server Error');
  assert.equal(failed.failure.status, 500);
});

test('calls go round-robin over the ready replicas', async () => {
  const a = await serve(identity);
  const b = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [a.replica('a'), b.replica('b')]);
  const transport = transportOver(endpoints);
  for (let i = 0; i < 10; i++) await transport.call(unit, '/predict', '{}', call);
  assert.equal(a.received.length, 5);
  assert.equal(b.received.length, 5);
});

test('an idempotent call is sent to another replica when one drops the connection mid-request', async () => {
  const crashing = await serve((_request, res) => res.socket?.destroy());
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [crashing.replica('crashing'), healthy.replica('healthy')]);
  const transport = transportOver(endpoints);
  for (let i = 0; i < 4; i++) {
    const response = await transport.call(unit, '/predict', `{"n":${i}}`, call);
    assert.deepEqual(response, { status: 200, body: `{"n":${i}}` });
  }
  assert.ok(crashing.received.length >= 1, 'the crashing replica was tried');
  assert.equal(healthy.received.length, 4);
});

test('a call that is not idempotent is not sent again after the connection was lost', async () => {
  const crashing = await serve((_request, res) => res.socket?.destroy());
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [crashing.replica('crashing'), healthy.replica('healthy')]);
  await assert.rejects(transportOver(endpoints).call(unit, '/send-feedback', '{}', { idempotent: false, timeoutMs: 2000 }), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    return true;
  });
  assert.equal(healthy.received.length, 0);
});

test('a call waits for a replica that becomes ready within the retry window', async () => {
  const component = await serve(identity);
  const endpoints = new StaticEndpoints();
  const transport = transportOver(endpoints);
  setTimeout(() => endpoints.set('classifier', [component.replica()]), 150);
  const response = await transport.call(unit, '/predict', '{}', call);
  assert.equal(response.status, 200);
});

test('a call with no ready replica fails UNAVAILABLE naming the node and predictor', async () => {
  const transport = transportOver(new StaticEndpoints(), { retryWindowMs: 100 });
  await assert.rejects(transport.call(unit, '/predict', '{}', call), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    assert.equal(err.status, 503);
    assert.equal(err.message, 'no ready replica of node "classifier" (predictor default of seldon/iris-model)');
    return true;
  });
});

test('a replica refusing connections fails UNAVAILABLE once the retry window is over', async () => {
  const gone = await serve(identity);
  const replica = gone.replica();
  await gone.close();
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [replica]);
  await assert.rejects(transportOver(endpoints, { retryWindowMs: 200 }).call(unit, '/predict', '{}', call), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /^no replica of node "classifier" .* answered \(last failure: .*ECONNREFUSED/);
    return true;
  });
});

test('a component that does not answer in time fails UPSTREAM_TIMEOUT naming the node', async () => {
  const silent = await serve(() => undefined);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [silent.replica()]);
  await assert.rejects(transportOver(endpoints).call(unit, '/predict', '{}', { idempotent: true, timeoutMs: 150 }), (err: TrantorError) => {
    assert.equal(err.code, 'UPSTREAM_TIMEOUT');
    assert.equal(err.status, 504);
    assert.match(err.message, /node "classifier" .* did not answer within 150 ms/);
    return true;
  });
});

test('a GET sends no body', async () => {
  const component = await serve((request, res) => answerJson(res, 200, { method: request.method, body: request.body }));
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [component.replica()]);
  const response = await transportOver(endpoints).call(unit, '/health/status', '', { method: 'GET', idempotent: true, timeoutMs: 1000 });
  assert.deepEqual(JSON.parse(response.body), { method: 'GET', body: '' });
});

test('connections to a replica that is no longer offered are closed', async () => {
  const a = await serve(identity);
  const b = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [a.replica('a')]);
  const transport = transportOver(endpoints, { sweepIntervalMs: 50 });
  await transport.call(unit, '/predict', '{}', call);
  const open = (): Promise<number> => new Promise((resolve, reject) => a.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
  assert.equal(await open(), 1);
  endpoints.set('classifier', [b.replica('b')]);
  for (let i = 0; i < 40 && (await open()) > 0; i++) await sleep(25);
  assert.equal(await open(), 0);
  await transport.call(unit, '/predict', '{}', call);
  assert.equal(b.received.length, 1);
});

// ---- outlier ejection ------------------------------------------------------------------------

/** Options that make stalls and ejections show within a test's patience. */
const quickEjection = { stallFraction: 0.1, minStallMs: 200, stallCheckIntervalMs: 50, baseEjectionMs: 10_000 };

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await work;
  return { value, ms: Date.now() - start };
}

test('a replica that accepts calls and never answers is ejected; idempotent calls on it go to another replica long before the timeout', async () => {
  const frozen = await serve(() => undefined);
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [frozen.replica('frozen'), healthy.replica('healthy')]);
  const transport = transportOver(endpoints, quickEjection);
  const slowest: number[] = [];
  for (let i = 0; i < 10; i++) {
    const { value, ms } = await timed(transport.call(unit, '/predict', `{"n":${i}}`, { idempotent: true, timeoutMs: 10_000 }));
    assert.deepEqual(value, { status: 200, body: `{"n":${i}}` });
    slowest.push(ms);
  }
  // Stall limit: 10% of 10 s = 1 s, plus one check interval; far from the 10 s timeout.
  assert.ok(Math.max(...slowest) < 5000, `latencies ${slowest.join(', ')} ms`);
  assert.equal(frozen.received.length, 1, 'once ejected, the frozen replica gets no more calls');
  assert.equal(healthy.received.length, 10);
});

test('concurrent calls stuck on a frozen replica are all taken back and answered by the healthy one', async () => {
  const frozen = await serve(() => undefined);
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [frozen.replica('frozen'), healthy.replica('healthy')]);
  const transport = transportOver(endpoints, quickEjection);
  const calls = Array.from({ length: 8 }, (_, i) => timed(transport.call(unit, '/predict', `{"n":${i}}`, { idempotent: true, timeoutMs: 10_000 })));
  const results = await Promise.all(calls);
  for (const [i, { value }] of results.entries()) assert.deepEqual(value, { status: 200, body: `{"n":${i}}` });
  assert.ok(results.every((r) => r.ms < 5000), `latencies ${results.map((r) => r.ms).join(', ')} ms`);
  assert.equal(frozen.received.length, 4, 'round-robin sent half the calls to the frozen replica first');
});

test('a replica dropping connections consecutiveFailures times in a row is ejected', async () => {
  const crashing = await serve((_request, res) => res.socket?.destroy());
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [crashing.replica('crashing'), healthy.replica('healthy')]);
  const transport = transportOver(endpoints, { ...quickEjection, consecutiveFailures: 3 });
  for (let i = 0; i < 20; i++) assert.equal((await transport.call(unit, '/predict', '{}', call)).status, 200);
  assert.equal(crashing.received.length, 3);
  assert.equal(healthy.received.length, 20);
});

test('an ejected replica gets calls again once its ejection time is over', async () => {
  let failing = true;
  const flaky = await serve((request, res) => (failing ? res.socket?.destroy() : identity(request, res)));
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [flaky.replica('flaky'), healthy.replica('healthy')]);
  const transport = transportOver(endpoints, { ...quickEjection, consecutiveFailures: 2, baseEjectionMs: 300 });
  for (let i = 0; i < 4; i++) await transport.call(unit, '/predict', '{}', call);
  assert.equal(flaky.received.length, 2, 'ejected after two failures');
  failing = false;
  const deadline = Date.now() + 10_000;
  while (flaky.received.length === 2 && Date.now() < deadline) await transport.call(unit, '/predict', '{}', call);
  assert.equal(flaky.received.length, 3, 'it was called again after the ejection');
});

test('the last replica standing is never ejected: a call on it waits for its own timeout', async () => {
  const frozen = await serve(() => undefined);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [frozen.replica('frozen')]);
  const transport = transportOver(endpoints, quickEjection);
  await assert.rejects(transport.call(unit, '/predict', '{}', { idempotent: true, timeoutMs: 1000 }), (err: TrantorError) => {
    assert.equal(err.code, 'UPSTREAM_TIMEOUT');
    return true;
  });
  assert.equal(frozen.received.length, 1);
});

test('a call that is not idempotent is not taken back from a stalled replica', async () => {
  const frozen = await serve(() => undefined);
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [frozen.replica('frozen'), healthy.replica('healthy')]);
  const transport = transportOver(endpoints, quickEjection);
  await assert.rejects(transport.call(unit, '/send-feedback', '{}', { idempotent: false, timeoutMs: 1000 }), (err: TrantorError) => {
    assert.equal(err.code, 'UPSTREAM_TIMEOUT');
    return true;
  });
  assert.equal(healthy.received.length, 0);
});

test('a call stuck on a replica the runtime stops offering is taken back and answered by another', async () => {
  const frozen = await serve(() => undefined);
  const healthy = await serve(identity);
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [frozen.replica('frozen')]);
  const transport = transportOver(endpoints, quickEjection);
  const pending = timed(transport.call(unit, '/predict', '{"stuck":1}', { idempotent: true, timeoutMs: 10_000 }));
  for (const deadline = Date.now() + 5000; frozen.received.length === 0 && Date.now() < deadline; ) await sleep(10);
  assert.equal(frozen.received.length, 1);
  endpoints.set('classifier', [healthy.replica('healthy')]);
  const { value, ms } = await pending;
  assert.deepEqual(value, { status: 200, body: '{"stuck":1}' });
  assert.ok(ms < 5000, `took ${ms} ms`);
});

test('each method travels as Seldon\'s wrapper request: its path and verb, a JSON body for POST and none for GET', async () => {
  const component = await serve((request, res) => answerJson(res, 200, {}));
  const endpoints = new StaticEndpoints();
  endpoints.set('classifier', [component.replica()]);
  const transport = transportOver(endpoints);
  const message = { data: { ndarray: [[1]] }, meta: { puid: 'p' } };
  await transport.predict(unit, message, call);
  await transport.transformInput(unit, message, call);
  await transport.transformOutput(unit, message, call);
  await transport.route(unit, message, call);
  await transport.aggregate(unit, [message, message], call);
  await transport.sendFeedback(unit, { request: message, reward: 1 }, call);
  await transport.metadata(unit, call);
  await transport.health(unit, call);
  const one = '{"data":{"ndarray":[[1]]},"meta":{"puid":"p"}}';
  assert.deepEqual(
    component.received.map((r) => [r.method, r.path, r.body, r.headers['content-type']]),
    [
      ['POST', '/predict', one, 'application/json'],
      ['POST', '/transform-input', one, 'application/json'],
      ['POST', '/transform-output', one, 'application/json'],
      ['POST', '/route', one, 'application/json'],
      ['POST', '/aggregate', `[${one},${one}]`, 'application/json'],
      ['POST', '/send-feedback', `{"request":${one},"reward":1}`, 'application/json'],
      ['GET', '/metadata', '', undefined],
      ['GET', '/health/status', '', undefined],
    ],
  );
});
