import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_OPENAPI } from './api-openapi.ts';
import type { ObjectEventFilter } from '../manifest/index.ts';
import { startApi, type ControlPlaneOps, type EventingOps } from './api.ts';
import { ObjectEventLog } from './object-events.ts';

const ops: ControlPlaneOps = {
  apply: () => Promise.resolve({ applied: [] }),
  list: () => [],
  get: () => undefined,
  remove: () => Promise.resolve(false),
  logs: () => [],
  followLogs: () => () => undefined,
  events: () => [],
};

const eventing: EventingOps = {
  triggers: () => [],
  brokers: () => [],
  services: () => [],
  kubeDeployments: () => [],
  configMaps: () => [],
  remove: () => Promise.resolve(false),
  registerSink: () => Promise.resolve(),
  unregisterSink: () => Promise.resolve(false),
  hasBroker: () => false,
  tail: async function* () {},
};

const token = { value: 'openapi-test-token-0123456789', source: 'the test' };
const auth = { authorization: `Bearer ${token.value}` };

test('the API serves its OpenAPI document at /v1/openapi.json', async () => {
  const api = await startApi({ ops, eventing }, token);
  try {
    const res = await fetch(`${api.url}/v1/openapi.json`, { headers: auth });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(API_OPENAPI)));
  } finally {
    await api.close();
  }
});

test('every operation in the OpenAPI document is a route the API knows', async () => {
  const api = await startApi({ ops, eventing, dashboardLogin: () => ({ code: 'c', url: 'http://127.0.0.1:8000/#login=c', expiresAt: new Date().toISOString() }) }, token);
  try {
    const paths = API_OPENAPI.paths as Record<string, Record<string, unknown>>;
    for (const [template, operations] of Object.entries(paths)) {
      for (const method of Object.keys(operations)) {
        const path = template.replace(/\{[a-z]+\}/g, 'x');
        const res = await fetch(`${api.url}${path}`, { method: method.toUpperCase(), headers: { ...auth, ...(method === 'put' || method === 'post' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'put' || method === 'post' ? { body: '{}' } : {}) });
        const text = await res.text();
        assert.doesNotMatch(text, /no API path/, `${method.toUpperCase()} ${path}`);
      }
    }
  } finally {
    await api.close();
  }
});

test('every path parameter and request body in the document is described', () => {
  type Operation = { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, unknown> } };
  const { paths } = JSON.parse(JSON.stringify(API_OPENAPI)) as { paths: Record<string, Record<string, Operation>> };
  for (const [template, operations] of Object.entries(paths)) {
    const named = [...template.matchAll(/\{([a-z]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(operations)) {
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      assert.deepEqual(declared.sort(), [...named].sort(), `${method} ${template}`);
      // Minting a dashboard login code takes nothing: the only POST without a body.
      if ((method === 'post' || method === 'put') && template !== '/v1/dashboard/login') assert.ok(op.requestBody !== undefined && Object.keys(op.requestBody.content).length > 0, `${method} ${template} has a body`);
    }
  }
});

test('GET /v1/events lists the recorded events, narrowed by namespace, kind and name; other parameters are refused', async () => {
  const log = new ObjectEventLog({ maxEvents: 10, maxAgeMs: 60_000 });
  log.record({ type: 'Normal', reason: 'Created', message: 'Trigger t created from t.yaml', source: 'control-plane', involvedObject: { kind: 'Trigger', namespace: 'default', name: 't' } });
  log.record({ type: 'Warning', reason: 'Crashed', message: 'Replica exited with code 3', source: 'supervisor', involvedObject: { kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris' } });
  const asked: ObjectEventFilter[] = [];
  const events = (filter: ObjectEventFilter): ReturnType<ObjectEventLog['list']> => {
    asked.push(filter);
    return log.list(filter);
  };
  const api = await startApi({ ops: { ...ops, events } }, token);
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
