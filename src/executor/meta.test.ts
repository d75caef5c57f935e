import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetaTrail, isPuid, newPuid } from './meta.ts';

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

test('the trail merges tags with later nodes overriding and concatenates metrics', () => {
  const trail = new MetaTrail('p', { from: 'request', shared: 0 }, {});
  trail.absorb({ tags: { shared: 1, a: true }, metrics: [{ key: 'm1', type: 'COUNTER', value: 1 }] });
  trail.absorb({ tags: { shared: 2 }, metrics: [{ key: 'm2', type: 'GAUGE', value: 5 }] });
  trail.route('router', 1);
  trail.visit('model', 'image:1');
  assert.deepEqual(trail.toMeta(), {
    puid: 'p',
    tags: { from: 'request', shared: 2, a: true },
    routing: { router: 1 },
    requestPath: { model: 'image:1' },
    metrics: [
      { key: 'm1', type: 'COUNTER', value: 1 },
      { key: 'm2', type: 'GAUGE', value: 5 },
    ],
  });
});

test('an empty trail still gives every meta field', () => {
  assert.deepEqual(new MetaTrail('p', undefined, {}).toMeta(), { puid: 'p', tags: {}, routing: {}, requestPath: {}, metrics: [] });
});
