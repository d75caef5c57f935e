import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeploymentView } from '../manifest/index.ts';
import { fakeServer, TEST_API_TOKEN, trantor, type Answer, type Seen } from './testing.ts';

const VIEW = {
  metadata: { name: 'iris', namespace: 'seldon' },
  status: { state: 'Available', replicas: [], address: { url: '' }, createdAt: new Date().toISOString() },
} as unknown as DeploymentView;

function api(seen: Seen): Answer {
  if (seen.url === '/v1/triggers') return { status: 200, body: JSON.stringify({ items: [] }) };
  if (seen.url === '/v1/deployments/seldon/iris') return { status: 200, body: JSON.stringify(VIEW) };
  if (seen.url.startsWith('/v1/deployments/seldon/iris/logs')) return { status: 200, body: '[default/classifier/0] hello\n', type: 'text/plain' };
  return { status: 404, body: '{}' };
}

test('every control-plane call carries the home\'s API token, streamed ones (logs) too', async () => {
  const fake = await fakeServer(api);
  try {
    const got = await trantor(fake.url, ['get', 'triggers']);
    assert.equal(got.code, 0, got.err);
    const logs = await trantor(fake.url, ['logs', 'iris', '-n', 'seldon']);
    assert.equal(logs.code, 0, logs.err);
    assert.equal(logs.out, '[default/classifier/0] hello');
    assert.deepEqual(
      fake.seen.map((s) => [s.url.replace(/\?.*/, ''), s.headers.authorization]),
      [
        ['/v1/triggers', `Bearer ${TEST_API_TOKEN}`],
        ['/v1/deployments/seldon/iris', `Bearer ${TEST_API_TOKEN}`],
        ['/v1/deployments/seldon/iris/logs', `Bearer ${TEST_API_TOKEN}`],
      ],
    );
  } finally {
    fake.server.close();
  }
});

test('TRANTOR_API_TOKEN replaces the home\'s token; a refused token is reported as the API words it', async () => {
  const fake = await fakeServer(api);
  try {
    const result = await trantor(fake.url, ['get', 'triggers'], {}, { TRANTOR_API_TOKEN: 'another-token-0123456789' });
    assert.equal(fake.seen[0]?.headers.authorization, 'Bearer another-token-0123456789');
    assert.equal(result.code, 1);
    assert.match(result.err, /needs "Authorization: Bearer <token>"/);
  } finally {
    fake.server.close();
  }
});

test('an empty token file stops the command before it calls the API, naming the file', async () => {
  const fake = await fakeServer(api);
  try {
    const result = await trantor(fake.url, ['get', 'triggers'], { 'api-token': '' });
    assert.equal(result.code, 1);
    assert.match(result.err, /the API token file \S+api-token is empty/);
    assert.equal(fake.seen.length, 0);
  } finally {
    fake.server.close();
  }
});
