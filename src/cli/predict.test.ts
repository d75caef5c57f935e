import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJsonNumber } from '../protocol/index.ts';
import { seldonRequest, v2Request } from './predict.ts';

test('Seldon --data: a message as given, a bare array as data.ndarray, digits kept', () => {
  assert.deepEqual(seldonRequest('{"strData":"hi"}'), { strData: 'hi' });
  const rows = seldonRequest(' [[1, 2.5]] ');
  assert.deepEqual(JSON.parse(JSON.stringify(rows)), { data: { ndarray: [[1, 2.5]] } });
  const big = seldonRequest('[[12345678901234567890]]').data?.ndarray as unknown[][];
  assert.ok(isJsonNumber(big[0]![0]), 'an integer past 2^53 stays exact');
  assert.throws(() => seldonRequest('{"data":'), /--data is not JSON/);
  assert.throws(() => seldonRequest('"text"'), /expected a Seldon message/);
});

test('V2 --data rows become one input named input-0 of shape [rows, columns] and the datatype asked for', () => {
  const { inputs, options } = v2Request('[[1, 2, 3], [4, 5, 6]]', 'FP32');
  assert.deepEqual(JSON.parse(JSON.stringify(inputs)), [{ name: 'input-0', shape: [2, 3], datatype: 'FP32', data: [[1, 2, 3], [4, 5, 6]] }]);
  assert.deepEqual(options, {});
  const flat = v2Request('[7, 8]', 'INT64').inputs[0]!;
  assert.deepEqual([flat.shape, flat.datatype], [[2], 'INT64']);
});

test('V2 --data as a whole request keeps its id, parameters and outputs; a bad one is named by field', () => {
  const { inputs, options } = v2Request('{"id":"r1","parameters":{"p":1},"outputs":[{"name":"y"}],"inputs":[{"name":"x","shape":[1,2],"datatype":"INT64","data":[9007199254740993,1]}]}', 'FP64');
  assert.deepEqual(options, { id: 'r1', parameters: { p: 1 }, outputs: [{ name: 'y' }] });
  assert.equal(inputs[0]!.name, 'x');
  assert.throws(() => v2Request('[[1, 2], [3]]', 'FP64'), /--data: .*inputs\[0\]/);
  assert.throws(() => v2Request('{"inputs":[{"name":"x","shape":[1],"datatype":"FP99","data":[1]}]}', 'FP64'), /--data: .*inputs\[0\]\.datatype/);
});
