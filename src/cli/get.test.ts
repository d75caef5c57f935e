import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGetOutput, parseTargets } from './get.ts';
import { fakeServer, trantor, type Answer, type Seen } from './testing.ts';

const CREATED = new Date(Date.now() - 30_000).toISOString();

function sdep(name: string, namespace: string, labels: Record<string, string>, state = 'Available', createdAt = CREATED): unknown {
  return {
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name, namespace, labels, annotations: {}, creationTimestamp: createdAt },
    spec: { predictors: [] },
    status: { state, replicas: [{ state: 'Ready' }], address: { url: `http://gw/seldon/${namespace}/${name}` }, createdAt },
  };
}

const DEPLOYMENTS = [
  sdep('iris', 'seldon', { app: 'iris', tier: 'web' }, 'Available', '2026-01-02T00:00:00Z'),
  sdep('mnist', 'seldon', { app: 'mnist' }, 'Creating', '2026-01-01T00:00:00Z'),
  sdep('iris', 'staging', {}, 'Failed', '2026-01-03T00:00:00Z'),
];

const TRIGGER = {
  apiVersion: 'eventing.knative.dev/v1',
  kind: 'Trigger',
  metadata: { name: 'event-display', namespace: 'default', labels: {}, annotations: {}, creationTimestamp: CREATED },
  spec: { broker: 'default', filter: {}, subscriber: { uri: 'http://x/' } },
  status: { observedGeneration: 1, conditions: [], ready: true, subscriberUri: 'http://x/', createdAt: CREATED },
};

function api(seen: Seen): Answer {
  if (seen.url === '/v1/deployments') return { status: 200, body: JSON.stringify({ items: DEPLOYMENTS }) };
  if (seen.url === '/v1/triggers') return { status: 200, body: JSON.stringify({ items: [TRIGGER] }) };
  if (seen.url.startsWith('/v1/deployments?watch=1')) {
    const lines = [{ type: 'ADDED', object: DEPLOYMENTS[1] }, { type: 'MODIFIED', object: sdep('mnist', 'seldon', { app: 'mnist' }, 'Available') }, { type: 'ADDED', object: DEPLOYMENTS[2] }];
    return { status: 200, type: 'application/x-ndjson', body: lines.map((l) => `${JSON.stringify(l)}\n`).join('') };
  }
  if (seen.url.startsWith('/v1/')) return { status: 200, body: JSON.stringify({ items: [] }) };
  return { status: 404 };
}

async function get(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const fake = await fakeServer(api);
  try {
    return await trantor(fake.url, ['get', ...args]);
  } finally {
    fake.server.close();
  }
}

test('the words of get: TYPE [NAME…], TYPE,TYPE, TYPE/NAME… as -o name prints them, and all', () => {
  const of = (...words: string[]): string[] => parseTargets(words).map((q) => `${q.resource.kind}:${q.names.join(',')}`);
  assert.deepEqual(of(), ['SeldonDeployment:']);
  assert.deepEqual(of('sdep', 'a', 'b', 'a'), ['SeldonDeployment:a,b']);
  assert.deepEqual(of('sdep,triggers'), ['SeldonDeployment:', 'Trigger:']);
  assert.deepEqual(of('sdep/a', 'trigger/t', 'seldondeployment.machinelearning.seldon.io/b'), ['SeldonDeployment:a,b', 'Trigger:t']);
  for (const qualified of ['trigger.eventing.knative.dev/x', 'broker.eventing.knative.dev/x', 'service/x', 'deployment.apps/x', 'configmap/x']) {
    assert.equal(parseTargets([qualified]).length, 1, `${qualified} reads back`);
  }
  assert.deepEqual(of('all').length, 5);
  assert.throws(() => parseTargets(['pods']), /the server doesn't have a resource type "pods"/);
  assert.throws(() => parseTargets(['sdep', 'trigger/x']), /"sdep": with TYPE\/NAME arguments every argument is TYPE\/NAME/);
  assert.throws(() => parseTargets(['sdep/']), /expected TYPE\/NAME/);
  assert.throws(() => parseTargets(['nope/x']), /doesn't have a resource type "nope"/);
  assert.throws(() => parseTargets(['all', 'x']), /get all takes no names/);
  assert.throws(() => parseTargets(['sdep,trigger', 'x']), /names go with one type/);
});

test('-o takes kubectl formats and names a wrong one', () => {
  assert.equal(parseGetOutput('wide').kind, 'wide');
  assert.equal(parseGetOutput('jsonpath={.kind}').kind, 'jsonpath');
  assert.equal(parseGetOutput('custom-columns=N:.metadata.name').kind, 'custom-columns');
  assert.throws(() => parseGetOutput('table'), /-o table: unknown output format; use yaml, json, wide, name, jsonpath=TEMPLATE/);
  assert.throws(() => parseGetOutput('jsonpath='), /-o jsonpath: give it a template/);
  assert.throws(() => parseGetOutput('jsonpath-file=/nonexistent/t'), /-o jsonpath-file=\/nonexistent\/t: cannot read it/);
});

test('NAMESPACE shows when rows span namespaces or with -A, not with -n', async () => {
  const all = await get();
  assert.equal(all.code, 0, all.err);
  assert.match(all.out.split('\n')[0]!, /^NAMESPACE\s+NAME\s+STATE\s+READY\s+AGE$/);
  const one = await get('sdep', '-n', 'seldon');
  assert.match(one.out.split('\n')[0]!, /^NAME\s+STATE/);
  assert.equal(one.out.split('\n').length, 3);
  const allFlag = await get('sdep', '-A', '-l', 'app=iris');
  assert.match(allFlag.out, /^NAMESPACE\s+NAME[^\n]*\nseldon\s+iris\s+Available/);
  const both = await get('-A', '-n', 'seldon');
  assert.equal(both.code, 1);
  assert.match(both.err, /error: -n and -A \(--all-namespaces\) cannot be used together/);
  const none = await get('-n', 'empty');
  assert.equal(none.code, 0);
  assert.equal(none.err, 'No resources found in empty namespace.');
});

test('-o name output reads back, several names print together, a missing one fails after the others print', async () => {
  const names = await get('sdep', '-n', 'seldon', '-o', 'name');
  assert.equal(names.out, 'seldondeployment.machinelearning.seldon.io/iris\nseldondeployment.machinelearning.seldon.io/mnist');
  const back = await get(...names.out.split('\n'), '-n', 'seldon', '-o', 'name');
  assert.equal(back.code, 0, back.err);
  assert.equal(back.out, names.out);
  const mixed = await get('sdep/mnist', 'trigger.eventing.knative.dev/event-display');
  // Two kinds: names qualified by kind; two namespaces (seldon, default): a NAMESPACE column in each table.
  assert.match(mixed.out, /^NAMESPACE\s+NAME\s+STATE[^\n]*\nseldon\s+seldondeployment\.machinelearning\.seldon\.io\/mnist\s+Creating/);
  assert.match(mixed.out, /\n\nNAMESPACE\s+NAME\s+READY[^\n]*\ndefault\s+trigger\.eventing\.knative\.dev\/event-display\s+True/);
  const missing = await get('sdep', 'mnist', 'nope', 'gone', '-n', 'seldon');
  assert.equal(missing.code, 1);
  assert.match(missing.out, /mnist\s+Creating/);
  assert.equal(missing.err, 'error: seldondeployment.machinelearning.seldon.io "nope" not found in namespace seldon\nerror: seldondeployment.machinelearning.seldon.io "gone" not found in namespace seldon');
  const ambiguous = await get('sdep', 'iris');
  assert.match(ambiguous.err, /"iris" exists in namespaces seldon, staging; say which with -n/);
});

test('-l, --show-labels and --sort-by', async () => {
  const web = await get('-l', 'app in (iris,mnist),tier!=db', '--show-labels', '--sort-by', '.metadata.creationTimestamp');
  assert.equal(web.code, 0, web.err);
  const lines = web.out.split('\n');
  assert.match(lines[0]!, /^NAME\s+STATE\s+READY\s+AGE\s+LABELS$/);
  assert.match(lines[1]!, /^mnist\s+Creating\s+1\/1\s+\S+\s+app=mnist$/);
  assert.match(lines[2]!, /^iris\s+Available\s+1\/1\s+\S+\s+app=iris,tier=web$/);
  assert.equal(lines.length, 3);
  const bad = await get('-l', 'app in iris');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^error: selector "app in iris": expected "\(" to start the set of values at position 8/);
  const named = await get('sdep', 'iris', '-l', 'a=b');
  assert.match(named.err, /-l cannot be used with names/);
});

test('-o jsonpath sees {kind: List, items} over a list and the object itself for one name; custom-columns make a table', async () => {
  const list = await get('-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}', '--sort-by', '{.metadata.name}');
  assert.equal(list.out, 'seldon/iris\nstaging/iris\nseldon/mnist', 'a template ending in a newline gets no second one');
  const kind = await get('sdep', '-o', 'jsonpath={.kind} {.items[?(@.status.state=="Failed")].metadata.namespace}');
  assert.equal(kind.out, 'List staging');
  const one = await get('sdep', 'mnist', '-o', 'jsonpath={.status.state}');
  assert.equal(one.out, 'Creating');
  const columns = await get('-n', 'seldon', '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app,TIER:.metadata.labels.tier');
  assert.equal(columns.out, ['NAME    APP     TIER', 'iris    iris    web', 'mnist   mnist   <none>'].join('\n'));
  const bad = await get('-o', 'jsonpath={.items[');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^error: jsonpath "\{\.items\[": unclosed "\{" at position 1/);
});

test('-w prints the header once and a row per event, and a closed stream ends with exit 1', async () => {
  const watched = await get('sdep', '-w', '-n', 'seldon', '--output-watch-events');
  assert.equal(watched.code, 1);
  const lines = watched.out.split('\n');
  assert.match(lines[0]!, /^EVENT\s+NAME\s+STATE\s+READY\s+AGE$/);
  assert.match(lines[1]!, /^ADDED\s+mnist\s+Creating/);
  assert.match(lines[2]!, /^MODIFIED\s+mnist\s+Available/);
  assert.equal(lines.length, 3, 'the staging deployment is outside -n seldon');
  assert.match(watched.err, /error: the control plane closed the watch of deployments/);
  const many = await get('sdep,triggers', '-w');
  assert.match(many.err, /-w watches one type at a time/);
});
