import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, isRetryableStatus, ttlOf } from './delivery-policy.ts';

test('backoff waits as Knative\'s code does: exponential d, 2d, 4d…; linear 0, d, 2d…', () => {
  const exponential = { backoffPolicy: 'exponential' as const, backoffDelayMs: 100 };
  const linear = { backoffPolicy: 'linear' as const, backoffDelayMs: 100 };
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(exponential, n)), [100, 200, 400, 800]);
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffMs(linear, n)), [0, 100, 200, 300]);
});

test('5xx, 404, 408, 409 and 429 are retried; other 4xx are not', () => {
  for (const status of [500, 502, 503, 504, 404, 408, 409, 429]) assert.ok(isRetryableStatus(status), String(status));
  for (const status of [400, 401, 403, 405, 413, 415, 422]) assert.ok(!isRetryableStatus(status), String(status));
});

test('the TTL is read from a number or from header text', () => {
  const base = { specversion: '1.0' as const, id: '1', source: 's', type: 't' };
  assert.equal(ttlOf({ ...base, extensions: { knativebrokerttl: 7 } }), 7);
  assert.equal(ttlOf({ ...base, extensions: { knativebrokerttl: '7' } }), 7);
  assert.equal(ttlOf({ ...base, extensions: {} }), undefined);
});
