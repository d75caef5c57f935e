import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { homeLayout } from '../manifest/index.ts';
import { ControlPlaneClient } from './index.ts';

test('ControlPlaneClient.fromHome finds the API and sends the home\'s token on requests and streams', async () => {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const home = mkdtempSync(join(tmpdir(), 'trantor-client-'));
  try {
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(homeLayout.controlPlane(home), JSON.stringify({ pid: process.pid, apiUrl, gatewayUrl: 'http://127.0.0.1:8000', startedAt: '' }));
    writeFileSync(homeLayout.apiToken(home), 'the-token-of-this-home-0123\n');
    const client = ControlPlaneClient.fromHome(home);
    assert.equal(client.gatewayUrl, 'http://127.0.0.1:8000');
    assert.deepEqual(await client.request('GET', '/v1/health'), { status: 200, body: '{"status":"ok"}' });
    const stream = await client.stream('/v1/brokers/default/default/events');
    assert.equal(await stream.text(), '{"status":"ok"}');
    assert.deepEqual(seen.map((s) => s.headers.authorization), ['Bearer the-token-of-this-home-0123', 'Bearer the-token-of-this-home-0123']);
    assert.equal(JSON.stringify(client).includes('the-token'), false, 'a serialised client must not show its token');
  } finally {
    server.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('ControlPlaneClient.fromHome says what to do when there is no control plane or no token', () => {
  const home = mkdtempSync(join(tmpdir(), 'trantor-client-'));
  try {
    assert.throws(() => ControlPlaneClient.fromHome(home), /no control plane is running for home .*trantor up --home/);
    writeFileSync(homeLayout.controlPlane(home), JSON.stringify({ pid: 1, apiUrl: 'http://127.0.0.1:1', gatewayUrl: '', startedAt: '' }));
    assert.throws(() => ControlPlaneClient.fromHome(home), /no API token at .*api-token: trantor up --home .* makes one/);
    assert.equal(ControlPlaneClient.fromHome(home, { token: 'from-the-caller-0123456' }).apiUrl, 'http://127.0.0.1:1');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
