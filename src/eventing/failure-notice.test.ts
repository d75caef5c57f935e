import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliveryFailure } from './dispatcher.ts';
import { failureLine, failureNotices } from './failure-notice.ts';

const failure = (id: string, fields: Partial<DeliveryFailure> = {}): DeliveryFailure => ({
  trigger: 'default/t', outcome: 'dropped', eventId: id, eventType: 'com.example', status: 503, error: undefined, attempts: 11, ...fields,
});

test('a failure line names the trigger, the event, what became of it and why', () => {
  assert.equal(failureLine(failure('42')), 'trigger default/t: event 42 (com.example) dropped after 11 attempts (503)');
  assert.equal(
    failureLine(failure('7', { outcome: 'deadLettered', status: undefined, error: 'connect ECONNREFUSED 127.0.0.1:9', attempts: 1 })),
    'trigger default/t: event 7 (com.example) sent to the dead-letter sink after 1 attempt (connect ECONNREFUSED 127.0.0.1:9)',
  );
});

test('failure lines are rate-limited, and what was not shown is counted in one line', () => {
  let clock = 0;
  const lines: string[] = [];
  const notice = failureNotices((line) => lines.push(line), { burst: 2, windowMs: 1000, now: () => clock });
  for (const id of ['a', 'b', 'c', 'd']) notice(failure(id));
  assert.deepEqual(lines.map((l) => l.split(' ')[3]), ['a', 'b']);
  clock = 1000;
  notice(failure('e'));
  assert.equal(lines.length, 4);
  assert.match(lines[2]!, /^… 2 more failed deliveries not shown/);
  assert.match(lines[3]!, /event e /);
});
