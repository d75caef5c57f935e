import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManifestStore } from './store.ts';

test('the manifest store refuses names that would leave its folder, whoever calls it', async () => {
  const base = mkdtempSync(join(tmpdir(), 'trantor-store-'));
  try {
    const root = join(base, 'home', 'manifests');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(base, 'victim.json'), '{}');
    const store = new ManifestStore(root);
    const entry = { object: { url: 'http://127.0.0.1:1/' }, createdAt: '' };
    await assert.rejects(store.saveObject('sinks', '../../..', 'x', entry), /manifest store: refusing sinks\/\.\.\/\.\.\/\.\.\/x: .*not a valid name/);
    await assert.rejects(store.saveObject('sinks', 'default', '../../../x', entry), /not a valid name/);
    await assert.rejects(store.removeObject('sinks', '..', '../../victim'), /not a valid name/);
    assert.equal(existsSync(join(base, 'victim.json')), true);
    assert.deepEqual(readdirSync(base).sort(), ['home', 'victim.json']);
    await store.saveObject('brokers', 'default', 'my.broker', entry);
    const { files } = await store.files('brokers');
    assert.deepEqual(files.map((f) => [f.namespace, f.name, JSON.parse(f.text) as unknown]), [['default', 'my.broker', entry]]);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
