import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Overview } from '../../web/index.ts';
import { dashboardApi } from './api.ts';
import { DashboardSessions } from './sessions.ts';

const sessions = new DashboardSessions();
const overview: Overview = { deployments: [], brokers: [], triggers: [], services: [], events: [], gatewayUrl: 'http://127.0.0.1:8000' };
let notify: () => void = () => undefined;
const apiCalls: string[] = [];
let server: Server;
let base: string;

before(async () => {
  const handle = dashboardApi({
    sessions,
    api: (_req, res, url) => {
      apiCalls.push(`${url.pathname}${url.search}`);
      res.end('{"items":[]}');
      return Promise.resolve();
    },
    feed: {
      overview: () => overview,
      changes: [
        (onChange) => {
          notify = onChange;
          return () => (notify = () => undefined);
        },
      ],
      sources: {},
    },
    requests: { list: (q) => [{ puid: q.puid ?? 'p', time: 1, namespace: 'seldon', deployment: 'iris', method: 'POST', path: '/x', status: 200, latencyMs: 1, request: '{}', response: '{}' }] },
  });
  server = createServer((req, res) => handle(req, res, new URL(req.url ?? '/', 'http://x').pathname));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

async function session(): Promise<string> {
  const res = await fetch(`${base}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: sessions.mintCode().code }) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { session: string }).session;
}

test('a login must be JSON with a code that works', async () => {
  const plain = await fetch(`${base}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"code":"x"}' });
  assert.equal(plain.status, 415);
  const empty = await fetch(`${base}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
  assert.equal(empty.status, 400);
  const wrong = await fetch(`${base}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"nope"}' });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /trantor dashboard/);
});

test('the API is reached under /dashboard/api with its own paths and queries, with a session only', async () => {
  const s = await session();
  assert.equal((await fetch(`${base}/dashboard/api/v1/deployments?watch=1`)).status, 401);
  const res = await fetch(`${base}/dashboard/api/v1/deployments?watch=1`, { headers: { authorization: `Bearer ${s}` } });
  assert.equal(res.status, 200);
  assert.equal(apiCalls.at(-1), '/v1/deployments?watch=1');
});

test('another origin, or another site by Sec-Fetch-Site, is refused before the session is looked at', async () => {
  const s = await session();
  for (const headers of [{ origin: 'http://127.0.0.1:9999' }, { 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': 'cross-site' }]) {
    const res = await fetch(`${base}/dashboard/api/requests`, { headers: { authorization: `Bearer ${s}`, ...headers } });
    assert.equal(res.status, 403, JSON.stringify(headers));
  }
  const own = await fetch(`${base}/dashboard/api/requests`, { headers: { authorization: `Bearer ${s}`, origin: base, 'sec-fetch-site': 'same-origin' } });
  assert.equal(own.status, 200);
});

test('the journals answer their queries and refuse unknown parameters', async () => {
  const s = await session();
  const auth = { authorization: `Bearer ${s}` };
  const found = await fetch(`${base}/dashboard/api/requests?puid=abc&limit=5`, { headers: auth });
  assert.deepEqual(((await found.json()) as { items: { puid: string }[] }).items.map((r) => r.puid), ['abc']);
  assert.equal((await fetch(`${base}/dashboard/api/requests?who=me`, { headers: auth })).status, 400);
  assert.equal((await fetch(`${base}/dashboard/api/requests?limit=0`, { headers: auth })).status, 400);
  assert.deepEqual(await (await fetch(`${base}/dashboard/api/deliveries`, { headers: auth })).json(), { items: [] });
  assert.equal((await fetch(`${base}/dashboard/api/nothing`, { headers: auth })).status, 404);
});

test('the feed sends the overview at once and again after a change, only when it differs', async () => {
  const s = await session();
  const stop = new AbortController();
  const res = await fetch(`${base}/dashboard/api/stream`, { headers: { authorization: `Bearer ${s}` }, signal: stop.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const until = async (count: number): Promise<void> => {
    while ((text.match(/event: overview/g) ?? []).length < count) text += (await reader.read()).value ?? '';
  };
  await until(1);
  assert.match(text, /^: open\n\nevent: overview\ndata: \{"deployments":\[\]/);
  notify(); // nothing changed: nothing sent
  overview.gatewayUrl = 'http://127.0.0.1:8001';
  notify();
  await until(2);
  assert.equal((text.match(/event: overview/g) ?? []).length, 2);
  assert.match(text, /8001/);
  stop.abort();
});
