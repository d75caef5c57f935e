import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesSelector, parseSelector } from './selector.ts';

test('equality, inequality, set and existence requirements parse as kubectl writes them', () => {
  assert.deepEqual(parseSelector('app=iris, tier==web,env!=prod'), [
    { key: 'app', op: 'equals', value: 'iris' },
    { key: 'tier', op: 'equals', value: 'web' },
    { key: 'env', op: 'differs', value: 'prod' },
  ]);
  assert.deepEqual(parseSelector('env in (dev, test),team notin (a),canary,!legacy,app.kubernetes.io/name=x'), [
    { key: 'env', op: 'in', values: ['dev', 'test'] },
    { key: 'team', op: 'notin', values: ['a'] },
    { key: 'canary', op: 'exists' },
    { key: 'legacy', op: 'absent' },
    { key: 'app.kubernetes.io/name', op: 'equals', value: 'x' },
  ]);
  assert.deepEqual(parseSelector(''), []);
  assert.deepEqual(parseSelector('inner=1'), [{ key: 'inner', op: 'equals', value: '1' }]);
});

test('a selector that does not parse names what was expected and its position', () => {
  assert.throws(() => parseSelector('env in dev'), /selector "env in dev": expected "\(" to start the set of values at position 8/);
  assert.throws(() => parseSelector('env in (a b)'), /expected "," or "\)" in the set of values at position 11/);
  assert.throws(() => parseSelector('a=b c=d'), /expected "," between requirements .* at position 5/);
  assert.throws(() => parseSelector('=b'), /expected a label key at position 1/);
  assert.throws(() => parseSelector('a=b,'), /expected a label key at position 5, found the end/);
  assert.throws(() => parseSelector('!'), /expected a label key at position 2/);
});

test('matching follows Kubernetes: != and notin match objects without the label', () => {
  const labels = { app: 'iris', env: 'dev' };
  const matches = (text: string): boolean => matchesSelector(parseSelector(text), labels);
  assert.equal(matches('app=iris'), true);
  assert.equal(matches('app=other'), false);
  assert.equal(matches('app=iris,env=prod'), false);
  assert.equal(matches('env!=prod'), true);
  assert.equal(matches('missing!=x'), true);
  assert.equal(matches('env in (dev,test)'), true);
  assert.equal(matches('env notin (dev)'), false);
  assert.equal(matches('missing notin (dev)'), true);
  assert.equal(matches('missing in (dev)'), false);
  assert.equal(matches('app'), true);
  assert.equal(matches('!app'), false);
  // An object without labels.
  assert.equal(matchesSelector(parseSelector('!missing'), undefined), true);
  assert.equal(matchesSelector(parseSelector('app'), undefined), false);
  assert.equal(matchesSelector(parseSelector('app!=x'), undefined), true);
  assert.equal(matchesSelector(parseSelector(''), undefined), true);
});
