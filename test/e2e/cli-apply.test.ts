/**
 * `trantor apply` and `trantor diff` through the real CLI against a real `trantor up`: -f repeated,
 * folders with -R, stdin, -n, --dry-run=client|server, unknown-field warnings and --strict, diff's
 * exit codes, and `get -o yaml | apply -f -` answering unchanged for every kind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ControlPlaneClient, readApiToken } from '../../src/client/index.ts';
import { ROOT, Trantor, type CliResult } from './harness.ts';

const trantor = new Trantor();
const work = mkdtempSync(join(tmpdir(), 'trantor-cli-apply-'));

const sdep = (name: string, extra = '', predictor = ''): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}${extra}}
spec:
  predictors:
  - {name: default, graph: {name: classifier, implementation: SIMPLE_MODEL}${predictor}}
`;

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(work, path, '..'), { recursive: true });
    writeFileSync(join(work, path), text);
  }
}

function run(args: string[], input?: string): CliResult {
  return trantor.cli(args, input);
}

function ok(args: string[], input?: string): CliResult {
  const result = run(args, input);
  assert.equal(result.code, 0, `trantor ${args.join(' ')} failed: ${result.stderr}`);
  return result;
}

/** The SeldonDeployments applied, as namespace/name. */
function deployments(): string[] {
  const list = parse(ok(['get', 'sdep', '-o', 'yaml']).stdout) as { items: { metadata: { namespace: string; name: string } }[] };
  return list.items.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort();
}

before(async () => {
  await trantor.up();
});

after(async () => {
  await trantor.close();
  rmSync(work, { recursive: true, force: true });
});

test('-f repeated applies every file; a folder with -R reads its subfolders, in name order', () => {
  write({ 'one.yaml': sdep('one'), 'two.yaml': sdep('two'), 'dir/b.yaml': sdep('dir-b'), 'dir/a.yml': sdep('dir-a'), 'dir/sub/c.json': JSON.stringify(parse(sdep('dir-c'))), 'dir/notes.txt': 'not a manifest' });
  const several = ok(['apply', '-f', join(work, 'one.yaml'), '-f', join(work, 'two.yaml')]);
  assert.equal(several.stdout, 'seldondeployment.machinelearning.seldon.io/one created\nseldondeployment.machinelearning.seldon.io/two created\n');
  const flat = ok(['apply', '-f', join(work, 'dir')]);
  assert.equal(flat.stdout, 'seldondeployment.machinelearning.seldon.io/dir-a created\nseldondeployment.machinelearning.seldon.io/dir-b created\n');
  const recursive = ok(['apply', '-R', '-f', join(work, 'dir')]);
  assert.match(recursive.stdout, /dir-a unchanged\n.*dir-b unchanged\n.*dir-c created\n$/);
  assert.deepEqual(deployments(), ['default/dir-a', 'default/dir-b', 'default/dir-c', 'default/one', 'default/two']);
  // Files from two folders in one request: each keeps its own folder for relative paths.
  const mixed = ok(['apply', '-f', join(work, 'one.yaml'), '-f', join(work, 'dir', 'sub', 'c.json')]);
  assert.equal(mixed.stdout, 'seldondeployment.machinelearning.seldon.io/one unchanged\nseldondeployment.machinelearning.seldon.io/dir-c unchanged\n');
  const baseDirOf = (name: string): string | undefined => (parse(ok(['get', 'sdep', name, '-o', 'yaml']).stdout) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['trantor.io/base-dir'];
  assert.deepEqual([baseDirOf('one'), baseDirOf('dir-c')], [work, join(work, 'dir', 'sub')]);
});

test('one bad file among several: nothing is applied, and every problem is named with its file', () => {
  write({ 'good.yaml': sdep('good'), 'bad.yaml': 'apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: bad}\nspec: {}\n' });
  const result = run(['apply', '-f', join(work, 'good.yaml'), '-f', join(work, 'bad.yaml')]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /bad\.yaml: spec\.predictors: required/);
  assert.equal(deployments().includes('default/good'), false);
});

test('--wait over several files returns once every SeldonDeployment in them is Available', () => {
  write({ 'wait/a.yaml': sdep('wait-a'), 'wait/b.yaml': sdep('wait-b') });
  const waited = ok(['apply', '-f', join(work, 'wait'), '--wait', '--timeout', '60s']);
  assert.match(waited.stderr, /default\/wait-a: Available/);
  assert.match(waited.stderr, /default\/wait-b: Available/);
});

test('missing paths and empty folders get a clear message', () => {
  mkdirSync(join(work, 'empty'), { recursive: true });
  const missing = run(['apply', '-f', join(work, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `error: the path "${join(work, 'nope.yaml')}" does not exist\n`);
  const empty = run(['apply', '-f', join(work, 'empty')]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^error: no manifests in .*empty \(a folder is read for \.yaml, \.yml, \.json files\)\n$/);
});

test('stdin: applied once, with a note on where its relative paths resolve; --base-dir overrides', () => {
  const piped = ok(['apply', '-f', '-'], sdep('piped'));
  assert.equal(piped.stdout, 'seldondeployment.machinelearning.seldon.io/piped created\n');
  assert.match(piped.stderr, /^note: relative paths in <stdin> resolve against \//);
  const based = ok(['apply', '-f', '-', '--base-dir', work], sdep('based'));
  assert.equal(based.stderr, '');
  const view = parse(ok(['get', 'sdep', 'based', '-o', 'yaml']).stdout) as { metadata: { annotations: Record<string, string> } };
  assert.equal(view.metadata.annotations['trantor.io/base-dir'], work);
  assert.equal(run(['apply', '-f', '-', '-f', '-'], sdep('x')).code, 1);
});

test('-n is the namespace of objects without one; an object naming another is refused', () => {
  write({ 'ns.yaml': sdep('in-ns'), 'other.yaml': sdep('other', ', namespace: a') });
  ok(['apply', '-f', join(work, 'ns.yaml'), '-n', 'team']);
  assert.ok(deployments().includes('team/in-ns'));
  const refused = run(['apply', '-f', join(work, 'other.yaml'), '-n', 'b']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the namespace from the provided object "a" does not match the namespace "b"\. You must pass '--namespace=a' to perform this operation\./);
  assert.equal(deployments().includes('a/other'), false);
});

test('--dry-run=client and --dry-run=server store nothing; server says what applying would do', () => {
  write({ 'dry.yaml': sdep('dry') });
  const client = ok(['apply', '-f', join(work, 'dry.yaml'), '--dry-run=client']);
  assert.equal(client.stdout, 'seldondeployment.machinelearning.seldon.io/dry checked (dry run)\n');
  const server = ok(['apply', '-f', join(work, 'dry.yaml'), '--dry-run=server']);
  assert.equal(server.stdout, 'seldondeployment.machinelearning.seldon.io/dry created (server dry run)\n');
  assert.equal(deployments().includes('default/dry'), false);
  assert.equal(run(['get', 'sdep', 'dry']).code, 1);
  write({ 'one-again.yaml': sdep('one') });
  assert.equal(ok(['apply', '-f', join(work, 'one-again.yaml'), '--dry-run=server']).stdout, 'seldondeployment.machinelearning.seldon.io/one unchanged (server dry run)\n');
});

test('a misspelt field is warned about by path on stderr; --strict and --validate=strict refuse it', () => {
  write({ 'typo.yaml': sdep('typo', '', ', replica: 2') });
  for (const flag of ['--strict', '--validate=strict']) {
    const refused = run(['apply', '-f', join(work, 'typo.yaml'), flag]);
    assert.equal(refused.code, 1, flag);
    assert.match(refused.stderr, /typo\.yaml: SeldonDeployment typo: spec\.predictors\[0\]\.replica: unknown field; did you mean replicas\?/);
    assert.equal(deployments().includes('default/typo'), false);
  }
  const warned = ok(['apply', '-f', join(work, 'typo.yaml')]);
  assert.equal(warned.stdout, 'seldondeployment.machinelearning.seldon.io/typo created\n');
  assert.equal(warned.stderr, 'Warning: SeldonDeployment typo: spec.predictors[0].replica: unknown field; did you mean replicas?\n');
});

test('the API answers unknown fields in Warning headers too, and refuses a dryRun it does not know', async () => {
  const { apiUrl } = ControlPlaneClient.fromHome(trantor.home);
  const headers = { authorization: `Bearer ${readApiToken(trantor.home)}`, 'content-type': 'application/yaml' };
  const answer = await fetch(`${apiUrl}/v1/apply?dryRun=All`, { method: 'POST', headers, body: sdep('api-typo', '', ', replica: 2') });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('warning'), '299 - "SeldonDeployment api-typo: spec.predictors[0].replica: unknown field; did you mean replicas?"');
  assert.deepEqual(((await answer.json()) as { dryRun?: boolean }).dryRun, true);
  const bad = await fetch(`${apiUrl}/v1/apply?dryRun=yes`, { method: 'POST', headers, body: sdep('api-typo') });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /dryRun=yes: the only value is All/);
  assert.equal(deployments().includes('default/api-typo'), false);
});

test('diff: 0 when the manifest is what is applied, 1 with a unified diff when not, 2 on error', () => {
  write({ 'diff.yaml': sdep('diffed') });
  ok(['apply', '-f', join(work, 'diff.yaml')]);
  const same = run(['diff', '-f', join(work, 'diff.yaml')]);
  assert.deepEqual([same.code, same.stdout, same.stderr], [0, '', '']);
  write({ 'diff.yaml': sdep('diffed', '', ', replicas: 2') });
  const different = run(['diff', '-f', join(work, 'diff.yaml')]);
  assert.equal(different.code, 1, different.stderr);
  assert.match(different.stdout, /^--- live seldondeployment\.machinelearning\.seldon\.io\/diffed \(namespace default\)\n\+\+\+ merged /);
  assert.match(different.stdout, /^-\s+replicas: 1$/m);
  assert.match(different.stdout, /^\+\s+replicas: 2$/m);
  assert.equal(different.stderr, '');
  write({ 'new.yaml': sdep('not-applied') });
  assert.equal(run(['diff', '-f', join(work, 'new.yaml')]).code, 1);
  assert.equal(run(['diff', '-f', join(work, 'nope.yaml')]).code, 2);
});

test('get -o yaml | apply -f - answers unchanged for every kind', () => {
  const broker = 'apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default, namespace: default}\nspec: {delivery: {retry: 2}}\n';
  const defaults = `apiVersion: v1
kind: ConfigMap
metadata: {name: config-br-defaults, namespace: knative-eventing}
data:
  default-br-config: |
    clusterDefault:
      brokerClass: MTChannelBasedBroker
      delivery: {retry: 3}
`;
  ok(['apply', '-f', join(ROOT, 'examples', 'eventing', 'event-display.yaml'), '-f', '-'], `${broker}---\n${defaults}`);
  const kinds: [string, string, string][] = [
    ['sdep', 'one', 'seldondeployment.machinelearning.seldon.io/one'],
    ['broker', 'default', 'broker.eventing.knative.dev/default'],
    ['trigger', 'event-display', 'trigger.eventing.knative.dev/event-display'],
    ['service', 'event-display', 'service/event-display'],
    ['deployment', 'event-display', 'deployment.apps/event-display'],
    ['configmap', 'config-br-defaults', 'configmap/config-br-defaults'],
  ];
  for (const [word, name, qualified] of kinds) {
    const namespace = word === 'configmap' ? ['-n', 'knative-eventing'] : [];
    const yaml = ok(['get', word, name, ...namespace, '-o', 'yaml']).stdout;
    const again = ok(['apply', '-f', '-'], yaml);
    assert.equal(again.stdout, `${qualified} unchanged\n`, word);
    assert.doesNotMatch(again.stderr, /Warning/, `${word}: get -o yaml holds only known fields`);
    assert.equal(run(['diff', '-f', '-'], yaml).code, 0, `diff of ${word}'s get -o yaml`);
  }
});
