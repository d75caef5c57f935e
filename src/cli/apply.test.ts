import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { dryRunOf, prepareApply, prepareText, readFailure, readManifestFiles, validationOf, type ManifestFile } from './apply.ts';
import { CliError } from './control-plane.ts';

const sdep = (name: string, extra = ''): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}${extra}}
spec:
  predictors:
  - {name: default, graph: {name: classifier, implementation: SIMPLE_MODEL}}
`;

function folder(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'trantor-apply-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const noStdin = (): string => assert.fail('stdin read');

test('a folder gives its .yaml, .yml and .json files in name order, and -R its subfolders', () => {
  const root = folder({ 'm/b.yaml': sdep('b'), 'm/a.yml': sdep('a'), 'm/c.json': '{}', 'm/notes.txt': 'x', 'm/sub/d.yaml': sdep('d'), 'm/z.yaml': sdep('z') });
  const names = (recursive: boolean): string[] => readManifestFiles(['m'], { recursive, cwd: root }, noStdin).map((f) => f.source);
  assert.deepEqual(names(false), ['m/a.yml', 'm/b.yaml', 'm/c.json', 'm/z.yaml']);
  assert.deepEqual(names(true), ['m/a.yml', 'm/b.yaml', 'm/c.json', 'm/sub/d.yaml', 'm/z.yaml']);
  const files = readManifestFiles(['m/sub', '-', 'm/a.yml'], { recursive: false, cwd: root }, () => sdep('s'));
  assert.deepEqual(files.map((f) => [f.source, f.baseDir]), [['m/sub/d.yaml', join(root, 'm/sub')], ['<stdin>', root], ['m/a.yml', join(root, 'm')]]);
  const based = readManifestFiles(['m/a.yml', '-'], { recursive: false, cwd: root, baseDir: 'models' }, () => '');
  assert.deepEqual(based.map((f) => f.baseDir), [join(root, 'models'), join(root, 'models')]);
});

test('an empty folder, a missing path, stdin twice and no -f are refused by name', () => {
  const root = folder({ 'empty/sub/x.yaml': sdep('x'), 'none/readme.md': '' });
  const refusal = (names: string[]): string => {
    try {
      readManifestFiles(names, { recursive: false, cwd: root }, () => '');
    } catch (err) {
      assert.ok(err instanceof CliError);
      return err.message;
    }
    return assert.fail('not refused');
  };
  assert.match(refusal(['empty']), /^no manifests in empty \(a folder is read for \.yaml, \.yml, \.json files; add -R to read its subfolders too\)$/);
  assert.match(refusal(['none']), /^no manifests in none \(a folder is read for \.yaml, \.yml, \.json files\)$/);
  assert.equal(refusal(['missing.yaml']), 'the path "missing.yaml" does not exist');
  assert.equal(refusal(['-', '-']), '-f - (stdin) may be given only once');
  assert.match(refusal([]), /say which manifests to apply/);
  assert.equal(readFailure('x.yaml', Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' })).message, 'cannot read x.yaml: permission denied');
});

const file = (text: string, source = 'f.yaml', baseDir = '/models'): ManifestFile => ({ source, text, baseDir });

test('-n fills in the namespace of objects without one, in documents and List items, and pins each file\'s folder', () => {
  const text = `${sdep('a')}---\n${sdep('b', ', namespace: prod')}---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n`;
  const objects = parseAllDocuments(prepareText(file(text), 'prod', true)).map((d) => d.toJS() as { metadata?: { namespace?: string; annotations?: Record<string, string> }; items?: { metadata: { namespace?: string } }[] });
  assert.equal(objects[0]?.metadata?.namespace, 'prod');
  assert.equal(objects[1]?.metadata?.namespace, 'prod');
  assert.equal(objects[2]?.items?.[0]?.metadata.namespace, 'prod');
  assert.equal(objects[0]?.metadata?.annotations?.['trantor.io/base-dir'], '/models');
  const without = parseAllDocuments(prepareText(file(sdep('a', ', annotations: {trantor.io/base-dir: /pinned}')), undefined, true)).map((d) => d.toJS() as { metadata: { namespace?: string; annotations: Record<string, string> } });
  assert.equal(without[0]?.metadata.namespace, undefined);
  assert.equal(without[0]?.metadata.annotations['trantor.io/base-dir'], '/pinned', 'a pinned folder is kept');
});

test('an object in another namespace than -n is refused with kubectl\'s words', () => {
  assert.throws(
    () => prepareText(file(sdep('iris', ', namespace: a')), 'b', false),
    (err: unknown) =>
      err instanceof CliError &&
      err.message === `f.yaml: SeldonDeployment iris: the namespace from the provided object "a" does not match the namespace "b". You must pass '--namespace=a' to perform this operation.`,
  );
});

test('every file is checked before anything is sent: all problems at once, and an object defined by two files', () => {
  const bad = file('apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: x}\nspec: {}\n', 'bad.yaml');
  assert.throws(() => prepareApply([file(sdep('a'), 'a.yaml'), bad, file(sdep('a'), 'again.yaml')], undefined), (err: unknown) => {
    assert.ok(err instanceof CliError);
    assert.match(err.message, /^bad\.yaml: spec\.predictors: required/m);
    assert.match(err.message, /^again\.yaml: SeldonDeployment default\/a is defined twice \(also by a\.yaml\)$/m);
    return true;
  });
  const ok = prepareApply([file(sdep('a'), 'a.yaml'), file(sdep('b', ', namespace: x').replace('name: default,', 'name: default, replica: 2,'), 'b.yaml', '/other')], undefined);
  assert.equal(ok.sources, 'a.yaml, b.yaml');
  assert.deepEqual(ok.loaded.deployments.map((d) => [d.metadata.namespace, d.metadata.name]), [['default', 'a'], ['x', 'b']]);
  assert.deepEqual(ok.warnings, ['b.yaml: SeldonDeployment b: spec.predictors[0].replica: unknown field; did you mean replicas?']);
  assert.equal(parseAllDocuments(ok.text).length, 2);
  assert.match(ok.text, /trantor\.io\/base-dir: \/other/, 'files from two folders pin each one');
  const same = prepareApply([file(sdep('a'), 'a.yaml'), file(sdep('b'), 'b.yaml')], undefined);
  assert.equal(same.text, `${sdep('a')}---\n${sdep('b')}`, 'files of one folder, no -n: sent as written');
  assert.equal(same.baseDir, '/models');
});

test('--dry-run and --validate take kubectl\'s values', () => {
  assert.equal(dryRunOf(undefined), 'none');
  assert.equal(dryRunOf(true), 'client');
  assert.equal(dryRunOf('server'), 'server');
  assert.throws(() => dryRunOf('maybe'), /--dry-run=maybe: use none, client/);
  assert.equal(validationOf(true, undefined), 'strict');
  assert.equal(validationOf(undefined, 'strict'), 'strict');
  assert.equal(validationOf(undefined, true), 'strict');
  assert.equal(validationOf(undefined, undefined), 'warn');
  assert.equal(validationOf(undefined, 'false'), 'ignore');
  assert.throws(() => validationOf(undefined, 'loud'), /--validate=loud/);
});
