import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HostSetupError } from './errors.ts';
import { interfaceTarget, loadComponent } from './loader.ts';

let fixtures: string;

before(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'trantor-loader-'));
  writeFileSync(
    join(fixtures, 'Scaled.ts'),
    `export class Scaled {
  loaded = false;
  constructor(readonly parameters: { factor?: number }) {}
  async load(): Promise<void> { await Promise.resolve(); this.loaded = true; }
}
`,
  );
  writeFileSync(join(fixtures, 'Broken.mjs'), 'export class Broken { load() { throw new Error("weights missing"); } }\n');
});

after(() => {
  rmSync(fixtures, { recursive: true, force: true });
});

test('module.Class names a class in another file, as in Seldon', () => {
  const target = interfaceTarget('models.Iris', '/srv');
  assert.equal(target.exportName, 'Iris');
  assert.deepEqual(target.files, ['/srv/models.ts', '/srv/models.mts', '/srv/models.js', '/srv/models.mjs']);
});

test('loadComponent constructs the class with the parameters and awaits its load()', async () => {
  const { file, name, model } = await loadComponent('Scaled', fixtures, { factor: 3 });
  assert.equal(file, join(fixtures, 'Scaled.ts'));
  assert.equal(name, 'Scaled');
  assert.deepEqual({ ...model }, { parameters: { factor: 3 }, loaded: true });
});

test('a load() that throws is a setup error naming the class, the file and the cause', async () => {
  await assert.rejects(
    loadComponent('Broken', fixtures, {}),
    (err: unknown) => err instanceof HostSetupError && err.message.startsWith(`Broken (${join(fixtures, 'Broken.mjs')}): load() failed: Error: weights missing`),
  );
});
