import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrantorError } from '../protocol/index.ts';
import { checkObjectSegments, pathSegments } from './api-paths.ts';

function badPath(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrantorError && err.code === 'BAD_PATH', String(err));
    return err.message;
  }
  assert.fail('expected BAD_PATH');
}

test('a decoded namespace or name that is not a Kubernetes name is refused, naming the segment', () => {
  assert.match(badPath(() => checkObjectSegments(pathSegments('/v1/sinks/..%2F..%2F..%2Fx'))), /^\/v1\/sinks\/<namespace>: namespace "\.\.\/\.\.\/\.\.\/x" is not a valid name/);
  assert.match(badPath(() => checkObjectSegments(pathSegments('/v1/sinks/default/..%2F..%2Fx'))), /^\/v1\/sinks\/default\/<name>: name "\.\.\/\.\.\/x" is not a valid name/);
  assert.match(badPath(() => checkObjectSegments(pathSegments('/v1/deployments/seldon/a.b'))), /<name>: name "a\.b" is not a valid name: .*DNS-1123 label/);
  assert.match(badPath(() => checkObjectSegments(pathSegments('/v1/brokers/default/..'))), /<name>: name "\.\." is not a valid name: .*DNS-1123 subdomain/);
  assert.match(badPath(() => pathSegments('/v1/deployments/%E0%A4%A')), /malformed percent-encoding/);
});

test('valid names pass: labels everywhere, dotted subdomains for brokers and triggers', () => {
  for (const path of ['/v1/deployments', '/v1/deployments/seldon/iris-model/logs', '/v1/sinks/default/event-display', '/v1/brokers/default/my.broker/events', '/v1/triggers/ns/t.1', '/v1/health', '/v1/apply']) {
    checkObjectSegments(pathSegments(path));
  }
});
