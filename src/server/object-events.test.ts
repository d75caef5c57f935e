import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectEventRecord } from '../manifest/index.ts';
import { ObjectEventLog } from './object-events.ts';

const crash = (message = 'exited with code 3'): ObjectEventRecord => ({
  type: 'Warning',
  reason: 'Crashed',
  message,
  involvedObject: { kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris', replica: 'iris-default-classifier-0' },
  source: 'supervisor',
});

function clock(start = Date.parse('2026-01-01T00:00:00Z')): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('a repeated event is folded into one, counted, with its first and last timestamps', () => {
  const c = clock();
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 3_600_000, now: c.now });
  log.record(crash());
  c.advance(5_000);
  log.record(crash());
  const [only, ...rest] = log.list();
  assert.equal(rest.length, 0);
  assert.equal(only?.count, 2);
  assert.equal(only?.firstTimestamp, '2026-01-01T00:00:00.000Z');
  assert.equal(only?.lastTimestamp, '2026-01-01T00:00:05.000Z');
});

test('events differing in message, reason or replica are kept apart', () => {
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 3_600_000 });
  log.record(crash('exited with code 3'));
  log.record(crash('was killed by SIGKILL'));
  log.record({ ...crash(), reason: 'BackOff' });
  log.record({ ...crash(), involvedObject: { ...crash().involvedObject, replica: 'iris-default-classifier-1' } });
  assert.equal(log.list().length, 4);
});

test('a folded repeat becomes the newest, listed last', () => {
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 3_600_000 });
  log.record(crash('a'));
  log.record(crash('b'));
  log.record(crash('a'));
  assert.deepEqual(log.list().map((e) => e.message), ['b', 'a']);
});

test('at most maxEvents are kept: the least recently seen go first', () => {
  const log = new ObjectEventLog({ maxEvents: 3, maxAgeMs: 3_600_000 });
  for (const m of ['1', '2', '3', '4', '5']) log.record(crash(m));
  assert.deepEqual(log.list().map((e) => e.message), ['3', '4', '5']);
  assert.equal(log.size, 3);
});

test('an event not seen again within maxAge is dropped', () => {
  const c = clock();
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 60_000, now: c.now });
  log.record(crash('old'));
  c.advance(30_000);
  log.record(crash('young'));
  c.advance(40_000);
  assert.deepEqual(log.list().map((e) => e.message), ['young']);
});

test('list narrows by namespace, kind (any case) and name', () => {
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 3_600_000 });
  log.record(crash());
  log.record({ type: 'Warning', reason: 'DeliveryFailed', message: 'HTTP 500', involvedObject: { kind: 'Trigger', namespace: 'default', name: 't' }, source: 'broker' });
  assert.deepEqual(log.list({ kind: 'trigger' }).map((e) => e.reason), ['DeliveryFailed']);
  assert.deepEqual(log.list({ namespace: 'seldon' }).map((e) => e.reason), ['Crashed']);
  assert.deepEqual(log.list({ name: 'iris', kind: 'SeldonDeployment' }).map((e) => e.reason), ['Crashed']);
  assert.deepEqual(log.list({ name: 'nope' }), []);
});

test('what list returns cannot change the log', () => {
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 3_600_000 });
  log.record(crash());
  const [first] = log.list();
  first!.involvedObject.name = 'changed';
  first!.count = 99;
  assert.equal(log.list()[0]?.involvedObject.name, 'iris');
  assert.equal(log.list()[0]?.count, 1);
});
