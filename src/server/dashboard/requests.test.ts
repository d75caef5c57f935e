import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TappedRequest } from '../../gateway/index.ts';
import type { RequestRecord } from '../../web/index.ts';
import { BODY_LIMIT, RequestJournal } from './requests.ts';

function tapped(fields: Partial<TappedRequest> = {}): TappedRequest {
  return {
    puid: 'p1', time: 1000, namespace: 'seldon', deployment: 'iris', predictor: 'default', method: 'POST',
    path: '/seldon/seldon/iris/api/v1.0/predictions', status: 200, latencyMs: 1.23456,
    request: Buffer.from('{"data":{"ndarray":[[1,2,3,4]]}}'), response: '{"data":{"ndarray":[[0.9]]}}', requestPath: { classifier: 'SKLEARN_SERVER' },
    ...fields,
  };
}

test('a record keeps the bodies as text, the latency to the µs and the answer\'s requestPath', () => {
  const journal = new RequestJournal();
  const path = { classifier: 'SKLEARN_SERVER' };
  journal.record(tapped({ requestPath: path }));
  const [record] = journal.list();
  assert.deepEqual(record, {
    puid: 'p1', time: 1000, namespace: 'seldon', deployment: 'iris', predictor: 'default', method: 'POST',
    path: '/seldon/seldon/iris/api/v1.0/predictions', status: 200, latencyMs: 1.235,
    request: '{"data":{"ndarray":[[1,2,3,4]]}}', response: '{"data":{"ndarray":[[0.9]]}}', requestPath: { classifier: 'SKLEARN_SERVER' },
  });
  journal.record(tapped({ predictor: undefined, requestPath: undefined, status: 400 }));
  assert.deepEqual(Object.keys(journal.list()[0]!).includes('predictor'), false);
});

test('bodies past 16 KiB are cut and the record says so', () => {
  const journal = new RequestJournal();
  journal.record(tapped({ request: Buffer.alloc(BODY_LIMIT + 1, 'a'), response: 'b'.repeat(BODY_LIMIT + 5) }));
  const [record] = journal.list();
  assert.equal(record?.request.length, BODY_LIMIT);
  assert.equal(record?.response.length, BODY_LIMIT);
  assert.equal(record?.truncated, true);
  // Not between the halves of a surrogate pair.
  journal.record(tapped({ response: `${'x'.repeat(BODY_LIMIT - 1)}😀` }));
  assert.equal(journal.list()[0]?.response.length, BODY_LIMIT - 1);
  journal.record(tapped({ response: 'c'.repeat(BODY_LIMIT) }));
  assert.equal(journal.list()[0]?.truncated, undefined);
});

test('it keeps the last N, lists newest first and filters by puid, namespace and deployment', () => {
  const journal = new RequestJournal({ capacity: 3 });
  for (let i = 1; i <= 5; i++) journal.record(tapped({ puid: `p${i}`, deployment: i % 2 === 0 ? 'even' : 'odd' }));
  assert.deepEqual(journal.list().map((r) => r.puid), ['p5', 'p4', 'p3']);
  assert.deepEqual(journal.list({ deployment: 'odd' }).map((r) => r.puid), ['p5', 'p3']);
  assert.deepEqual(journal.list({ puid: 'p4' }).map((r) => r.puid), ['p4']);
  assert.deepEqual(journal.list({ puid: 'p1' }), []);
  assert.deepEqual(journal.list({ namespace: 'other' }), []);
  assert.deepEqual(journal.list({ limit: 1 }).map((r) => r.puid), ['p5']);
});

test('it is active only while someone listens, and each listener gets each record', () => {
  const journal = new RequestJournal();
  assert.equal(journal.active, false);
  const got: RequestRecord[] = [];
  const stop = journal.subscribe((record) => got.push(record));
  const stopThrowing = journal.subscribe(() => {
    throw new Error('a bad listener');
  });
  assert.equal(journal.active, true);
  journal.record(tapped());
  assert.deepEqual(got.map((r) => r.puid), ['p1']);
  stop();
  stopThrowing();
  assert.equal(journal.active, false);
});

test('a bad capacity, share or limit is refused, naming it', () => {
  assert.throws(() => new RequestJournal({ maxRecordsPerSecond: 0 }), /RequestJournal maxRecordsPerSecond: expected a whole number, 1 or more, got 0/);
  assert.throws(() => new RequestJournal({ capacity: 0 }), /RequestJournal capacity: expected a whole number, 1 or more, got 0/);
  assert.throws(() => new RequestJournal().list({ limit: 1.5 }), /RequestJournal limit: expected a whole number, 1 or more, got 1.5/);
});

test('each second it records at most maxRecordsPerSecond and sends at most maxEventsPerSecond; every record is listed', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const journal = new RequestJournal({ maxRecordsPerSecond: 3, maxEventsPerSecond: 2 });
  const got: string[] = [];
  const stop = journal.subscribe((record) => got.push(record.puid));
  // The gateway records while `active`.
  const offer = (puid: string): void => {
    if (journal.active) journal.record(tapped({ puid }));
  };
  for (let i = 1; i <= 4; i++) offer(`a${i}`);
  assert.equal(journal.active, false);
  t.mock.timers.tick(1000);
  assert.equal(journal.active, true);
  offer('b1');
  assert.deepEqual(got, ['a1', 'a2', 'b1']);
  assert.deepEqual(journal.list().map((r) => r.puid), ['b1', 'a3', 'a2', 'a1']);
  stop();
  assert.equal(journal.active, false);
  t.mock.timers.tick(1000);
  assert.equal(journal.active, false);
});

test('a record keeps no buffer of the gateway\'s, only text', () => {
  const journal = new RequestJournal();
  const big = Buffer.alloc(1 << 20, 'z');
  journal.record(tapped({ request: big }));
  big.fill('y');
  const [record] = journal.list();
  assert.ok(record?.request === 'z'.repeat(BODY_LIMIT), 'the kept start is what was sent');
  assert.equal(record?.truncated, true);
});
