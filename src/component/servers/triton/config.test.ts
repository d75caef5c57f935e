import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModelConfig } from './config.ts';
import { parseTextFormat } from './pbtxt.ts';

// In the shape Triton's model configuration documentation writes them.
const DENSENET = `
# An image classifier, batched.
name: "densenet_onnx"
platform: "onnxruntime_onnx"
max_batch_size : 0
input [
  {
    name: "data_0"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, 224, 224 ]
    reshape { shape: [ 1, 3, 224, 224 ] }
  }
]
output [
  {
    name: "fc6_1"
    data_type: TYPE_FP32
    dims: [ 1000 ]
    reshape { shape: [ 1, 1000, 1, 1 ] }
    label_filename: "densenet_labels.txt"
  }
]
instance_group [ { count: 2, kind: KIND_CPU } ]
`;

const BATCHED = `
name: 'text'
backend: "onnxruntime"
max_batch_size: 8
input { name: "INPUT0" data_type: TYPE_STRING dims: [ 1 ] }
input { name: "MASK" data_type: TYPE_BOOL dims: [ -1 ] optional: true }
output [ { name: "OUTPUT0", data_type: TYPE_INT64, dims: [ 16 ] } ]
version_policy: { specific: { versions: [1, 3] } }
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 }
parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
default_model_filename: "classifier.onnx"
`;

describe('config.pbtxt', () => {
  it('reads a documented ONNX configuration, its reshapes, and reads past the fields it does not serve by', () => {
    const config = parseModelConfig(DENSENET, 'densenet_onnx/config.pbtxt');
    assert.deepEqual(config, {
      name: 'densenet_onnx',
      platform: 'onnxruntime_onnx',
      maxBatchSize: 0,
      inputs: [{ name: 'data_0', datatype: 'FP32', dims: [3, 224, 224], reshape: [1, 3, 224, 224] }],
      outputs: [{ name: 'fc6_1', datatype: 'FP32', dims: [1000], reshape: [1, 1000, 1, 1] }],
      versionPolicy: { kind: 'latest', count: 1 },
    });
  });

  it('reads repeated messages, single quotes, optional inputs, a specific version policy and the model file name', () => {
    const config = parseModelConfig(BATCHED, 'text/config.pbtxt');
    assert.equal(config.name, 'text');
    assert.equal(config.backend, 'onnxruntime');
    assert.equal(config.maxBatchSize, 8);
    assert.deepEqual(config.inputs, [
      { name: 'INPUT0', datatype: 'BYTES', dims: [1] },
      { name: 'MASK', datatype: 'BOOL', dims: [-1], optional: true },
    ]);
    assert.deepEqual(config.outputs, [{ name: 'OUTPUT0', datatype: 'INT64', dims: [16] }]);
    assert.deepEqual(config.versionPolicy, { kind: 'specific', versions: [1, 3] });
    assert.equal(config.defaultModelFilename, 'classifier.onnx');
  });

  it('reads the latest and all version policies', () => {
    assert.deepEqual(parseModelConfig('version_policy: { latest: { num_versions: 2 } }', 'c').versionPolicy, { kind: 'latest', count: 2 });
    assert.deepEqual(parseModelConfig('version_policy { all { } }', 'c').versionPolicy, { kind: 'all' });
  });

  it('keeps escapes, joins adjacent strings, and reads hex numbers', () => {
    const tree = parseTextFormat(`a: "x\\"y\\n" 'z' b: 0x10 c: -2.5e1 d: FOO`, 's');
    assert.deepEqual(tree.fields.get('a'), [{ kind: 'string', value: 'x"y\nz' }]);
    assert.deepEqual(tree.fields.get('b'), [{ kind: 'number', value: 16, text: '0x10' }]);
    assert.deepEqual(tree.fields.get('c'), [{ kind: 'number', value: -25, text: '-2.5e1' }]);
    assert.deepEqual(tree.fields.get('d'), [{ kind: 'identifier', value: 'FOO' }]);
  });

  it('names the file, line and field of what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['name: "x"\ninput [ { name: "a" data_type: TYPE_FP32 dims: [ 1 ', /^m\/config\.pbtxt:2: /],
      ['name: "unterminated\n', /^m\/config\.pbtxt:1: a string opened with " is not closed/],
      ['name "x"', /^m\/config\.pbtxt:1: expected : after name/],
      ['input [ { name: "a" data_type: TYPE_BF16 dims: [1] } ]', /input\[0\]\.data_type: TYPE_BF16 is not served here/],
      ['input [ { name: "a" dims: [1] } ]', /input\[0\]\.data_type: is required/],
      ['input [ { data_type: TYPE_FP32 dims: [1] } ]', /input\[0\]\.name: is required/],
      ['input [ { name: "a" data_type: "TYPE_FP32" dims: [1] } ]', /input\[0\]\.data_type: expected a name \(such as TYPE_FP32\), got "TYPE_FP32"/],
      ['input [ { name: "a" data_type: TYPE_FP32 dims: [ -2 ] } ]', /input\[0\]\.dims: expected sizes \(-1 for any size\), got \[-2\]/],
      ['max_batch_size: 1.5', /max_batch_size: expected an integer, got 1\.5/],
      ['max_batch_size: -1', /max_batch_size: expected 0 \(no batching\) or more/],
      ['name: "a" name: "b"', /name: is given 2 times/],
      ['version_policy { }', /expected one of latest/],
      ['version_policy { specific { } }', /version_policy\.specific\.versions: names no version/],
      ['input [ { name: "a" data_type: TYPE_FP32 dims: [1] }, { name: "a" data_type: TYPE_FP32 dims: [1] } ]', /input\[1\]\.name: "a" is named twice/],
      ['name: @', /:1: unexpected character "@"/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(() => parseModelConfig(text, 'm/config.pbtxt'), (err: Error) => {
        assert.match(err.message, pattern, text);
        assert.ok(err.message.startsWith('m/config.pbtxt'), err.message);
        return true;
      });
    }
  });
});
