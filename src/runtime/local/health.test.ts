import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { defaultProbes, probeOnce, probeSettings } from './health.ts';
import { runtimeOptions } from './options.ts';

const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const signal = new AbortController().signal;
const PROBE_DEFAULTS = defaultProbes(runtimeOptions.defaults);
const target = (port: number) => ({ host: '127.0.0.1', port, bodyLimit: runtimeOptions.defaults.probeBodyLimit });

test("a manifest's probe fields win over the defaults, in milliseconds", () => {
  const settings = probeSettings({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 4, httpGet: { path: '/live' } }, PROBE_DEFAULTS.liveness);
  assert.deepEqual(settings, { initialDelayMs: 0, periodMs: 5000, timeoutMs: 2000, failureThreshold: 4, successThreshold: 1, path: '/live' });
  assert.equal(probeSettings(undefined, PROBE_DEFAULTS.readiness), PROBE_DEFAULTS.readiness);
  assert.deepEqual(PROBE_DEFAULTS.liveness, { initialDelayMs: 0, periodMs: 1000, timeoutMs: 1000, failureThreshold: 5, successThreshold: 1 });
  assert.equal(probeSettings({ tcpSocket: {} }, PROBE_DEFAULTS.readiness).tcp, true);
});

test('a probe of a process that accepts connections but never answers fails within its timeout', async () => {
  const port = await listen(() => undefined);
  const start = Date.now();
  assert.equal(await probeOnce(target(port), { ...PROBE_DEFAULTS.liveness, timeoutMs: 200 }, signal), false);
  assert.ok(Date.now() - start < 2000);
  assert.equal(await probeOnce(target(port), { ...PROBE_DEFAULTS.liveness, timeoutMs: 200, tcp: true }, signal), true, 'a TCP probe only connects');
});

test('an httpGet probe passes on 2xx and 3xx and fails on other statuses', async () => {
  const port = await listen((req, res) => {
    res.statusCode = req.url === '/live' ? 204 : req.url === '/moved' ? 302 : 500;
    res.end();
  });
  const at = (path: string): Promise<boolean> => probeOnce(target(port), { ...PROBE_DEFAULTS.liveness, path }, signal);
  assert.equal(await at('/live'), true);
  assert.equal(await at('/moved'), true);
  assert.equal(await at('/broken'), false);
});
