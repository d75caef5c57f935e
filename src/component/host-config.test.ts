import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostSetupError } from './errors.ts';
import { componentOptionsEnv, resolveHostConfig } from './host-config.ts';
import { componentOptions } from './options.ts';

test('an unknown service type is a usage error', () => {
  assert.throws(() => resolveHostConfig(['M', '--service-type', 'WIZARD'], {}, '/'), (e: unknown) => e instanceof HostSetupError && e.exitCode === 2);
});

test('the port comes from --http-port, then PREDICTIVE_UNIT_HTTP_SERVICE_PORT, then 9000', () => {
  assert.equal(resolveHostConfig(['M', '--http-port', '7001'], { PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '7002' }, '/').port, 7001);
  assert.equal(resolveHostConfig(['M'], { PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '7002' }, '/').port, 7002);
  assert.equal(resolveHostConfig(['M', 'REST'], {}, '/').port, 9000);
});

test('gRPC is served on --grpc-port, then PREDICTIVE_UNIT_GRPC_SERVICE_PORT, and not at all without either', () => {
  assert.equal(resolveHostConfig(['M', '--grpc-port', '5001'], { PREDICTIVE_UNIT_GRPC_SERVICE_PORT: '5002' }, '/').grpcPort, 5001);
  assert.equal(resolveHostConfig(['M'], { PREDICTIVE_UNIT_GRPC_SERVICE_PORT: '5002' }, '/').grpcPort, 5002);
  assert.equal(resolveHostConfig(['M'], {}, '/').grpcPort, undefined);
  assert.equal(resolveHostConfig(['M'], { PREDICTIVE_UNIT_GRPC_SERVICE_PORT: '' }, '/').grpcPort, undefined);
  assert.throws(
    () => resolveHostConfig(['M', '--grpc-port', 'five'], {}, '/'),
    (e: unknown) => e instanceof HostSetupError && e.exitCode === 2 && /^--grpc-port: expected a port number/.test(e.message),
  );
});

test('the values of those flags that change nothing are accepted', () => {
  assert.equal(resolveHostConfig(['M', '--workers', '1', '--threads', '1', '--single-threaded', '1'], {}, '/').interfaceName, 'M');
});

test("the host's options come from --<option>, then TRANTOR_COMPONENT_<OPTION>, then their defaults", () => {
  const env = { TRANTOR_COMPONENT_BODY_LIMIT: '2kib', TRANTOR_COMPONENT_REQUEST_TIMEOUT: '5s' };
  const options = resolveHostConfig(['M', '--body-limit', '1kb', '--keep-alive-timeout', '500ms'], env, '/').options;
  assert.deepEqual(options, { requestTimeout: 5_000, bodyLimit: 1_000, keepAliveTimeout: 500, parentCheckInterval: 1_000 });
  assert.deepEqual(resolveHostConfig(['M'], {}, '/').options, componentOptions.defaults);
});

test('a bad option value is a usage error naming the flag or the variable', () => {
  const usage = (pattern: RegExp) => (e: unknown) => e instanceof HostSetupError && e.exitCode === 2 && pattern.test(e.message);
  assert.throws(() => resolveHostConfig(['M', '--request-timeout', 'soon'], {}, '/'), usage(/^--request-timeout soon: expected a duration/));
  assert.throws(() => resolveHostConfig(['M'], { TRANTOR_COMPONENT_BODY_LIMIT: 'lots' }, '/'), usage(/^TRANTOR_COMPONENT_BODY_LIMIT lots: expected a size/));
  assert.throws(() => resolveHostConfig(['M', '--parent-check-interval', '0s'], {}, '/'), usage(/^--parent-check-interval 0s: must be at least 1ms/));
});

test('componentOptionsEnv gives the variables a host reads back as the same values', () => {
  const values = componentOptions.compile({ bodyLimit: '1mib', requestTimeout: '90s' });
  assert.deepEqual(resolveHostConfig(['M'], componentOptionsEnv(values), '/').options, values);
});
