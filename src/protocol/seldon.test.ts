import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from './errors.ts';
import { defaultNames, featuresOf, ndarrayToTensor, parseSeldonMessage, replyData, tensorToNdarray } from './seldon.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrantorError);
    return `${err.code}: ${err.message}`;
  }
  assert.fail('expected a TrantorError');
}

test('a tensor reshapes row-major into nested arrays', () => {
  assert.deepEqual(tensorToNdarray({ shape: [2, 2], values: [0, 0, 1, 1] }), [
    [0, 0],
    [1, 1],
  ]);
  assert.deepEqual(tensorToNdarray({ shape: [2, 1, 3], values: [1, 2, 3, 4, 5, 6] }), [[[1, 2, 3]], [[4, 5, 6]]]);
});

test('an ndarray flattens back to the same tensor', () => {
  const tensor = { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] };
  assert.deepEqual(ndarrayToTensor(tensorToNdarray(tensor)), tensor);
});

test('a ragged ndarray is refused with the path of the bad row', () => {
  assert.match(codeOf(() => ndarrayToTensor([[1, 2], [3]])), /^BAD_PAYLOAD: data\.ndarray\[1\]: rows must all have 2 elements/);
});

test('default names are t:0 … for each output column', () => {
  assert.deepEqual(defaultNames(3), ['t:0', 't:1', 't:2']);
});

test('a reply keeps the tensor encoding of its request', () => {
  const data = replyData({ names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } }, [
    [0, 0],
    [1, 1],
  ]);
  assert.deepEqual(data, { names: ['t:0', 't:1'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } });
});

test('a reply uses the model class names when it has them', () => {
  assert.deepEqual(replyData({ ndarray: [[1]] }, [[0.2, 0.8]], ['no', 'yes']), { names: ['no', 'yes'], ndarray: [[0.2, 0.8]] });
});

test('a message with two payloads is refused naming both', () => {
  assert.match(codeOf(() => parseSeldonMessage({ data: { ndarray: [] }, strData: 'x' })), /only one of .* got data, strData/);
});

test('a tensor whose values do not fill its shape is refused', () => {
  assert.match(
    codeOf(() => parseSeldonMessage({ data: { tensor: { shape: [2, 2], values: [1, 2, 3] } } })),
    /data\.tensor: shape \[2,2\] holds 4 values, got 3/,
  );
});

test('data without ndarray or tensor is refused', () => {
  assert.match(codeOf(() => parseSeldonMessage({ data: { names: ['a'] } })), /data: expected one of ndarray, tensor or tftensor/);
});

test('features of a tensor request come as nested arrays', () => {
  assert.deepEqual(featuresOf({ tensor: { shape: [1, 2], values: [3, 4] } }), [[3, 4]]);
});

test('each malformed field is named with its path, nested messages with theirs', () => {
  const cases: [unknown, string, string][] = [
    [[1], '', 'BAD_PAYLOAD: body: expected a JSON object with one of data, binData, strData or jsonData'],
    [{ binData: 'a', jsonData: 1, strData: 's' }, '', 'BAD_PAYLOAD: body: only one of data, binData, strData, jsonData may be given, got binData, strData, jsonData'],
    [{ jsonData: 1, data: {} }, 'request', 'BAD_PAYLOAD: request: only one of data, binData, strData, jsonData may be given, got data, jsonData'],
    [{ data: [] }, '', 'BAD_PAYLOAD: data: expected an object with ndarray, tensor or tftensor'],
    [{ data: { ndarray: [], names: ['a', 1] } }, '[0]', 'BAD_PAYLOAD: [0].data.names: expected an array of strings'],
    [{ data: { names: [] } }, '', 'BAD_PAYLOAD: data: expected one of ndarray, tensor or tftensor'],
    [{ data: { tftensor: {}, ndarray: [] } }, '', 'BAD_PAYLOAD: data: only one of ndarray, tensor, tftensor may be given, got ndarray, tftensor'],
    [{ binData: 1 }, 'truth', 'BAD_PAYLOAD: truth.binData: expected a base64 string'],
    [{ strData: 1 }, '', 'BAD_PAYLOAD: strData: expected a string'],
    [{ jsonData: null, meta: [] }, 'response', 'BAD_PAYLOAD: response.meta: expected an object'],
  ];
  for (const [value, where, message] of cases) assert.equal(codeOf(() => parseSeldonMessage(value, where)), message);
  const ok = { jsonData: { a: 1 }, meta: { puid: 'p' } };
  assert.equal(parseSeldonMessage(ok), ok);
});
