import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from '../errors.ts';
import { JsonNumber, parseJsonLossless } from '../json-lossless.ts';
import { binaryOutputsWanted, decodeV2Request, decodeV2Response, encodeV2Request, encodeV2Response, parseHeaderLength } from './binary.ts';
import { parseV2InferenceRequest } from './parse.ts';
import { dataFromValues, decodeRaw, encodeRaw, tensorFromJson, tensorToJson, type V2Tensor } from './tensors.ts';
import type { V2Datatype } from './types.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/ /g, ''), 'hex'));

function rejects(fn: () => unknown, code: string, part: string): void {
  assert.throws(fn, (err: unknown) => err instanceof TrantorError && err.code === code && err.message.includes(part) ? true : assert.fail(String(err)));
}

/** Golden raw bytes, derived by hand from IEEE 754 and two's complement, little-endian. */
const GOLDEN: [V2Datatype, unknown[], string][] = [
  ['BOOL', [true, false, true], '01 00 01'],
  ['UINT8', [0, 255], '00 ff'],
  ['UINT16', [258], '02 01'],
  ['UINT32', [4294967295], 'ff ff ff ff'],
  ['UINT64', [new JsonNumber('18446744073709551615')], 'ff ff ff ff ff ff ff ff'],
  ['INT8', [-1, 127], 'ff 7f'],
  ['INT16', [-2], 'fe ff'],
  ['INT32', [-1, 1], 'ff ff ff ff 01 00 00 00'],
  // 2^53 + 1 = 0x0020000000000001: a double would make it 2^53.
  ['INT64', [new JsonNumber('9007199254740993'), -2], '01 00 00 00 00 00 20 00 fe ff ff ff ff ff ff ff'],
  ['FP16', [1, -2, 65504], '00 3c 00 c0 ff 7b'],
  ['FP32', [1.5, -0.5], '00 00 c0 3f 00 00 00 bf'],
  ['FP64', [1.5], '00 00 00 00 00 00 f8 3f'],
  ['BYTES', ['ab', ''], '02 00 00 00 61 62 00 00 00 00'],
];

test('each datatype encodes to its golden little-endian bytes and decodes back', () => {
  for (const [datatype, data, bytes] of GOLDEN) {
    const tensor = tensorFromJson({ name: 'x', shape: [data.length], datatype, data: data as never });
    assert.equal(hex(encodeRaw(datatype, tensor.values)), bytes.replace(/ /g, ''), datatype);
    const values = decodeRaw(datatype, fromHex(bytes), data.length, 'x');
    assert.deepEqual(dataFromValues(datatype, values), data, datatype);
  }
});

test('raw sizes must match shape × datatype size', () => {
  rejects(() => decodeRaw('FP32', fromHex('00 00 c0'), 1, 'inputs[0]'), 'PAYLOAD_SHAPE', 'inputs[0]: 3 bytes of data, but 1 FP32 elements take 4');
  rejects(() => decodeRaw('INT64', new Uint8Array(16), 1, 'inputs[0]'), 'PAYLOAD_SHAPE', 'take 8');
  rejects(() => decodeRaw('BYTES', fromHex('05 00 00 00 61'), 1, 'inputs[1]'), 'BAD_PAYLOAD', 'inputs[1]: BYTES element 0 claims 5 bytes, but only 1 remain');
  rejects(() => decodeRaw('BYTES', fromHex('01 00 00 00 61 00'), 1, 'x'), 'PAYLOAD_SHAPE', '1 bytes left over after 1 BYTES elements');
  rejects(() => decodeRaw('BYTES', fromHex('01 00 00 00 61 00 00'), 2, 'x'), 'PAYLOAD_SHAPE', 'BYTES element 1 of 2 starts past the end');
});

test('BYTES that are not UTF-8 stay bytes in the typed view and are refused as JSON', () => {
  const values = decodeRaw('BYTES', fromHex('02 00 00 00 ff fe'), 1, 'x');
  assert.deepEqual(values, [new Uint8Array([0xff, 0xfe])]);
  rejects(() => tensorToJson({ name: 'img', shape: [1], datatype: 'BYTES', values }, 'outputs[0]'), 'BAD_PAYLOAD', 'outputs[0].data[0]: BYTES element is not UTF-8');
});

test('a typed tensor must fill its shape with the right array', () => {
  rejects(() => tensorToJson({ name: 'y', shape: [2], datatype: 'FP32', values: new Float32Array(3) }, 'outputs[0]'), 'PAYLOAD_SHAPE', 'outputs[0]: holds 3 elements but shape [2] needs 2');
  rejects(() => tensorToJson({ name: 'y', shape: [1], datatype: 'INT64', values: new Int32Array(1) }, 'outputs[0]'), 'BAD_PAYLOAD', 'outputs[0].values: not the array a INT64 tensor holds');
});

test('a binary request body is read: JSON header, then each binary tensor in order', () => {
  const header = JSON.stringify({
    id: 'r1',
    inputs: [
      { name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } },
      { name: 'b', shape: [1], datatype: 'INT32', data: [7] },
      { name: 'c', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 7 } },
    ],
    outputs: [{ name: 'y', parameters: { binary_data: true } }],
  });
  const tail = '00 00 c0 3f 00 00 00 bf' + '03 00 00 00 61 62 63';
  const body = new Uint8Array([...Buffer.from(header), ...fromHex(tail)]);
  const { message, tensors } = decodeV2Request(body, header.length);
  assert.equal(message.id, 'r1');
  assert.deepEqual(tensors[0], { name: 'a', shape: [2], datatype: 'FP32', values: new Float32Array([1.5, -0.5]) });
  assert.deepEqual(tensors[1]?.values, new Int32Array([7]));
  assert.deepEqual(tensors[2]?.values, [new Uint8Array([0x61, 0x62, 0x63])]);
  assert.equal(binaryOutputsWanted(message)('y'), true);
});

test('binary bodies are checked against their limits', () => {
  const header = JSON.stringify({ inputs: [{ name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }] });
  const withTail = (tail: string): Uint8Array => new Uint8Array([...Buffer.from(header), ...fromHex(tail)]);
  rejects(() => decodeV2Request(withTail('00 00 c0 3f'), header.length), 'BAD_PAYLOAD', 'inputs[0].parameters.binary_data_size: 8 bytes, but only 4 remain in the body');
  rejects(() => decodeV2Request(withTail('00'.repeat(9)), header.length), 'BAD_PAYLOAD', '1 bytes after the last binary tensor belong to none');
  rejects(() => decodeV2Request(withTail('00'.repeat(8)), header.length + 100), 'BAD_PAYLOAD', 'is longer than the');
  rejects(() => decodeV2Request(withTail('00'.repeat(8)), header.length - 1), 'BAD_JSON', 'the JSON header is not valid JSON');
  const wrongSize = JSON.stringify({ inputs: [{ name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 4 } }] });
  rejects(() => decodeV2Request(new Uint8Array([...Buffer.from(wrongSize), 0, 0, 0, 0]), wrongSize.length), 'PAYLOAD_SHAPE', 'inputs[0]: 4 bytes of data, but 2 FP32 elements take 8');
  rejects(() => parseHeaderLength('12a'), 'BAD_PATH', 'Inference-Header-Content-Length: expected a byte count');
  assert.equal(parseHeaderLength(' 42 '), 42);
  assert.equal(parseHeaderLength(undefined), undefined);
});

test('a plain JSON body decodes with no header length', () => {
  const text = '{"inputs":[{"name":"a","shape":[1],"datatype":"UINT64","data":[18446744073709551615]}]}';
  const { tensors } = decodeV2Request(new Uint8Array(Buffer.from(text)), undefined);
  assert.deepEqual(tensors[0]?.values, new BigUint64Array([18446744073709551615n]));
});

test('a response is written with the outputs the request asked for as binary, and reads back', () => {
  const request = parseV2InferenceRequest({
    inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }],
    outputs: [{ name: 'probs', parameters: { binary_data: true } }, { name: 'label' }],
  });
  const outputs: V2Tensor[] = [
    { name: 'probs', shape: [1, 2], datatype: 'FP16', values: new Float32Array([0.5, 0.25]) },
    { name: 'label', shape: [1], datatype: 'INT64', values: new BigInt64Array([9007199254740993n]) },
  ];
  const { body, headerLength } = encodeV2Response({ model_name: 'iris', id: 'r1' }, outputs, binaryOutputsWanted(request));
  assert.ok(headerLength !== undefined);
  const header = Buffer.from(body.subarray(0, headerLength)).toString();
  assert.equal(
    header,
    '{"model_name":"iris","id":"r1","outputs":[{"name":"probs","shape":[1,2],"datatype":"FP16","parameters":{"binary_data_size":4}},' +
      '{"name":"label","shape":[1],"datatype":"INT64","data":[9007199254740993]}]}',
  );
  assert.equal(hex(body.subarray(headerLength)), '00380034');
  const decoded = decodeV2Response(body, headerLength);
  assert.deepEqual(decoded.tensors, outputs);
});

test('a request is written all binary by default, and all JSON when asked', () => {
  const inputs: V2Tensor[] = [{ name: 'x', shape: [2], datatype: 'BOOL', values: new Uint8Array([1, 0]) }];
  const binary = encodeV2Request({ id: 'q' }, inputs);
  assert.deepEqual(decodeV2Request(binary.body, binary.headerLength).tensors, inputs);
  const json = encodeV2Request({ id: 'q' }, inputs, () => false);
  assert.equal(json.headerLength, undefined);
  assert.deepEqual(parseJsonLossless(Buffer.from(json.body).toString()), { id: 'q', inputs: [{ name: 'x', shape: [2], datatype: 'BOOL', data: [true, false] }] });
});

test('binary_data_output asks for every output unless an output says otherwise', () => {
  const wanted = binaryOutputsWanted(
    parseV2InferenceRequest({ parameters: { binary_data_output: true }, inputs: [{ name: 'x', shape: [0], datatype: 'FP32', data: [] }], outputs: [{ name: 'a', parameters: { binary_data: false } }] }),
  );
  assert.equal(wanted('a'), false);
  assert.equal(wanted('b'), true);
  assert.equal(binaryOutputsWanted(parseV2InferenceRequest({ inputs: [{ name: 'x', shape: [0], datatype: 'FP32', data: [] }] }))('a'), false);
});
