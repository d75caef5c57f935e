import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluatePath, executeTemplate, parsePath, parseRelaxedPath, parseTemplate } from './jsonpath.ts';

const LIST = {
  kind: 'List',
  items: [
    { metadata: { name: 'a', namespace: 'x', labels: { 'app.kubernetes.io/name': 'iris' } }, status: { state: 'Available', replicas: [{ n: 1 }, { n: 2 }] } },
    { metadata: { name: 'b', namespace: 'y', labels: {} }, status: { state: 'Creating', replicas: [] } },
    { metadata: { name: 'c', namespace: 'x', labels: {} }, status: { state: 'Available', replicas: [{ n: 3 }] } },
  ],
};

const run = (template: string, data: unknown = LIST): string => executeTemplate(parseTemplate(template), data);

test('fields, wildcards, indexes and slices print as kubectl prints them', () => {
  assert.equal(run('{.kind}'), 'List');
  assert.equal(run('{.items[*].metadata.name}'), 'a b c');
  assert.equal(run('{.items[0].metadata.name}'), 'a');
  assert.equal(run('{.items[-1:].metadata.name}'), 'c');
  assert.equal(run('{.items[1:].metadata.name}'), 'b c');
  assert.equal(run('{.items[0,2].metadata.name}'), 'a c');
  assert.equal(run('{.items[::-1].metadata.name}'), 'c b a');
  assert.equal(run('{$.items[0].status.replicas}'), '[{"n":1},{"n":2}]');
  assert.equal(run("{.items[0].metadata.labels['app.kubernetes.io/name']}"), 'iris');
  assert.equal(run('{.items[0].metadata.labels.app\\.kubernetes\\.io/name}'), 'iris');
  assert.equal(run('{..n}'), '1 2 3');
  assert.equal(run('{.items[0].metadata.*}'), 'a x {"app.kubernetes.io/name":"iris"}');
  assert.equal(run('{.missing.field}'), '', 'a missing field prints nothing');
  assert.equal(run('{.items[7].metadata.name}'), '');
});

test('range, literals and text between actions', () => {
  assert.equal(run('{range .items[*]}{.metadata.name}{"\\t"}{.status.state}{"\\n"}{end}'), 'a\tAvailable\nb\tCreating\nc\tAvailable\n');
  assert.equal(run('names: {range .items[*]}[{.metadata.name}]{end}.'), 'names: [a][b][c].');
  assert.equal(run("{range .items[*]}{range .status.replicas[*]}{.n},{end}{end}"), '1,2,3,');
  assert.equal(run('{.metadata.name}', LIST.items[0]), 'a', 'a single object is the root itself');
});

test('filters compare with strings, numbers and other paths, or test existence', () => {
  assert.equal(run('{.items[?(@.status.state=="Available")].metadata.name}'), 'a c');
  assert.equal(run("{.items[?(@.status.state!='Available')].metadata.name}"), 'b');
  assert.equal(run('{.items[?(@.metadata.labels.app\\.kubernetes\\.io/name)].metadata.name}'), 'a');
  assert.equal(run('{..replicas[?(@.n > 1)].n}'), '2 3');
  assert.equal(run('{..replicas[?(@.n<=2)].n}'), '1 2');
  assert.equal(run('{.items[?(@.metadata.name==@.metadata.name)].metadata.name}'), 'a b c');
});

test('a template that does not parse names the problem and its position', () => {
  assert.throws(() => parseTemplate('{.items[*]'), /jsonpath "\{\.items\[\*\]": unclosed "\{" at position 1/);
  assert.throws(() => parseTemplate('{range .items[*]}{.a}'), /\{range\} without an \{end\} at position 1/);
  assert.throws(() => parseTemplate('x{end}'), /\{end\} without a \{range\} at position 2/);
  assert.throws(() => parseTemplate('{.items[x]}'), /expected an index, a slice.* at position 9/);
  assert.throws(() => parseTemplate('{.items[0}'), /expected "\]" at position 10/);
  assert.throws(() => parseTemplate('{.a b}'), /unexpected " b" at position 4/);
  assert.throws(() => parseTemplate('{}'), /empty \{\} at position 1/);
  assert.throws(() => parseTemplate("{.items[?(@.a=='x)]}"), /unclosed "\{" at position 1/);
  assert.throws(() => parsePath(".items[?(@.a=='x)]"), /unterminated string \(no closing '\)/);
});

test('the relaxed form of custom-columns and --sort-by takes braces, a leading dot or neither', () => {
  const item = LIST.items[0];
  for (const text of ['.metadata.name', '{.metadata.name}', 'metadata.name', '{ .metadata.name }']) {
    assert.deepEqual(evaluatePath(parseRelaxedPath(text), item), ['a'], text);
  }
  assert.deepEqual(evaluatePath(parsePath('.'), 5), [5]);
  assert.throws(() => parseRelaxedPath('{}'), /empty path/);
});
