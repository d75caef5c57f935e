import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, parseSize } from '../options/index.ts';
import { resolveUpConfig } from './config.ts';

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

test('CORS origins and allowed hosts are comma-separated lists, flag over environment, none by default', () => {
  const none = resolveUpConfig({}, {});
  assert.deepEqual(none.corsAllowedOrigins, []);
  assert.deepEqual(none.allowedHosts, []);
  const fromEnv = resolveUpConfig({}, { TRANTOR_CORS_ALLOWED_ORIGINS: 'http://app.example, https://UI.example:8443/', TRANTOR_ALLOWED_HOSTS: 'models.example,,box.lan:9000' });
  assert.deepEqual(fromEnv.corsAllowedOrigins, ['http://app.example', 'https://ui.example:8443']);
  assert.deepEqual(fromEnv.allowedHosts, ['models.example', 'box.lan:9000']);
  assert.ok(Object.isFrozen(fromEnv.corsAllowedOrigins));
  const flagged = resolveUpConfig({ corsAllowedOrigins: 'http://other.example', allowedHosts: 'a.example' }, { TRANTOR_CORS_ALLOWED_ORIGINS: 'http://app.example', TRANTOR_ALLOWED_HOSTS: 'b.example' });
  assert.deepEqual(flagged.corsAllowedOrigins, ['http://other.example']);
  assert.deepEqual(flagged.allowedHosts, ['a.example']);
});

test('a CORS origin or host that cannot match is refused with the flag named', () => {
  assert.throws(() => resolveUpConfig({ corsAllowedOrigins: '*' }, {}), /--cors-allowed-origins: "\*" is not an origin/);
  assert.throws(() => resolveUpConfig({ corsAllowedOrigins: 'http://app.example/ui' }, {}), /--cors-allowed-origins: .*nothing after it/);
  assert.throws(() => resolveUpConfig({ allowedHosts: 'http://models.example' }, {}), /--allowed-hosts: "http:\/\/models\.example" is not a host name/);
});

test('the replicas limit defaults to 64, is set by flag or TRANTOR_MAX_REPLICAS, and must be a whole number', () => {
  assert.equal(resolveUpConfig({}, {}).maxReplicas, 64);
  assert.equal(resolveUpConfig({}, { TRANTOR_MAX_REPLICAS: '8' }).maxReplicas, 8);
  assert.equal(resolveUpConfig({ maxReplicas: '200' }, { TRANTOR_MAX_REPLICAS: '8' }).maxReplicas, 200);
  assert.throws(() => resolveUpConfig({ maxReplicas: '0' }, {}), /--max-replicas 0: expected a whole number of at least 1/);
  assert.throws(() => resolveUpConfig({ maxReplicas: 'lots' }, {}), /--max-replicas lots/);
});

test('durability is process by default, fsync from TRANTOR_DURABILITY or --durability, and anything else is refused', () => {
  assert.equal(resolveUpConfig({}, {}).durability, 'process');
  assert.equal(resolveUpConfig({}, { TRANTOR_DURABILITY: 'fsync' }).durability, 'fsync');
  assert.equal(resolveUpConfig({ durability: 'process' }, { TRANTOR_DURABILITY: 'fsync' }).durability, 'process');
  assert.throws(() => resolveUpConfig({ durability: 'full' }, {}), /--durability full: expected one of process, fsync/);
});

test('the startup timeout is a flag over TRANTOR_STARTUP_TIMEOUT over 60 s, and a bad one is refused', () => {
  assert.equal(resolveUpConfig({}, {}).startupTimeoutMs, 60_000);
  assert.equal(resolveUpConfig({}, { TRANTOR_STARTUP_TIMEOUT: '5m' }).startupTimeoutMs, 300_000);
  assert.equal(resolveUpConfig({ startupTimeout: '90s' }, { TRANTOR_STARTUP_TIMEOUT: '5m' }).startupTimeoutMs, 90_000);
  assert.throws(() => resolveUpConfig({ startupTimeout: 'soon' }, {}), /--startup-timeout soon: expected a duration/);
  assert.throws(() => resolveUpConfig({ startupTimeout: '0s' }, {}), /--startup-timeout 0s: must be at least 1ms/);
});

test('runtime.startupTimeout sets the startup timeout unless --startup-timeout or TRANTOR_STARTUP_TIMEOUT is given', () => {
  const set = ['runtime.startupTimeout=3m'];
  assert.equal(resolveUpConfig({ set }, {}).options.runtime.startupTimeout, 180_000);
  assert.equal(resolveUpConfig({ set }, {}).startupTimeoutMs, 180_000);
  assert.equal(resolveUpConfig({ set }, { TRANTOR_STARTUP_TIMEOUT: '5m' }).options.runtime.startupTimeout, 300_000);
  const flagged = resolveUpConfig({ set: [...set, 'runtime.stopGrace=2s'], startupTimeout: '90s' }, {});
  assert.equal(flagged.options.runtime.startupTimeout, 90_000);
  assert.equal(flagged.options.runtime.stopGrace, 2000, 'the other runtime options stay as set');
  assert.ok(Object.isFrozen(flagged.options) && Object.isFrozen(flagged.options.runtime));
});

test('the gateway options set the request timeout and body limit; --request-timeout and --body-limit win over them', () => {
  const set = ['gateway.requestTimeout=5s', 'gateway.bodyLimit=2kb', 'http.linger=500ms'];
  const fromSet = resolveUpConfig({ set }, {});
  assert.equal(fromSet.requestTimeoutMs, 5_000);
  assert.equal(fromSet.bodyLimitBytes, 2_000);
  assert.equal(fromSet.options.http.linger, 500);
  const fromFlags = resolveUpConfig({ set, timeout: '7s', bodyLimit: '3kb' }, {});
  assert.equal(fromFlags.requestTimeoutMs, 7_000);
  assert.equal(fromFlags.bodyLimitBytes, 3_000);
  assert.equal(resolveUpConfig({ set }, { TRANTOR_REQUEST_TIMEOUT: '9s' }).requestTimeoutMs, 9_000);
  assert.equal(resolveUpConfig({}, {}).bodyLimitBytes, 10_000_000, 'the documented default, 10mb');
  assert.throws(() => resolveUpConfig({ bodyLimit: '0' }, {}), /--body-limit 0: must be at least 1/);
});
