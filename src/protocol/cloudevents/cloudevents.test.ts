import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attributeOf,
  decodeHttpEvent,
  encodeBinary,
  encodeStructured,
  dataBytes,
  decodeStructured,
  eventToJson,
  eventToJsonText,
  httpEventMode,
  memberText,
  isRfc3339,
  percentDecodeHeaderValue,
  percentEncodeHeaderValue,
  unquoteHeaderValue,
} from './index.ts';
import type { CloudEvent } from './index.ts';
import { TrantorError } from '../errors.ts';

const SEED_HEADERS = {
  'Ce-Id': '536808d3-88be-4077-9d7a-a3f162705f79',
  'Ce-specversion': '0.3',
  'Ce-Type': 'seldon.iris-deployment.default.request',
  'Ce-Source': 'seldon.examples.streaming.curl',
  'Content-Type': 'application/json',
};
const SEED_BODY = Buffer.from('{"data": { "ndarray": [[1,2,3,4]]}}');

function badEvent(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TrantorError, `expected a TrantorError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_EVENT');
    assert.equal(err.status, 400);
    assert.match(err.message, pattern);
    return true;
  });
}

function structured(obj: unknown): Buffer {
  return Buffer.from(JSON.stringify(obj));
}
const CE_JSON = { 'content-type': 'application/cloudevents+json' };

test('the seed curl decodes as a binary-mode 0.3 event with mixed-case headers', () => {
  const event = decodeHttpEvent(SEED_HEADERS, SEED_BODY);
  assert.equal(event.specversion, '0.3');
  assert.equal(event.id, '536808d3-88be-4077-9d7a-a3f162705f79');
  assert.equal(event.type, 'seldon.iris-deployment.default.request');
  assert.equal(event.source, 'seldon.examples.streaming.curl');
  assert.equal(event.datacontenttype, 'application/json');
  assert.deepEqual(event.extensions, {});
  assert.ok(event.data instanceof Uint8Array);
  assert.equal(Buffer.from(event.data).toString(), SEED_BODY.toString());
});

test('binary mode: unknown ce- headers become extensions; an empty body means no data', () => {
  const event = decodeHttpEvent({ ...SEED_HEADERS, 'ce-Traceparent': '00-abc-01', 'Ce-Subject': 'x' }, Buffer.alloc(0));
  assert.deepEqual(event.extensions, { traceparent: '00-abc-01' });
  assert.equal(event.subject, 'x');
  assert.equal(event.data, undefined);
});

test('binary mode: header values are percent-decoded', () => {
  const event = decodeHttpEvent({ ...SEED_HEADERS, 'Ce-Source': 'a%20b', 'ce-myext': '100%25%20%E2%82%AC' }, Buffer.alloc(0));
  assert.equal(event.source, 'a b');
  assert.equal(event.extensions['myext'], '100% €');
});

test('binary mode: a % not followed by two hex digits is a 400', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-source': 'a%2' }, Buffer.alloc(0)), /ce-source.*percent-encoding/i);
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-source': 'a%zz' }, Buffer.alloc(0)), /percent-encoding/);
});

test('binary mode: bytes that are not UTF-8 after percent-decoding are a 400', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-source': 'a%FFb' }, Buffer.alloc(0)), /ce-source.*UTF-8/i);
});

test('binary mode: an extension name with a non-alphanumeric character is a 400', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-my-ext': 'v' }, Buffer.alloc(0)), /my-ext/);
});

test('an extension name longer than 20 characters is accepted', () => {
  const event = decodeHttpEvent({ ...SEED_HEADERS, 'ce-averyveryverylongextensionname': 'v' }, Buffer.alloc(0));
  assert.equal(event.extensions['averyveryverylongextensionname'], 'v');
});

for (const missing of ['Ce-Id', 'Ce-Type', 'Ce-Source']) {
  test(`binary mode: a missing ${missing} is a 400 naming the attribute`, () => {
    const headers: Record<string, string> = { ...SEED_HEADERS };
    delete headers[missing];
    badEvent(() => decodeHttpEvent(headers, SEED_BODY), new RegExp(`missing required attribute ${missing.slice(3).toLowerCase()}`));
  });
}

test('a request without Ce-Specversion is a 400 naming specversion', () => {
  const headers: Record<string, string> = { ...SEED_HEADERS };
  delete headers['Ce-specversion'];
  badEvent(() => decodeHttpEvent(headers, SEED_BODY), /missing required attribute specversion/);
});

test('a specversion other than 0.3 or 1.0 is a 400', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'Ce-specversion': '2.0' }, SEED_BODY), /specversion "2.0" is not supported/);
});

test('an empty id is a 400 naming id', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'Ce-Id': '' }, SEED_BODY), /attribute id must not be empty/);
});

test('a time that is not RFC 3339 is a 400 naming time', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-time': '2020-03-17 22:22:51' }, SEED_BODY), /attribute time .* RFC 3339/);
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-time': '2020-02-30T22:22:51Z' }, SEED_BODY), /time/);
});

test('RFC 3339 timestamps with fractions and offsets are accepted; impossible dates are not', () => {
  assert.ok(isRfc3339('2020-03-17T22:22:51.189357683Z'));
  assert.ok(isRfc3339('2020-03-17t22:22:51+05:30'));
  assert.ok(isRfc3339('2024-02-29T00:00:00Z'));
  assert.ok(!isRfc3339('2023-02-29T00:00:00Z'));
  assert.ok(!isRfc3339('2020-13-01T00:00:00Z'));
  assert.ok(!isRfc3339('2020-03-17T24:00:00Z'));
  assert.ok(!isRfc3339('2020-03-17T22:22:51'));
});

test('structured mode: data holds the JSON value; extensions keep their JSON type', () => {
  const event = decodeHttpEvent(CE_JSON, structured({
    specversion: '1.0', id: '1', source: '/s', type: 't', datacontenttype: 'application/json',
    time: '2020-03-17T22:22:51Z', knativebrokerttl: 255, flag: true, data: { a: [1, 2] },
  }));
  assert.deepEqual(event.data, { a: [1, 2] });
  assert.deepEqual(event.extensions, { knativebrokerttl: 255, flag: true });
  assert.equal(event.time, '2020-03-17T22:22:51Z');
});

test('structured mode: data_base64 becomes bytes', () => {
  const event = decodeHttpEvent({ 'Content-Type': 'application/cloudevents+json; charset=utf-8' }, structured({
    specversion: '1.0', id: '1', source: '/s', type: 't', data_base64: Buffer.from([0, 1, 255]).toString('base64'),
  }));
  assert.deepEqual([...(event.data as Uint8Array)], [0, 1, 255]);
});

test('structured mode 0.3: datacontentencoding base64 decodes data to bytes', () => {
  const event = decodeHttpEvent(CE_JSON, structured({
    specversion: '0.3', id: '1', source: '/s', type: 't', datacontentencoding: 'base64', data: Buffer.from('hi').toString('base64'),
  }));
  assert.equal(Buffer.from(event.data as Uint8Array).toString(), 'hi');
});

test('structured mode: invalid JSON is a 400', () => {
  badEvent(() => decodeHttpEvent(CE_JSON, Buffer.from('{"specversion":')), /structured-mode event: not valid JSON/);
});

test('structured mode: a missing source is a 400 naming source', () => {
  badEvent(() => decodeHttpEvent(CE_JSON, structured({ specversion: '1.0', id: '1', type: 't' })), /missing required attribute source/);
});

test('structured mode: data and data_base64 together are a 400', () => {
  badEvent(() => decodeHttpEvent(CE_JSON, structured({ specversion: '1.0', id: '1', source: 's', type: 't', data: 1, data_base64: 'AA==' })), /both data and data_base64/);
});

test('structured mode: an object-valued extension is a 400', () => {
  badEvent(() => decodeHttpEvent(CE_JSON, structured({ specversion: '1.0', id: '1', source: 's', type: 't', ext: { a: 1 } })), /extension attribute ext/);
});

test('structured mode: an extension name with upper-case letters is a 400', () => {
  badEvent(() => decodeHttpEvent(CE_JSON, structured({ specversion: '1.0', id: '1', source: 's', type: 't', myExt: 'x' })), /myExt/);
});

test('batch mode is refused with a 400 that says so', () => {
  assert.equal(httpEventMode({ 'content-type': 'application/cloudevents-batch+json' }), 'batch');
  badEvent(() => decodeHttpEvent({ 'content-type': 'application/cloudevents-batch+json' }, Buffer.from('[]')), /batch mode .* not supported/);
});

test('percent-encoding escapes space, double quote, percent and non-ASCII as UTF-8', () => {
  assert.equal(percentEncodeHeaderValue('plain-value_1.0'), 'plain-value_1.0');
  assert.equal(percentEncodeHeaderValue('a b"c%d'), 'a%20b%22c%25d');
  assert.equal(percentEncodeHeaderValue('€'), '%E2%82%AC');
  assert.equal(percentEncodeHeaderValue('tab\there'), 'tab%09here');
});

for (const value of ['a b', '100%', '%20 literally', 'caf\u00e9 \u2603 \ud83d\ude00', '"quoted"', 'tab\tand\nnewline']) {
  test(`a header value round-trips through percent-encoding: ${JSON.stringify(value)}`, () => {
    const encoded = percentEncodeHeaderValue(value);
    assert.match(encoded, /^[\x21-\x7e]*$/);
    assert.equal(percentDecodeHeaderValue(encoded), value);
  });
}

test('raw UTF-8 bytes in a header (as node gives them, latin-1) decode to the characters', () => {
  const latin1 = Buffer.from('caf\u00e9', 'utf8').toString('latin1');
  assert.equal(percentDecodeHeaderValue(latin1), 'caf\u00e9');
});

const EVENT: CloudEvent = {
  specversion: '1.0', id: 'id 1', source: 'seldon.iris deployment', type: 't', subject: 'sü', time: '2020-03-17T22:22:51Z',
  datacontenttype: 'application/json', dataschema: 'http://x/schema', extensions: { knativebrokerttl: 255, note: '50% off' },
  data: { data: { ndarray: [[1, 2]] } },
};

test('an event round-trips through binary mode, percent-encoded attributes included', () => {
  const { headers, body } = encodeBinary(EVENT);
  assert.equal(headers['ce-source'], 'seldon.iris%20deployment');
  assert.equal(headers['content-type'], 'application/json');
  const back = decodeHttpEvent(headers, body);
  assert.equal(back.source, EVENT.source);
  assert.equal(back.subject, 'sü');
  assert.equal(back.dataschema, 'http://x/schema');
  assert.deepEqual(back.extensions, { knativebrokerttl: '255', note: '50% off' });
  assert.deepEqual(JSON.parse(Buffer.from(back.data as Uint8Array).toString()), EVENT.data);
});

test('an event round-trips through structured mode', () => {
  const { headers, body } = encodeStructured(EVENT);
  assert.match(headers['content-type']!, /^application\/cloudevents\+json/);
  assert.deepEqual(decodeHttpEvent(headers, body), { ...EVENT, dataText: JSON.stringify(EVENT.data) });
});

test('structured mode embeds JSON bytes as data and other bytes as data_base64', () => {
  const json = eventToJson({ ...EVENT, data: Buffer.from('{"a":1}') });
  assert.deepEqual(json['data'], { a: 1 });
  const octets = eventToJson({ ...EVENT, datacontenttype: 'application/octet-stream', data: Buffer.from([1, 2]) });
  assert.equal(octets['data_base64'], 'AQI=');
  const exact = eventToJson({ ...EVENT, data: Buffer.from('{"a": 1}') }, { bytes: 'base64' });
  assert.equal(Buffer.from(exact['data_base64'] as string, 'base64').toString(), '{"a": 1}');
});

test('a 0.3 event keeps schemaurl; dataschema on 0.3 is an extension', () => {
  const event = decodeHttpEvent({ ...SEED_HEADERS, 'ce-schemaurl': 'http://s', 'ce-dataschema': 'http://d' }, SEED_BODY);
  assert.equal(event.schemaurl, 'http://s');
  assert.equal(event.extensions['dataschema'], 'http://d');
  assert.equal(encodeBinary(event).headers['ce-schemaurl'], 'http://s');
});

test('attributeOf reads context attributes and extensions as text', () => {
  assert.equal(attributeOf(EVENT, 'type'), 't');
  assert.equal(attributeOf(EVENT, 'knativebrokerttl'), '255');
  assert.equal(attributeOf(EVENT, 'missing'), undefined);
});

// -- exactness ---------------------------------------------------------------------------------

const BIG = '{"n":12345678901234567890,"f":1.50,"e":1E400,"s":"caf\\u00e9 \\"q\\""}';

test('structured mode: data is kept as the exact JSON text, delivered byte for byte in binary mode', () => {
  const body = `{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data": ${BIG} }`;
  const event = decodeHttpEvent(CE_JSON, Buffer.from(body));
  assert.equal(event.dataText, BIG);
  const binary = encodeBinary(event);
  assert.equal(binary.body.toString('utf8'), BIG);
  assert.equal(binary.headers['content-type'], 'application/json');
});

test('structured mode: data is written back in structured mode as the exact JSON text', () => {
  const body = `{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data":${BIG}}`;
  const out = encodeStructured(decodeHttpEvent(CE_JSON, Buffer.from(body))).body.toString('utf8');
  assert.equal(memberText(out, 'data'), BIG);
  assert.ok(out.includes(`"data":${BIG}`), out);
});

test('binary mode: JSON bytes delivered in structured mode keep their numbers exactly', () => {
  const event = decodeHttpEvent({ 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's', 'ce-type': 't', 'content-type': 'application/json' }, Buffer.from(`${BIG}\n`));
  const out = encodeStructured(event).body.toString('utf8');
  assert.equal(memberText(out, 'data'), BIG);
  assert.equal(Buffer.from(decodeStructured(out).dataText!).toString(), BIG);
});

test('structured mode: an explicit "data": null is null data, present and distinct from no data', () => {
  const withNull = decodeHttpEvent(CE_JSON, Buffer.from('{"specversion":"1.0","id":"1","source":"s","type":"t","data":null}'));
  assert.equal(withNull.data, null);
  assert.equal(encodeBinary(withNull).body.toString(), 'null');
  assert.equal(encodeBinary(withNull).headers['content-type'], 'application/json');
  assert.equal(memberText(encodeStructured(withNull).body.toString(), 'data'), 'null');
  const without = decodeHttpEvent(CE_JSON, Buffer.from('{"specversion":"1.0","id":"1","source":"s","type":"t"}'));
  assert.equal('data' in without, false);
  assert.equal(encodeBinary(without).body.length, 0);
  assert.equal(memberText(encodeStructured(without).body.toString(), 'data'), undefined);
});

test('structured mode: a text string keeps its exact JSON spelling in structured mode and its characters in binary mode', () => {
  const literal = '"line\\none \\u00e9"';
  const event = decodeHttpEvent(CE_JSON, Buffer.from(`{"specversion":"0.3","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":${literal}}`));
  assert.equal(encodeBinary(event).body.toString(), 'line\none \u00e9');
  assert.equal(memberText(encodeStructured(event).body.toString(), 'data'), literal);
});

test('structured mode without datacontenttype: a string is JSON data (the format\'s default), sent as its JSON text', () => {
  const event = decodeHttpEvent(CE_JSON, Buffer.from('{"specversion":"1.0","id":"1","source":"s","type":"t","data":"hi"}'));
  const binary = encodeBinary(event);
  assert.equal(binary.body.toString(), '"hi"');
  assert.equal(binary.headers['content-type'], 'application/json');
  assert.equal(dataBytes({ specversion: '1.0', id: '1', source: 's', type: 't', extensions: {}, data: 'hi' }).toString(), '"hi"');
});

test('eventToJsonText writes 0.3 bytes with datacontentencoding and 1.0 bytes as data_base64', () => {
  const v03 = eventToJsonText({ specversion: '0.3', id: '1', source: 's', type: 't', extensions: {}, data: Buffer.from([0, 255]) });
  assert.deepEqual(JSON.parse(v03), { specversion: '0.3', id: '1', source: 's', type: 't', datacontentencoding: 'base64', data: 'AP8=' });
  assert.deepEqual([...(decodeStructured(v03).data as Uint8Array)], [0, 255]);
  const v1 = eventToJsonText({ specversion: '1.0', id: '1', source: 's', type: 't', extensions: {}, data: Buffer.from([0, 255]) });
  assert.equal((JSON.parse(v1) as { data_base64: string }).data_base64, 'AP8=');
});

test('memberText finds a member by its decoded name, the last of repeats, past nested values and strings', () => {
  const text = ' { "a" : [1, {"data": 2}, "}]"] , "d\\u0061ta" : {"x": "\\"}"} , "data" :\t[ 3 ,4 ] } ';
  assert.equal(memberText(text, 'data'), '[ 3 ,4 ]');
  assert.equal(memberText(text, 'a'), '[1, {"data": 2}, "}]"]');
  assert.equal(memberText('{"data":-1.5e+3}', 'data'), '-1.5e+3');
  assert.equal(memberText('{"data":true,"x":1}', 'data'), 'true');
  assert.equal(memberText('{}', 'data'), undefined);
});

test('binary mode: a double-quoted header value is unquoted and its backslash escapes removed, then percent-decoded', () => {
  const event = decodeHttpEvent({ ...SEED_HEADERS, 'ce-subject': '"say \\"hi\\" \\\\ there"', 'ce-note': '"50%25 off"', 'ce-mixed': 'a"b c"d' }, SEED_BODY);
  assert.equal(event.subject, 'say "hi" \\ there');
  assert.equal(event.extensions['note'], '50% off');
  assert.equal(event.extensions['mixed'], 'ab cd');
  assert.equal(unquoteHeaderValue('plain'), 'plain');
});

test('binary mode: an unclosed double-quoted header value is a 400 naming the header', () => {
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-subject': '"open' }, SEED_BODY), /ce-subject.*not closed/);
  badEvent(() => decodeHttpEvent({ ...SEED_HEADERS, 'ce-subject': '"open\\' }, SEED_BODY), /ce-subject.*not closed/);
});

for (const value of ['2147483648', '-2147483649', '12345678901234567890', '1.5']) {
  test(`structured mode: an integer extension ${value} outside the 32-bit range or not whole is a 400 naming it`, () => {
    badEvent(() => decodeHttpEvent(CE_JSON, Buffer.from(`{"specversion":"1.0","id":"1","source":"s","type":"t","count":${value}}`)), /extension attribute count .*32-bit range/);
  });
}

test('structured mode: integer extensions at the ends of the 32-bit range are accepted', () => {
  const event = decodeHttpEvent(CE_JSON, Buffer.from('{"specversion":"1.0","id":"1","source":"s","type":"t","lo":-2147483648,"hi":2147483647}'));
  assert.deepEqual(event.extensions, { lo: -2147483648, hi: 2147483647 });
});

test('eventToJsonText with oneLine keeps data on one line, its strings and numbers exactly as spelled', () => {
  const data = '{\n  "n" : 12345678901234567890,\n  "s": "a  b\\n c"\n}';
  const event = decodeStructured(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":${data}}`);
  const line = eventToJsonText(event, { oneLine: true });
  assert.equal(line.includes('\n'), false);
  assert.equal(memberText(line, 'data'), '{"n":12345678901234567890,"s":"a  b\\n c"}');
  assert.equal(memberText(eventToJsonText(event), 'data'), data);
});
