import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseSize, resolveUpConfig } from './config.ts';

test('flags win over the environment, which wins over defaults', () => {
  const config = resolveUpConfig({ port: '9001' }, { TRANTOR_PORT: '9002', TRANTOR_HOME: '/tmp/h', TRANTOR_BODY_LIMIT: '1kb' });
  assert.equal(config.port, 9001);
  assert.equal(config.home, '/tmp/h');
  assert.equal(config.bodyLimitBytes, 1000);
  assert.equal(config.requestTimeoutMs, 30_000);
  assert.equal(config.host, '127.0.0.1');
  assert.ok(Object.isFrozen(config));
});

test('sizes and durations take units', () => {
  assert.equal(parseSize('10mb', 'x'), 10_000_000);
  assert.equal(parseSize('1MiB', 'x'), 1_048_576);
  assert.equal(parseDurationMs('500ms', 'x'), 500);
  assert.equal(parseDurationMs('2m', 'x'), 120_000);
});

test('a bad port is refused with the flag named', () => {
  assert.throws(() => resolveUpConfig({ port: 'eighty' }, {}), /--port eighty: expected a port number/);
});

test('a bad size is refused with an example', () => {
  assert.throws(() => parseSize('lots', '--body-limit'), /--body-limit lots: expected a size such as 10mb/);
});

test('durability is process by default, fsync from TRANTOR_DURABILITY or --durability, and anything else is refused', () => {
  assert.equal(resolveUpConfig({}, {}).durability, 'process');
  assert.equal(resolveUpConfig({}, { TRANTOR_DURABILITY: 'fsync' }).durability, 'fsync');
  assert.equal(resolveUpConfig({ durability: 'process' }, { TRANTOR_DURABILITY: 'fsync' }).durability, 'process');
  assert.throws(() => resolveUpConfig({ durability: 'full' }, {}), /--durability full: expected one of process, fsync/);
});
