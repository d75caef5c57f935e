/**
 * The traffic, try and requests tabs against a real `trantor up` with the iris examples: a request
 * sent from the form is answered, shows in the inspector with its puid and in the traffic chart's
 * readout; feedback is taken; the copied curl and `trantor` lines, run for real, get the same
 * answer. The tabs are mounted on the logged-in page by themselves (the deployment page places
 * them too), so they are checked apart from the page around them. The numbers behind the charts
 * (series, readout, router shares) and the form's lines are checked first, in the page's own modules.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ROOT, TRANTOR, Trantor, postJson, waitFor } from '../harness.ts';
import { browserMissing, closeAll, upWithDashboard, type Dashboard, type InPage } from './browser.ts';
import type { DeploymentView, PredictorSpec, TrafficSample } from '../../../src/web/index.ts';

type TrafficData = typeof import('../../../src/web/views/traffic-data.ts');
/** The functions of the page's try-data module these tests call (it uses the DOM, which the tests compile without). */
interface TryData {
  requestBody(text: string, protocol: 'seldon' | 'v2'): { body: string } | { problem: string };
  feedbackMessage(request: string, response: string, reward: number): string;
  prettyJson(value: unknown): string;
  predictCli(deployment: DeploymentView, body: string): string;
  parseReward(text: string): { reward: number } | { problem: string };
}

/** The page's globals `mount` uses, named as the tests compile without the DOM library (see InPage). */
interface Box {
  id: string;
  remove(): void;
}
interface MountGlobals {
  document: { getElementById(id: string): Box | null; createElement(tag: 'div'): Box; body: { prepend(box: Box): void } };
}

const skip = browserMissing();

let trantor: Trantor;
let dashboard: Dashboard;

before(async () => {
  if (skip !== undefined) return;
  ({ trantor, dashboard } = await upWithDashboard(
    (up) => {
      for (const example of ['iris/iris.yaml', 'iris/iris-v2.yaml', 'graphs/abtest.yaml']) up.applyAndWait(join(ROOT, 'examples', example));
    },
    { viewport: { width: 1400, height: 1000 } },
  ));
});

after(() => closeAll(trantor, dashboard));

/**
 * Mounts the tabs by themselves in a box of their own on the logged-in page (same modules, so the
 * same live stores), for the deployment as the API gives it.
 */
async function mount(page: Page, tabs: ('TryTab' | 'RequestsTab' | 'TrafficTab')[], namespace: string, name: string, node?: string): Promise<void> {
  await page.evaluate(
    async ({ tabs, namespace, name, node }) => {
      // No function is declared in here: the test's compiler would name it with a helper the page lacks.
      const paths = ['/dashboard/vendor/preact/dist/preact.module.js', '/dashboard/vendor/htm/preact/index.module.js', '/dashboard/static/api.js', '/dashboard/static/views/try.js', '/dashboard/static/views/requests.js', '/dashboard/static/views/traffic.js'];
      const [preact, htm, api, tryTab, requestsTab, trafficTab] = (await Promise.all(paths.map((path) => import(path)))) as Record<string, unknown>[] as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
      const components: Record<string, unknown> = { TryTab: tryTab['TryTab'], RequestsTab: requestsTab['RequestsTab'], TrafficTab: trafficTab['TrafficTab'] };
      const deployment = await (api['api'] as (path: string) => Promise<unknown>)(`/v1/deployments/${namespace}/${name}`);
      const render = preact['render'] as (vnode: unknown, into: Box) => void;
      const { document } = globalThis as unknown as MountGlobals;
      const old = document.getElementById('tabs-under-test');
      if (old !== null) {
        render(null, old);
        old.remove();
      }
      const box = document.createElement('div');
      box.id = 'tabs-under-test';
      document.body.prepend(box);
      const html = htm['html'] as (strings: TemplateStringsArray, ...values: unknown[]) => unknown;
      render(html`<div>${tabs.map((tab) => html`<${components[tab]} deployment=${deployment} node=${node} />`)}</div>`, box);
    },
    { tabs, namespace, name, node },
  );
}

/** What `sh` prints running `line` (a copied command), `trantor` being this checkout's CLI for this Trantor. */
function runLine(line: string): { code: number; stdout: string; stderr: string } {
  const script = `trantor() { "${process.execPath}" "${TRANTOR}" "$@"; }\n${line}`;
  const result = spawnSync('sh', ['-c', script], { env: trantor.env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

async function copied(page: Page, scope: string, which: 'copy-curl' | 'copy-cli'): Promise<string> {
  const text = await page.locator(`${scope} [data-testid=${which}] button`).first().getAttribute('data-copy');
  assert.ok(text !== null, `${scope} offers ${which}`);
  return text;
}

/** GET a dashboard data path with the page's session, as the page calls it. */
async function journal(path: string): Promise<{ items: { puid: string; status: number }[] }> {
  const session = await dashboard.page.evaluate(() => (globalThis as unknown as InPage).localStorage.getItem('trantor.dashboard.session'));
  const res = await fetch(`${trantor.gateway}${path}`, { headers: { authorization: `Bearer ${session}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { items: { puid: string; status: number }[] };
}

interface Prediction {
  data: { ndarray: number[][] };
  meta: { puid: string; requestPath: Record<string, string> };
}

function sample(t: number, rps: number, chosen: [number, number]): TrafficSample {
  return {
    t,
    predictors: [{ namespace: 'seldon', deployment: 'ab', predictor: 'main', rps, errors: rps > 2 ? 1 : 0, p50: rps === 0 ? null : 2, p99: rps === 0 ? null : 4 + rps }],
    nodes: [{ namespace: 'seldon', deployment: 'ab', predictor: 'main', node: 'router', rps, errors: 0, p50: null, p99: null }],
    routers: [{ namespace: 'seldon', deployment: 'ab', predictor: 'main', node: 'router', branches: [{ branch: 0, chosen: chosen[0], feedback: 2, reward: 1.5 }, { branch: 1, chosen: chosen[1], feedback: 0, reward: 0 }] }],
  };
}

const TRAFFIC_DATA = '/dashboard/static/views/traffic-data.js';
const TRY_DATA = '/dashboard/static/views/try-data.js';

test('the readout gives the newest second and the sums over the window, per predictor and node', { skip }, async () => {
  const samples = [sample(1000, 1, [1, 0]), sample(2000, 0, [1, 0]), sample(3000, 3, [2, 2])];
  const got = await dashboard.page.evaluate(async ({ path, s }) => {
    const d = (await import(path)) as TrafficData;
    return {
      all: d.readings(s, 'seldon', 'ab'),
      other: d.readings(s, 'seldon', 'other'),
      onlyNode: d.readings(s, 'seldon', 'ab', 'nope').map((r) => r.key),
      last: d.lastSeconds(s, 1).map((x) => x.t),
      names: [d.branchName([{ name: 'a' }], 0), d.branchName([], 3), d.branchName([], -1), d.branchName([], -2)],
    };
  }, { path: TRAFFIC_DATA, s: samples });
  assert.deepEqual(got.all[0], { key: 'main', kind: 'predictor', rps: 3, errors: 1, p50: 2, p99: 7, requests: 4, failed: 1, worstP99: 7 });
  assert.equal(got.all[1]!.key, 'main/router');
  assert.equal(got.all[1]!.requests, 4);
  assert.deepEqual(got.other, []);
  assert.deepEqual(got.onlyNode, ['main']);
  assert.deepEqual(got.last, [3000]);
  assert.deepEqual(got.names, ['a', 'branch 3', 'all children', 'stopped the walk']);
});

test("a router's shares are of the choices made in the window; its branches named by the graph's children", { skip }, async () => {
  const predictors: PredictorSpec[] = [{ name: 'main', graph: { name: 'router', children: [{ name: 'model-a' }, { name: 'model-b' }] } }];
  // Counts are totals since the control plane started: 10 and 10 before the window, then 3 to a, 1 to b.
  const samples = [sample(1000, 0, [10, 10]), sample(2000, 2, [12, 10]), sample(3000, 2, [13, 11])];
  const [router] = await dashboard.page.evaluate(async ({ path, s, p }) => ((await import(path)) as TrafficData).routerReadings(s, 'seldon', 'ab', p, 10), { path: TRAFFIC_DATA, s: samples, p: predictors });
  assert.equal(router!.key, 'main/router');
  assert.deepEqual(router!.shares.map((s) => s.key), ['model-a', 'model-b']);
  assert.deepEqual(router!.shares[0]!.values, [null, 100, 75]);
  assert.deepEqual(router!.shares[1]!.values, [null, 0, 25]);
  const [a, b] = router!.branches;
  assert.deepEqual(a, { branch: 0, name: 'model-a', chosen: 13, share: (100 * 13) / 24, feedback: 2, reward: 1.5, meanReward: 0.75 });
  assert.equal(b!.meanReward, null);
});

test("the form's body: rows sent as data.ndarray, what is wrong said; feedback keeps the texts' digits", { skip }, async () => {
  const view = { metadata: { name: "it's", namespace: 'seldon' }, spec: { predictors: [] } } as unknown as DeploymentView;
  const got = await dashboard.page.evaluate(async ({ path, v }) => {
    const t = (await import(path)) as TryData;
    return {
    rows: t.requestBody('[[1,2]]', 'seldon'),
    notJson: t.requestBody('{"data":', 'seldon'),
    v2Rows: t.requestBody('[[1,2]]', 'v2'),
    v2NoInputs: t.requestBody('{"data":{}}', 'v2'),
    empty: t.requestBody('  ', 'seldon'),
    feedback: t.feedbackMessage('{"x":0.10000000000000000001}', '{"y":1}', 0.5),
    pretty: t.prettyJson({ a: [[1, 2], [3, 4]], b: {} }),
    cli: t.predictCli(v, '{"a":1}'),
    reward: t.parseReward(' '),
    };
  }, { path: TRY_DATA, v: view });
  const problem = (r: { body: string } | { problem: string }): string => ('problem' in r ? r.problem : `sent: ${r.body}`);
  assert.deepEqual(got.rows, { body: '{"data":{"ndarray":[[1,2]]}}' });
  assert.match(problem(got.notJson), /^The request is not JSON: /);
  assert.match(problem(got.v2Rows), /V2 request is an object with "inputs"/);
  assert.match(problem(got.v2NoInputs), /needs "inputs"/);
  assert.match(problem(got.empty), /empty/);
  assert.equal(got.feedback, '{"request":{"x":0.10000000000000000001},"response":{"y":1},"reward":0.5}');
  assert.equal(got.pretty, '{\n  "a": [\n    [1, 2],\n    [3, 4]\n  ],\n  "b": {}\n}');
  assert.equal(got.cli, `trantor predict 'it'\\''s' -n seldon --data '{"a":1}'`);
  assert.deepEqual(got.reward, { problem: 'Reward " ": expected a number, e.g. 1 or 0.5' });
});

test('a request from the form is answered, appears in the inspector with its puid and in the traffic readout', { skip }, async () => {
  const { page } = dashboard;
  // Through the deployment page's own tabs, as a user goes.
  await page.goto(`${trantor.gateway}/#/deployments/seldon/iris-model/try`);
  await page.locator('[data-testid=try-tab]').waitFor();
  await page.locator('[data-testid=try-body]').fill('{"data":{"ndarray":[[5.1,3.5,1.4,0.2]]}}');
  await page.click('[data-testid=try-send]');
  const answer = page.locator('[data-testid=try-answer]');
  await answer.waitFor();
  assert.equal(await answer.locator('[data-testid=answer-status]').textContent(), '200');
  const puid = (await answer.locator('[data-testid=answer-puid]').textContent())!;
  assert.match(puid, /^[a-z0-9]{26}$/);
  const body = JSON.parse((await answer.locator('[data-testid=answer-body]').textContent())!) as Prediction;
  assert.equal(body.meta.puid, puid);
  assert.match((await answer.locator('[data-testid=answer-path]').textContent())!, /classifier.*SKLEARN_SERVER/);

  // The inspector: the row, then its detail.
  await page.click('[data-testid=tab-requests]');
  const row = page.locator(`[data-testid=request-row][data-puid="${puid}"]`);
  await row.waitFor({ timeout: 10_000 });
  await page.locator('[data-testid=request-search]').fill(puid.slice(3, 12));
  assert.equal(await page.locator('[data-testid=request-row]').count(), 1);
  await row.click();
  const detail = page.locator(`[data-testid=request-detail][data-puid="${puid}"]`);
  await detail.waitFor();
  assert.equal(await detail.locator('[data-testid=detail-status]').textContent(), '200');
  assert.match((await detail.locator('[data-testid=detail-path]').textContent())!, /classifier/);
  assert.equal(await detail.locator('[data-testid=detail-predictor]').textContent(), 'default');
  assert.deepEqual(JSON.parse((await detail.locator('[data-testid=detail-request]').textContent())!), { data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } });
  assert.equal(await detail.locator('[data-testid=detail-logs]').getAttribute('href'), `#/deployments/seldon/iris-model/logs/${puid}`);
  await page.locator('[data-testid=request-search]').fill('no-such-puid');
  await page.locator('[data-testid=requests-none]').waitFor();
  // The journal lists it too (what "reload" and a newly opened tab show), not only the live feed.
  await page.locator('[data-testid=request-search]').fill(puid);
  await page.click('[data-testid=requests-reload]');
  await row.waitFor();
  const listed = await journal(`/dashboard/api/requests?puid=${puid}`);
  assert.equal(listed.items.length, 1);
  assert.equal(listed.items[0]!.status, 200);

  // The traffic readout counts it within a few seconds, the chart drawn by one uPlot all along.
  await page.click('[data-testid=tab-traffic]');
  const rps = page.locator('[data-testid=chart-rps]');
  const requests = page.locator('[data-testid=traffic-reading][data-kind=predictor][data-key=default] [data-field=requests]');
  await waitFor('the readout to count the request', async () => Number((await requests.textContent({ timeout: 100 }).catch(() => '0')) ?? '0') > 0, 10_000);
  const node = page.locator('[data-testid=traffic-reading][data-kind=node][data-key="default/classifier"] [data-field=requests]');
  assert.ok(Number(await node.textContent()) > 0, 'the node has its requests too');
  const plot = await rps.locator('.uplot').elementHandle({ timeout: 10_000 });
  const clock = await page.locator('[data-testid=traffic-clock]').textContent();
  await waitFor('another traffic sample', async () => (await page.locator('[data-testid=traffic-clock]').textContent()) !== clock, 5_000);
  assert.equal(await plot.evaluate((el) => (el as unknown as { isConnected: boolean }).isConnected), true, 'the chart took the new sample by setData, not a new uPlot');
  assert.equal(await rps.locator('.uplot').count(), 1);
  assert.deepEqual(dashboard.problems, []);
  await page.goto(`${trantor.gateway}/#/`);
});

test('a prediction over gRPC (trantor predict --grpc) shows in the inspector as its method, with its gRPC status and its message as JSON', { skip }, async () => {
  const { page } = dashboard;
  await page.goto(`${trantor.gateway}/#/deployments/seldon/iris-model/requests`);
  await page.locator('[data-testid=request-search]').waitFor();
  const predicted = trantor.cli(['predict', 'iris-model', '-n', 'seldon', '--grpc', '--data', '{"data":{"ndarray":[[6.3,2.9,5.6,1.8]]}}']);
  assert.equal(predicted.code, 0, predicted.stderr);
  const puid = (JSON.parse(predicted.stdout) as Prediction).meta.puid;
  const row = page.locator(`[data-testid=request-row][data-puid="${puid}"]`);
  await row.waitFor({ timeout: 10_000 });
  await row.click();
  const detail = page.locator(`[data-testid=request-detail][data-puid="${puid}"]`);
  await detail.waitFor();
  assert.equal(await detail.locator('[data-testid=detail-status]').textContent(), 'OK');
  assert.match((await detail.textContent())!, /gRPC \/seldon\.protos\.Seldon\/Predict/);
  assert.deepEqual(JSON.parse((await detail.locator('[data-testid=detail-request]').textContent())!), { data: { ndarray: [[6.3, 2.9, 5.6, 1.8]] } });
  assert.match((await detail.locator('[data-testid=detail-path]').textContent())!, /classifier/);
  assert.deepEqual(dashboard.problems, []);
  await page.goto(`${trantor.gateway}/#/`);
});

test("feedback on the form's answer gets 200; its copied curl and CLI lines are taken too", { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TryTab'], 'seldon', 'iris-model');
  await page.click('[data-testid=try-send]');
  await page.locator('[data-testid=try-answer] [data-testid=answer-status]:text("200")').waitFor();
  await page.locator('[data-testid=feedback-reward]').fill('0.5');
  await page.click('[data-testid=feedback-send]');
  const answer = page.locator('[data-testid=feedback-answer]');
  await answer.waitFor();
  assert.equal(await answer.locator('[data-testid=answer-status]').textContent(), '200');
  const curl = runLine(await copied(page, '[data-testid=feedback]', 'copy-curl'));
  assert.equal(curl.code, 0, curl.stderr);
  assert.ok('meta' in (JSON.parse(curl.stdout) as object), curl.stdout);
  const cli = await copied(page, '[data-testid=feedback]', 'copy-cli');
  assert.match(cli, /^trantor feedback iris-model -n seldon --request '.*' --response '.*' --reward 0\.5$/s);
  const ran = runLine(cli);
  assert.equal(ran.code, 0, ran.stderr);

  await page.locator('[data-testid=feedback-reward]').fill('lots');
  await page.click('[data-testid=feedback-send]');
  assert.match((await page.locator('[data-testid=feedback-problem]').textContent())!, /Reward "lots": expected a number/);
});

test('the copied curl and CLI lines, run for real, get the same answer as the form', { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TryTab'], 'seldon', 'iris-model');
  await page.locator('[data-testid=try-body]').fill('{"data":{"ndarray":[[6.7,3.0,5.2,2.3]]}}');
  await page.click('[data-testid=try-send]');
  await page.locator('[data-testid=try-answer] [data-testid=answer-status]:text("200")').waitFor();
  const form = JSON.parse((await page.locator('[data-testid=try-answer] [data-testid=answer-body]').textContent())!) as Prediction;
  const curlLine = await copied(page, '.try-actions', 'copy-curl');
  assert.ok(curlLine.startsWith(`curl -s -H 'Content-Type: application/json' -d '{"data":{"ndarray":[[6.7,3.0,5.2,2.3]]}}' ${trantor.gateway}/seldon/seldon/iris-model/api/v1.0/predictions`), curlLine);
  const curl = runLine(curlLine);
  assert.equal(curl.code, 0, curl.stderr);
  const byCurl = JSON.parse(curl.stdout) as Prediction;
  assert.deepEqual(byCurl.data, form.data);
  assert.deepEqual(byCurl.meta.requestPath, form.meta.requestPath);
  assert.notEqual(byCurl.meta.puid, form.meta.puid);
  const cli = runLine(await copied(page, '.try-actions', 'copy-cli'));
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual((JSON.parse(cli.stdout) as Prediction).data, form.data);
});

test('sent as a CloudEvent, the answer comes back as one; the copied curl sends the same headers', { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TryTab'], 'seldon', 'iris-model');
  await page.click('[data-testid=mode-cloudevent]');
  await page.click('[data-testid=try-send]');
  const event = page.locator('[data-testid=try-answer] [data-testid=answer-event]');
  await event.waitFor();
  const text = (await event.textContent())!;
  assert.match(text, /ce-typeseldon\.iris-model\.seldon\.response/);
  assert.match(text, /ce-sourceseldon\.iris-model/);
  const line = await copied(page, '.try-actions', 'copy-curl');
  assert.match(line, /-H 'ce-specversion: 1\.0' -H 'ce-id: [0-9a-f-]{36}' -H 'ce-type: io\.trantor\.dashboard\.request' -H 'ce-source: trantor-dashboard'/);
  const curl = runLine(line.replace(/^curl -s /, 'curl -s -i '));
  assert.equal(curl.code, 0, curl.stderr);
  assert.match(curl.stdout, /^ce-type: seldon\.iris-model\.seldon\.response\r?$/im);
});

test("the gateway's refusals show their reason and message; a body that is not JSON is not sent", { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TryTab'], 'seldon', 'iris-model');
  await page.locator('[data-testid=try-body]').fill('{"data":{"ndarray":[[1,2]]}}');
  await page.click('[data-testid=try-send]');
  const error = page.locator('[data-testid=try-answer] [data-testid=answer-error]');
  await error.waitFor();
  const status = await page.locator('[data-testid=try-answer] [data-testid=answer-status]').textContent();
  assert.ok(Number(status) >= 400, `status ${status}`);
  assert.match((await error.textContent())!, /^[A-Z_]+: \S/);
  assert.equal(await page.locator('[data-testid=feedback]').count(), 0, 'no feedback on a failure');

  await page.locator('[data-testid=try-body]').fill('{"data":');
  await page.click('[data-testid=try-send]');
  assert.match((await page.locator('[data-testid=try-problem]').textContent())!, /^The request is not JSON/);
});

test('saved examples are kept per deployment, across a reload', { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TryTab'], 'seldon', 'iris-model');
  await page.locator('[data-testid=example-save]').click();
  assert.match((await page.locator('[data-testid=examples] .problem').textContent())!, /Name the example first/);
  await page.locator('[data-testid=try-body]').fill('{"data":{"ndarray":[[4.9,3.0,1.4,0.2]]}}');
  await page.locator('[data-testid=example-name]').fill('setosa');
  await page.locator('[data-testid=example-save]').click();
  await page.reload();
  await page.waitForSelector('[data-testid=live]:text("live")');
  await mount(page, ['TryTab'], 'seldon', 'iris-model');
  await page.locator('[data-testid=example-pick]').selectOption('setosa');
  assert.equal(await page.locator('[data-testid=try-body]').inputValue(), '{"data":{"ndarray":[[4.9,3.0,1.4,0.2]]}}');
  await mount(page, ['TryTab'], 'seldon', 'iris-v2');
  assert.equal(await page.locator('[data-testid=example-pick] option').count(), 1, 'none saved for iris-v2');
});

test('a V2 deployment gets a V2 request, sent to its infer path; a node gets its metadata', { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TryTab'], 'seldon', 'iris-v2', 'classifier');
  assert.equal(await page.locator('[data-testid=try-url]').textContent(), 'POST /seldon/seldon/iris-v2/v2/models/classifier/infer');
  assert.ok(await page.locator('[data-testid=mode-cloudevent]').isDisabled());
  const prefilled = JSON.parse(await page.locator('[data-testid=try-body]').inputValue()) as { inputs: unknown[] };
  assert.equal(prefilled.inputs.length, 1);
  await page.click('[data-testid=try-send]');
  await page.locator('[data-testid=try-answer] [data-testid=answer-status]:text("200")').waitFor();
  const body = JSON.parse((await page.locator('[data-testid=try-answer] [data-testid=answer-body]').textContent())!) as { outputs: unknown[] };
  assert.ok(body.outputs.length > 0);
  assert.match(await copied(page, '.try-actions', 'copy-cli'), /^trantor predict iris-v2 -n seldon --protocol v2 --model classifier --data '\{"inputs"/);
  await page.click('[data-testid=node-metadata-get]');
  await page.locator('[data-testid=node-metadata-answer] [data-testid=answer-status]:text("200")').waitFor();
  assert.match((await page.locator('[data-testid=node-metadata-answer] [data-testid=answer-body]').textContent())!, /"name": "classifier"/);
});

test("an A/B router's choices show per branch, with the feedback and reward each got", { skip }, async () => {
  const { page } = dashboard;
  await mount(page, ['TrafficTab'], 'default', 'iris-abtest');
  const url = trantor.url('default', 'iris-abtest');
  const request = { data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } };
  let last: unknown;
  for (let i = 0; i < 10; i++) {
    const res = await postJson(url, request);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    last = res.body;
  }
  const chosenBranch = (last as { meta: { routing: Record<string, number> } }).meta.routing['ab-test']!;
  const fed = await postJson(trantor.url('default', 'iris-abtest', 'api/v1.0/feedback'), { request, response: last, reward: 1 });
  assert.equal(fed.status, 200, JSON.stringify(fed.body));

  const router = page.locator('[data-testid=traffic-router][data-key="default/ab-test"]');
  const cell = (branch: number, field: string) => router.locator(`tr[data-branch="${branch}"] [data-field=${field}]`);
  const number = async (branch: number, field: string): Promise<number> => parseFloat((await cell(branch, field).textContent({ timeout: 200 }).catch(() => null)) ?? 'NaN');
  await waitFor('the router readout to count 10 choices and the feedback', async () => {
    const chosen = (await number(0, 'chosen')) + (await number(1, 'chosen'));
    return chosen === 10 && (await number(chosenBranch, 'feedback')) === 1;
  }, 10_000, () => 'router readout never counted them');
  assert.match((await router.locator('tr[data-branch="0"] td').first().textContent())!, /^0: iris-proba$/);
  assert.match((await router.locator('tr[data-branch="1"] td').first().textContent())!, /^1: iris-class$/);
  assert.equal(await cell(chosenBranch, 'meanReward').textContent(), '1');
  const shares = (await number(0, 'share')) + (await number(1, 'share'));
  assert.ok(Math.abs(shares - 100) < 0.2, `shares add up to 100 %: ${shares}`);
  await router.locator('[data-testid=chart-router] .uplot').waitFor();
});
