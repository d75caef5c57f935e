/**
 * `trantor get` with kubectl's habits, through the real CLI against a real `trantor up`: names as
 * `-o name` prints them read back by `get` and `delete`, -A and the NAMESPACE column, -l,
 * --show-labels, --sort-by, -o jsonpath and custom-columns, and -w following a deployment from
 * Creating to Available to its deletion, streamed from the control plane.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TRANTOR, Trantor, waitFor } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-cli-get-'));

/** The no-op TypeScript model as a process, named, placed and labelled as asked. */
function noop(name: string, namespace: string, labels: Record<string, string>): string {
  const file = join(dir, `${namespace}-${name}.yaml`);
  const labelLines = Object.entries(labels).map(([k, v]) => `    ${k}: ${v}\n`).join('');
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: ${name}
  namespace: ${namespace}
${labelLines === '' ? '' : `  labels:\n${labelLines}`}spec:
  predictors:
  - name: default
    replicas: 1
    graph: {name: noop, type: MODEL, children: []}
    componentSpecs:
    - spec:
        containers:
        - name: noop
          command: [trantor-node-microservice, NoopModel]
          args: [--service-type, MODEL]
          workingDir: ${join(ROOT, 'examples', 'noop-ts')}
`,
  );
  return file;
}

function ok(args: string[]): string {
  const result = trantor.cli(args);
  assert.equal(result.code, 0, `trantor ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  await trantor.up();
  trantor.applyAndWait(noop('web', 'team-a', { app: 'noop', tier: 'web' }));
  trantor.applyAndWait(noop('batch', 'team-b', { app: 'noop' }));
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

test('NAMESPACE shows when the rows span namespaces and with -A, not with -n; -n and -A together are refused', () => {
  assert.match(ok(['get']), /^NAMESPACE\s+NAME\s+STATE\s+READY\s+AGE\nteam-a\s+web\s+Available\s+1\/1\s+\S+\nteam-b\s+batch\s+Available/);
  assert.match(ok(['get', 'sdep', '-n', 'team-a']), /^NAME\s+STATE\s+READY\s+AGE\nweb\s+Available\s+1\/1\s+\S+\n$/);
  assert.match(ok(['get', 'sdep', '-A', '-l', 'tier=web']), /^NAMESPACE\s+NAME[^\n]*\nteam-a\s+web\s+Available/);
  const both = trantor.cli(['get', 'sdep', '-A', '-n', 'team-a']);
  assert.equal(both.code, 1);
  assert.equal(both.stdout, '');
  assert.match(both.stderr, /^error: -n and -A \(--all-namespaces\) cannot be used together/);
});

test('-l selects by labels, --show-labels adds LABELS, --sort-by orders, and a bad selector names its position', () => {
  const shown = ok(['get', 'sdep', '-l', 'app=noop,tier notin (db)', '--show-labels', '--sort-by', '.metadata.name']).trim().split('\n');
  assert.match(shown[0]!, /^NAMESPACE\s+NAME\s+STATE\s+READY\s+AGE\s+LABELS$/);
  assert.match(shown[1]!, /^team-b\s+batch\s+.*\sapp=noop$/);
  assert.match(shown[2]!, /^team-a\s+web\s+.*\sapp=noop,tier=web$/);
  assert.equal(ok(['get', 'sdep', '-l', '!tier', '-o', 'name']).trim(), 'seldondeployment.machinelearning.seldon.io/batch');
  const none = trantor.cli(['get', 'sdep', '-l', 'app=other']);
  assert.equal(none.code, 0);
  assert.equal(none.stderr.trim(), 'No resources found');
  const bad = trantor.cli(['get', 'sdep', '-l', 'tier in web']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: selector "tier in web": expected "\(" to start the set of values at position 9/);
});

test('-o jsonpath sees a List, or the object for one name; -o custom-columns makes a table', () => {
  assert.equal(ok(['get', 'sdep', '-o', 'jsonpath={.kind}:{range .items[*]}{.metadata.namespace}/{.metadata.name} {end}', '--sort-by', '{.metadata.namespace}']), 'List:team-a/web team-b/batch \n');
  assert.equal(ok(['get', 'sdep/web', '-o', 'jsonpath={.status.state}{"\\n"}']), 'Available\n');
  assert.equal(ok(['get', 'sdep', '-o', 'jsonpath={.items[?(@.metadata.labels.tier=="web")].metadata.name}']).trim(), 'web');
  assert.equal(ok(['get', 'sdep', '-n', 'team-b', '-o', 'custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier,STATE:{.status.state}']), 'NAME    TIER     STATE\nbatch   <none>   Available\n');
  const bad = trantor.cli(['get', 'sdep', '-o', 'custom-columns=NAME']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: custom-columns "NAME": "NAME" at position 1 is not HEADER:PATH/);
});

test('what -o name prints reads back into get and delete, and an unknown type is named as such', () => {
  trantor.applyAndWait(noop('doomed', 'team-c', {}));
  const names = ok(['get', 'sdep', '-o', 'name', '--sort-by', '.metadata.name']).trim().split('\n');
  assert.deepEqual(names, ['batch', 'doomed', 'web'].map((n) => `seldondeployment.machinelearning.seldon.io/${n}`));
  assert.match(ok(['get', ...names]), /^NAMESPACE\s+NAME[^\n]*\nteam-b\s+batch[^\n]*\nteam-c\s+doomed[^\n]*\nteam-a\s+web/);
  assert.match(ok(['get', 'sdep/web', 'sdep/batch', '-o', 'yaml']), /^apiVersion: v1\nkind: List\nitems:/);
  assert.equal(ok(['delete', names[1]!]).trim(), 'seldondeployment.machinelearning.seldon.io "doomed" deleted');
  const gone = trantor.cli(['get', names[1]!]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error: seldondeployment\.machinelearning\.seldon\.io "doomed" not found/);
  const pods = trantor.cli(['get', 'nonsense']);
  assert.equal(pods.code, 1);
  assert.match(pods.stderr, /^error: the server doesn't have a resource type "nonsense"/);
});

/** `trantor get ARGS` left running: its lines as they come, and how it ended. */
function watchCli(args: string[]): { lines: string[]; stderr: () => string; exit: Promise<number | null>; signal: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [TRANTOR, 'get', ...args], { env: trantor.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let rest = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { lines, stderr: () => stderr, exit, signal: (s) => void child.kill(s) };
}

test('get -w follows a deployment from Creating to Available to DELETED, and Ctrl-C ends it with exit 0', async () => {
  trantor.applyAndWait(noop('marker', 'team-w', {}));
  const watch = watchCli(['sdep', '-w', '--output-watch-events', '-n', 'team-w']);
  const context = (): string => `watch printed:\n${watch.lines.join('\n')}\n${watch.stderr()}`;
  // -w lists what exists as the stream's first lines: once the marker is printed, every change from then on is sent.
  await waitFor('the marker listed', () => watch.lines.some((l) => /^ADDED\s+marker\s+Available/.test(l)), 30_000, context);
  const applied = trantor.cli(['apply', '-f', noop('rolling', 'team-w', {})]);
  assert.equal(applied.code, 0, applied.stderr);
  await waitFor('an ADDED row', () => watch.lines.some((l) => /^ADDED\s+rolling\s+Creating/.test(l)), 30_000, context);
  await waitFor('the row to turn Available', () => watch.lines.some((l) => /^MODIFIED\s+rolling\s+Available\s+1\/1/.test(l)), 60_000, context);
  assert.equal(ok(['delete', 'sdep', 'rolling', '-n', 'team-w']).trim(), 'seldondeployment.machinelearning.seldon.io "rolling" deleted');
  await waitFor('a DELETED row', () => watch.lines.some((l) => /^DELETED\s+rolling\s/.test(l)), 30_000, context);
  assert.match(watch.lines[0]!, /^EVENT\s+NAME\s+STATE\s+READY\s+AGE$/);
  assert.equal(watch.lines.filter((l) => l.startsWith('EVENT')).length, 1, 'one header');
  assert.equal(watch.lines.filter((l) => /team-a|web|batch/.test(l)).length, 0, 'only team-w');
  watch.signal('SIGINT');
  assert.equal(await watch.exit, 0, context());
});

test('get -w with -o name and --watch-only prints changes only; when trantor up stops the watch ends with exit 1', async () => {
  const watch = watchCli(['sdep', '--watch-only', '-o', 'name']);
  const context = (): string => `watch printed:\n${watch.lines.join('\n')}\n${watch.stderr()}`;
  // --watch-only prints nothing until a change: relabel the marker until one is printed, and the watch is in place.
  let nudge = 0;
  await waitFor(
    'the relabelled marker printed',
    () => {
      trantor.applyAndWait(noop('marker', 'team-w', { nudge: `n${++nudge}` }));
      return watch.lines.includes('seldondeployment.machinelearning.seldon.io/marker');
    },
    60_000,
    context,
  );
  const applied = trantor.cli(['apply', '-f', noop('late', 'team-w', { app: 'late' })]);
  assert.equal(applied.code, 0, applied.stderr);
  await waitFor('the new deployment by name', () => watch.lines.includes('seldondeployment.machinelearning.seldon.io/late'), 30_000, context);
  assert.equal(watch.lines.some((l) => /\/(web|batch)$/.test(l)), false, 'the existing deployments, unchanged, are not listed with --watch-only');
  await trantor.stop();
  assert.equal(await watch.exit, 1, context());
  assert.match(watch.stderr(), /^error: (the control plane closed the watch of deployments|the watch of deployments ended)/);
});
