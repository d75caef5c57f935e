import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onnxTensorOf, v2TensorOf } from './tensors.ts';

const UTF8 = new TextEncoder();

test('FP32, INT64 and BOOL pass through as the typed arrays ONNX Runtime takes', () => {
  const fp32 = Float32Array.of(1.5, -2);
  assert.equal(onnxTensorOf({ name: 'x', shape: [2], datatype: 'FP32', values: fp32 }, [1, 2]).data, fp32);
  assert.deepEqual(onnxTensorOf({ name: 'x', shape: [2], datatype: 'INT64', values: BigInt64Array.of(1n, -(2n ** 60n)) }, [2]), { type: 'int64', dims: [2], data: BigInt64Array.of(1n, -(2n ** 60n)) });
  assert.deepEqual(onnxTensorOf({ name: 'b', shape: [2], datatype: 'BOOL', values: Uint8Array.of(1, 0) }, [2]).type, 'bool');
  assert.deepEqual(v2TensorOf('b', { type: 'bool', dims: [2], data: Uint8Array.of(0, 1) }), { name: 'b', shape: [2], datatype: 'BOOL', values: Uint8Array.of(0, 1) });
  assert.deepEqual(v2TensorOf('u', { type: 'uint64', dims: [1], data: BigUint64Array.of(2n ** 63n) }, [1, 1]), { name: 'u', shape: [1, 1], datatype: 'UINT64', values: BigUint64Array.of(2n ** 63n) });
});

test('FP16 travels as half-precision bits to ONNX Runtime and back as floats', () => {
  const feed = onnxTensorOf({ name: 'h', shape: [3], datatype: 'FP16', values: Float32Array.of(1, -0.5, 65504) }, [3]);
  assert.equal(feed.type, 'float16');
  assert.deepEqual(feed.data, Uint16Array.of(0x3c00, 0xb800, 0x7bff));
  assert.deepEqual(v2TensorOf('h', { type: 'float16', dims: [3], data: feed.data }).values, Float32Array.of(1, -0.5, 65504));
});

test('BYTES are UTF-8 text to ONNX strings and back; bytes that are not text are refused, naming the input', () => {
  const feed = onnxTensorOf({ name: 's', shape: [2], datatype: 'BYTES', values: [UTF8.encode('héllo'), UTF8.encode('')] }, [2]);
  assert.deepEqual(feed, { type: 'string', dims: [2], data: ['héllo', ''] });
  assert.deepEqual(v2TensorOf('s', { type: 'string', dims: [2], data: ['héllo', 'x'] }).values, [UTF8.encode('héllo'), UTF8.encode('x')]);
  assert.throws(() => onnxTensorOf({ name: 's', shape: [1], datatype: 'BYTES', values: [Uint8Array.of(0xff, 0xfe)] }, [1]), /input 's': BYTES element 0 is not UTF-8 text/);
});
