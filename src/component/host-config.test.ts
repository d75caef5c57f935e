import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostSetupError } from './errors.ts';
import { resolveHostConfig } from './host-config.ts';

test('an unknown service type is a usage error', () => {
  assert.throws(() => resolveHostConfig(['M', '--service-type', 'WIZARD'], {}, '/'), (e: unknown) => e instanceof HostSetupError && e.exitCode === 2);
});

test('the port comes from --http-port, then PREDICTIVE_UNIT_HTTP_SERVICE_PORT, then 9000', () => {
  assert.equal(resolveHostConfig(['M', '--http-port', '7001'], { PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '7002' }, '/').port, 7001);
  assert.equal(resolveHostConfig(['M'], { PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '7002' }, '/').port, 7002);
  assert.equal(resolveHostConfig(['M', 'REST'], {}, '/').port, 9000);
});

test('the values of those flags that change nothing are accepted', () => {
  assert.equal(resolveHostConfig(['M', '--workers', '1', '--threads', '1', '--single-threaded', '1'], {}, '/').interfaceName, 'M');
});
