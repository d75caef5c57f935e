/**
 * The dashboard's Eventing view against a real `trantor up`: a Broker with two Triggers, one to
 * `trantor event-display` and one to a subscriber that always answers 500 (retried twice, then sent
 * to a dead-letter sink). An event sent to the broker shows in the broker's stream; selecting it
 * shows each trigger's delivery attempts with their answers (delivered for one, retries then
 * dead-lettered for the other); resending it from the page delivers a copy with a new id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type EventDisplay, startEventDisplay, Trantor, waitFor } from '../harness.ts';
import { browserMissing, openDashboard, type Dashboard } from './browser.ts';

const skip = browserMissing();
const trantor = new Trantor();
let display: EventDisplay | undefined;
let dashboard: Dashboard | undefined;
const servers: Server[] = [];
/** Event ids the failing subscriber and the dead-letter sink received. */
const failingGot: string[] = [];
const deadLetters: string[] = [];

async function listen(answer: (id: string) => { status: number; body: string }): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const { status, body } = answer(String(req.headers['ce-id'] ?? ''));
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function printed(): string {
  return `trantor up printed:\n${trantor.output.join('\n')}\npage problems: ${dashboard?.problems.join('\n') ?? ''}`;
}

function send(id: string, type = 'e2e.order'): Promise<Response> {
  return fetch(`${trantor.gateway}/default/shop`, {
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-id': id, 'ce-source': 'e2e/shop', 'ce-type': type, 'content-type': 'application/json' },
    body: JSON.stringify({ order: id, items: 3 }),
  });
}

before(async () => {
  if (skip !== undefined) return;
  await trantor.up();
  display = await startEventDisplay(trantor);
  const failing = await listen((id) => {
    failingGot.push(id);
    return { status: 500, body: 'broken on purpose' };
  });
  const sink = await listen((id) => {
    deadLetters.push(id);
    return { status: 202, body: '' };
  });
  const audit = await listen(() => ({ status: 200, body: 'noted' }));
  const manifests = `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: shop, namespace: default}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: shown, namespace: default}
spec:
  broker: shop
  filter: {attributes: {type: e2e.order}}
  subscriber: {ref: {apiVersion: v1, kind: Service, name: event-display}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: failing, namespace: default}
spec:
  broker: shop
  filter: {attributes: {type: e2e.order}}
  subscriber: {uri: "${failing}"}
  delivery: {retry: 2, backoffDelay: PT0.02S, deadLetterSink: {uri: "${sink}"}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: audit, namespace: default}
spec:
  broker: shop
  filters: [{suffix: {type: .other}}]
  subscriber: {uri: "${audit}"}
`;
  const applied = trantor.cli(['apply', '-f', '-'], manifests);
  assert.equal(applied.code, 0, applied.stderr);
  dashboard = await openDashboard(trantor);
});

after(async () => {
  await dashboard?.close();
  display?.stop();
  await trantor.close();
  for (const server of servers) server.close();
});

test('the eventing page lists the broker and its triggers with their state and subscriber', { skip }, async () => {
  const { page } = dashboard!;
  await page.goto(`${trantor.gateway}/#/eventing`);
  const broker = page.locator('[data-testid=broker-row][data-broker=shop]');
  await broker.waitFor({ timeout: 15_000 });
  await page.locator('[data-testid=trigger-row][data-trigger=failing]:has-text("Ready")').waitFor({ timeout: 15_000 });
  const failingRow = await page.locator('[data-testid=trigger-row][data-trigger=failing]').innerText();
  assert.match(failingRow, /type=e2e\.order/);
  assert.match(failingRow, /http:\/\/127\.0\.0\.1:\d+\//);
  const shownRow = await page.locator('[data-testid=trigger-row][data-trigger=shown]').innerText();
  assert.match(shownRow, /Service default\/event-display/);
  await page.fill('[data-testid=eventing-filter]', 'no-such-thing');
  await page.locator('[data-testid=broker-row]').waitFor({ state: 'detached' });
  await page.fill('[data-testid=eventing-filter]', '');
  await broker.locator('a').click();
  await page.waitForURL(/#\/eventing\/default\/shop$/);
  await page.locator('[data-testid=no-events]').waitFor();
});

test("an event sent to the broker shows in its stream with each trigger's deliveries: delivered, and retried then dead-lettered", { skip }, async () => {
  const { page } = dashboard!;
  await page.goto(`${trantor.gateway}/#/eventing/default/shop`);
  await page.locator('[data-testid=no-events]').waitFor();
  assert.equal((await send('order-1')).status, 202);
  assert.equal((await send('other-1', 'e2e.other')).status, 202);
  const row = page.locator('[data-testid=event-row][data-event-id=order-1]');
  await row.waitFor({ timeout: 15_000 });
  await page.locator('[data-testid=event-row][data-event-id=other-1]').waitFor();

  // The other event matched only the trigger whose filters take it.
  await page.click('[data-testid=event-row][data-event-id=other-1]');
  const other = page.locator('[data-testid=event-detail][data-event-id=other-1]');
  await other.locator('[data-testid=delivery-attempt][data-trigger=audit][data-outcome=delivered]:has-text("noted")').waitFor({ timeout: 15_000 });
  assert.equal(await other.locator('[data-testid=event-trigger]').count(), 1);
  await other.locator('text=Not matched: failing, shown').waitFor();

  // Filters: by type, then by text.
  await page.selectOption('[data-testid=filter-type]', 'e2e.other');
  await row.waitFor({ state: 'detached' });
  await page.selectOption('[data-testid=filter-type]', '');
  await page.fill('[data-testid=filter-text]', 'order-1');
  await page.locator('[data-testid=event-row][data-event-id=other-1]').waitFor({ state: 'detached' });
  await row.waitFor();

  // The list row sums up what became of the event; the detail has every attempt.
  await row.locator('.ev-chip:has-text("failing: dead-lettered")').waitFor({ timeout: 15_000 });
  await row.click();
  const detail = page.locator('[data-testid=event-detail][data-event-id=order-1]');
  await detail.waitFor();
  await detail.locator('[data-testid=delivery-attempt][data-trigger=shown][data-outcome=delivered]').waitFor({ timeout: 15_000 });
  const failing = detail.locator('[data-testid=delivery-attempt][data-trigger=failing]');
  await detail.locator('[data-testid=delivery-attempt][data-trigger=failing][data-outcome=dead-lettered]').waitFor({ timeout: 15_000 });
  // The subscriber's attempts, then the dead-letter sink's own (listed once the sink answered).
  await detail.locator('[data-testid=delivery-attempt][data-trigger=failing][data-sink=dead-letter][data-outcome=delivered]').waitFor({ timeout: 15_000 });
  const attempts: (string | null)[][] = [];
  for (const r of await failing.all()) attempts.push([await r.getAttribute('data-sink'), await r.getAttribute('data-attempt'), await r.getAttribute('data-outcome')]);
  assert.deepEqual(attempts, [[null, '1', 'retrying'], [null, '2', 'retrying'], [null, '3', 'dead-lettered'], ['dead-letter', '1', 'delivered']]);
  assert.match(await failing.last().innerText(), /dead-letter sink 1[\s\S]*202/);
  assert.match(await failing.first().innerText(), /500[\s\S]*broken on purpose/);
  assert.deepEqual(failingGot, ['order-1', 'order-1', 'order-1']);
  await waitFor('the dead-letter sink to get order-1', () => deadLetters.includes('order-1'), 15_000, printed);
  assert.match(await detail.locator('[data-testid=event-trigger][data-trigger=failing]').innerText(), /dead letters to http:\/\/127\.0\.0\.1/);
  // The triggers' counts in the overview follow.
  await page.locator('[data-testid=trigger-row][data-trigger=failing]:has-text("2 retried · 1 dead-lettered")').waitFor({ timeout: 15_000 });
  await page.locator('[data-testid=trigger-row][data-trigger=shown]:has-text("1 delivered")').waitFor({ timeout: 15_000 });
  // The event itself: attributes and data.
  assert.match(await detail.locator('[data-testid=event-attributes]').innerText(), /source\s+e2e\/shop/);
  assert.match(await detail.locator('[data-testid=event-data]').innerText(), /"items": 3/);
  // The kept deliveries are served to the page too.
  const session = await page.evaluate<string | null>("localStorage.getItem('trantor.dashboard.session')");
  const res = await fetch(`${trantor.gateway}/dashboard/api/deliveries?eventId=order-1`, { headers: { authorization: `Bearer ${session ?? ''}` } });
  assert.equal(res.status, 200);
  const kept = ((await res.json()) as { items: { trigger: string; outcome: string; deadLetterSink?: true }[] }).items.map((r) => `${r.trigger}:${r.deadLetterSink === true ? 'sink:' : ''}${r.outcome}`).sort();
  assert.deepEqual(kept, ['failing:dead-lettered', 'failing:retrying', 'failing:retrying', 'failing:sink:delivered', 'shown:delivered']);
  assert.deepEqual(dashboard!.problems, []);
});

test('resend posts a copy with a new id and shows its deliveries; the curl line sends the same copy', { skip }, async () => {
  const { page } = dashboard!;
  const detail = page.locator('[data-testid=event-detail]');
  await detail.waitFor();
  const newId = (await page.locator('[data-testid=resend-id]').innerText()).trim();
  assert.notEqual(newId, 'order-1');
  const curl = await page.locator('button.copy:has-text("copy as curl")').getAttribute('data-copy');
  assert.match(curl ?? '', new RegExp(`^curl -s -H 'Content-Type: application/cloudevents\\+json' -d '.*"id":"${newId}".*' http://127\\.0\\.0\\.1:\\d+/default/shop$`));
  assert.doesNotMatch(curl ?? '', /knativearrivaltime|knativebrokerttl/);
  await page.fill('[data-testid=filter-text]', '');
  await page.click('[data-testid=resend]');
  await page.locator(`[data-testid=resend-result]:has-text("sent as ${newId} (202)")`).waitFor({ timeout: 15_000 });
  // The copy opens once it shows in the stream, with its own deliveries.
  const copy = page.locator(`[data-testid=event-detail][data-event-id="${newId}"]`);
  await copy.waitFor({ timeout: 15_000 });
  await copy.locator('[data-testid=delivery-attempt][data-trigger=shown][data-outcome=delivered]').waitFor({ timeout: 15_000 });
  await copy.locator('[data-testid=delivery-attempt][data-trigger=failing][data-outcome=dead-lettered]').waitFor({ timeout: 15_000 });
  await waitFor('the event display to print the copy', () => display!.printed().includes(newId), 15_000, printed);
  await waitFor('the dead-letter sink to get the copy', () => deadLetters.includes(newId), 15_000, printed);
  assert.deepEqual(dashboard!.problems, []);
});

test('a broker that does not exist is named as such, and its stream says why it cannot be followed', { skip }, async () => {
  const { page } = dashboard!;
  await page.goto(`${trantor.gateway}/#/eventing/default/nowhere`);
  await page.locator('text=No broker nowhere in namespace default is known').waitFor({ timeout: 15_000 });
  await page.locator('[data-testid=stream-error]:has-text("no broker nowhere in namespace default")').waitFor({ timeout: 15_000 });
});
