import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrantorError } from '../protocol/index.ts';
import { EXECUTOR_DEFAULTS, executorOptions } from './options.ts';
import { RequestLogger, requestLoggerOptions } from './request-logger.ts';
import { StaticEndpoints } from './testing.ts';
import { HttpTransport, httpTransportOptions } from './transport/http.ts';

const unit = Object.freeze({ namespace: 'seldon', deployment: 'iris', predictor: 'default', node: 'classifier' });

test('the defaults are the values the executor has always had', () => {
  assert.deepEqual(httpTransportOptions(new StaticEndpoints()), {
    endpoints: new StaticEndpoints(),
    connectionsPerReplica: 64,
    retryWindowMs: 2000,
    retryBackoffMs: 10,
    retryBackoffMaxMs: 200,
    connectTimeoutMs: 2000,
    keepAliveMs: 30_000,
    keepAliveMaxMs: 600_000,
    sweepIntervalMs: 10_000,
    consecutiveFailures: 3,
    stallFraction: 0.1,
    minStallMs: 1000,
    stallCheckIntervalMs: 200,
    baseEjectionMs: 5000,
    maxEjectionMs: 60_000,
  });
  assert.deepEqual(requestLoggerOptions(), { capacity: 10_000, connections: 4, timeoutMs: 10_000, pauseAfterFailureMs: 500, keepAliveMs: 30_000 });
  assert.equal(EXECUTOR_DEFAULTS.batchMaxWait, 2);
});

test('a compiled retryWindow is the one the HTTP transport waits for a replica', async () => {
  const options = executorOptions.compile({ retryWindow: '100ms' });
  const transport = new HttpTransport(httpTransportOptions(new StaticEndpoints(), options));
  try {
    const started = Date.now();
    await assert.rejects(transport.predict(unit, { data: { ndarray: [[1]] } }, { idempotent: true, timeoutMs: 30_000 }), (err: TrantorError) => err.code === 'UNAVAILABLE');
    // The default window is 2 s; with 100 ms the call gives up long before.
    assert.ok(Date.now() - started < 1500, `gave up after ${Date.now() - started} ms`);
  } finally {
    await transport.close();
  }
});

test('a compiled loggerQueue bounds the request logger\'s queue', async () => {
  const logger = new RequestLogger(requestLoggerOptions(executorOptions.compile({ loggerQueue: 2, loggerPause: '10s' })));
  const node = { url: 'http://127.0.0.1:9/log', logsRequest: true, logsResponse: false, source: 's', modelId: 'm', deployment: 'd', namespace: 'n', predictor: 'p', sink: logger };
  try {
    for (let i = 0; i < 5; i++) logger.log(node, 'request', `puid-${i}`, { data: { ndarray: [[i]] } });
    assert.equal(logger.stats().dropped, 3);
  } finally {
    await logger.close();
  }
});

test('options out of range are refused, naming the option', () => {
  assert.throws(() => executorOptions.compile({ stallPercent: 101 }), /executor\.stallPercent 101: must be at most 100/);
  assert.throws(() => executorOptions.compile({ retryWindw: '1s' }), /did you mean executor\.retryWindow/);
});
