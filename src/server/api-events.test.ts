import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectEventFilter } from '../manifest/index.ts';
import { startApi, type ControlPlaneOps } from './api.ts';
import { ObjectEventLog } from './object-events.ts';

const token = { value: 'events-test-token-0123456789', source: 'the test' };
const auth = { authorization: `Bearer ${token.value}` };

function opsWith(log: ObjectEventLog, asked: ObjectEventFilter[]): ControlPlaneOps {
  return {
    apply: () => Promise.resolve({ applied: [] }),
    list: () => [],
    get: () => undefined,
    remove: () => Promise.resolve(false),
    logs: () => [],
    followLogs: () => () => undefined,
    events: (filter) => {
      asked.push(filter);
      return log.list(filter);
    },
  };
}

test('GET /v1/events lists the recorded events, narrowed by namespace, kind and name; other parameters are refused', async () => {
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 60_000 });
  log.record({ type: 'Normal', reason: 'Created', message: 'Trigger t created from t.yaml', source: 'control-plane', involvedObject: { kind: 'Trigger', namespace: 'default', name: 't' } });
  log.record({ type: 'Warning', reason: 'Crashed', message: 'Replica exited with code 3', source: 'supervisor', involvedObject: { kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris' } });
  const asked: ObjectEventFilter[] = [];
  const api = await startApi(opsWith(log, asked), token);
  try {
    const all = (await (await fetch(`${api.url}/v1/events`, { headers: auth })).json()) as { items: { reason: string }[] };
    assert.deepEqual(all.items.map((e) => e.reason), ['Created', 'Crashed']);
    const some = (await (await fetch(`${api.url}/v1/events?namespace=seldon&kind=seldondeployment&name=iris`, { headers: auth })).json()) as { items: { reason: string }[] };
    assert.deepEqual(some.items.map((e) => e.reason), ['Crashed']);
    assert.deepEqual(asked[1], { namespace: 'seldon', kind: 'seldondeployment', name: 'iris' });
    const bad = await fetch(`${api.url}/v1/events?object=iris`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /unknown query parameter \\"object\\"; use namespace, kind or name/);
    const post = await fetch(`${api.url}/v1/events`, { method: 'POST', headers: auth });
    assert.equal(post.status, 405);
  } finally {
    await api.close();
  }
});
