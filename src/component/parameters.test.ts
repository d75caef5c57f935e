import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseParameters } from './parameters.ts';

test('parameters are converted by their type', () => {
  const params = parseParameters(
    JSON.stringify([
      { name: 'i', value: '7', type: 'INT' },
      { name: 'f', value: '0.5', type: 'FLOAT' },
      { name: 'd', value: '2e3', type: 'DOUBLE' },
      { name: 's', value: 'x', type: 'STRING' },
      { name: 'b', value: 'True', type: 'BOOL' },
      { name: 'j', value: '{"k":[1]}', type: 'JSON' },
    ]),
  );
  assert.deepEqual(params, { i: 7, f: 0.5, d: 2000, s: 'x', b: true, j: { k: [1] } });
});

test('a parameter whose value does not fit its type is an error naming it', () => {
  assert.throws(() => parseParameters('[{"name":"n","value":"seven","type":"INT"}]'), /parameter n has type INT/);
});
