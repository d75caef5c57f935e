import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from '../errors.ts';
import { JsonNumber } from '../json-lossless.ts';
import {
  decodeModelInferRequest,
  decodeModelInferResponse,
  decodeModelMetadataResponse,
  decodeServerMetadataResponse,
  encodeModelInferRequest,
  encodeModelInferResponse,
  encodeModelMetadataResponse,
  encodeServerMetadataResponse,
  v2MessageType,
  v2ProtoRoot,
  V2_GRPC_SERVICE,
} from './grpc.ts';
import type { V2Tensor } from './tensors.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function rejects(fn: () => unknown, code: string, part: string): void {
  assert.throws(fn, (err: unknown) => (err instanceof TrantorError && err.code === code && err.message.includes(part) ? true : assert.fail(String(err))));
}

/** One tensor of every datatype, with edge values. */
const EVERY_DATATYPE: V2Tensor[] = [
  { name: 'bool', shape: [2], datatype: 'BOOL', values: new Uint8Array([1, 0]) },
  { name: 'u8', shape: [2], datatype: 'UINT8', values: new Uint8Array([0, 255]) },
  { name: 'u16', shape: [1], datatype: 'UINT16', values: new Uint16Array([65535]) },
  { name: 'u32', shape: [1], datatype: 'UINT32', values: new Uint32Array([4294967295]) },
  { name: 'u64', shape: [1], datatype: 'UINT64', values: new BigUint64Array([18446744073709551615n]) },
  { name: 'i8', shape: [2], datatype: 'INT8', values: new Int8Array([-128, 127]) },
  { name: 'i16', shape: [1], datatype: 'INT16', values: new Int16Array([-32768]) },
  { name: 'i32', shape: [1, 2], datatype: 'INT32', values: new Int32Array([-2147483648, 7]) },
  { name: 'i64', shape: [2], datatype: 'INT64', values: new BigInt64Array([-9223372036854775808n, 9007199254740993n]) },
  { name: 'f32', shape: [2], datatype: 'FP32', values: new Float32Array([1.5, Number.NaN]) },
  { name: 'f64', shape: [1], datatype: 'FP64', values: new Float64Array([0.1]) },
  { name: 'bytes', shape: [2], datatype: 'BYTES', values: [new Uint8Array([0xff]), new Uint8Array([])] },
];

test('the service and its six methods are in the proto', () => {
  const service = v2ProtoRoot().lookupService(V2_GRPC_SERVICE);
  assert.deepEqual(Object.keys(service.methods), ['ServerLive', 'ServerReady', 'ModelReady', 'ServerMetadata', 'ModelMetadata', 'ModelInfer']);
  assert.equal(service.methods['ModelInfer']?.requestType, 'ModelInferRequest');
});

test('a request encodes to golden bytes derived by hand from the field numbers', () => {
  const bytes = encodeModelInferRequest({ name: 'm' }, {}, [{ name: 'x', shape: [1], datatype: 'FP32', values: new Float32Array([1.5]) }]);
  // 1:"m" | 5:{1:"x" 2:"FP32" 3:[1]} | 7:<00 00 c0 3f>
  assert.equal(hex(bytes), '0a016d' + '2a0c' + '0a0178' + '120446503332' + '1a0101' + '3a04' + '0000c03f');
});

test('every datatype round-trips through raw contents and through typed contents', () => {
  for (const raw of [true, false]) {
    const bytes = encodeModelInferRequest({ name: 'm', version: '2' }, { id: 'r' }, EVERY_DATATYPE, { raw });
    const decoded = decodeModelInferRequest(bytes);
    assert.equal(decoded.modelName, 'm');
    assert.equal(decoded.modelVersion, '2');
    assert.equal(decoded.message.id, 'r');
    assert.deepEqual(decoded.tensors, EVERY_DATATYPE, `raw: ${raw}`);
    const contents = v2MessageType('ModelInferRequest').decode(bytes) as unknown as { raw_input_contents: Uint8Array[] };
    assert.equal(contents.raw_input_contents.length, raw ? EVERY_DATATYPE.length : 0);
  }
});

test('FP16 has no contents field, so a message holding FP16 goes raw', () => {
  const outputs: V2Tensor[] = [
    { name: 'h', shape: [2], datatype: 'FP16', values: new Float32Array([0.5, -Infinity]) },
    { name: 'n', shape: [1], datatype: 'INT32', values: new Int32Array([3]) },
  ];
  const bytes = encodeModelInferResponse({ model_name: 'm' }, outputs, { raw: false });
  const plain = v2MessageType('ModelInferResponse').decode(bytes) as unknown as { raw_output_contents: Uint8Array[] };
  assert.equal(hex(plain.raw_output_contents[0] ?? new Uint8Array()), '0038' + '00fc');
  assert.deepEqual(decodeModelInferResponse(bytes).tensors, outputs);
});

test('parameters keep int64 and uint64 exact, and doubles, booleans and strings', () => {
  const parameters = { big: new JsonNumber('9223372036854775807'), huge: new JsonNumber('18446744073709551615'), small: -3, ratio: 0.5, on: true, tag: 'x' };
  const bytes = encodeModelInferResponse({ model_name: 'm', id: 'a', parameters }, [
    { name: 'y', shape: [0], datatype: 'FP32', values: new Float32Array(), parameters: { content_type: 'np' } },
  ]);
  const { message, tensors } = decodeModelInferResponse(bytes);
  assert.deepEqual(message.parameters, parameters);
  assert.deepEqual(tensors[0]?.parameters, { content_type: 'np' });
  rejects(() => encodeModelInferResponse({ model_name: 'm', parameters: { nested: { a: 1 } } }, []), 'BAD_PAYLOAD', 'parameters.nested: a gRPC parameter is a boolean, a number or a string');
});

test('requested outputs and their parameters come through', () => {
  const bytes = encodeModelInferRequest({ name: 'm' }, { outputs: [{ name: 'y', parameters: { binary_data: true } }] }, [EVERY_DATATYPE[0] as V2Tensor]);
  assert.deepEqual(decodeModelInferRequest(bytes).message.outputs, [{ name: 'y', parameters: { binary_data: true } }]);
});

/** Builds a ModelInferRequest from a plain object, as another client would send it. */
function requestBytes(object: Record<string, unknown>): Uint8Array {
  const type = v2MessageType('ModelInferRequest');
  return type.encode(type.fromObject(object)).finish();
}

test('bad tensors are refused, each with the field that is wrong', () => {
  const tensor = (extra: Record<string, unknown>): Uint8Array => requestBytes({ model_name: 'm', inputs: [{ name: 'x', datatype: 'INT32', shape: [2], ...extra }] });
  rejects(() => decodeModelInferRequest(tensor({ contents: { int_contents: [1] } })), 'PAYLOAD_SHAPE', 'inputs[0].contents.int_contents: holds 1 elements but the shape needs 2');
  rejects(() => decodeModelInferRequest(tensor({ contents: { fp32_contents: [1, 2] } })), 'BAD_PAYLOAD', 'inputs[0].contents: elements given outside int_contents');
  rejects(() => decodeModelInferRequest(tensor({ datatype: 'INT8', contents: { int_contents: [1, 300] } })), 'BAD_PAYLOAD', 'inputs[0].contents.int_contents[1]: 300 is out of range for INT8');
  rejects(() => decodeModelInferRequest(tensor({ datatype: 'FP16', contents: {} })), 'BAD_PAYLOAD', 'inputs[0].contents: FP16 has no contents field');
  rejects(() => decodeModelInferRequest(tensor({ datatype: 'FLOAT' })), 'BAD_PAYLOAD', 'inputs[0].datatype: expected one of');
  rejects(() => decodeModelInferRequest(tensor({ shape: [-1] })), 'BAD_PAYLOAD', 'inputs[0].shape[0]: expected an integer ≥ 0');
  rejects(() => decodeModelInferRequest(tensor({ raw: true })), 'PAYLOAD_SHAPE', 'holds 0 elements');
  const rawTooShort = requestBytes({ inputs: [{ name: 'x', datatype: 'INT32', shape: [2] }], raw_input_contents: [new Uint8Array(4)] });
  rejects(() => decodeModelInferRequest(rawTooShort), 'PAYLOAD_SHAPE', 'inputs[0]: 4 bytes of data, but 2 INT32 elements take 8');
  const rawMissing = requestBytes({ inputs: [{ name: 'x', datatype: 'INT32', shape: [1] }, { name: 'z', datatype: 'INT32', shape: [1] }], raw_input_contents: [new Uint8Array(4)] });
  rejects(() => decodeModelInferRequest(rawMissing), 'BAD_PAYLOAD', 'raw_input_contents: 1 entries for 2 inputs');
  rejects(() => decodeModelInferRequest(requestBytes({ model_name: 'm' })), 'BAD_PAYLOAD', 'inputs: needs at least one input');
  rejects(() => decodeModelInferRequest(new Uint8Array([0x0a, 0x05, 0x61])), 'BAD_PAYLOAD', 'not a protobuf ModelInferRequest');
});

test('server and model metadata round-trip, with -1 for a dimension of any size', () => {
  const server = { name: 'trantor', version: '1.0.0', extensions: ['binary_tensor_data'] };
  assert.deepEqual(decodeServerMetadataResponse(encodeServerMetadataResponse(server)), server);
  const model = {
    name: 'iris',
    versions: ['1'],
    platform: 'sklearn',
    inputs: [{ name: 'predict', datatype: 'FP64' as const, shape: [-1, 4] }],
    outputs: [{ name: 'predict', datatype: 'INT64' as const, shape: [-1] }],
  };
  const bytes = encodeModelMetadataResponse(model);
  assert.deepEqual(decodeModelMetadataResponse(bytes), model);
  // -1 in an int64 field is ten bytes of varint: ff ff ff ff ff ff ff ff ff 01.
  assert.ok(hex(bytes).includes('ffffffffffffffffff01'));
});
