import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetaTrail } from './meta.ts';

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
