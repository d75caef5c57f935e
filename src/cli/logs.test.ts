import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliError } from './control-plane.ts';
import { goBooleanFlags, goDuration, logsQuery, withoutPrefix } from './logs.ts';
import { fakeServer, trantor } from './testing.ts';

const defaults = { tail: '100', prefix: true };

test('--since takes Go durations with a unit, more than zero', () => {
  assert.equal(goDuration('5m'), 300_000);
  assert.equal(goDuration('1h30m'), 5_400_000);
  assert.equal(goDuration('1.5s'), 1500);
  assert.equal(goDuration('250ms'), 250);
  for (const bad of ['5', '0s', 'm', '5 m', '-5m', '1d', '']) assert.equal(goDuration(bad), undefined, bad);
});

test('flags become the query with Kubernetes names; since rounds up to whole seconds', () => {
  assert.equal(logsQuery(defaults, undefined).toString(), 'tailLines=100');
  assert.equal(logsQuery({ ...defaults, container: 'model', tail: '-1', since: '1500ms', timestamps: true }, undefined).toString(), 'container=model&tailLines=-1&sinceSeconds=2&timestamps=true');
  assert.equal(logsQuery({ ...defaults, previous: true }, 'model').toString(), 'container=model&tailLines=100&previous=true');
  assert.equal(logsQuery({ ...defaults, follow: true, sinceTime: '2024-05-01T12:00:00Z' }, undefined).toString(), 'tailLines=100&sinceTime=2024-05-01T12%3A00%3A00Z&follow=true');
});

test('bad logs flags are named', () => {
  const refused = (flags: Parameters<typeof logsQuery>[0], node: string | undefined, message: RegExp): void =>
    assert.throws(() => logsQuery(flags, node), (err: unknown) => err instanceof CliError && message.test(err.message));
  refused({ ...defaults, tail: 'ten' }, undefined, /^--tail ten: expected a number of lines/);
  refused({ ...defaults, since: '5' }, undefined, /^--since 5: expected a duration such as 30s/);
  refused({ ...defaults, sinceTime: 'noon' }, undefined, /^--since-time noon: expected an RFC 3339 time/);
  refused({ ...defaults, since: '5m', sinceTime: '2024-05-01T12:00:00Z' }, undefined, /at most one/);
  refused({ ...defaults, container: 'a' }, 'b', /node b and --container a disagree/);
  refused({ ...defaults, follow: true, previous: true }, undefined, /nothing to follow/);
});

test('--prefix=false drops the replica prefix, and only that', () => {
  assert.equal(withoutPrefix('[default/model/0] [x] hello'), '[x] hello');
  assert.equal(withoutPrefix('no prefix here'), 'no prefix here');
  assert.deepEqual(goBooleanFlags(['logs', '--prefix=false', '--timestamps=true', '--wait=false', 'x=false']), ['logs', '--no-prefix', '--timestamps', '--wait=false', 'x=false']);
});

test('trantor logs sends the flags as the query and prints the lines, --prefix=false without the replica', async () => {
  const view = { metadata: { name: 'iris', namespace: 'ns1' }, spec: {}, status: {} };
  const fake = await fakeServer((seen) => {
    if (seen.url === '/v1/deployments') return { status: 200, body: JSON.stringify({ items: [view] }) };
    if (seen.url.startsWith('/v1/deployments/ns1/iris/logs?')) return { status: 200, type: 'text/plain', body: '[default/model/0] one\n[default/model/1] two\n' };
    return { status: 404, body: '{}' };
  });
  try {
    const plain = await trantor(fake.url, ['logs', 'iris', 'model', '--prefix=false', '--timestamps=true', '-p', '--tail', '3']);
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.out, 'one\ntwo');
    assert.equal(fake.seen.at(-1)!.url, '/v1/deployments/ns1/iris/logs?container=model&tailLines=3&timestamps=true&previous=true');
    const prefixed = await trantor(fake.url, ['logs', '-f', 'iris']);
    assert.equal(prefixed.out, '[default/model/0] one\n[default/model/1] two');
    assert.equal(fake.seen.at(-1)!.url, '/v1/deployments/ns1/iris/logs?tailLines=100&follow=true');
  } finally {
    fake.server.close();
  }
});
