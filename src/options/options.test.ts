import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closest, defineOptions, describe, parseDurationMs, parseSize } from './options.ts';

const section = defineOptions('executor', {
  retryWindow: { kind: 'duration', default: 2000, doc: 'how long a failed connection may be retried on another replica' },
  queueSize: { kind: 'count', default: 100, doc: 'requests queued per node', max: 10_000 },
  replyLimit: { kind: 'size', default: 1024, doc: 'largest reply read' },
});

test('defaults come from the table, frozen', () => {
  assert.deepEqual(section.defaults, { retryWindow: 2000, queueSize: 100, replyLimit: 1024 });
  assert.ok(Object.isFrozen(section.defaults));
  assert.deepEqual(section.compile(), section.defaults);
});

test('given values are parsed by kind and override the defaults', () => {
  const values = section.compile({ retryWindow: '5s', queueSize: '7', replyLimit: '1mib' });
  assert.deepEqual(values, { retryWindow: 5000, queueSize: 7, replyLimit: 1_048_576 });
  assert.ok(Object.isFrozen(values));
  assert.equal(section.compile({ retryWindow: 250 }).retryWindow, 250);
});

test('an unknown option is named with the section and a likely meaning', () => {
  assert.throws(() => section.compile({ retryWindw: '1s' }), /^OptionError: executor\.retryWindw: no such option; did you mean executor\.retryWindow\?/);
  assert.throws(() => section.compile({ zzz: '1s' }), (err: Error) => !err.message.includes('did you mean') && err.message.includes('options of executor: retryWindow, queueSize, replyLimit'));
});

test('bad values and values out of bounds are refused with the option named', () => {
  assert.throws(() => section.compile({ retryWindow: 'soon' }), /executor\.retryWindow soon: expected a duration such as 30s/);
  assert.throws(() => section.compile({ queueSize: '0' }), /executor\.queueSize 0: must be at least 1/);
  assert.throws(() => section.compile({ queueSize: '20000' }), /executor\.queueSize 20000: must be at most 10000/);
  assert.throws(() => section.compile({ queueSize: 1.5 }), /executor\.queueSize 1\.5: expected a whole number/);
  assert.throws(() => section.compile({ toString: '1' }), /no such option/);
});

test('sizes and durations take units; a bare duration is seconds', () => {
  assert.equal(parseSize('10mb', 'x'), 10_000_000);
  assert.equal(parseSize('1MiB', 'x'), 1_048_576);
  assert.equal(parseDurationMs('500ms', 'x'), 500);
  assert.equal(parseDurationMs('2m', 'x'), 120_000);
  assert.equal(parseDurationMs('1h', 'x'), 3_600_000);
  assert.equal(parseDurationMs('3', 'x'), 3000);
  assert.equal(parseDurationMs('365d', 'x'), 365 * 86_400_000);
  assert.equal(describe({ kind: 'duration' }, 30_000), '30s');
  assert.equal(describe({ kind: 'duration' }, 90 * 60_000), '90m');
  assert.equal(describe({ kind: 'duration' }, 365 * 86_400_000), '365d');
  assert.equal(describe({ kind: 'size' }, 10 * 2 ** 20), '10mib');
});

test('closest finds near misspellings only', () => {
  assert.equal(closest('replica', ['replicas', 'graph']), 'replicas');
  assert.equal(closest('xyz', ['replicas', 'graph']), undefined);
});
