import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interfaceTarget } from './loader.ts';

test('module.Class names a class in another file, as in Seldon', () => {
  const target = interfaceTarget('models.Iris', '/srv');
  assert.equal(target.exportName, 'Iris');
  assert.deepEqual(target.files, ['/srv/models.ts', '/srv/models.mts', '/srv/models.js', '/srv/models.mjs']);
});
