/**
 * Traffic between and within predictors: an epsilon-greedy bandit router that learns from
 * feedback, a 75 / 25 split between two predictors, and a shadow predictor that gets a copy of
 * every request while its failures stay out of the answers. Uses examples/graphs/bandit.yaml,
 * traffic.yaml and shadow.yaml.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const EXAMPLES = join(ROOT, 'examples', 'graphs');
const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];

interface Reply {
  data?: { names?: string[]; ndarray?: number[][] };
  meta: { puid: string; tags: Record<string, unknown>; routing: Record<string, number>; requestPath: Record<string, string> };
  status?: { code: number; info: string; reason: string; status: string };
}

before(async () => {
  await trantor.up();
  for (const manifest of ['bandit.yaml', 'traffic.yaml', 'shadow.yaml']) {
    trantor.applyAndWait(join(EXAMPLES, manifest));
  }
});
after(() => trantor.close());

async function predict(name: string, ndarray: number[][]): Promise<{ status: number; body: Reply }> {
  const res = await postJson(trantor.url('default', name), { data: { ndarray } });
  return { status: res.status, body: res.body as Reply };
}

/** Runs `task(i)` for i in 0..count-1, `width` at a time. */
async function pool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

test('bandit: rewarded whenever it picks branch 0, the epsilon-greedy router comes to pick branch 0', async () => {
  const request = { data: { ndarray: [IRIS_ROW] } };
  const chosen = [0, 0];
  for (let round = 0; round < 200; round++) {
    const { status, body } = await predict('iris-bandit', [IRIS_ROW]);
    assert.equal(status, 200, JSON.stringify(body));
    const branch = body.meta.routing['bandit'];
    assert.ok(branch === 0 || branch === 1, `meta.routing: ${JSON.stringify(body.meta.routing)}`);
    chosen[branch]! += 1;
    const child = branch === 0 ? 'iris-proba' : 'uniform';
    assert.deepEqual(Object.keys(body.meta.requestPath).sort(), ['bandit', child].sort());
    if (branch === 1) assert.deepEqual(body.data?.ndarray, [[1 / 3, 1 / 3, 1 / 3]]);
    const feedback = await postJson(trantor.url('default', 'iris-bandit', 'api/v1.0/feedback'), { request, response: body, reward: branch === 0 ? 1 : 0 });
    assert.equal(feedback.status, 200, JSON.stringify(feedback.body));
  }
  // Exploration (epsilon 0.1) keeps trying the other branch now and then.
  assert.ok(chosen[0]! > 0 && chosen[1]! > 0, `choices while learning: ${chosen.join(' / ')}`);
  const after = await pool(100, 8, () => predict('iris-bandit', [IRIS_ROW]));
  const zeros = after.filter(({ status, body }) => {
    assert.equal(status, 200, JSON.stringify(body));
    return body.meta.routing['bandit'] === 0;
  }).length;
  assert.ok(zeros >= 80, `branch 0 chosen ${zeros} times in 100 after learning (${chosen.join(' / ')} while learning)`);
});

test('traffic: over 10,000 requests two predictors with traffic 75 / 25 split them within 2 points', async () => {
  const started = Date.now();
  const total = 10_000;
  const replies = await pool(total, 16, () => predict('canary', [[1, 2]]));
  const seconds = (Date.now() - started) / 1000;
  let main = 0;
  let canary = 0;
  for (const { status, body } of replies) {
    assert.equal(status, 200, JSON.stringify(body));
    const path = Object.keys(body.meta.requestPath);
    if (body.meta.tags['main'] === 'yes') {
      assert.deepEqual(path, ['main-model']);
      main += 1;
    } else {
      assert.equal(body.meta.tags['canary'], 'yes', JSON.stringify(body.meta));
      assert.deepEqual(path, ['canary-model']);
      canary += 1;
    }
  }
  assert.equal(main + canary, total);
  const share = (100 * main) / total;
  assert.ok(Math.abs(share - 75) <= 2, `main served ${share.toFixed(2)}% of ${total} requests (canary ${canary}) in ${seconds.toFixed(1)} s`);
  assert.ok(seconds < 30, `10,000 requests took ${seconds.toFixed(1)} s`);
});

test('shadow: a failing shadow gets a copy of every request, and every answer is the main predictor\'s', async () => {
  const count = 50;
  const replies = await pool(count, 8, () => predict('shadowed', [[1, 2]]));
  const puids = new Set<string>();
  for (const { status, body } of replies) {
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.data?.ndarray, [[1, 2]]);
    assert.equal(body.meta.tags['main'], 'yes');
    assert.deepEqual(Object.keys(body.meta.requestPath), ['main-model']);
    puids.add(body.meta.puid);
  }
  assert.equal(puids.size, count);
  // The shadow's copies are sent alongside the answers; give its log a moment to show them all.
  let seen = new Set<string>();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const logs = trantor.cli(['logs', 'shadowed', '--tail', '1000']);
    assert.equal(logs.code, 0, logs.stderr);
    seen = new Set([...logs.stdout.matchAll(/Broken: got request (\S+)/g)].map((m) => m[1]!));
    if ([...puids].every((p) => seen.has(p)) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const missing = [...puids].filter((p) => !seen.has(p));
  assert.deepEqual(missing, [], `the shadow logged ${seen.size} of ${count} requests`);
  assert.equal(seen.size, count, 'the shadow got a request the main predictor did not');
});
