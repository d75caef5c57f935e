import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from '../errors.ts';
import { JsonNumber, parseJsonLossless, stringifyJson } from '../json-lossless.ts';
import {
  elementCount,
  flattenV2Data,
  parseV2Error,
  parseV2InferenceRequest,
  parseV2InferenceResponse,
  parseV2ModelMetadata,
  parseV2ServerMetadata,
  v2ErrorBody,
} from './parse.ts';

function rejects(fn: () => unknown, code: string, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TrantorError, String(err));
    assert.equal(err.code, code, err.message);
    for (const part of parts) assert.ok(err.message.includes(part), `${JSON.stringify(part)} not in: ${err.message}`);
    return true;
  });
}

function request(input: Record<string, unknown>): unknown {
  return { inputs: [{ name: 'x', ...input }] };
}

test('a request with every datatype is accepted', () => {
  const cases: [string, unknown[]][] = [
    ['BOOL', [true, false]],
    ['UINT8', [0, 255]],
    ['UINT16', [0, 65535]],
    ['UINT32', [0, 4294967295]],
    ['UINT64', [0, new JsonNumber('18446744073709551615')]],
    ['INT8', [-128, 127]],
    ['INT16', [-32768, 32767]],
    ['INT32', [-2147483648, 2147483647]],
    ['INT64', [new JsonNumber('-9223372036854775808'), new JsonNumber('9223372036854775807')]],
    ['FP16', [1.5, -0]],
    ['FP32', [1.5, Number.NaN]],
    ['FP64', [Infinity, new JsonNumber('1e400')]],
    ['BYTES', ['a', '']],
  ];
  for (const [datatype, data] of cases) {
    const parsed = parseV2InferenceRequest(request({ shape: [2], datatype, data }));
    assert.deepEqual(parsed.inputs[0]?.data, data, datatype);
  }
});

test('integers out of their datatype range are rejected with the range', () => {
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'UINT8', data: [256] })), 'BAD_PAYLOAD', 'inputs[0].data[0]: 256 is out of range for UINT8 (0..255)');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'INT8', data: [-129] })), 'BAD_PAYLOAD', 'out of range for INT8');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'UINT64', data: [-1] })), 'BAD_PAYLOAD', 'out of range for UINT64');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'INT64', data: [new JsonNumber('9223372036854775808')] })), 'BAD_PAYLOAD', 'out of range for INT64');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'INT32', data: [1.5] })), 'BAD_PAYLOAD', 'expected an integer for INT32, got 1.5');
});

test('elements of the wrong kind are named by their path', () => {
  rejects(() => parseV2InferenceRequest(request({ shape: [2], datatype: 'BOOL', data: [true, 1] })), 'BAD_PAYLOAD', 'inputs[0].data[1]: expected true or false for BOOL, got 1');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'BYTES', data: [3] })), 'BAD_PAYLOAD', 'expected a string for BYTES');
  rejects(() => parseV2InferenceRequest(request({ shape: [2, 1], datatype: 'FP32', data: [[1], ['a']] })), 'BAD_PAYLOAD', 'inputs[0].data[1][0]: expected a number for FP32');
});

test('INT64 and UINT64 beyond 2^53 keep every digit from text to text', () => {
  const text = '{"inputs":[{"name":"x","shape":[2],"datatype":"INT64","data":[9007199254740993,-9223372036854775808]}]}';
  const parsed = parseV2InferenceRequest(parseJsonLossless(text));
  assert.equal(stringifyJson(parsed), text);
});

test('nested data is row-major and counted against the shape', () => {
  const parsed = parseV2InferenceRequest(request({ shape: [2, 3], datatype: 'INT32', data: [[1, 2, 3], [4, 5, 6]] }));
  assert.deepEqual(flattenV2Data(parsed.inputs[0]?.data ?? []), [1, 2, 3, 4, 5, 6]);
  rejects(
    () => parseV2InferenceRequest(request({ shape: [2, 3], datatype: 'INT32', data: [[1, 2, 3], [4, 5]] })),
    'PAYLOAD_SHAPE',
    'inputs[0].data: holds 5 elements but shape [2, 3] needs 6',
  );
  rejects(() => parseV2InferenceRequest(request({ shape: [4], datatype: 'FP32', data: [1, 2, 3] })), 'PAYLOAD_SHAPE', 'holds 3 elements but shape [4] needs 4');
  assert.equal(elementCount([0, 5]), 0);
  assert.equal(elementCount([]), 1);
});

test('every problem is reported at once, each with its field path', () => {
  rejects(
    () =>
      parseV2InferenceRequest({
        id: 7,
        inputs: [
          { name: 'a', shape: [-1], datatype: 'FP32', data: [1] },
          { shape: [1], datatype: 'FLOAT', data: [1] },
          { name: 'c', shape: [1], datatype: 'INT8' },
        ],
        outputs: [{}],
      }),
    'BAD_PAYLOAD',
    'id: expected a string, got 7',
    'inputs[0].shape[0]: expected an integer ≥ 0, got -1',
    'inputs[1].name: is required',
    'inputs[1].datatype: expected one of BOOL, UINT8',
    'inputs[2].data: is required',
    'outputs[0].name: is required',
  );
});

test('a request needs inputs, unique names, and data as an array', () => {
  rejects(() => parseV2InferenceRequest({}), 'BAD_PAYLOAD', 'inputs: is required');
  rejects(() => parseV2InferenceRequest({ inputs: [] }), 'BAD_PAYLOAD', 'inputs: needs at least one input');
  rejects(() => parseV2InferenceRequest([]), 'BAD_PAYLOAD', 'body: expected a JSON object');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'FP32', data: 1 })), 'BAD_PAYLOAD', 'inputs[0].data: expected an array');
  const twice = { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }, { name: 'x', shape: [1], datatype: 'FP32', data: [2] }] };
  rejects(() => parseV2InferenceRequest(twice), 'BAD_PAYLOAD', 'inputs[1].name: "x" is given twice');
});

test('binary_data_size is refused without a header length and replaces data with one', () => {
  const binary = request({ shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } });
  rejects(() => parseV2InferenceRequest(binary), 'BAD_PAYLOAD', 'inputs[0].parameters.binary_data_size: binary data needs the Inference-Header-Content-Length header');
  assert.equal(parseV2InferenceRequest(binary, { binary: true }).inputs[0]?.data, undefined);
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'FP32', data: [1], parameters: { binary_data_size: 4 } }), { binary: true }), 'BAD_PAYLOAD', 'must be absent');
  rejects(() => parseV2InferenceRequest(request({ shape: [1], datatype: 'FP32', parameters: { binary_data_size: '4' } }), { binary: true }), 'BAD_PAYLOAD', 'binary_data_size: expected a byte count');
  rejects(() => parseV2InferenceRequest({ ...(request({ shape: [1], datatype: 'FP32', data: [1] }) as object), parameters: { binary_data_output: 'yes' } }), 'BAD_PAYLOAD', 'parameters.binary_data_output: expected a boolean');
});

test('responses, server metadata and model metadata', () => {
  const response = parseV2InferenceResponse({ model_name: 'iris', id: '1', outputs: [{ name: 'predict', shape: [1], datatype: 'INT64', data: [2] }] });
  assert.equal(response.outputs[0]?.name, 'predict');
  rejects(() => parseV2InferenceResponse({ outputs: [] }), 'BAD_PAYLOAD', 'model_name: is required');
  assert.deepEqual(parseV2ServerMetadata({ name: 'trantor', version: '1', extensions: ['binary_tensor_data'] }).extensions, ['binary_tensor_data']);
  rejects(() => parseV2ServerMetadata({ name: 'trantor', version: '1', extensions: [1] }), 'BAD_PAYLOAD', 'extensions[0]: expected a string');
  const model = parseV2ModelMetadata({ name: 'iris', platform: 'sklearn', inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }], outputs: [] });
  assert.deepEqual(model.inputs[0]?.shape, [-1, 4]);
  rejects(() => parseV2ModelMetadata({ name: 'iris', platform: 'sklearn', inputs: [{ name: 'x', datatype: 'FP64', shape: [-2] }], outputs: [] }), 'BAD_PAYLOAD', 'inputs[0].shape[0]: expected an integer ≥ -1');
});

test('the error body', () => {
  assert.deepEqual(v2ErrorBody(new TrantorError('BAD_PAYLOAD', 'inputs: is required')), { error: 'inputs: is required' });
  assert.deepEqual(parseV2Error({ error: 'no' }), { error: 'no' });
  assert.equal(parseV2Error({ status: {} }), undefined);
});
