import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { applyMirrors, loadMirrors, locateModel, normalizedUri, parseMirrors } from './uri.ts';

const base = mkdtempSync(join(tmpdir(), 'trantor-uri-'));
mkdirSync(join(base, 'model'));
mkdirSync(join(base, 'pvc', 'claim-1', 'iris'), { recursive: true });
const options = { baseDir: base, pvcRoot: join(base, 'pvc') };
const field = 'spec.predictors[0].graph.modelUri';

test('a relative path resolves against the manifest folder', () => {
  assert.deepEqual(locateModel('model', field, options), { kind: 'local', path: join(base, 'model'), uri: 'model' });
});

test('a file:// URI is a local folder', () => {
  const uri = pathToFileURL(join(base, 'model')).href;
  assert.equal(locateModel(uri, field, options).kind, 'local');
});

test('a missing local folder names the field and the path', () => {
  assert.throws(() => locateModel('nothere', field, options), (err: Error) => err.message.includes(field) && err.message.includes(join(base, 'nothere')));
});

test('pvc://claim/path is a folder under the pvc root, and .. is refused', () => {
  const found = locateModel('pvc://claim-1/iris', field, options);
  assert.deepEqual(found, { kind: 'local', path: join(base, 'pvc', 'claim-1', 'iris'), uri: 'pvc://claim-1/iris' });
  assert.throws(() => locateModel('pvc://claim-1/../x', field, options), /must not contain '\.\.'/);
  assert.throws(() => locateModel('pvc:///x', field, options), /pvc:\/\/<claim>\/<path>/);
});

test('gs, s3, http and https are remote', () => {
  for (const uri of ['gs://seldon-models/sklearn/iris', 's3://bucket/key', 'http://127.0.0.1:9/m.tgz', 'https://acct.blob.core.windows.net/c/m']) {
    const found = locateModel(uri, field, options);
    assert.equal(found.kind, 'remote', uri);
  }
});

test('an unknown scheme and credentials in the URI are refused naming the field', () => {
  assert.throws(() => locateModel('ftp://host/m', field, options), (err: Error) => err.message.startsWith(field) && err.message.includes('ftp://'));
  assert.throws(() => locateModel('https://u:p@host/m', field, options), /envSecretRefName/);
  assert.throws(() => locateModel('  ', field, options), /is empty/);
});

test('the longest mirror prefix wins and may map a bucket to a folder', () => {
  const mirrors = [
    { prefix: 'gs://seldon-models/', replacement: 'http://mirror.local/all/' },
    { prefix: 'gs://seldon-models/v1/sklearn/iris', replacement: join(base, 'model') },
  ];
  assert.equal(applyMirrors('gs://seldon-models/x/y', mirrors), 'http://mirror.local/all/x/y');
  const found = locateModel('gs://seldon-models/v1/sklearn/iris', field, { ...options, mirrors });
  assert.deepEqual(found, { kind: 'local', path: join(base, 'model'), uri: join(base, 'model') });
});

test('mirrors come from storage.json and TRANTOR_STORAGE_MIRRORS, the environment winning', () => {
  const home = mkdtempSync(join(tmpdir(), 'trantor-home-'));
  writeFileSync(join(home, 'storage.json'), JSON.stringify({ mirrors: { 'gs://a/': 'models/a/', 'gs://b/': 'http://x/b/' } }));
  const mirrors = loadMirrors(home, { TRANTOR_STORAGE_MIRRORS: 'gs://b/=http://y/b/, s3://c/=/srv/c' });
  assert.deepEqual(mirrors, [
    { prefix: 'gs://a/', replacement: join(home, 'models/a/') },
    { prefix: 'gs://b/', replacement: 'http://y/b/' },
    { prefix: 's3://c/', replacement: '/srv/c' },
  ]);
  assert.throws(() => parseMirrors('nonsense', 'TRANTOR_STORAGE_MIRRORS'), /TRANTOR_STORAGE_MIRRORS: "nonsense" is not prefix=replacement/);
});

test('the normalized URI drops a trailing slash and lowercases the host', () => {
  assert.equal(normalizedUri(new URL('gs://Bucket/m/')), normalizedUri(new URL('gs://bucket/m')));
});
