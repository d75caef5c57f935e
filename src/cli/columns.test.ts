import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { customColumnRows, parseCustomColumns, parseCustomColumnsFile, sortItems } from './columns.ts';

const ITEMS = [
  { metadata: { name: 'b', creationTimestamp: '2026-01-02T00:00:00Z' }, spec: { replicas: 10 }, status: { replicas: [{ n: 1 }, { n: 2 }] } },
  { metadata: { name: 'a', creationTimestamp: '2026-01-03T00:00:00Z' }, spec: { replicas: 9 }, status: { replicas: [] } },
  { metadata: { name: 'c', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {}, status: { replicas: [{ n: 3 }] } },
];

test('custom columns take HEADER:PATH pairs; several values join with commas, none is <none>', () => {
  const columns = parseCustomColumns('NAME:.metadata.name,REPLICAS:{.spec.replicas},N:status.replicas[*].n,FIRST:.status.replicas[0,1].n');
  assert.deepEqual(columns.map((c) => c.header), ['NAME', 'REPLICAS', 'N', 'FIRST']);
  assert.deepEqual(customColumnRows(columns, ITEMS), [
    ['b', '10', '1,2', '1,2'],
    ['a', '9', '<none>', '<none>'],
    ['c', '<none>', '3', '3'],
  ]);
});

test('a custom-columns spec that is not HEADER:PATH is named with its position', () => {
  assert.throws(() => parseCustomColumns('NAME:.metadata.name,STATE'), /custom-columns "NAME:\.metadata\.name,STATE": "STATE" at position 21 is not HEADER:PATH/);
  assert.throws(() => parseCustomColumns(':.a'), /is not HEADER:PATH/);
  assert.throws(() => parseCustomColumns(''), /expected HEADER:PATH/);
  assert.throws(() => parseCustomColumns('X:.a[0'), /expected "\]"/);
});

test('the custom-columns file has headers over paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'columns-'));
  try {
    writeFileSync(join(dir, 'cols'), 'NAME   REPLICAS\n.metadata.name   .spec.replicas\n');
    const columns = parseCustomColumnsFile('NAME   REPLICAS\n.metadata.name   .spec.replicas\n', 'cols');
    assert.deepEqual(customColumnRows(columns, ITEMS.slice(0, 1)), [['b', '10']]);
    assert.throws(() => parseCustomColumnsFile('NAME REPLICAS\n.metadata.name\n', 'cols'), /custom-columns-file cols: expected two lines, headers then as many paths \(found 2 lines, 2 headers, 1 paths\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--sort-by orders numbers by value, strings (timestamps) as written, missing values first, ties kept', () => {
  const names = (sortBy: string): string[] => sortItems(ITEMS, sortBy).map((i) => i.metadata.name);
  assert.deepEqual(names('.metadata.name'), ['a', 'b', 'c']);
  assert.deepEqual(names('{.metadata.creationTimestamp}'), ['c', 'b', 'a']);
  assert.deepEqual(names('.spec.replicas'), ['c', 'a', 'b'], '9 before 10: numbers, not text');
  assert.deepEqual(names('.nothing'), ['b', 'a', 'c']);
  assert.throws(() => sortItems(ITEMS, '.a['), /jsonpath/);
});
