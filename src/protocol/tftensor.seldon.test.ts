/**
 * tftensor.ts against TensorFlow itself, in the python TRANTOR_SELDON_PYTHON names (.ci/run installs
 * tensorflow-cpu beside seldon-core 1.18.2 there): what we write for a model's output must be what
 * `json_format.MessageToJson(tf.make_tensor_proto(array))` writes for the same array (what Seldon's
 * wrapper answers), and what we read from a TensorProto must be what `tf.make_ndarray` reads.
 * Skipped, with the reason, when that python (or its TensorFlow) is absent outside CI; a failure in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseJsonLossless } from './json-lossless.ts';
import { readTfTensor, tfTensorElements, writeTfTensor, type TfTensor } from './tftensor.ts';

const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? '';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';

/** stdin {"arrays": {name: [numpy dtype, shape, values]}, "tensors": {name: TensorProto JSON}}. */
const PROBE = `
import json, sys
try:
    import tensorflow as tf
except ImportError:
    print(json.dumps({"missing": "tensorflow"}))
    sys.exit(0)
import numpy as np
from google.protobuf import json_format
from seldon_core.proto.tensorflow.core.framework import tensor_pb2

def array(dtype, shape, values):
    if dtype == "bytes":
        out = np.empty(len(values), dtype=object)
        out[:] = [bytes.fromhex(v) for v in values]
        return out.reshape(shape)
    return np.array([float(v) if isinstance(v, str) else v for v in values], dtype=dtype).reshape(shape)

cases = json.loads(sys.stdin.read())
written = {k: json.loads(json_format.MessageToJson(tf.make_tensor_proto(array(*v)))) for k, v in cases["arrays"].items()}
read = {}
for k, v in cases["tensors"].items():
    a = tf.make_ndarray(json_format.ParseDict(v, tensor_pb2.TensorProto()))
    read[k] = {"shape": list(a.shape), "values": [x.hex() if isinstance(x, bytes) else x for x in a.ravel().tolist()]}
print(json.dumps({"written": written, "read": read}))
`;

/** Our typed tensor for each array, and the numpy array TensorFlow is given. */
const ARRAYS: Record<string, { ours: TfTensor; numpy: [string, number[], unknown[]] }> = {
  'doubles (a TypeScript model output)': { ours: { dtype: 'DT_DOUBLE', shape: [2, 2], values: Float64Array.from([0.25, 0.75, NaN, -Infinity]) }, numpy: ['float64', [2, 2], [0.25, 0.75, 'nan', '-inf']] },
  'one double': { ours: { dtype: 'DT_DOUBLE', shape: [1, 1], values: Float64Array.from([0.1]) }, numpy: ['float64', [1, 1], [0.1]] },
  'one NaN': { ours: { dtype: 'DT_DOUBLE', shape: [1], values: Float64Array.from([NaN]) }, numpy: ['float64', [1], ['nan']] },
  'a scalar': { ours: { dtype: 'DT_DOUBLE', shape: [], values: Float64Array.from([2.5]) }, numpy: ['float64', [], [2.5]] },
  floats: { ours: { dtype: 'DT_FLOAT', shape: [3], values: Float32Array.from([1.5, 0.1, -3]) }, numpy: ['float32', [3], [1.5, 0.1, -3]] },
  int64: { ours: { dtype: 'DT_INT64', shape: [2], values: BigInt64Array.from([9007199254740993n, -(2n ** 63n)]) }, numpy: ['int64', [2], [9007199254740993n, -(2n ** 63n)]] },
  'one int64': { ours: { dtype: 'DT_INT64', shape: [1], values: BigInt64Array.from([9007199254740993n]) }, numpy: ['int64', [1], [9007199254740993n]] },
  'one uint64': { ours: { dtype: 'DT_UINT64', shape: [1], values: BigUint64Array.from([2n ** 64n - 1n]) }, numpy: ['uint64', [1], [2n ** 64n - 1n]] },
  uint16: { ours: { dtype: 'DT_UINT16', shape: [2], values: Uint16Array.from([1, 65535]) }, numpy: ['uint16', [2], [1, 65535]] },
  halves: { ours: { dtype: 'DT_HALF', shape: [2], values: Float32Array.from([1, 0.5]) }, numpy: ['float16', [2], [1, 0.5]] },
  'one half': { ours: { dtype: 'DT_HALF', shape: [1], values: Float32Array.from([65504]) }, numpy: ['float16', [1], [65504]] },
  bools: { ours: { dtype: 'DT_BOOL', shape: [2, 2], values: Uint8Array.from([1, 0, 0, 1]) }, numpy: ['bool', [2, 2], [true, false, false, true]] },
  strings: { ours: { dtype: 'DT_STRING', shape: [2], values: [Uint8Array.from([104, 105]), Uint8Array.from([255])] }, numpy: ['bytes', [2], ['6869', 'ff']] },
  empty: { ours: { dtype: 'DT_FLOAT', shape: [0, 2], values: new Float32Array(0) }, numpy: ['float32', [0, 2], []] },
};

const shape23 = { dim: [{ size: '2' }, { size: '3' }] };
const TENSORS: Record<string, unknown> = {
  'one value fills the shape': { dtype: 'DT_FLOAT', tensorShape: shape23, floatVal: [7] },
  'the last value repeats': { dtype: 'DT_INT32', tensorShape: shape23, intVal: [1, 2] },
  'no values are zeros': { dtype: 'DT_DOUBLE', tensorShape: shape23 },
  'halves as bits': { dtype: 'DT_HALF', tensorShape: { dim: [{ size: '3' }] }, halfVal: [15360, 49152, 1] },
  'int64 as strings and numbers': { dtype: 'DT_INT64', tensorShape: { dim: [{ size: '3' }] }, int64Val: ['9007199254740993', '-9223372036854775808', 5] },
  'snake_case content': { dtype: 'DT_UINT16', tensor_shape: { dim: [{ size: '2' }] }, tensor_content: 'AQD//w==' },
  'float content with NaN': { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }] }, tensorContent: 'AADAfwAAgD8=' },
  'special floats as strings': { dtype: 'DT_DOUBLE', tensorShape: { dim: [{ size: '3' }] }, doubleVal: ['NaN', '-Infinity', 1e300] },
  'strings repeat too': { dtype: 'DT_STRING', tensorShape: { dim: [{ size: '3' }] }, stringVal: ['aGk=', '/w=='] },
  'dtype by number': { dtype: 10, tensorShape: { dim: [{ size: '3' }] }, boolVal: [true, false] },
  'a dim without size': { dtype: 'DT_FLOAT', tensorShape: { dim: [{}, { size: '2' }] } },
};

/** JSON with bigints written as plain integers (Python reads them exactly). */
function jsonWithBigInts(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `__big${v}__` : v)).replace(/"__big(-?\d+)__"/g, '$1');
}

test("what we write and read is what TensorFlow's make_tensor_proto writes and make_ndarray reads", { timeout: 120_000 }, async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail('TRANTOR_SELDON_PYTHON is not set: .ci/run installs it');
    t.skip('TRANTOR_SELDON_PYTHON is not set (a python with seldon-core 1.18.2 and tensorflow-cpu; run .ci/run once)');
    return;
  }
  const input = jsonWithBigInts({ arrays: Object.fromEntries(Object.entries(ARRAYS).map(([k, v]) => [k, v.numpy])), tensors: TENSORS });
  const run = promisify(execFile)(SELDON_PYTHON, ['-c', PROBE], { encoding: 'utf8', timeout: 90_000 });
  run.child.stdin?.end(input);
  const answer = parseJsonLossless((await run).stdout) as { missing?: string; written: Record<string, unknown>; read: Record<string, { shape: number[]; values: unknown[] }> };
  if (answer.missing !== undefined) {
    if (CI) assert.fail(`${SELDON_PYTHON} has no TensorFlow: .ci/run installs tensorflow-cpu beside seldon-core`);
    t.skip(`${SELDON_PYTHON} has no TensorFlow (run .ci/run once)`);
    return;
  }
  for (const [name, { ours }] of Object.entries(ARRAYS)) {
    assert.deepEqual(writeTfTensor(ours), answer.written[name], name);
  }
  for (const [name, tensor] of Object.entries(TENSORS)) {
    const read = readTfTensor(tensor);
    const values = tfTensorElements(read).map((v) => (typeof v === 'string' ? Buffer.from(v).toString('hex') : Buffer.isBuffer(v) ? v.toString('hex') : v));
    assert.deepEqual({ shape: read.shape, values }, answer.read[name], name);
  }
});
