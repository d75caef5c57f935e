/**
 * The rollout tab, the manifest editor and the apply page: their arithmetic and text (weights held
 * at 100, the YAML and the line diff shown before applying), then in a real browser against a real
 * `trantor up` with the canary example (examples/graphs/traffic.yaml, 75 / 25).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, Trantor, waitFor } from '../harness.ts';
import { browserMissing, closeAll, upWithDashboard, type Dashboard } from './browser.ts';
import { apportion, applyCommand, diffCounts, folded, lineDiff, manifestOfView, problems, promote, setShadow, setWeight, sharesOf, toYaml, withShares } from '../../../src/web/testing.ts';

test('weights: moving one shares the rest in proportion, whole numbers, summing to 100', () => {
  assert.deepEqual(apportion(100, [1, 1, 1]), [34, 33, 33]);
  assert.deepEqual(apportion(10, [0, 0]), [5, 5]);
  const shares = [{ name: 'a', traffic: 50, shadow: false }, { name: 'b', traffic: 30, shadow: false }, { name: 'c', traffic: 20, shadow: false }, { name: 's', traffic: 0, shadow: true }];
  const moved = setWeight(shares, 'a', 80);
  assert.deepEqual(moved.map((s) => s.traffic), [80, 12, 8, 0]);
  assert.deepEqual(setWeight(shares, 'a', 150).map((s) => s.traffic), [100, 0, 0, 0]);
  assert.deepEqual(setWeight(setWeight(shares, 'a', 100), 'b', 40).map((s) => s.traffic), [60, 40, 0, 0], 'all others at 0: the rest goes to them equally');
  assert.deepEqual(setWeight(shares, 's', 40), shares, 'a shadow has no weight to move');
  for (let v = 0; v <= 100; v += 7) assert.equal(setWeight(shares, 'b', v).filter((s) => !s.shadow).reduce((t, s) => t + s.traffic, 0), 100);
  assert.deepEqual(problems(moved), []);
});

test('shadow toggle, promotion and the problems the validator would name', () => {
  const shares = sharesOf([{ name: 'main', traffic: 75 }, { name: 'canary', traffic: 25 }]);
  const shadowed = setShadow(shares, 'canary', true);
  assert.deepEqual(shadowed, [{ name: 'main', traffic: 100, shadow: false }, { name: 'canary', traffic: 0, shadow: true }]);
  assert.deepEqual(setShadow(shadowed, 'canary', false), [{ name: 'main', traffic: 100, shadow: false }, { name: 'canary', traffic: 0, shadow: false }]);
  assert.match(problems(setShadow(shadowed, 'main', true)).join('\n'), /at least one predictor must not be a shadow/);
  assert.match(problems([{ name: 'a', traffic: 60, shadow: false }, { name: 'b', traffic: 30, shadow: false }]).join('\n'), /must sum to 100, got 90/);
  assert.match(problems([{ name: 'a', traffic: 100, shadow: false }, { name: 'b', traffic: 0, shadow: true }, { name: 'c', traffic: 0, shadow: true }]).join('\n'), /at most one predictor may be a shadow/);
  assert.deepEqual(promote([...shares, { name: 's', traffic: 0, shadow: true }], 'canary'), [{ name: 'canary', traffic: 100, shadow: false }, { name: 's', traffic: 0, shadow: true }]);
  assert.deepEqual(sharesOf([{ name: 'only' }]), [{ name: 'only', traffic: 100, shadow: false }]);
});

test('the changed manifest: only traffic and shadow change, removed predictors go, the view loses status and server metadata', () => {
  const view = {
    apiVersion: 'machinelearning.seldon.io/v1', kind: 'SeldonDeployment',
    metadata: { name: 'canary', namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z', annotations: { 'trantor.io/base-dir': '/x/y' } },
    spec: { name: 'canary', predictors: [{ name: 'main', traffic: 75, replicas: 1, graph: { name: 'm' } }, { name: 'canary', traffic: 25, shadow: false, graph: { name: 'c' } }] },
    status: { state: 'Available' },
  };
  const stored = manifestOfView(view);
  assert.equal('status' in stored, false);
  assert.deepEqual(stored['metadata'], { name: 'canary', namespace: 'default', annotations: { 'trantor.io/base-dir': '/x/y' } });
  const changed = withShares(stored, setWeight(sharesOf(view.spec.predictors), 'canary', 40)) as typeof view;
  assert.deepEqual(changed.spec.predictors.map((p) => p.traffic), [60, 40]);
  assert.equal(changed.spec.predictors[1]!.shadow, false);
  const promoted = withShares(stored, promote(sharesOf(view.spec.predictors), 'canary')) as typeof view;
  assert.deepEqual(promoted.spec.predictors, [{ name: 'canary', traffic: 100, shadow: false, graph: { name: 'c' } }]);
  const diff = lineDiff(toYaml(stored), toYaml(changed));
  assert.deepEqual(diff.filter((l) => l.kind !== 'same').map((l) => `${l.kind} ${l.text.trim()}`), ['del traffic: 75', 'add traffic: 60', 'del traffic: 25', 'add traffic: 40']);
});

test('YAML written for the diff reads back as the same data', () => {
  const data = {
    a: 'plain', b: 'true', c: '1.0', d: 'with: colon', e: '- dash', f: 'line\nbreak', g: '', h: ' lead', i: 'a # b', j: null, k: 3, l: false,
    m: [], n: {}, o: [[1, 2], [], { p: [{ q: 'r' }] }], 'weird key': { 'x:y': 1 }, s: ['yes', 'No', '~', '.inf', 'http://h:1/x'],
  };
  assert.deepEqual(parse(toYaml(data)), data);
  assert.equal(toYaml({ spec: { predictors: [{ name: 'a', graph: { name: 'g' } }] } }), 'spec:\n  predictors:\n  - name: a\n    graph:\n      name: g\n');
  assert.equal(applyCommand('a: 1\n'), "trantor apply -f - <<'EOF'\na: 1\nEOF");
  assert.equal(applyCommand('x: |\n  EOF\nEOF\n').split('\n')[0], "trantor apply -f - <<'EOF1'");
});

test('line diff: numbers, folding, counts', () => {
  const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
  const after = before.replace('l10', 'L10').replace('l19', 'l19\nl20');
  const diff = lineDiff(before, after);
  assert.deepEqual(diffCounts(diff), { added: 2, deleted: 1 });
  assert.deepEqual(diff.filter((l) => l.kind !== 'same'), [{ kind: 'del', text: 'l10', oldNo: 11 }, { kind: 'add', text: 'L10', newNo: 11 }, { kind: 'add', text: 'l20', newNo: 21 }]);
  const rows = folded(diff, 2);
  assert.deepEqual(rows[0], { kind: 'skip', count: 8 });
  assert.equal(rows.filter((r) => r.kind === 'skip').length, 2);
  assert.deepEqual(lineDiff('', 'a\n'), [{ kind: 'add', text: 'a', newNo: 1 }]);
  assert.deepEqual(diffCounts(lineDiff('a\nb\n', 'a\r\nb\r\n')), { added: 0, deleted: 0 });
});

// ---- In the browser, against a real `trantor up` ----

const skip = browserMissing();
let trantor: Trantor;
let dashboard: Dashboard;

before(async () => {
  if (skip !== undefined) return;
  // A canary: predictors main and canary, 75 / 25.
  ({ trantor, dashboard } = await upWithDashboard((up) => up.applyAndWait(join(ROOT, 'examples', 'graphs', 'traffic.yaml'))));
});
after(() => closeAll(trantor, dashboard));

interface StoredDeployment {
  spec: { predictors: { name: string; traffic?: number; shadow?: boolean }[] };
}

/** What the page reported, less the failed-resource line Chromium logs for each dry run that refused a manifest (a 400 the editor shows). */
function pageProblems(): string[] {
  return dashboard.problems.filter((p) => !/Failed to load resource: the server responded with a status of 400/.test(p));
}

function storedYaml(namespace: string, name: string): { code: number; text: string } {
  const got = trantor.cli(['get', 'sdep', name, '-n', namespace, '-o', 'yaml']);
  return { code: got.code, text: got.stdout + got.stderr };
}

function weights(name: string): Record<string, number | undefined> {
  const { code, text } = storedYaml('default', name);
  assert.equal(code, 0, text);
  const doc = parse(text) as StoredDeployment;
  return Object.fromEntries(doc.spec.predictors.map((p) => [p.name, p.traffic]));
}

test('rollout: a traffic change shows the manifest diff first, then is applied and read back by trantor get -o yaml; a shadow toggled; the canary promoted', { skip }, async () => {
  const { page } = dashboard;
  await page.goto(`${trantor.gateway}/#/deployments/default/canary/rollout`);
  await page.waitForSelector('[data-testid=rollout-tab]');
  assert.equal(await page.inputValue('[data-testid=weight-main]'), '75');
  assert.equal(await page.inputValue('[data-testid=weight-canary]'), '25');

  // Moving the canary to 40 gives main the rest: the sum stays 100.
  await page.fill('[data-testid=weight-canary]', '40');
  await page.press('[data-testid=weight-canary]', 'Tab');
  await waitFor('main at 60', async () => (await page.inputValue('[data-testid=weight-main]')) === '60');

  // The diff, stored → changed, before anything is applied.
  await page.click('[data-testid=review-button]');
  await page.waitForSelector('[data-testid=rollout-diff]');
  const changed = page.locator('[data-testid=rollout-diff] tr:is([data-kind=add], [data-kind=del])');
  const signs = await changed.locator('td.sign').allTextContents();
  const texts = await changed.locator('td.text').allTextContents();
  assert.deepEqual(texts.map((t, i) => `${signs[i]} ${t.trim()}`), ['- traffic: 75', '+ traffic: 60', '- traffic: 25', '+ traffic: 40']);
  assert.deepEqual(weights('canary'), { main: 75, canary: 25 }, 'nothing is applied before the diff is confirmed');

  await page.click('[data-testid=confirm-apply]');
  await page.waitForSelector('[data-testid=rollout-result][data-state=ok]');
  assert.match(await page.textContent('[data-testid=rollout-result]') ?? '', /SeldonDeployment default\/canary configured/);
  await waitFor('the new weights read back', () => {
    const w = weights('canary');
    return w['main'] === 60 && w['canary'] === 40;
  }, 15_000, () => storedYaml('default', 'canary').text);

  // A shadow takes no share: main gets it all back; the diff shows the shadow line.
  await page.check('[data-testid=shadow-canary]');
  await waitFor('main at 100', async () => (await page.inputValue('[data-testid=weight-main]')) === '100');
  await page.click('[data-testid=review-button]');
  await page.waitForSelector('[data-testid=rollout-diff] tr[data-kind=add]:has-text("shadow: true")');
  await page.click('[data-testid=cancel-review]');
  await page.click('[data-testid=undo-button]');
  assert.equal(await page.inputValue('[data-testid=weight-main]'), '60');

  // Promote the canary: it takes 100% and main is removed, again only after the diff.
  await page.click('[data-testid=promote-canary]');
  await page.waitForSelector('[data-testid=removed]:text("main")');
  await page.click('[data-testid=review-button]');
  await page.waitForSelector('[data-testid=rollout-diff] tr[data-kind=del]:has-text("name: main")');
  await page.click('[data-testid=confirm-apply]');
  await page.waitForSelector('[data-testid=rollout-result][data-state=ok]');
  await waitFor('only the canary, at 100', () => JSON.stringify(weights('canary')) === JSON.stringify({ canary: 100 }), 15_000, () => storedYaml('default', 'canary').text);
  await page.waitForSelector('[data-testid=predictor-main]', { state: 'detached' });
  assert.deepEqual(pageProblems(), []);
});

const irisManifest = (name: string, extra = ''): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: ${name}
  namespace: default
  annotations:
    trantor.io/base-dir: ${JSON.stringify(join(ROOT, 'examples', 'iris'))}
spec:
  predictors:
  - name: default
${extra}    graph:
      name: classifier
      implementation: SKLEARN_SERVER
      modelUri: ./model
`;

test('manifest editor: checked as typed (unknown field warned with its path, an invalid manifest refused), applied from the apply page', { skip }, async () => {
  const { page } = dashboard;
  await page.goto(`${trantor.gateway}/#/apply`);
  await page.waitForSelector('[data-testid=apply-page] [data-testid=manifest-text]');

  await page.fill('[data-testid=manifest-text]', irisManifest('iris-typed', '    replica: 1\n'));
  await page.waitForSelector('[data-testid=check-result][data-state=ok] [data-testid=warnings]');
  const warning = await page.textContent('[data-testid=warnings]');
  assert.match(warning ?? '', /spec\.predictors\[0\]\.replica: unknown field; did you mean replicas\?/);

  await page.fill('[data-testid=manifest-text]', irisManifest('iris-typed', '    traffic: 50\n'));
  await page.waitForSelector('[data-testid=check-result][data-state=error]');
  assert.match(await page.textContent('[data-testid=check-result]') ?? '', /400 BAD_MANIFEST[\s\S]*spec\.predictors\[0\]\.traffic/);
  assert.equal(await page.isDisabled('[data-testid=apply-button]'), true);
  assert.equal(storedYaml('default', 'iris-typed').code !== 0, true, 'a dry run stores nothing');

  await page.fill('[data-testid=manifest-text]', irisManifest('iris-typed'));
  await page.waitForSelector('[data-testid=check-result][data-state=ok]');
  assert.match(await page.textContent('[data-testid=check-result]') ?? '', /SeldonDeployment default\/iris-typed would be created/);
  const cli = await page.getAttribute('[data-testid=manifest-editor] button.copy', 'data-copy');
  assert.match(cli ?? '', /^trantor apply -f - <<'EOF'\napiVersion: [\s\S]*\nEOF$/);
  await page.click('[data-testid=apply-button]');
  await page.waitForSelector('[data-testid=apply-result][data-state=ok]');
  assert.match(await page.textContent('[data-testid=apply-result]') ?? '', /SeldonDeployment default\/iris-typed created/);
  await waitFor('iris-typed stored', () => storedYaml('default', 'iris-typed').code === 0);

  // Now it exists: the editor diffs against what is stored.
  await page.fill('[data-testid=manifest-text]', irisManifest('iris-typed', '    replicas: 2\n'));
  await page.waitForSelector('[data-testid=diff-button]');
  await page.click('[data-testid=diff-button]');
  await page.waitForSelector('[data-testid=editor-diff] tr[data-kind=add]:has-text("replicas: 2")');
  assert.deepEqual(pageProblems(), []);
});

test('manifest tab: the stored manifest in the editor, an edit diffed against it', { skip }, async () => {
  const { page } = dashboard;
  await page.goto(`${trantor.gateway}/#/deployments/default/canary/manifest`);
  await page.waitForSelector('[data-testid=manifest-tab] [data-testid=check-result][data-state=ok]');
  const text = await page.inputValue('[data-testid=manifest-text]');
  assert.match(text, /^apiVersion: machinelearning\.seldon\.io\/v1\nkind: SeldonDeployment\nmetadata:\n {2}name: canary\n/);
  assert.doesNotMatch(text, /status:|creationTimestamp/);
  assert.match(await page.textContent('[data-testid=check-result]') ?? '', /would be unchanged/);
  await page.fill('[data-testid=manifest-text]', text.replace('replicas: 1', 'replicas: 2'));
  await page.click('[data-testid=diff-button]');
  await page.waitForSelector('[data-testid=editor-diff] tr[data-kind=del]:has-text("replicas: 1")');
  assert.deepEqual(pageProblems(), []);
});
