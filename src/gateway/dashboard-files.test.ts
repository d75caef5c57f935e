import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { asTrantorError } from '../protocol/index.ts';
import { dashboardFiles, inlineScriptHashes } from './dashboard-files.ts';

const PAGE = '<!doctype html><script type="importmap">{"imports":{}}</script><script type="module" src="/dashboard/static/main.js"></script>';
let server: Server;
let base: string;

before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'dashboard-files-'));
  writeFileSync(join(root, 'index.html'), PAGE);
  writeFileSync(join(root, 'main.js'), 'export {};');
  writeFileSync(join(tmpdir(), 'outside.js'), 'secret');
  const files = dashboardFiles({ webRoot: root });
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    try {
      if (!files.serve(req, res, path)) {
        res.writeHead(599);
        res.end('not the dashboard');
      }
    } catch (err) {
      const error = asTrantorError(err);
      res.writeHead(error.status);
      res.end(error.message);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => server.close());

test('the page is served at / with a policy naming its inline import map by hash, and revalidated by ETag', async () => {
  const res = await fetch(`${base}/`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), PAGE);
  const [hash] = inlineScriptHashes(PAGE);
  assert.match(res.headers.get('content-security-policy')!, new RegExp(`script-src 'self' 'sha256-${hash!.replace(/[+/]/g, '\\$&')}'`));
  const again = await fetch(`${base}/`, { headers: { 'if-none-match': res.headers.get('etag')! } });
  assert.equal(again.status, 304);
});

test('modules and the vendored libraries are served; nothing outside their folders is', async () => {
  const main = await fetch(`${base}/dashboard/static/main.js`);
  assert.equal(main.status, 200);
  assert.equal(main.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal((await fetch(`${base}/dashboard/vendor/preact/dist/preact.module.js`)).status, 200);
  assert.equal((await fetch(`${base}/dashboard/vendor/htm/preact/index.module.js`)).status, 200);
  assert.equal((await fetch(`${base}/dashboard/vendor/uplot/dist/uPlot.esm.js`)).status, 200);
  for (const path of ['/dashboard/static/../outside.js', '/dashboard/static/%2e%2e/outside.js', '/dashboard/static/..%2Foutside.js', '/dashboard/vendor/preact/package.json', '/dashboard/vendor/preact/dist/../../../package.json', '/dashboard/vendor/left-pad/dist/x.js', '/dashboard/static/%E0%A4%A']) {
    const res = await fetch(`${base}${path}`);
    assert.equal(res.status, 404, path);
  }
  assert.equal((await fetch(`${base}/dashboard/static/main.js`, { method: 'POST' })).status, 405);
  assert.equal((await fetch(`${base}/seldon/x`)).status, 599, 'other paths are left to the gateway');
});
