import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { operatorEndpoints, OperatorMetrics } from './metrics.ts';

describe("the operator's endpoints", () => {
  let server: Server;
  let base: string;
  const state = { leader: false, depth: 3, lists: 2, restarts: 5, gone: 1, synced: false, lastTurn: Date.now() };
  const metrics = new OperatorMetrics({ leader: () => state.leader, queueDepth: () => state.depth, relists: () => state.lists, watchRestarts: () => state.restarts, watchGone: () => state.gone });

  before(async () => {
    server = createServer(
      operatorEndpoints({
        metrics,
        readiness: { informers: () => (state.synced ? undefined : 'not synced yet'), webhook: () => undefined },
        lastTurn: () => state.lastTurn,
        stallMs: 1000,
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('/healthz answers ok while the event loop turns, 503 once it stalled', async () => {
    state.lastTurn = Date.now();
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    state.lastTurn = Date.now() - 5000;
    const stalled = await fetch(`${base}/healthz`);
    assert.equal(stalled.status, 503);
    assert.match(await stalled.text(), /stalled/);
    state.lastTurn = Date.now();
  });

  test('/readyz is 503 naming the failing check, 200 once every check passes', async () => {
    const before = await fetch(`${base}/readyz`);
    assert.equal(before.status, 503);
    assert.match(await before.text(), /\[-\]informers failed: not synced yet\n\[\+\]webhook ok/);
    state.synced = true;
    const after = await fetch(`${base}/readyz`);
    assert.equal(after.status, 200);
    assert.match(await after.text(), /readyz check passed/);
  });

  test('/metrics: reconciles by result, their durations, queue depth, relists, watch restarts, leader, admissions', async () => {
    metrics.reconciled(0.02, false);
    metrics.reconciled(0.3, true);
    metrics.admitted('denied');
    state.leader = true;
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    for (const line of [
      'trantor_operator_reconciles_total{result="success"} 1',
      'trantor_operator_reconciles_total{result="error"} 1',
      'trantor_operator_reconcile_duration_seconds_count 2',
      'trantor_operator_queue_depth 3',
      'trantor_operator_relists_total 2',
      'trantor_operator_watch_restarts_total 5',
      'trantor_operator_watch_gone_total 1',
      'trantor_operator_leader 1',
      'trantor_operator_webhook_admissions_total{result="denied"} 1',
      'trantor_operator_webhook_admissions_total{result="allowed"} 0',
    ]) assert.ok(text.includes(`${line}\n`), `${line} in\n${text.split('\n').filter((l) => l.startsWith('trantor')).join('\n')}`);
    assert.match(text, /^process_cpu_seconds_total /m);
    // Totals kept elsewhere are read again on each scrape.
    state.lists = 7;
    assert.ok((await (await fetch(`${base}/metrics`)).text()).includes('trantor_operator_relists_total 7\n'));
  });

  test('another path is 404, another method 405', async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  });
});
