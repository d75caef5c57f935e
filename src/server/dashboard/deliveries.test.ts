import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryRecord } from '../../web/index.ts';
import type { DeliveryAttempt } from '../../eventing/index.ts';
import { DeliveryJournal } from './deliveries.ts';

function attempt(n: number, fields: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    time: n, namespace: 'default', broker: 'default', trigger: 't', seq: n, eventId: `e-${n}`, eventType: 'x', eventSource: 's',
    attempt: 1, target: 'http://127.0.0.1:1/', status: 200, outcome: 'delivered', durationMs: 1, ...fields,
  };
}

test('the journal keeps the last attempts, oldest first, and forgets the oldest past its capacity', () => {
  const journal = new DeliveryJournal(3);
  for (let n = 1; n <= 5; n++) journal.record(attempt(n));
  assert.deepEqual(journal.list().map((r) => r.seq), [3, 4, 5]);
  assert.equal(journal.size, 3);
  journal.record(attempt(6));
  assert.deepEqual(journal.list().map((r) => r.seq), [4, 5, 6]);
});

test('list filters by namespace, broker and event id, and limit keeps the newest', () => {
  const journal = new DeliveryJournal();
  journal.record(attempt(1, { eventId: 'a' }));
  journal.record(attempt(2, { eventId: 'a', attempt: 2, outcome: 'dead-lettered' }));
  journal.record(attempt(3, { broker: 'other' }));
  journal.record(attempt(4, { namespace: 'prod' }));
  assert.deepEqual(journal.list({ eventId: 'a' }).map((r) => r.seq), [1, 2]);
  assert.deepEqual(journal.list({ broker: 'other' }).map((r) => r.seq), [3]);
  assert.deepEqual(journal.list({ namespace: 'prod' }).map((r) => r.seq), [4]);
  assert.deepEqual(journal.list({ namespace: 'default', broker: 'default' }).map((r) => r.seq), [1, 2]);
  assert.deepEqual(journal.list({ limit: 2 }).map((r) => r.seq), [3, 4]);
  assert.deepEqual(journal.list({ limit: 0 }), []);
  assert.throws(() => journal.list({ limit: -1 }), /limit must be a whole number of attempts, got -1/);
});

test('subscribers hear each attempt as it is recorded, until they stop', () => {
  const journal = new DeliveryJournal();
  const heard: number[] = [];
  const stop = journal.subscribe((r) => heard.push(r.seq));
  journal.record(attempt(1));
  stop();
  journal.record(attempt(2));
  assert.deepEqual(heard, [1]);
});

test('a journal that could keep nothing is refused', () => {
  assert.throws(() => new DeliveryJournal(0), /a journal keeps at least 1 attempt, got 0/);
});

test("the journal takes the broker's attempt reports as they are", () => {
  const journal = new DeliveryJournal();
  const onAttempt: (attempt: DeliveryAttempt) => void = journal.record;
  onAttempt(attempt(1));
  assert.equal(journal.size, 1);
});
