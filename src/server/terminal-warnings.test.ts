import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObjectEventRecord } from '../manifest/index.ts';
import { allOf, terminalWarnings } from './terminal-warnings.ts';

const crash: ObjectEventRecord = {
  type: 'Warning',
  reason: 'Crashed',
  message: 'Replica exited with code 3; its last output:\nloading the model\nout of memory',
  involvedObject: { kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris', replica: 'iris-default-classifier-0' },
  source: 'supervisor',
};

test('a crash is one plain line naming the replica, the command that shows its output and the log', () => {
  const lines: string[] = [];
  terminalWarnings((l) => lines.push(l), { logFile: '/h/logs/trantor.log', windowMs: 10_000, now: () => 0 }).record(crash);
  assert.deepEqual(lines, [
    'warning: SeldonDeployment seldon/iris iris-default-classifier-0: Replica exited with code 3; its last output: … out of memory; ' +
      'it is restarted with a growing back-off; what it printed: trantor logs iris -n seldon -p (log: /h/logs/trantor.log)',
  ]);
});

test('a crash loop shows a line per window, the next one counting the crashes between', () => {
  const lines: string[] = [];
  let t = 0;
  const warnings = terminalWarnings((l) => lines.push(l), { logFile: 'trantor.log', windowMs: 10_000, now: () => t });
  for (t = 0; t < 25_000; t += 1_000) warnings.record(crash);
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.doesNotMatch(lines[0]!, /times since/);
  assert.match(lines[1]!, /\(10 times since the last line\)/);
});

test('a model that fails before it is ready points at describe; Normal events and deliveries are left to their own lines', () => {
  const lines: string[] = [];
  const warnings = terminalWarnings((l) => lines.push(l), { logFile: 'trantor.log', windowMs: 10_000, now: () => 0 });
  warnings.record({ ...crash, reason: 'Failed', message: 'Replica exited with code 1 before it was ready' });
  warnings.record({ ...crash, type: 'Normal', reason: 'Started', message: 'Started replica' });
  warnings.record({ ...crash, reason: 'DeliveryFailed', involvedObject: { kind: 'Trigger', namespace: 'default', name: 't' } });
  assert.deepEqual(lines, ['warning: SeldonDeployment seldon/iris iris-default-classifier-0: Replica exited with code 1 before it was ready; the whole story: trantor describe sdep iris -n seldon (log: trantor.log)']);
});

test('allOf hands each event to every recorder', () => {
  const seen: string[] = [];
  allOf({ record: (e) => seen.push(`a:${e.reason}`) }, { record: (e) => seen.push(`b:${e.reason}`) }).record(crash);
  assert.deepEqual(seen, ['a:Crashed', 'b:Crashed']);
});
