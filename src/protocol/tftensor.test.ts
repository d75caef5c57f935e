import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from './errors.ts';
import { JsonNumber, parseJsonLossless, stringifyJson } from './json-lossless.ts';
import { featuresOf, ndarrayToTfTensor, parseSeldonMessage, replyData } from './seldon.ts';
import { TF_DTYPES, readTfTensor, tfTensorElements, tfTensorOf, writeTfTensor, type TfDtype } from './tftensor.ts';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrantorError, String(err));
    return `${err.code}: ${err.message}`;
  }
  assert.fail('expected a TrantorError');
}

const shape23 = { dim: [{ size: '2' }, { size: '3' }] };

/** Per dtype: its value field, six values as JSON gives them, what the model sees, and their little-endian bytes. */
const CASES: Record<TfDtype, { field: string; json: unknown[]; elements: unknown[]; content: Buffer }> = {
  DT_FLOAT: { field: 'floatVal', json: [1.5, -2, 0, 'NaN', 'Infinity', 0.25], elements: [1.5, -2, 0, NaN, Infinity, 0.25], content: f32([1.5, -2, 0, NaN, Infinity, 0.25]) },
  DT_DOUBLE: { field: 'doubleVal', json: [0.1, -1e300, 5, '-Infinity', 2, 3], elements: [0.1, -1e300, 5, -Infinity, 2, 3], content: f64([0.1, -1e300, 5, -Infinity, 2, 3]) },
  DT_INT32: { field: 'intVal', json: [1, -2147483648, 2147483647, 0, 5, -6], elements: [1, -2147483648, 2147483647, 0, 5, -6], content: ints(4, [1, -2147483648, 2147483647, 0, 5, -6]) },
  DT_UINT8: { field: 'intVal', json: [0, 255, 1, 2, 3, 4], elements: [0, 255, 1, 2, 3, 4], content: Buffer.from([0, 255, 1, 2, 3, 4]) },
  DT_INT16: { field: 'intVal', json: [-32768, 32767, 1, 2, 3, 4], elements: [-32768, 32767, 1, 2, 3, 4], content: ints(2, [-32768, 32767, 1, 2, 3, 4]) },
  DT_INT8: { field: 'intVal', json: [-128, 127, 1, 2, 3, 4], elements: [-128, 127, 1, 2, 3, 4], content: ints(1, [-128, 127, 1, 2, 3, 4]) },
  DT_STRING: { field: 'stringVal', json: ['aGk=', '', 'w6k=', 'YQ==', 'Yg==', '/w=='], elements: ['hi', '', 'é', 'a', 'b', Buffer.from([255])], content: Buffer.alloc(0) },
  DT_INT64: {
    field: 'int64Val',
    json: ['-9223372036854775808', '9223372036854775807', '9007199254740993', 1, '-2', 3],
    elements: [new JsonNumber('-9223372036854775808'), new JsonNumber('9223372036854775807'), new JsonNumber('9007199254740993'), 1, -2, 3],
    content: big(true, [-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n, 1n, -2n, 3n]),
  },
  DT_BOOL: { field: 'boolVal', json: [true, false, true, true, false, false], elements: [true, false, true, true, false, false], content: Buffer.from([1, 0, 1, 1, 0, 0]) },
  DT_UINT16: { field: 'intVal', json: [0, 65535, 1, 2, 3, 4], elements: [0, 65535, 1, 2, 3, 4], content: uints(2, [0, 65535, 1, 2, 3, 4]) },
  // half_val holds the 16 bits: 0x3C00 is 1, 0xC000 is -2, 0x7BFF 65504, 0x0001 the smallest subnormal.
  DT_HALF: { field: 'halfVal', json: [0x3c00, 0xc000, 0x7bff, 0x0001, 0, 0x3800], elements: [1, -2, 65504, 2 ** -24, 0, 0.5], content: uints(2, [0x3c00, 0xc000, 0x7bff, 0x0001, 0, 0x3800]) },
  DT_UINT32: { field: 'uint32Val', json: [0, 4294967295, 1, 2, 3, 4], elements: [0, 4294967295, 1, 2, 3, 4], content: uints(4, [0, 4294967295, 1, 2, 3, 4]) },
  DT_UINT64: {
    field: 'uint64Val',
    json: ['18446744073709551615', '0', 1, 2, 3, 4],
    elements: [new JsonNumber('18446744073709551615'), 0, 1, 2, 3, 4],
    content: big(false, [2n ** 64n - 1n, 0n, 1n, 2n, 3n, 4n]),
  },
};

function f32(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}
function f64(values: number[]): Buffer {
  return Buffer.from(new Float64Array(values).buffer);
}
function ints(size: number, values: number[]): Buffer {
  const out = Buffer.alloc(size * values.length);
  values.forEach((v, i) => out.writeIntLE(v, i * size, size));
  return out;
}
function uints(size: number, values: number[]): Buffer {
  const out = Buffer.alloc(size * values.length);
  values.forEach((v, i) => out.writeUIntLE(v, i * size, size));
  return out;
}
function big(signed: boolean, values: bigint[]): Buffer {
  return Buffer.from((signed ? BigInt64Array : BigUint64Array).from(values as never).buffer);
}

test('every dtype reads from its *_val field, in either spelling, into the rows a model gets', () => {
  assert.deepEqual(Object.keys(CASES).sort(), [...TF_DTYPES].sort());
  for (const [dtype, { field, json, elements }] of Object.entries(CASES)) {
    const protoName = field.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
    for (const tftensor of [{ dtype, tensorShape: shape23, [field]: json }, { dtype, tensor_shape: shape23, [protoName]: json }]) {
      const tensor = readTfTensor(tftensor);
      assert.equal(tensor.dtype, dtype);
      assert.deepEqual(tensor.shape, [2, 3]);
      assert.deepEqual(tfTensorElements(tensor), elements, dtype);
      assert.deepEqual(featuresOf({ tftensor }), [elements.slice(0, 3), elements.slice(3)], dtype);
    }
  }
});

test('every numeric dtype reads the same values from tensor_content, little-endian', () => {
  for (const [dtype, { json, content }] of Object.entries(CASES)) {
    if (dtype === 'DT_STRING') continue;
    const fromVal = readTfTensor({ dtype, tensorShape: shape23, [CASES[dtype as TfDtype].field]: json });
    const fromContent = readTfTensor({ dtype, tensorShape: shape23, tensorContent: content.toString('base64') });
    assert.deepEqual(tfTensorElements(fromContent), tfTensorElements(fromVal), dtype);
  }
});

test('what is written reads back the same, for every dtype; numbers go as tensor_content as TensorFlow writes them', () => {
  for (const [dtype, { field, json }] of Object.entries(CASES)) {
    const tensor = readTfTensor({ dtype, tensorShape: shape23, [field]: json });
    const written = writeTfTensor(tensor);
    assert.deepEqual(written.tensorShape, shape23);
    assert.equal(written.tensorContent !== undefined, !['DT_STRING', 'DT_BOOL', 'DT_UINT16'].includes(dtype), dtype);
    assert.deepEqual(tfTensorElements(readTfTensor(written)), tfTensorElements(tensor), dtype);
  }
  // One value goes in its field, as make_tensor_proto writes a scalar; int64 as a string, exactly.
  assert.deepEqual(writeTfTensor(readTfTensor({ dtype: 'DT_INT64', int64Val: ['9223372036854775807'] })), { dtype: 'DT_INT64', tensorShape: {}, int64Val: ['9223372036854775807'] });
  assert.deepEqual(writeTfTensor(readTfTensor({ dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }] }, floatVal: ['NaN'] })), { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }] }, floatVal: ['NaN'] });
  assert.deepEqual(writeTfTensor(readTfTensor({ dtype: 'DT_HALF', tensorShape: { dim: [{}] } })), { dtype: 'DT_HALF', tensorShape: { dim: [{}] } });
});

test('int64 stays exact from lossless JSON text through to the written reply', () => {
  const body = parseJsonLossless('{"data":{"tftensor":{"dtype":"DT_INT64","tensor_shape":{"dim":[{"size":2}]},"int64_val":[9007199254740993,-9223372036854775808]}}}');
  const message = parseSeldonMessage(body);
  const rows = featuresOf(message.data!);
  assert.deepEqual(rows, [new JsonNumber('9007199254740993'), new JsonNumber('-9223372036854775808')]);
  const reply = replyData(message.data, rows);
  assert.equal(stringifyJson(reply), `{"names":[],"tftensor":${stringifyJson(writeTfTensor({ dtype: 'DT_INT64', shape: [2], values: BigInt64Array.from([9007199254740993n, -(2n ** 63n)]) }))}}`);
  assert.deepEqual(tfTensorElements(readTfTensor(reply.tftensor)), rows);
});

test('a short *_val fills the shape as TensorFlow does: one value broadcasts, the last repeats, none gives zeros', () => {
  assert.deepEqual(featuresOf({ tftensor: { dtype: 'DT_FLOAT', tensorShape: shape23, floatVal: [7] } }), [[7, 7, 7], [7, 7, 7]]);
  assert.deepEqual(featuresOf({ tftensor: { dtype: 'DT_INT32', tensorShape: shape23, intVal: [1, 2] } }), [[1, 2, 2], [2, 2, 2]]);
  assert.deepEqual(featuresOf({ tftensor: { dtype: 'DT_BOOL', tensorShape: { dim: [{ size: '2' }] } } }), [false, false]);
  assert.deepEqual(featuresOf({ tftensor: { dtype: 'DT_STRING', tensorShape: { dim: [{ size: '2' }] }, stringVal: ['eA=='] } }), ['x', 'x']);
  assert.deepEqual(featuresOf({ tftensor: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: '3' }] }, int64Val: ['9007199254740993'] } }), Array(3).fill(new JsonNumber('9007199254740993')));
  // A scalar (no shape) holds one value.
  assert.deepEqual(featuresOf({ tftensor: { dtype: 'DT_DOUBLE', doubleVal: [2.5] } }), [2.5]);
});

test('bad tensors are refused naming the field as the sender spelt it', () => {
  const cases: [unknown, RegExp][] = [
    [[], /^BAD_PAYLOAD: data\.tftensor: expected a TensorProto object/],
    [{ tensorShape: shape23 }, /^BAD_PAYLOAD: data\.tftensor\.dtype: is required/],
    [{ dtype: 'DT_COMPLEX64' }, /^BAD_PAYLOAD: data\.tftensor\.dtype: "DT_COMPLEX64" is not a dtype Trantor reads/],
    [{ dtype: 99 }, /^BAD_PAYLOAD: data\.tftensor\.dtype: 99 is not a dtype/],
    [{ dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '2' }, { size: 'x' }] } }, /^BAD_PAYLOAD: data\.tftensor\.tensor_shape\.dim\[1\]\.size: expected an integer, got "x"/],
    [{ dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }] } }, /^BAD_PAYLOAD: data\.tftensor\.tensorShape\.dim\[0\]\.size: expected a size from 0 to 2\^53-1, got -1/],
    [{ dtype: 'DT_FLOAT', floatVal: ['constructor'] }, /^BAD_PAYLOAD: data\.tftensor\.floatVal\[0\]: expected a number, got "constructor"/],
    [{ dtype: 'DT_FLOAT', tensorShape: { unknownRank: true } }, /^BAD_PAYLOAD: data\.tftensor\.tensorShape: a tensor value needs a known rank/],
    [{ dtype: 'DT_FLOAT', tensorShape: shape23, floatVal: [1, 'one'] }, /^BAD_PAYLOAD: data\.tftensor\.floatVal\[1\]: expected a number, got "one"/],
    [{ dtype: 'DT_FLOAT', floatVal: [1e39] }, /^BAD_PAYLOAD: data\.tftensor\.floatVal\[0\]: 1e\+39 is beyond the range of a DT_FLOAT/],
    [{ dtype: 'DT_UINT8', int_val: [256] }, /^BAD_PAYLOAD: data\.tftensor\.int_val\[0\]: 256 is out of range \(0 to 255\)/],
    [{ dtype: 'DT_INT32', intVal: [1.5] }, /^BAD_PAYLOAD: data\.tftensor\.intVal\[0\]: expected an integer, got 1\.5/],
    [{ dtype: 'DT_INT64', int64Val: ['9223372036854775808'] }, /^BAD_PAYLOAD: data\.tftensor\.int64Val\[0\]: 9223372036854775808 is out of range for DT_INT64/],
    [{ dtype: 'DT_UINT64', uint64Val: [-1] }, /^BAD_PAYLOAD: data\.tftensor\.uint64Val\[0\]: -1 is out of range for DT_UINT64/],
    [{ dtype: 'DT_INT64', tensorShape: { dim: [{ size: '2' }] }, int64Val: [2 ** 60, 'nope'] }, /^BAD_PAYLOAD: data\.tftensor\.int64Val\[1\]: expected an integer, got "nope"/],
    [{ dtype: 'DT_HALF', halfVal: [65536] }, /^BAD_PAYLOAD: data\.tftensor\.halfVal\[0\]: 65536 is out of range \(0 to 65535\)/],
    [{ dtype: 'DT_BOOL', boolVal: [1] }, /^BAD_PAYLOAD: data\.tftensor\.boolVal\[0\]: expected true or false, got 1/],
    [{ dtype: 'DT_STRING', stringVal: ['not base64!'] }, /^BAD_PAYLOAD: data\.tftensor\.stringVal\[0\]: expected base64 bytes/],
    [{ dtype: 'DT_STRING', tensorContent: 'AAEC' }, /^BAD_PAYLOAD: data\.tftensor\.tensorContent: a DT_STRING tensor's values go in string_val/],
    [{ dtype: 'DT_FLOAT', floatVal: [1], doubleVal: [2] }, /^BAD_PAYLOAD: data\.tftensor\.doubleVal: a DT_FLOAT tensor's values go in float_val/],
    [{ dtype: 'DT_FLOAT', floatVal: [1], float_val: [1] }, /^BAD_PAYLOAD: data\.tftensor: floatVal and float_val are the same field; give one/],
    [{ dtype: 'DT_FLOAT', floatVal: [1], tensor_content: 'AACAPw==' }, /^BAD_PAYLOAD: data\.tftensor: give the values in one of tensor_content or floatVal, not both/],
    [{ dtype: 'DT_FLOAT', tensorContent: '***' }, /^BAD_PAYLOAD: data\.tftensor\.tensorContent: expected base64 bytes/],
    [{ dtype: 'DT_FLOAT', tensorShape: shape23, tensorContent: 'AACAPw==' }, /^PAYLOAD_SHAPE: data\.tftensor\.tensorContent: 4 bytes of data, but 6 FP32 elements take 24/],
    [{ dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }] }, floatVal: [1, 2] }, /^PAYLOAD_SHAPE: data\.tftensor\.floatVal: 2 values, but shape \[1\] holds 1/],
    [{ dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '100000000' }] }, floatVal: [1] }, /^PAYLOAD_SHAPE: data\.tftensor\.floatVal: 1 values would fill shape \[100000000\]/],
    [{ dtype: 'DT_FLOAT', floatVals: [1] }, /^BAD_PAYLOAD: data\.tftensor\.floatVals: is not a field of TensorProto/],
    [{ dtype: 'DT_FLOAT', floatVal: 1 }, /^BAD_PAYLOAD: data\.tftensor\.floatVal: expected an array/],
  ];
  for (const [tftensor, expected] of cases) {
    assert.match(codeOf(() => parseSeldonMessage({ data: { tftensor } })), expected, JSON.stringify(tftensor));
  }
  // The path follows the message's own place (a feedback's request, say).
  assert.match(codeOf(() => parseSeldonMessage({ data: { tftensor: { dtype: 'DT_NONE' } } }, 'request')), /^BAD_PAYLOAD: request\.data\.tftensor\.dtype:/);
});

test("a model's output becomes a tftensor of its kind, or an ndarray when it cannot be one", () => {
  assert.deepEqual(ndarrayToTfTensor([[0.5, 1], [2, 3]]), { dtype: 'DT_DOUBLE', shape: [2, 2], values: Float64Array.from([0.5, 1, 2, 3]) });
  assert.deepEqual(ndarrayToTfTensor([true, false]), { dtype: 'DT_BOOL', shape: [2], values: Uint8Array.from([1, 0]) });
  assert.deepEqual(tfTensorElements(ndarrayToTfTensor([['a', Buffer.from([255])]])!), ['a', Buffer.from([255])]);
  assert.deepEqual(ndarrayToTfTensor([1, new JsonNumber('9223372036854775807'), 3n]), { dtype: 'DT_INT64', shape: [3], values: BigInt64Array.from([1n, 2n ** 63n - 1n, 3n]) });
  assert.equal(ndarrayToTfTensor([[1, 2], [3]]), null);
  assert.equal(ndarrayToTfTensor([1, 'a']), null);
  assert.equal(ndarrayToTfTensor([1.5, new JsonNumber('1e400')]), null);
  assert.equal(tfTensorOf([1], [{}]), null);
  const request = { tftensor: { dtype: 'DT_FLOAT', floatVal: [1] } };
  assert.deepEqual(replyData(request, [[0.25, 0.75]]), { names: ['t:0', 't:1'], tftensor: { dtype: 'DT_DOUBLE', tensorShape: { dim: [{ size: '1' }, { size: '2' }] }, tensorContent: f64([0.25, 0.75]).toString('base64') } });
  assert.deepEqual(replyData(request, [{ a: 1 }]), { names: [], ndarray: [{ a: 1 }] });
});
