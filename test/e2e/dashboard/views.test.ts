/**
 * The overview, the deployment page's diagram, the node panel and the logs, in a real Chromium
 * against a real `trantor up` with the examples applied: the iris model (SKLEARN_SERVER), an
 * ensemble (a Python COMBINER), a chain (a TRANSFORMER and an OUTPUT_TRANSFORMER) and an A/B test
 * (the executor's RANDOM_ABTEST router), plus one that fails (its model folder does not exist).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ControlPlaneClient } from '../../../src/client/index.ts';
import { ROOT, Trantor } from '../harness.ts';
import { browserMissing, closeAll, upWithDashboard, type Dashboard } from './browser.ts';

const skip = browserMissing();

const EXAMPLES = ['iris/iris.yaml', 'graphs/ensemble.yaml', 'graphs/chain.yaml', 'graphs/abtest.yaml'].map((f) => join(ROOT, 'examples', f));
const MISSING_MODEL = '/nonexistent/trantor-views-test/model';
const BROKEN = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: broken, namespace: default}
spec:
  predictors:
  - name: default
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: ${MISSING_MODEL}}
---
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: canary, namespace: default}
spec:
  predictors:
  - {name: main, traffic: 80, graph: {name: stable, implementation: SIMPLE_MODEL}}
  - {name: canary, traffic: 20, graph: {name: candidate, implementation: SIMPLE_MODEL}}
  - {name: mirror, shadow: true, graph: {name: copy, implementation: SIMPLE_MODEL}}
`;

/** The page's globals the in-page functions below read (the tests compile without the DOM). */
interface Doc {
  document: {
    querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; textContent: string | null }>;
  };
}

let trantor: Trantor;
let dashboard: Dashboard;

before(async () => {
  if (skip !== undefined) return;
  ({ trantor, dashboard } = await upWithDashboard(
    async (up) => {
      const applied = await Promise.all(EXAMPLES.map((file) => up.cliAsync(['apply', '-f', file, '--wait', '--timeout', '120s'])));
      applied.forEach((r, i) => assert.equal(r.code, 0, `${EXAMPLES[i]}: ${r.stderr}`));
      const broken = join(up.home, 'broken.yaml');
      writeFileSync(broken, BROKEN);
      assert.equal(up.cli(['apply', '-f', broken]).code, 0);
    },
    { viewport: { width: 1400, height: 1000 } },
  ));
});

after(() => closeAll(trantor, dashboard));

async function go(hash: string): Promise<void> {
  await dashboard.page.evaluate((h) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = h;
  }, hash);
}

function attribute(selector: string, name: string): Promise<string | null> {
  return dashboard.page.getAttribute(selector, name);
}

test('the overview lists every deployment, the failed one first with its description and no per-row fetch', { skip }, async () => {
  const page = dashboard.page;
  const apiCalls: string[] = [];
  page.on('request', (req) => {
    if (req.url().includes('/dashboard/api/v1/')) apiCalls.push(req.url());
  });
  await go('#/');
  await page.waitForSelector('[data-testid="overview-deployment-default-broken"][data-state="Failed"]', { timeout: 20_000 });
  for (const [ns, name, ready] of [['seldon', 'iris-model', '1/1'], ['default', 'iris-ensemble', '3/3'], ['default', 'iris-chain', '3/3'], ['default', 'iris-abtest', '2/2']] as const) {
    const row = page.locator(`[data-testid="overview-deployment-${ns}-${name}"]`);
    assert.equal(await row.getAttribute('data-state'), 'Available', name);
    assert.match(await row.innerText(), new RegExp(`${ready}[\\s\\S]*default 100%`), name);
    assert.equal(await row.locator('a').first().getAttribute('href'), `#/deployments/${ns}/${name}`);
  }
  const order = await page.evaluate(() =>
    Array.from((globalThis as unknown as Doc).document.querySelectorAll('[data-testid^="overview-deployment-"]'), (r) => r.getAttribute('data-testid')),
  );
  assert.equal(order[0], 'overview-deployment-default-broken', `failed first: ${order.join(', ')}`);
  const trouble = await page.locator('[data-testid="overview-deployment-default-broken"] + tr.trouble').innerText();
  assert.match(trouble, new RegExp(`${MISSING_MODEL} does not exist`));
  assert.deepEqual(apiCalls, [], 'the overview reads the feed only');
});

const SHAPES: Record<string, Record<string, string>> = {
  'iris-ensemble': { average: 'hexagon', classifier: 'rect', uniform: 'rect' },
  'iris-chain': { 'class-name': 'trapezoid', scaler: 'parallelogram', classifier: 'rect' },
  'iris-abtest': { 'ab-test': 'diamond', 'iris-proba': 'rect', 'iris-class': 'rect' },
};

test('the deployment page draws every node with its kind\'s shape, what runs it, and a green dot per replica', { skip }, async () => {
  const page = dashboard.page;
  for (const [name, nodes] of Object.entries(SHAPES)) {
    await go(`#/deployments/default/${name}`);
    await page.waitForSelector(`[data-testid="deployment-page"] [data-testid="predictor-default"]`);
    assert.match(await page.locator('[data-testid="traffic-default"]').innerText(), /100% of traffic/);
    for (const [node, shape] of Object.entries(nodes)) {
      const g = page.locator(`[data-testid="node-default-${node}"]`);
      assert.equal(await g.locator('[data-shape]').getAttribute('data-shape'), shape, `${name} ${node}`);
      if (node === 'ab-test') {
        assert.match((await g.textContent()) ?? '', /RANDOM_ABTEST[\s\S]*in the executor/);
        continue;
      }
      assert.equal(await attribute(`[data-testid="dot-default/${node}/0"]`, 'data-state'), 'Ready', `${name} ${node}`);
      assert.match(await attribute(`[data-testid="dot-default/${node}/0"]`, 'class') ?? '', /\bok\b/);
    }
    for (const [parent, child] of name === 'iris-chain' ? [['class-name', 'scaler'], ['scaler', 'classifier']] : []) {
      assert.equal(await page.locator(`[data-testid="edge-default-${parent}-${child}"]`).count(), 1);
    }
  }
  // The tree's layout: children below their parent, side by side, the parent centred over them.
  await go('#/deployments/default/iris-ensemble');
  const box = async (node: string): Promise<{ x: number; y: number }> => {
    const b = await page.locator(`[data-testid="node-default-${node}"] [data-shape]`).boundingBox();
    assert.ok(b !== null, node);
    return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
  };
  const [average, classifier, uniform] = [await box('average'), await box('classifier'), await box('uniform')];
  assert.ok(classifier.y > average.y + 50 && classifier.y === uniform.y, 'children on one level below their parent');
  assert.ok(classifier.x < uniform.x && Math.abs(average.x - (classifier.x + uniform.x) / 2) < 1, 'the parent centred over its children');

  // Each predictor's share; a shadow drawn dashed.
  await go('#/deployments/default/canary');
  await page.waitForSelector('[data-testid="predictor-mirror"]');
  assert.match(await page.locator('[data-testid="traffic-main"]').innerText(), /^80% of traffic$/);
  assert.match(await page.locator('[data-testid="traffic-canary"]').innerText(), /^20% of traffic$/);
  assert.match(await page.locator('[data-testid="traffic-mirror"]').innerText(), /^shadow/);
  assert.equal(await attribute('[data-testid="predictor-mirror"]', 'data-shadow'), 'true');
  const dashes = (selector: string): Promise<string> =>
    page.locator(selector).evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { strokeDasharray: string } }).getComputedStyle(el).strokeDasharray);
  assert.notEqual(await dashes('[data-testid="node-mirror-copy"] [data-shape]'), 'none');
  assert.equal(await dashes('[data-testid="node-main-stable"] [data-shape]'), 'none');

  // What runs a node: its implementation, or its command.
  await go('#/deployments/default/iris-chain');
  assert.match((await page.locator('[data-testid="node-default-classifier"] text.what').textContent()) ?? '', /^SKLEARN_SERVER$/);
  assert.match((await page.locator('[data-testid="node-default-scaler"] text.what').textContent()) ?? '', /^seldon-core-microservice Feat/);
});

test('a second of traffic and the tried path show on the diagram: req/s, latencies, errors, edges thicker, nodes highlighted', { skip }, async () => {
  const page = dashboard.page;
  await go('#/deployments/default/iris-abtest');
  await page.waitForSelector('[data-testid="node-default-ab-test"]');
  // The feed's traffic and the try tab's path go through the page's stores; set them as those do.
  await page.evaluate(async (module) => {
    const store = (await import(module)) as {
      traffic: { set(v: unknown): void };
      highlightedPath: { set(v: unknown): void };
    };
    const unit = { namespace: 'default', deployment: 'iris-abtest', predictor: 'default' };
    store.traffic.set([{
      t: Date.now(),
      predictors: [{ ...unit, rps: 12, errors: 0, p50: 3, p99: 9 }],
      nodes: [{ ...unit, node: 'ab-test', rps: 12, errors: 0, p50: 3, p99: 9 }, { ...unit, node: 'iris-proba', rps: 9, errors: 2, p50: 2.5, p99: 8 }, { ...unit, node: 'iris-class', rps: 3, errors: 0, p50: 2, p99: 4 }],
      routers: [{ ...unit, node: 'ab-test', branches: [{ branch: 0, chosen: 75, feedback: 0, reward: 0 }, { branch: 1, chosen: 25, feedback: 4, reward: 3 }] }],
    }]);
    store.highlightedPath.set({ namespace: 'default', deployment: 'iris-abtest', nodes: ['ab-test', 'iris-class'] });
  }, '/dashboard/static/store.js');
  const proba = page.locator('[data-testid="node-default-iris-proba"]');
  await proba.locator('text.stat[data-rps]').waitFor();
  assert.match((await proba.textContent()) ?? '', /9\.0 req\/s · 2\.0 err\/s[\s\S]*p50 2\.5 ms · p99 8\.0 ms/);
  assert.equal(await proba.locator('.errors').count(), 1);
  const width = async (child: string): Promise<number> => Number(await attribute(`[data-testid="edge-default-ab-test-${child}"]`, 'stroke-width'));
  assert.ok((await width('iris-proba')) > (await width('iris-class')), 'the busier edge is thicker');
  assert.match((await page.locator('[data-testid="route-default-ab-test-iris-class"]').textContent()) ?? '', /25% chosen · reward 0\.75/);
  assert.equal(await attribute('[data-testid="node-default-iris-class"]', 'data-highlighted'), 'true');
  assert.equal(await attribute('[data-testid="node-default-iris-proba"]', 'data-highlighted'), 'false');
  assert.match(await attribute('[data-testid="edge-default-ab-test-iris-class"]', 'class') ?? '', /\bhl\b/);
});

test('clicking a node opens its panel: kind, command, parameters, replicas, the gateway\'s metadata and its logs', { skip }, async () => {
  const page = dashboard.page;
  await go('#/deployments/default/iris-chain');
  await page.click('[data-testid="node-default-scaler"]');
  const panel = page.locator('[data-testid="node-panel"][data-node="scaler"]');
  await panel.waitFor();
  assert.equal(await panel.locator('[data-testid="node-kind"]').innerText(), 'TRANSFORMER');
  assert.match(await panel.innerText(), /seldon-core-microservice FeatureScaler --service-type TRANSFORMER/);
  assert.deepEqual(
    (await panel.locator('[data-testid="param-factor"] td').allInnerTexts()).map((t) => t.trim()),
    ['factor', 'FLOAT', '0.1'],
  );
  assert.match(await panel.locator('[data-testid="replica-default/scaler/0"]').innerText(), /Ready\s+\d+\s+\d+\s+0/);
  await page.waitForFunction(() => /"seldon_deployment_id": "iris-chain"/.test(String((globalThis as unknown as Doc).document.querySelectorAll('[data-testid="node-metadata"] pre')[0]?.textContent)));
  assert.match(await panel.locator('[data-testid="node-metadata"]').innerText(), /"name": "scaler"/);
  // The node's logs only.
  await panel.locator('[data-testid="log-line"]').first().waitFor();
  const replicas = await panel.locator('[data-testid="log-line"]').evaluateAll((lines) => lines.map((l) => (l as unknown as { getAttribute(n: string): string }).getAttribute('data-replica')));
  assert.ok(replicas.length > 0 && replicas.every((r) => r === 'default/scaler/0'), replicas.join(', '));
});

test('a killed replica turns its dot red or amber, then green again; its logs mark the restart', { skip }, async () => {
  const page = dashboard.page;
  await go('#/deployments/seldon/iris-model');
  const dot = '[data-testid="dot-default/classifier/0"]';
  await page.waitForSelector(`${dot}[data-state="Ready"]`);
  const api = ControlPlaneClient.fromHome(trantor.home);
  const before = JSON.parse((await api.request('GET', '/v1/deployments/seldon/iris-model')).body) as { status: { replicas: { pid: number }[] } };
  const pid = before.status.replicas[0]!.pid;
  process.kill(pid, 'SIGKILL');
  await page.waitForFunction(
    (sel) => ['Crashed', 'Stopped', 'Starting', 'Unready'].includes((globalThis as unknown as Doc).document.querySelector(sel)?.getAttribute('data-state') ?? ''),
    dot,
    { polling: 'raf', timeout: 10_000 },
  );
  assert.match(await attribute(dot, 'class') ?? '', /\b(bad|warn)\b/);
  await page.waitForSelector(`${dot}[data-state="Ready"]`, { timeout: 60_000 });
  assert.match(await attribute(dot, 'class') ?? '', /\bok\b/);
  const after = JSON.parse((await api.request('GET', '/v1/deployments/seldon/iris-model')).body) as { status: { replicas: { pid: number; restarts: number }[] } };
  assert.notEqual(after.status.replicas[0]!.pid, pid);
  assert.equal(after.status.replicas[0]!.restarts, 1);
  assert.match(await page.locator('[data-testid="deployment-page"] header').innerText(), /1 restart\b/);

  // Opened after the restart, the logs show the run before it, then the mark, then the new run.
  await go('#/deployments/seldon/iris-model/logs');
  const mark = page.locator('[data-testid="log-restart"]');
  await mark.first().waitFor();
  assert.match(await mark.first().innerText(), /default\/classifier\/0 restarted \(restart 1\): its last process was killed by SIGKILL/);
});

test('logs: lines of every replica, a text filter (the route\'s fourth part fills it), follow off holds them still', { skip }, async () => {
  const page = dashboard.page;
  await go('#/deployments/default/iris-ensemble/logs');
  const lines = page.locator('[data-testid="logs"] [data-testid="log-line"]');
  await page.waitForFunction(() => {
    const seen = new Set(Array.from((globalThis as unknown as Doc).document.querySelectorAll('[data-testid="log-line"]'), (l) => l.getAttribute('data-replica')));
    return seen.has('default/average/0') && seen.has('default/classifier/0') && seen.has('default/uniform/0');
  });
  const all = await lines.count();

  await page.fill('[data-testid="logs-filter"]', 'Average');
  await page.waitForFunction((n) => (globalThis as unknown as Doc).document.querySelectorAll('[data-testid="log-line"]').length < n, all);
  const kept = await lines.allInnerTexts();
  assert.ok(kept.length > 0 && kept.every((t) => /average/i.test(t)), kept.join('\n'));
  await page.fill('[data-testid="logs-filter"]', 'no line says this 7f3a');
  await page.locator('[data-testid="logs"]').getByText('No line has').waitFor();
  assert.equal(await lines.count(), 0);

  // One replica picked.
  await page.fill('[data-testid="logs-filter"]', '');
  await page.selectOption('[data-testid="logs-replica"]', 'default/uniform/0');
  await page.waitForFunction(() => Array.from((globalThis as unknown as Doc).document.querySelectorAll('[data-testid="log-line"]')).every((l) => l.getAttribute('data-replica') === 'default/uniform/0'));

  // The request inspector links to the logs with a puid as the route's fourth part.
  await go('#/deployments/default/iris-ensemble/logs/uniform');
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { value: string } | null } }).document.querySelector('[data-testid="logs-filter"]')?.value === 'uniform');

  await page.uncheck('[data-testid="logs-follow"]');
  assert.match(await page.locator('[data-testid="logs-count"]').innerText(), /paused/);
  assert.deepEqual(dashboard.problems, []);
});
