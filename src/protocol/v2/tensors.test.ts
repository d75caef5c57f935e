import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonNumber, parseJsonLossless, stringifyJson } from '../json-lossless.ts';
import { parseV2InferenceRequest } from './parse.ts';
import { tensorFromJson, tensorToJson, valuesFromData } from './tensors.ts';

test('a JSON input becomes a typed tensor: nested data flattened row-major', () => {
  const request = parseV2InferenceRequest({ inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP64', data: [[1, 2], [3, 4]], parameters: { content_type: 'np' } }] });
  const tensor = tensorFromJson(request.inputs[0] as never);
  assert.deepEqual(tensor, { name: 'x', shape: [2, 2], datatype: 'FP64', values: new Float64Array([1, 2, 3, 4]), parameters: { content_type: 'np' } });
});

test('each datatype gets its typed array', () => {
  assert.ok(valuesFromData('BOOL', [true]) instanceof Uint8Array);
  assert.ok(valuesFromData('UINT16', [1]) instanceof Uint16Array);
  assert.ok(valuesFromData('INT8', [1]) instanceof Int8Array);
  assert.ok(valuesFromData('INT64', [1]) instanceof BigInt64Array);
  assert.ok(valuesFromData('UINT64', [1]) instanceof BigUint64Array);
  assert.ok(valuesFromData('FP16', [1]) instanceof Float32Array);
  assert.deepEqual(valuesFromData('BYTES', ['é']), [new Uint8Array([0xc3, 0xa9])]);
});

test('FP16 data is rounded to the half it names, FP32 to the float', () => {
  assert.deepEqual(valuesFromData('FP16', [0.1, 70000]), new Float32Array([0.0999755859375, Infinity]));
  assert.deepEqual(valuesFromData('FP32', [0.1]), new Float32Array([0.1]));
});

test('INT64 and UINT64 keep every digit from JSON text to typed values and back', () => {
  const text = '{"inputs":[{"name":"x","shape":[3],"datatype":"UINT64","data":[18446744073709551615,9007199254740993,1]}]}';
  const request = parseV2InferenceRequest(parseJsonLossless(text));
  const tensor = tensorFromJson(request.inputs[0] as never);
  assert.deepEqual(tensor.values, new BigUint64Array([18446744073709551615n, 9007199254740993n, 1n]));
  const back = tensorToJson(tensor);
  assert.deepEqual(back.data, [new JsonNumber('18446744073709551615'), new JsonNumber('9007199254740993'), 1]);
  assert.equal(stringifyJson({ inputs: [back] }), text);
});

test('BOOL and BYTES come back as JSON booleans and strings', () => {
  assert.deepEqual(tensorToJson({ name: 'b', shape: [2], datatype: 'BOOL', values: new Uint8Array([1, 0]) }).data, [true, false]);
  assert.deepEqual(tensorToJson({ name: 's', shape: [1], datatype: 'BYTES', values: [new Uint8Array([0x68, 0x69])] }).data, ['hi']);
});
