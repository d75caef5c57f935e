/**
 * Cross-checks against Triton's own Python client (`tritonclient[http,grpc]` from PyPI, in a
 * python named by TRANTOR_TRITON_PYTHON; skipped with the reason when it is not set): its REST
 * binary request bodies (InferInput.set_data_from_numpy(binary_data=True)) are read by our
 * parser; its generated gRPC messages are read by our codec, ours by its; a response body we
 * write with binary outputs is read by its parse_response_body; and v2.proto's messages have the
 * field names, numbers and types of its compiled descriptors.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonNumber, parseJsonLossless } from '../json-lossless.ts';
import { decodeV2Request, encodeV2Response } from './binary.ts';
import { decodeModelInferRequest, encodeModelInferResponse, v2MessageType } from './grpc.ts';
import type { V2Tensor, V2TensorValues } from './tensors.ts';

const PYTHON = process.env['TRANTOR_TRITON_PYTHON'] ?? '';
// In CI the client must be there (.ci/run installs it): a missing one fails rather than skips.
const SKIP = PYTHON === '' && process.env['CI'] !== 'true' ? 'TRANTOR_TRITON_PYTHON is not set (a python with tritonclient[http,grpc] and numpy; .ci/run makes one)' : false;

function python(script: string, input = ''): unknown {
  if (PYTHON === '') assert.fail('TRANTOR_TRITON_PYTHON is not set: .ci/run installs tritonclient and sets it');
  const run = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, `python failed: ${run.stderr}`);
  return parseJsonLossless(run.stdout);
}

/** Our typed values as JSON-comparable lists: 64-bit integers as text, BYTES as hex. */
function plain(values: V2TensorValues): unknown[] {
  if (Array.isArray(values)) return values.map((bytes) => Buffer.from(bytes).toString('hex'));
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Array.from(values, String);
  return Array.from(values as ArrayLike<number>);
}

/** Numpy arrays of every datatype (their expected values as the same plain lists), shared by the scripts. */
const ARRAYS = `
import json, sys, numpy as np
ARRAYS = [
  ('b', 'BOOL', np.array([True, False, True])),
  ('u8', 'UINT8', np.array([0, 255], dtype=np.uint8)),
  ('u16', 'UINT16', np.array([[1, 65535]], dtype=np.uint16)),
  ('u32', 'UINT32', np.array([4294967295], dtype=np.uint32)),
  ('u64', 'UINT64', np.array([2**64 - 1, 2**53 + 1], dtype=np.uint64)),
  ('i8', 'INT8', np.array([-128, 127], dtype=np.int8)),
  ('i16', 'INT16', np.array([-32768], dtype=np.int16)),
  ('i32', 'INT32', np.array([[-2147483648], [5]], dtype=np.int32)),
  ('i64', 'INT64', np.array([-2**63, 2**53 + 1], dtype=np.int64)),
  ('f16', 'FP16', np.array([0.1, 65504, -np.inf, 2**-24, 1 + 2**-11], dtype=np.float16)),
  ('f32', 'FP32', np.array([[1.5, -0.1]], dtype=np.float32)),
  ('f64', 'FP64', np.array([0.1, 1e308], dtype=np.float64)),
  ('s', 'BYTES', np.array([b'ab', b'\\xff\\x00', b''], dtype=np.object_)),
]
def plain(datatype, arr):
  flat = arr.flatten()
  if datatype == 'BYTES': return [bytes(x).hex() for x in flat]
  if datatype in ('INT64', 'UINT64'): return [str(int(x)) for x in flat]
  if datatype == 'BOOL': return [1 if x else 0 for x in flat]
  return [float(x) if datatype.startswith('FP') else int(x) for x in flat]
EXPECTED = {name: {'datatype': dt, 'shape': list(arr.shape), 'values': plain(dt, arr)} for name, dt, arr in ARRAYS}
`;

interface Expected {
  datatype: string;
  shape: number[];
  values: unknown[];
}

function sameTensors(tensors: V2Tensor[], expected: Record<string, Expected>): void {
  assert.deepEqual(
    tensors.map((tensor) => tensor.name),
    Object.keys(expected),
  );
  for (const tensor of tensors) {
    const want = expected[tensor.name] as Expected;
    assert.equal(tensor.datatype, want.datatype, tensor.name);
    assert.deepEqual(tensor.shape, want.shape, tensor.name);
    assert.deepEqual(plain(tensor.values), want.values.map((value) => (value instanceof JsonNumber ? Number(value) : value)), tensor.name);
  }
}

test('a tritonclient.http binary request body is read exactly by our parser', { skip: SKIP }, () => {
  const out = python(`${ARRAYS}
import tritonclient.http as th
inputs = []
for name, dt, arr in ARRAYS:
  i = th.InferInput(name, list(arr.shape), dt)
  i.set_data_from_numpy(arr, binary_data=(name != 'i32'))  # one input as JSON, among binary ones
  inputs.append(i)
outputs = [th.InferRequestedOutput('y', binary_data=True)]
body, json_size = th.InferenceServerClient.generate_request_body(inputs, outputs=outputs, request_id='r1')
print(json.dumps({'body': body.hex(), 'json_size': json_size, 'expected': EXPECTED}))
`) as { body: string; json_size: number; expected: Record<string, Expected> };
  const { message, tensors } = decodeV2Request(new Uint8Array(Buffer.from(out.body, 'hex')), out.json_size);
  assert.equal(message.id, 'r1');
  assert.deepEqual(message.outputs, [{ name: 'y', parameters: { binary_data: true } }]);
  sameTensors(tensors, out.expected);
});

test('our binary response body is read by tritonclient.http', { skip: SKIP }, () => {
  const outputs: V2Tensor[] = [
    { name: 'h', shape: [2], datatype: 'FP16', values: new Float32Array([0.5, -Infinity]) },
    { name: 'i', shape: [1, 2], datatype: 'INT64', values: new BigInt64Array([9007199254740993n, -1n]) },
    { name: 's', shape: [2], datatype: 'BYTES', values: [new Uint8Array([0xff]), new Uint8Array([0x61, 0x62])] },
    { name: 'j', shape: [1], datatype: 'FP32', values: new Float32Array([1.5]) },
  ];
  const { body, headerLength } = encodeV2Response({ model_name: 'm', id: 'r1' }, outputs, (name) => name !== 'j');
  const out = python(
    `
import json, sys
import tritonclient.http as th
data = bytes.fromhex(sys.stdin.read())
result = th.InferenceServerClient.parse_response_body(data, header_length=${headerLength ?? 0})
def plain(name):
  arr = result.as_numpy(name)
  if arr.dtype == object: return [bytes(x).hex() for x in arr.flatten()]
  if arr.dtype.kind in 'iu' and arr.dtype.itemsize == 8: return [str(int(x)) for x in arr.flatten()]
  return [float(x) for x in arr.flatten()]
print(json.dumps({n: {'shape': list(result.as_numpy(n).shape), 'values': plain(n)} for n in ['h', 'i', 's', 'j']}))
`,
    Buffer.from(body).toString('hex'),
  ) as Record<string, { shape: number[]; values: unknown[] }>;
  for (const tensor of outputs) {
    assert.deepEqual(out[tensor.name], { shape: tensor.shape, values: plain(tensor.values) }, tensor.name);
  }
});

test("tritonclient's gRPC ModelInferRequest, raw and in contents, is read by our codec", { skip: SKIP }, () => {
  const out = python(`${ARRAYS}
from tritonclient.grpc import service_pb2 as pb
FIELD = {'BOOL': 'bool_contents', 'UINT8': 'uint_contents', 'UINT16': 'uint_contents', 'UINT32': 'uint_contents', 'UINT64': 'uint64_contents',
         'INT8': 'int_contents', 'INT16': 'int_contents', 'INT32': 'int_contents', 'INT64': 'int64_contents', 'FP32': 'fp32_contents',
         'FP64': 'fp64_contents', 'BYTES': 'bytes_contents'}
def build(raw):
  req = pb.ModelInferRequest(model_name='m', model_version='3', id='g')
  req.parameters['big'].int64_param = 2**63 - 1
  req.parameters['huge'].uint64_param = 2**64 - 1
  req.parameters['ratio'].double_param = 0.25
  req.parameters['flag'].bool_param = True
  req.parameters['tag'].string_param = 'x'
  for name, dt, arr in ARRAYS:
    if dt == 'FP16' and not raw: continue
    t = req.inputs.add(name=name, datatype=dt, shape=list(arr.shape))
    if raw:
      flat = arr.flatten()
      req.raw_input_contents.append(b''.join(len(x).to_bytes(4, 'little') + x for x in flat) if dt == 'BYTES' else arr.tobytes())
    else:
      getattr(t.contents, FIELD[dt]).extend([bool(x) if dt == 'BOOL' else bytes(x) if dt == 'BYTES' else x.item() for x in arr.flatten()])
  req.outputs.add(name='y').parameters['binary_data'].bool_param = True
  return req.SerializeToString().hex()
print(json.dumps({'raw': build(True), 'contents': build(False), 'expected': EXPECTED}))
`) as { raw: string; contents: string; expected: Record<string, Expected> };
  for (const form of ['raw', 'contents'] as const) {
    const decoded = decodeModelInferRequest(new Uint8Array(Buffer.from(out[form], 'hex')));
    assert.equal(decoded.modelName, 'm');
    assert.equal(decoded.modelVersion, '3');
    assert.equal(decoded.message.id, 'g');
    assert.deepEqual(decoded.message.parameters, { big: new JsonNumber('9223372036854775807'), huge: new JsonNumber('18446744073709551615'), ratio: 0.25, flag: true, tag: 'x' });
    assert.deepEqual(decoded.message.outputs, [{ name: 'y', parameters: { binary_data: true } }]);
    const expected = { ...out.expected };
    if (form === 'contents') delete expected['f16'];
    sameTensors(decoded.tensors, expected);
  }
});

test('our gRPC ModelInferResponse, raw and in contents, is read by tritonclient', { skip: SKIP }, () => {
  const outputs: V2Tensor[] = [
    { name: 'i', shape: [2], datatype: 'INT64', values: new BigInt64Array([-9223372036854775808n, 9007199254740993n]) },
    { name: 'u', shape: [1], datatype: 'UINT16', values: new Uint16Array([65535]) },
    { name: 'f', shape: [1, 1], datatype: 'FP32', values: new Float32Array([-0.5]) },
    { name: 's', shape: [1], datatype: 'BYTES', values: [new Uint8Array([0, 0xff])] },
  ];
  for (const raw of [true, false]) {
    const bytes = encodeModelInferResponse({ model_name: 'm', id: 'r', parameters: { n: new JsonNumber('18446744073709551615') } }, outputs, { raw });
    const out = python(
      `
import json, sys, numpy as np
from tritonclient.grpc import service_pb2 as pb, InferResult
resp = pb.ModelInferResponse.FromString(bytes.fromhex(sys.stdin.read()))
result = InferResult(resp)
FIELD = {'INT64': 'int64_contents', 'UINT16': 'uint_contents', 'FP32': 'fp32_contents', 'BYTES': 'bytes_contents'}
def values(o):
  # tritonclient's as_numpy reads raw contents only; typed contents are read from their field.
  if resp.raw_output_contents: return list(result.as_numpy(o.name).flatten())
  return list(getattr(o.contents, FIELD[o.datatype]))
def plain(o):
  if o.datatype == 'BYTES': return [bytes(x).hex() for x in values(o)]
  if o.datatype == 'INT64': return [str(int(x)) for x in values(o)]
  return [x.item() if hasattr(x, 'item') else x for x in values(o)]
print(json.dumps({'model': resp.model_name, 'id': resp.id, 'n': str(resp.parameters['n'].uint64_param), 'raw': len(resp.raw_output_contents),
  'outputs': {o.name: {'datatype': o.datatype, 'shape': list(o.shape), 'values': plain(o)} for o in resp.outputs}}))
`,
      Buffer.from(bytes).toString('hex'),
    ) as { model: string; id: string; n: string; raw: number; outputs: Record<string, Expected> };
    assert.equal(out.model, 'm');
    assert.equal(out.id, 'r');
    assert.equal(out.n, '18446744073709551615');
    assert.equal(out.raw, raw ? outputs.length : 0);
    sameTensors(outputs, out.outputs);
  }
});

test("v2.proto's messages have the field names, numbers and types of tritonclient's descriptors", { skip: SKIP }, () => {
  const names = [
    'ServerLiveRequest', 'ServerLiveResponse', 'ServerReadyRequest', 'ServerReadyResponse', 'ModelReadyRequest', 'ModelReadyResponse',
    'ServerMetadataRequest', 'ServerMetadataResponse', 'ModelMetadataRequest', 'ModelMetadataResponse', 'ModelMetadataResponse.TensorMetadata',
    'InferParameter', 'InferTensorContents', 'ModelInferRequest', 'ModelInferRequest.InferInputTensor', 'ModelInferRequest.InferRequestedOutputTensor',
    'ModelInferResponse', 'ModelInferResponse.InferOutputTensor',
  ];
  const theirs = python(
    `
import json
from tritonclient.grpc import service_pb2 as pb
TYPES = {1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 8: 'bool', 9: 'string', 12: 'bytes', 13: 'uint32'}
def kind(f):
  if f.message_type is not None and f.message_type.GetOptions().map_entry:
    return 'map<%s,%s>' % (TYPES[f.message_type.fields_by_name['key'].type], f.message_type.fields_by_name['value'].message_type.name)
  name = f.message_type.name if f.message_type is not None else TYPES[f.type]
  return ('repeated ' if f.label == 3 else '') + name + (' oneof ' + f.containing_oneof.name if f.containing_oneof else '')
out = {}
for name in ${JSON.stringify(names)}:
  d = pb.DESCRIPTOR.message_types_by_name[name.split('.')[0]]
  for part in name.split('.')[1:]: d = d.nested_types_by_name[part]
  out[name] = sorted(([f.name, f.number, kind(f)] for f in d.fields), key=lambda row: row[1])
print(json.dumps(out))
`,
  ) as Record<string, unknown[]>;
  // Our side: the same description from protobufjs's reflection.
  const ours: Record<string, unknown[]> = {};
  for (const name of names) {
    const type = v2MessageType(name);
    ours[name] = type.fieldsArray
      .map((field) => {
        field.resolve();
        const typeName = field.resolvedType?.name ?? field.type;
        if (field.map) return [field.name, field.id, `map<${(field as unknown as { keyType: string }).keyType},${typeName}>`];
        return [field.name, field.id, (field.repeated ? 'repeated ' : '') + typeName + (field.partOf ? ` oneof ${field.partOf.name}` : '')];
      })
      .sort((a, b) => Number(a[1]) - Number(b[1]));
  }
  assert.deepEqual(ours, theirs);
});
