import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPuid, newPuid } from './puid.ts';

test('newPuid gives 26 lower-case base-32 characters', () => {
  for (let i = 0; i < 1000; i++) assert.match(newPuid(), /^[a-z2-7]{26}$/);
});

test('newPuid does not repeat over 100000 calls', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100_000; i++) seen.add(newPuid());
  assert.equal(seen.size, 100_000);
});

test('isPuid accepts visible ASCII up to 128 characters and nothing else', () => {
  assert.equal(isPuid('abc-123_XYZ'), true);
  assert.equal(isPuid(''), false);
  assert.equal(isPuid('a b'), false);
  assert.equal(isPuid('line\nbreak'), false);
  assert.equal(isPuid('x'.repeat(129)), false);
  assert.equal(isPuid(42), false);
});
