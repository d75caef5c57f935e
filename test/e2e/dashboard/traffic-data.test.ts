/**
 * The dashboard's live traffic and request journal against a real `trantor up` with the A/B test
 * example (a RANDOM_ABTEST router over two iris models), read as the page reads them: the feed
 * (`GET /dashboard/api/stream`) and `GET /dashboard/api/requests`, with a session from a login code.
 * No browser: these are the server's data; the views that draw them have their own tests.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RequestRecord, TrafficSample } from '../../../src/web/index.ts';
import { ROOT, Trantor, postJson, waitFor } from '../harness.ts';

let trantor: Trantor;
let session: string;

before(async () => {
  trantor = new Trantor();
  await trantor.up();
  trantor.applyAndWait(join(ROOT, 'examples', 'graphs', 'abtest.yaml'));
  const link = trantor.cli(['dashboard', '--no-open']);
  assert.equal(link.code, 0, link.stderr);
  const code = /#login=(\S+)/.exec(link.stdout)?.[1];
  assert.ok(code !== undefined, `no login code in ${link.stdout}`);
  const login = await postJson(`${trantor.gateway}/dashboard/api/session`, { code });
  assert.equal(login.status, 200);
  session = (login.body as { session: string }).session;
});

after(async () => {
  await trantor?.close();
});

interface Feed {
  events: { event: string; data: unknown }[];
  close(): void;
}

/** Opens the live feed and keeps its events as they come. */
async function openFeed(): Promise<Feed> {
  const abort = new AbortController();
  const res = await fetch(`${trantor.gateway}/dashboard/api/stream`, { headers: { authorization: `Bearer ${session}` }, signal: abort.signal });
  assert.equal(res.status, 200);
  const events: Feed['events'] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffered = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffered += value;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) !== -1) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as unknown });
        }
      }
    } catch {
      // Aborted at the end of the test.
    }
  })();
  return { events, close: () => abort.abort() };
}

const predictions = (): string => trantor.url('default', 'iris-abtest');
const ROW = { data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } };

test('with the feed open, answered predictions and feedback come as request events and are listed by puid', async () => {
  const feed = await openFeed();
  try {
    await waitFor('the overview', () => feed.events.some((e) => e.event === 'overview'));
    const answer = await postJson(predictions(), ROW, { 'seldon-puid': 'journal-1' });
    assert.equal(answer.status, 200);
    const feedback = await postJson(trantor.url('default', 'iris-abtest', 'api/v1.0/feedback'), { request: ROW, response: answer.body, reward: 1 });
    assert.equal(feedback.status, 200);
    await waitFor('two request events', () => feed.events.filter((e) => e.event === 'request').length >= 2);
    const [predicted, fedBack] = feed.events.filter((e) => e.event === 'request').map((e) => e.data as RequestRecord);
    assert.equal(predicted?.puid, 'journal-1');
    assert.equal(predicted?.namespace, 'default');
    assert.equal(predicted?.deployment, 'iris-abtest');
    assert.equal(predicted?.predictor, 'default');
    assert.equal(predicted?.path, '/seldon/default/iris-abtest/api/v1.0/predictions');
    assert.equal(predicted?.status, 200);
    assert.deepEqual(JSON.parse(predicted.request), ROW);
    assert.deepEqual(JSON.parse(predicted.response), answer.body);
    assert.equal(predicted?.requestPath?.['ab-test'], 'RANDOM_ABTEST');
    assert.equal(fedBack?.path, '/seldon/default/iris-abtest/api/v1.0/feedback');
    // The feedback kept the prediction's puid.
    assert.equal(fedBack?.puid, 'journal-1');

    const listed = await fetch(`${trantor.gateway}/dashboard/api/requests?puid=journal-1&limit=1`, { headers: { authorization: `Bearer ${session}` } });
    const items = ((await listed.json()) as { items: RequestRecord[] }).items;
    assert.deepEqual(items.map((r) => r.path.split('/').pop()), ['feedback']);
    const bad = await fetch(`${trantor.gateway}/dashboard/api/requests?limit=none`, { headers: { authorization: `Bearer ${session}` } });
    assert.equal(bad.status, 400);
  } finally {
    feed.close();
  }
});

test('traffic events carry the predictor\'s and each node\'s rate and percentiles, and the router\'s choices and rewards', async () => {
  const feed = await openFeed();
  try {
    let reward = 0;
    const sent = { a: 0, b: 0 };
    for (let i = 0; i < 20; i++) {
      const answer = await postJson(predictions(), ROW);
      const branch = (answer.body as { meta: { routing: Record<string, number> } }).meta.routing['ab-test'];
      if (branch === 0) sent.a += 1;
      else sent.b += 1;
      if (i < 4) {
        await postJson(trantor.url('default', 'iris-abtest', 'api/v1.0/feedback'), { request: ROW, response: answer.body, reward: 0.5 });
        reward += 0.5;
      }
    }
    const samples = (): TrafficSample[] => feed.events.filter((e) => e.event === 'traffic').map((e) => e.data as TrafficSample);
    const ours = (sample: TrafficSample) => sample.predictors.find((p) => p.deployment === 'iris-abtest');
    await waitFor('a traffic sample with the requests', () => samples().some((s) => (ours(s)?.rps ?? 0) > 0), 5000);
    const sample = samples().find((s) => (ours(s)?.rps ?? 0) > 0)!;
    const predictor = ours(sample)!;
    assert.equal(predictor.namespace, 'default');
    assert.equal(predictor.errors, 0);
    assert.ok(predictor.p50 !== null && predictor.p50 > 0 && predictor.p99! >= predictor.p50, JSON.stringify(predictor));
    const nodes = sample.nodes.filter((n) => n.deployment === 'iris-abtest' && n.rps > 0).map((n) => n.node);
    assert.ok(nodes.includes('iris-proba') || nodes.includes('iris-class'), JSON.stringify(sample.nodes));
    // The router's counts are since the control plane started: the first test's prediction and feedback too.
    await waitFor('the router\'s counts to include these requests', () => {
      const router = samples().at(-1)?.routers.find((r) => r.deployment === 'iris-abtest' && r.node === 'ab-test');
      const chosen = (router?.branches ?? []).reduce((n, b) => n + b.chosen, 0);
      return chosen === 21;
    }, 5000);
    const router = samples().at(-1)!.routers.find((r) => r.node === 'ab-test')!;
    const feedbacks = router.branches.reduce((n, b) => n + b.feedback, 0);
    const rewards = router.branches.reduce((n, b) => n + b.reward, 0);
    assert.equal(feedbacks, 5);
    assert.equal(rewards, reward + 1);
    assert.ok(router.branches.every((b) => b.branch === 0 || b.branch === 1), JSON.stringify(router));
  } finally {
    feed.close();
  }
});

test('with no dashboard open, requests are not recorded', async () => {
  await waitFor('the feeds of the tests before to close', async () => {
    // A prediction made now is recorded only if a feed is still open.
    const puid = `probe-${Date.now()}`;
    await postJson(predictions(), ROW, { 'seldon-puid': puid });
    const listed = await fetch(`${trantor.gateway}/dashboard/api/requests?puid=${puid}`, { headers: { authorization: `Bearer ${session}` } });
    return ((await listed.json()) as { items: unknown[] }).items.length === 0;
  });
});
