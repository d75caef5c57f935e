import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from '../errors.ts';
import { JsonNumber, parseJsonLossless } from '../json-lossless.ts';
import type { SeldonMessage } from '../seldon.ts';
import { shortestFloat32 } from './proto-json.ts';
import { fromProto, toProto, type SeldonProtoKind, type SeldonProtoMessages } from './seldon-codec.ts';
import { seldonService } from './schema.ts';

function roundTrip<K extends SeldonProtoKind>(kind: K, json: SeldonProtoMessages[K]): SeldonProtoMessages[K] {
  return fromProto(kind, toProto(kind, json));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrantorError, `not a TrantorError: ${String(err)}`);
    return `${err.code}: ${err.message}`;
  }
  assert.fail('expected a TrantorError');
}

/** A message read as the REST body would be: numbers beyond a double kept as JsonNumbers. */
function body(text: string): SeldonMessage {
  return parseJsonLossless(text) as SeldonMessage;
}

test('every payload kind comes back as it went', () => {
  const messages: SeldonMessage[] = [
    { data: { names: ['a', 'b'], ndarray: [[1, 2.5], ['x', null, true, { k: [1, -0.25] }]] } },
    { data: { names: ['t:0'], tensor: { shape: [2, 2], values: [1, 2, 3, 4.5] } } },
    { data: { tftensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '2' }, { size: '1', name: 'col' }] }, floatVal: [1.5, 0.1] } } },
    { data: { tftensor: { dtype: 'DT_STRING', tensorShape: { dim: [{ size: '1' }] }, stringVal: ['aGk='] } } },
    { data: { tftensor: { dtype: 'DT_INT64', tensorContent: 'AQAAAAAAAAA=', versionNumber: 2 } } },
    { binData: 'aGVsbG8gd29ybGQ=' },
    { strData: 'hello' },
    { strData: '' },
    { jsonData: { a: [1, 'b', null, false], nested: { deep: {} } } },
    { jsonData: [1, 2] },
    { jsonData: 'just text' },
    {
      data: { ndarray: [1] },
      meta: {
        puid: 'p-1',
        tags: { n: 1, s: 'x', list: [true] },
        routing: { router: 1, other: -1 },
        requestPath: { model: 'seldonio/mock:1.0' },
        metrics: [
          { key: 'g', type: 'GAUGE', value: 0.1, tags: { k: 'v' } },
          { key: 't', type: 'TIMER', value: 20.5 },
        ],
      },
      status: { code: 500, info: 'boom', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' },
    },
    {},
  ];
  for (const message of messages) assert.deepEqual(roundTrip('SeldonMessage', message), message, JSON.stringify(message));
});

test('customData carries an Any: a plain-JSON well-known type under "value", a message by its fields', () => {
  const value = { customData: { '@type': 'type.googleapis.com/google.protobuf.Value', value: { x: [1, 'y'] } } };
  assert.deepEqual(roundTrip('SeldonMessage', value as SeldonMessage), value);
  const tensor = { customData: { '@type': 'type.googleapis.com/seldon.protos.Tensor', shape: [1], values: [7] } };
  assert.deepEqual(roundTrip('SeldonMessage', tensor as SeldonMessage), tensor);
  assert.match(
    errorOf(() => toProto('SeldonMessage', { customData: { '@type': 'type.googleapis.com/acme.Thing' } } as SeldonMessage)),
    /^NOT_SUPPORTED: customData: the Any's type "type\.googleapis\.com\/acme\.Thing" is not one Trantor knows/,
  );
});

test('the list, feedback and metadata messages round trip', () => {
  const list = { seldonMessages: [{ data: { ndarray: [[1]] } }, { strData: 'b', meta: { puid: 'x' } }] };
  assert.deepEqual(roundTrip('SeldonMessageList', list), list);
  const feedback = { request: { data: { ndarray: [[1, 2]] } }, response: { data: { ndarray: [[0.9]] } }, reward: 0.3, truth: { data: { ndarray: [[1]] } } };
  assert.deepEqual(roundTrip('Feedback', feedback), feedback);
  const metadata = {
    name: 'iris',
    versions: ['v1'],
    platform: 'sklearn',
    inputs: [{ messagetype: 'tensor', schema: { names: ['a', 'b'] } }, { name: 'input', datatype: 'FP32', shape: ['1', '-1'] }],
    outputs: [{ messagetype: 'ndarray' }],
    custom: { author: 'me' },
  };
  assert.deepEqual(roundTrip('SeldonModelMetadata', metadata), metadata);
  const graph = { name: 'g', models: { m: { name: 'm', platform: 'x' } }, inputs: [{ messagetype: 'jsonData' }] };
  assert.deepEqual(roundTrip('SeldonGraphMetadata', graph), graph);
});

test('the JSON comes out in the canonical proto3 form Seldon writes', () => {
  // Defaults are left out (SUCCESS, code 0, COUNTER), int64 written as strings, proto names read as JSON names.
  assert.deepEqual(
    roundTrip('SeldonMessage', body('{"status":{"code":0,"status":"SUCCESS"},"meta":{"metrics":[{"key":"c","type":"COUNTER","value":1}]},"data":{"tftensor":{"dtype":1,"tensor_shape":{"dim":[{"size":3}]},"int64_val":[1,-2]}}}')),
    { status: {}, meta: { metrics: [{ key: 'c', value: 1 }] }, data: { tftensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }] }, int64Val: ['1', '-2'] } } },
  );
  // URL-safe base64 is read; standard base64 is written.
  assert.deepEqual(roundTrip('SeldonMessage', { binData: '-_8' }), { binData: '+/8=' });
  // null clears a field; in a Value it is the JSON null.
  assert.deepEqual(roundTrip('SeldonMessage', { meta: null, jsonData: null } as unknown as SeldonMessage), { jsonData: null });
});

test('64-bit integers keep every digit, both ways', () => {
  const tftensor = { dtype: 'DT_UINT64', uint64Val: ['18446744073709551615', '9007199254740993'] };
  assert.deepEqual(roundTrip('SeldonMessage', { data: { tftensor } }), { data: { tftensor } });
  const parsed = body('{"data":{"tftensor":{"dtype":"DT_INT64","int64Val":[-9223372036854775808,9007199254740993]}}}');
  assert.ok(((parsed.data?.tftensor as { int64Val: unknown[] }).int64Val[1]) instanceof JsonNumber);
  assert.deepEqual(roundTrip('SeldonMessage', parsed), { data: { tftensor: { dtype: 'DT_INT64', int64Val: ['-9223372036854775808', '9007199254740993'] } } });
  // An integer beyond 2^53 that a double holds exactly (2^60) travels in a ListValue.
  assert.deepEqual(roundTrip('SeldonMessage', body('{"data":{"ndarray":[1152921504606846976]}}')), { data: { ndarray: [2 ** 60] } });
});

test('NaN and Infinity travel as doubles and come back as numbers, as our JSON writes them', () => {
  const out = roundTrip('SeldonMessage', body('{"data":{"ndarray":[NaN,Infinity,-Infinity]}}'));
  assert.deepEqual(out, { data: { ndarray: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] } });
  // protobuf's JSON spellings are read too.
  assert.deepEqual(roundTrip('SeldonMessage', body('{"data":{"tensor":{"shape":[2],"values":["NaN","-Infinity"]}}}')), {
    data: { tensor: { shape: [2], values: [Number.NaN, Number.NEGATIVE_INFINITY] } },
  });
});

test('a float field is written as the shortest decimal of its 32-bit value', () => {
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(Math.fround(1 / 3)), 0.33333334);
  assert.equal(shortestFloat32(Math.fround(16777217)), 16777216);
  assert.deepEqual(roundTrip('Feedback', { reward: 0.7 }), { reward: 0.7 });
});

test('golden bytes: the wire format field by field', () => {
  // field 5 (strData), length-delimited: 2a, length 2, "hi"
  assert.equal(hex(toProto('SeldonMessage', { strData: 'hi' })), '2a026869');
  // data(3) > tensor(2) > shape(1) packed [1], values(2) packed doubles [1.0]
  assert.equal(hex(toProto('SeldonMessage', { data: { tensor: { shape: [1], values: [1] } } })), '1a0f120d0a01011208000000000000f03f');
  // meta(2) > puid(1) "a"; then status(1) is written first, by field number
  assert.equal(hex(toProto('SeldonMessage', { meta: { puid: 'a' }, status: { code: 200 } })), '0a0308c80112030a0161');
  // reward(3) as a 32-bit float: tag 1d, 0.5 little-endian
  assert.equal(hex(toProto('Feedback', { reward: 0.5 })), '1d0000003f');
  // ndarray [1] : data(3) > ndarray(3) ListValue > values(1) Value > number_value(2) double 1.0
  assert.equal(hex(toProto('SeldonMessage', { data: { ndarray: [1] } })), '1a0d1a0b0a0911000000000000f03f');
});

test('what cannot convert is refused, naming the field', () => {
  const cases: [string, RegExp][] = [
    ['{"data":{"ndarray":[[1,9007199254740993]]}}', /^BAD_PAYLOAD: data\.ndarray\[0\]\[1\]: 9007199254740993 cannot be held exactly by a protobuf Value \(a double\) \(it would become 9007199254740992\)/],
    ['{"jsonData":{"id":12345678901234567890}}', /^BAD_PAYLOAD: jsonData\.id: 12345678901234567890 cannot be held exactly by a protobuf Value/],
    ['{"data":{"tensor":{"shape":[1],"values":[1e400]}}}', /^BAD_PAYLOAD: data\.tensor\.values\[0\]: 1e400 is beyond the range of a double/],
    ['{"data":{"tensor":{"shape":[1],"values":[1e-400]}}}', /^BAD_PAYLOAD: data\.tensor\.values\[0\]: 1e-400 is too small for a double/],
    ['{"data":{"tensor":{"shape":[1.5],"values":[1]}}}', /^BAD_PAYLOAD: data\.tensor\.shape\[0\]: expected an integer \(int32\), got 1\.5/],
    ['{"meta":{"routing":{"r":2147483648}}}', /^BAD_PAYLOAD: meta\.routing\.r: 2147483648 is out of range for int32/],
    ['{"data":{"tftensor":{"int64Val":["9223372036854775808"]}}}', /^BAD_PAYLOAD: data\.tftensor\.int64Val\[0\]: 9223372036854775808 is out of range for int64/],
    ['{"data":{"tftensor":{"dtype":"DT_NOPE"}}}', /^BAD_PAYLOAD: data\.tftensor\.dtype: "DT_NOPE" is not a DataType/],
    ['{"binData":"not base64!"}', /^BAD_PAYLOAD: binData: expected base64 text/],
    ['{"strData":"a","binData":"YQ=="}', /^BAD_PAYLOAD: message: only one of data, binData, strData, jsonData, customData may be given, got strData and binData/],
    ['{"data":{"ndarray":[1],"tensor":{"shape":[],"values":[]}}}', /^BAD_PAYLOAD: data: only one of tensor, ndarray, tftensor may be given/],
    ['{"datta":{}}', /^BAD_PAYLOAD: datta: SeldonMessage has no such field \(it has status, meta, data, binData, strData, jsonData, customData\)/],
    ['{"data":{"names":["a",null]}}', /^BAD_PAYLOAD: data\.names\[1\]: null is not allowed in a repeated field/],
    ['{"meta":{"puid":7}}', /^BAD_PAYLOAD: meta\.puid: expected a string, got 7/],
    ['{"data":[1]}', /^BAD_PAYLOAD: data: expected an object \(DefaultData\)/],
    ['{"status":{"status":true}}', /^BAD_PAYLOAD: status\.status: expected a StatusFlag name or number/],
  ];
  for (const [text, expected] of cases) assert.match(errorOf(() => toProto('SeldonMessage', body(text))), expected, text);
  assert.match(errorOf(() => toProto('Feedback', { reward: 1e39 })), /^BAD_PAYLOAD: reward: 1e\+39 is beyond the range of a float/);
  assert.match(errorOf(() => toProto('SeldonMessageList', { seldonMessages: [{}, { strData: 1 }] } as never)), /^BAD_PAYLOAD: seldonMessages\[1\]\.strData: expected a string/);
});

test('bytes that are not the message are a BAD_PAYLOAD', () => {
  assert.match(errorOf(() => fromProto('SeldonMessage', Uint8Array.from([0x1a, 0x05, 0x01]))), /^BAD_PAYLOAD: not a protobuf SeldonMessage: /);
});

test('a decoded object is read as bytes are', () => {
  const decoded = { strData: 'x', meta: { puid: 'p', routing: { r: 2 } } };
  assert.deepEqual(fromProto('SeldonMessage', decoded), { strData: 'x', meta: { puid: 'p', routing: { r: 2 } } });
});

test("the services carry Seldon's method names and message types", () => {
  const methods = Object.entries(seldonService('Seldon').methods).map(([name, m]) => `${name}(${m.requestType}) ${m.responseType}`);
  assert.deepEqual(methods, [
    'Predict(SeldonMessage) SeldonMessage',
    'SendFeedback(Feedback) SeldonMessage',
    'ModelMetadata(SeldonModelMetadataRequest) SeldonModelMetadata',
    'GraphMetadata(google.protobuf.Empty) SeldonGraphMetadata',
  ]);
  assert.deepEqual(Object.keys(seldonService('Generic').methods), ['TransformInput', 'TransformOutput', 'Route', 'Aggregate', 'SendFeedback']);
  assert.deepEqual(Object.keys(seldonService('Model').methods), ['Predict', 'SendFeedback', 'Metadata']);
});

test('a large tensor crosses the codec exactly (NaN, -0 and Infinity too), and a bad element is still named by its place', () => {
  const values = Array.from({ length: 100_000 }, (_, i) => (i % 7 === 0 ? -0 : Math.sin(i) * 1e300));
  values[3] = Number.NaN;
  values[4] = Number.POSITIVE_INFINITY;
  const bytes = toProto('SeldonMessage', { data: { tensor: { shape: [1, values.length], values } } });
  const back = fromProto('SeldonMessage', bytes) as { data: { tensor: { values: number[] } } };
  assert.equal(back.data.tensor.values.length, values.length);
  back.data.tensor.values.forEach((v, i) => assert.ok(Object.is(v, values[i]), `values[${i}]: ${v} vs ${values[i]}`));
  // A bad element is still named by its place.
  assert.throws(() => toProto('SeldonMessage', { data: { tensor: { shape: [3], values: [1, 'x', 3] } } } as never), /data\.tensor\.values\[1\]/);
});
