/**
 * The client and the informer against a scripted HTTP server (not a fake Kubernetes): what they
 * send (apply's content type and field manager, a watch from the list's version) and how the
 * informer answers a 410 and a silent watch. test/kube/operator.test.ts covers a real API server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, resourceOf, type LiveObject } from './client.ts';
import { Informer } from './informers.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let url: string;
let handler: Handler = (_req, res) => res.writeHead(404).end();
const seen: { method: string; path: string; contentType?: string; auth?: string; body: string }[] = [];
const open = new Set<ServerResponse>();
let connections = 0;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', path: req.url ?? '', ...(req.headers['content-type'] === undefined ? {} : { contentType: req.headers['content-type'] }), ...(req.headers.authorization === undefined ? {} : { auth: req.headers.authorization }), body });
      open.add(res);
      res.once('close', () => open.delete(res));
      handler(req, res, body);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const res of open) res.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function client(): Promise<KubeClient> {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return KubeClient.of(config, 5000);
}

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const CONFIG_MAPS = resourceOf('v1', 'ConfigMap');
const object = (name: string, rv: string): unknown => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const line = (type: string, value: unknown): string => `${JSON.stringify({ type, object: value })}\n`;

test('apply is a forced server-side apply by trantor-operator, with the bearer token', async () => {
  seen.length = 0;
  handler = (_req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const applied = await (await client()).apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' }, spec: { replicas: 1 } });
  assert.equal(applied.metadata.name, 'd');
  assert.equal(seen[0]?.method, 'PATCH');
  assert.equal(seen[0]?.path, '/apis/apps/v1/namespaces/ns/deployments/d?fieldManager=trantor-operator&force=true');
  assert.equal(seen[0]?.contentType, 'application/apply-patch+yaml');
  assert.equal(seen[0]?.auth, 'Bearer secret');
});

test('successive requests share one kept-alive connection (a TLS handshake per request would cost more than the request)', async () => {
  handler = (_req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const kube = await client();
  const before = connections;
  for (let i = 0; i < 5; i++) await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'ns' } });
  assert.equal(connections - before, 1);
});

test('the informer watches from the list version; a 410 in the stream lists again; a silent watch is cut and opened again', async () => {
  seen.length = 0;
  let lists = 0;
  handler = (req, res) => {
    const query = new URL(req.url ?? '', url).searchParams;
    if (query.get('watch') !== 'true') {
      lists++;
      const items = lists === 1 ? [object('a', '10')] : [object('a', '10'), object('b', '30')];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: lists === 1 ? '10' : '30' }, items }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const watches = seen.filter((s) => s.path.includes('watch=true')).length;
    if (watches === 1) {
      res.write(line('ADDED', object('c', '11')));
      res.write(line('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (20)' }));
    }
    // Every later watch stays open and silent: the watchdog must cut it.
  };
  const added: string[] = [];
  const removed: string[] = [];
  const informer = new Informer(
    await client(),
    { resource: CONFIG_MAPS, namespace: 'ns', watchTimeoutSeconds: 300, watchdogMs: 300, relistMs: 3_600_000, retryMs: 50 },
    { upsert: (o) => added.push(o.metadata.name), remove: (o) => removed.push(o.metadata.name) },
  );
  informer.start();
  try {
    await until('two watches after the relist', () => seen.filter((s) => s.path.includes('watch=true')).length >= 3);
    const watches = seen.filter((s) => s.path.includes('watch=true')).map((s) => new URL(s.path, url).searchParams);
    assert.equal(watches[0]!.get('resourceVersion'), '10', 'the first watch starts at the list version');
    assert.equal(watches[0]!.get('timeoutSeconds'), '300');
    assert.equal(watches[1]!.get('resourceVersion'), '30', 'after 410 the list is read again, and the watch starts from its version');
    assert.equal(watches[2]!.get('resourceVersion'), '30', 'a watch cut by the watchdog opens again from where it was, without a list');
    assert.equal(lists, 2);
    assert.equal(informer.gone, 1);
    assert.deepEqual([...informer.cache.keys()].sort(), ['ns/a', 'ns/b']);
    assert.deepEqual(removed, ['c'], 'what the relist no longer holds is removed');
    assert.ok(added.includes('c') && added.includes('b'));
  } finally {
    await informer.stop();
  }
});

test('the cache never goes back: what this process wrote or deleted holds against late events, and its echo is not told', async () => {
  let stream: ServerResponse | undefined;
  handler = (req, res) => {
    if (new URL(req.url ?? '', url).searchParams.get('watch') !== 'true') {
      const items = [
        { metadata: { name: 'a', namespace: 'ns', uid: 'ua', resourceVersion: '10', labels: { owner: 'o1' } } },
        { metadata: { name: 'b', namespace: 'ns', uid: 'ub', resourceVersion: '11', labels: { owner: 'o1' } } },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: '11' }, items }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(line('BOOKMARK', { metadata: { resourceVersion: '11' } }));
    stream = res;
  };
  const upserts: string[] = [];
  const removes: string[] = [];
  const informer = new Informer(
    await client(),
    { resource: CONFIG_MAPS, namespace: 'ns', watchTimeoutSeconds: 300, watchdogMs: 60_000, relistMs: 3_600_000, retryMs: 50, indexBy: (o) => [o.metadata.labels?.['owner'] ?? ''] },
    { upsert: (o) => upserts.push(`${o.metadata.name}@${o.metadata.resourceVersion}`), remove: (o) => removes.push(`${o.metadata.name}@${o.metadata.resourceVersion}`) },
  );
  informer.start();
  try {
    await informer.synced;
    await until('the watch', () => stream !== undefined);
    upserts.length = 0;
    const cm = (name: string, uid: string, rv: string): LiveObject => ({ metadata: { name, namespace: 'ns', uid, resourceVersion: rv, labels: { owner: 'o1' } } });
    informer.wrote(cm('a', 'ua', '20'));
    informer.forgot(cm('b', 'ub', '11'));
    assert.deepEqual(informer.indexed('o1').map((o) => o.metadata.resourceVersion), ['20'], 'the write and the delete are in the cache and its index at once');
    // What the watch tells late: a change older than the write, the write's echo, a change to the deleted object.
    stream!.write(line('MODIFIED', cm('a', 'ua', '15')));
    stream!.write(line('MODIFIED', cm('a', 'ua', '20')));
    stream!.write(line('MODIFIED', cm('b', 'ub', '18')));
    stream!.write(line('DELETED', cm('b', 'ub', '21')));
    stream!.write(line('MODIFIED', cm('a', 'ua', '22')));
    stream!.write(line('ADDED', cm('b', 'ub2', '23')));
    await until('the last events', () => upserts.length >= 3);
    assert.deepEqual(upserts, ['a@20', 'a@22', 'b@23'], "a change older than the write is told as the cached version (the write was decided without it); the write's echo and the deleted object's change are not");
    assert.deepEqual(removes, [], 'the deletion this process made is not told again');
    assert.equal(informer.get('ns/a')?.metadata.resourceVersion, '22');
    assert.equal(informer.get('ns/b')?.metadata.uid, 'ub2', 'an object made again under the same name is cached');
    assert.deepEqual(informer.indexed('o1').map((o) => o.metadata.name).sort(), ['a', 'b']);
  } finally {
    await informer.stop();
  }
});

test('a kind not served (404) is an empty, synced cache, looked for again after absentRetryMs', async () => {
  let lists = 0;
  handler = (req, res) => {
    if (new URL(req.url ?? '', url).searchParams.get('watch') !== 'true') {
      lists++;
      if (lists === 1) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion: '5' }, items: [object('a', '5')] }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
  };
  const errors: unknown[] = [];
  const informer = new Informer(
    await client(),
    { resource: CONFIG_MAPS, namespace: 'ns', watchTimeoutSeconds: 300, watchdogMs: 60_000, relistMs: 3_600_000, retryMs: 50, absentRetryMs: 200 },
    { upsert: () => {}, remove: () => {}, error: (e) => errors.push(e) },
  );
  informer.start();
  try {
    await informer.synced;
    assert.equal(informer.absent, true);
    assert.equal(informer.cache.size, 0);
    await until('the kind served', () => informer.cache.has('ns/a'));
    assert.equal(informer.absent, false);
    assert.deepEqual(errors, [], 'a kind not served is not an error');
  } finally {
    await informer.stop();
  }
});
