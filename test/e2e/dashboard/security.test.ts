/**
 * The dashboard's security model (DESIGN.md §6, docs/dashboard.md "Security"): its data only for its
 * own page with a session from a one-time code; no other web page — not one the gateway's CORS list
 * lets call predictions — can read or drive it, frame it, or use its login codes twice.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Trantor, waitFor } from '../harness.ts';
import { browserMissing, openDashboard, type Dashboard } from './browser.ts';

const skip = browserMissing();

let trantor: Trantor;
let dashboard: Dashboard;
let evil: Server;
let evilOrigin: string;
/** What the other page's script found, posted back to its own server. */
const reports: Record<string, string>[] = [];

before(async () => {
  if (skip !== undefined) return;
  // Another page the user has open, on another port of the same host (as another local user's server would be).
  evil = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        reports.push(JSON.parse(body) as Record<string, string>);
        res.end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><body><iframe id="frame"></iframe><script>
      const gateway = new URLSearchParams(location.search).get('gateway');
      const attempt = async (name, url, init) => {
        try {
          const res = await fetch(url, init);
          return name + ': ' + res.status + ' ' + (await res.text()).slice(0, 200);
        } catch (err) {
          return name + ': blocked (' + err.name + ')';
        }
      };
      (async () => {
        const found = {
          stream: await attempt('stream', gateway + '/dashboard/api/stream'),
          list: await attempt('list', gateway + '/dashboard/api/v1/deployments', { headers: { authorization: 'Bearer guess' } }),
          apply: await attempt('apply', gateway + '/dashboard/api/v1/apply', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'kind: SeldonDeployment' }),
          session: await attempt('session', gateway + '/dashboard/api/session', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"code":"x"}' }),
          storage: String(localStorage.getItem('trantor.dashboard.session')),
        };
        await fetch('/report', { method: 'POST', body: JSON.stringify(found) });
      })();
    </script></body>`);
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  trantor = new Trantor();
  // The other page is even on the gateway's CORS list (it may call predictions): still no dashboard data.
  await trantor.up(['--cors-allowed-origins', evilOrigin]);
  dashboard = await openDashboard(trantor);
});

after(async () => {
  await dashboard?.close();
  await trantor?.close();
  evil?.close();
});

test('a page from another origin can neither read nor drive the dashboard, even one on the CORS list', { skip }, async () => {
  const page = await dashboard.context.newPage();
  await page.goto(`${evilOrigin}/?gateway=${encodeURIComponent(trantor.gateway)}`);
  await waitFor("the other page's report", () => reports.length > 0);
  const found = reports[0];
  assert.ok(found !== undefined, 'the other page reported what it found');
  for (const key of ['stream', 'list', 'apply', 'session']) {
    assert.match(found[key]!, /: (403|blocked)/, `${key}: ${found[key]}`);
    assert.doesNotMatch(found[key]!, /"items"|"session"|event: overview/, `${key} leaked data: ${found[key]}`);
  }
  assert.equal(found['storage'], 'null', "the dashboard's session is not in the other origin's storage");
  await page.close();
});

test("the dashboard's page refuses to be framed, and names its only origin for scripts and data", { skip }, async () => {
  const res = await fetch(`${trantor.gateway}/`);
  assert.equal(res.status, 200);
  const policy = res.headers.get('content-security-policy') ?? '';
  assert.match(policy, /frame-ancestors 'none'/);
  assert.match(policy, /connect-src 'self'/);
  assert.match(policy, /default-src 'none'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
});

test('the data path wants a session; a login code works once; a forged Origin is refused', { skip }, async () => {
  const noSession = await fetch(`${trantor.gateway}/dashboard/api/v1/deployments`);
  assert.equal(noSession.status, 401);
  assert.match(await noSession.text(), /trantor dashboard/);

  const code = new URL(dashboard.loginLink()).hash.replace('#login=', '');
  const redeem = (): Promise<Response> =>
    fetch(`${trantor.gateway}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  const first = await redeem();
  assert.equal(first.status, 200);
  const { session } = (await first.json()) as { session: string };
  const second = await redeem();
  assert.equal(second.status, 401, 'a used code opens nothing');

  const listed = await fetch(`${trantor.gateway}/dashboard/api/v1/deployments`, { headers: { authorization: `Bearer ${session}` } });
  assert.equal(listed.status, 200);
  assert.deepEqual(await listed.json(), { items: [] });

  const forged = await fetch(`${trantor.gateway}/dashboard/api/v1/deployments`, { headers: { authorization: `Bearer ${session}`, origin: evilOrigin } });
  assert.equal(forged.status, 403);

  // A session is not the API token: it cannot mint login codes for more sessions.
  const mint = await fetch(`${trantor.gateway}/dashboard/api/v1/dashboard/login`, { method: 'POST', headers: { authorization: `Bearer ${session}` } });
  assert.equal(mint.status, 403);

  const out = await fetch(`${trantor.gateway}/dashboard/api/session`, { method: 'DELETE', headers: { authorization: `Bearer ${session}` } });
  assert.equal(out.status, 200);
  const ended = await fetch(`${trantor.gateway}/dashboard/api/v1/deployments`, { headers: { authorization: `Bearer ${session}` } });
  assert.equal(ended.status, 401);
});

test('the page loads nothing from another origin and reports no errors', { skip }, async () => {
  const page = await dashboard.context.newPage();
  const origins = new Set<string>();
  page.on('request', (request) => origins.add(new URL(request.url()).origin));
  await page.goto(`${trantor.gateway}/#/`);
  await page.waitForSelector('[data-testid=live]:text("live")');
  assert.deepEqual([...origins], [trantor.gateway]);
  assert.deepEqual(dashboard.problems, []);
  await page.close();
});
