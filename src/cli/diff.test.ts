import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparable, unifiedDiff } from './diff.ts';

test('the same texts give no diff', () => {
  assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'live', 'merged'), '');
});

test('a changed line comes with three lines of context and diff -u hunk headers', () => {
  const before = ['1', '2', '3', '4', 'replicas: 1', '6', '7', '8', '9'].join('\n');
  const after = ['1', '2', '3', '4', 'replicas: 2', '6', '7', '8', '9'].join('\n');
  assert.equal(unifiedDiff(before, after, 'live x', 'merged x'), ['--- live x', '+++ merged x', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-replicas: 1', '+replicas: 2', ' 6', ' 7', ' 8', ''].join('\n'));
});

test('changes far apart make two hunks; an object not applied yet is all additions', () => {
  const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
  const after = before.replace('l1\n', 'L1\n').replace('l18', 'L18');
  const diff = unifiedDiff(before, after, 'a', 'b');
  assert.deepEqual(diff.split('\n').filter((l) => l.startsWith('@@')), ['@@ -1,5 +1,5 @@', '@@ -16,5 +16,5 @@']);
  assert.equal(unifiedDiff('', 'x\ny\n', 'a', 'b'), '--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n');
});

test('status and creationTimestamp, which only the control plane writes, are left out', () => {
  assert.equal(comparable({ kind: 'Broker', metadata: { name: 'b', creationTimestamp: 'now' }, spec: {}, status: { ready: true } }), comparable({ kind: 'Broker', metadata: { name: 'b' }, spec: {} }));
});
