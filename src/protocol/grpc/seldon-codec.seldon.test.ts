/**
 * The codec against Seldon's own: seldon-core 1.18.2's prediction_pb2 and seldon_core.utils, in the
 * python TRANTOR_SELDON_PYTHON names (.ci/run installs it). For each message of the corpus:
 * (a) Seldon encodes it (json_to_seldon_message and friends) and our decode of those bytes must be
 *     the JSON seldon_message_to_json gives back;
 * (b) Seldon decodes our bytes, and its JSON must be ours; and our bytes must be Seldon's, byte for
 *     byte (both write fields in number order and maps in insertion order).
 * Skipped, with the reason, when that python is absent outside CI; a failure in CI.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonLossless, stringifyJson } from '../json-lossless.ts';
import { fromProto, toProto, type SeldonProtoKind, type SeldonProtoMessages } from './seldon-codec.ts';

const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? '';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';
const SCRIPT = fileURLToPath(new URL('./testdata/seldon_pb.py', import.meta.url));

const CORPUS: { kind: SeldonProtoKind; json: unknown }[] = [
  { kind: 'SeldonMessage', json: { data: { names: ['a', 'b'], ndarray: [[1, 2.5], [-3, 1e-7]] } } },
  { kind: 'SeldonMessage', json: { data: { ndarray: [['text', null, true, { k: [1, { z: false }] }]] } } },
  { kind: 'SeldonMessage', json: { data: { names: ['t:0', 't:1'], tensor: { shape: [2, 2], values: [1, 2, 3.25, -4] } } } },
  {
    kind: 'SeldonMessage',
    json: {
      data: {
        tftensor: {
          dtype: 'DT_INT64',
          tensorShape: { dim: [{ size: '2' }, { size: '-1', name: 'batch' }] },
          int64Val: ['9223372036854775807', '-9223372036854775808'],
          versionNumber: 1,
        },
      },
    },
  },
  { kind: 'SeldonMessage', json: { data: { tftensor: { dtype: 'DT_FLOAT', floatVal: [0.1, 1.5, -65504.125, 1e-30] } } } },
  { kind: 'SeldonMessage', json: { data: { tftensor: { dtype: 'DT_UINT64', uint64Val: ['18446744073709551615'], boolVal: [true, false] } } } },
  { kind: 'SeldonMessage', json: { data: { tftensor: { dtype: 'DT_STRING', stringVal: ['aGk=', ''], tensorContent: 'AAEC' } } } },
  { kind: 'SeldonMessage', json: { binData: 'AAECA/7/' } },
  { kind: 'SeldonMessage', json: { strData: 'héllo ✓' } },
  { kind: 'SeldonMessage', json: { strData: '' } },
  { kind: 'SeldonMessage', json: { jsonData: { a: [1, 'b', null], n: { deep: {} }, big: 1152921504606846976 } } },
  { kind: 'SeldonMessage', json: { jsonData: 'plain' } },
  { kind: 'SeldonMessage', json: { customData: { '@type': 'type.googleapis.com/google.protobuf.Value', value: { x: [1, 'y'] } } } },
  {
    kind: 'SeldonMessage',
    json: {
      meta: {
        puid: 'abc',
        tags: { n: 1, s: 'x', l: [true, null] },
        routing: { router: 1, other: -1 },
        requestPath: { model: 'seldonio/mock:1.0' },
        metrics: [
          { key: 'c', value: 1 },
          { key: 'g', type: 'GAUGE', value: 0.1, tags: { k: 'v' } },
          { key: 't', type: 'TIMER', value: 20.5 },
        ],
      },
      status: { code: 500, info: 'boom', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' },
      data: { ndarray: [] },
    },
  },
  { kind: 'SeldonMessage', json: { status: {}, meta: {} } },
  { kind: 'SeldonMessageList', json: { seldonMessages: [{ data: { ndarray: [[1]] } }, { strData: 'b', meta: { puid: 'x' } }, {}] } },
  { kind: 'Feedback', json: { request: { data: { ndarray: [[1, 2]] } }, response: { data: { tensor: { shape: [1], values: [0.9] } } }, reward: 0.3, truth: { jsonData: 1 } } },
  {
    kind: 'SeldonModelMetadata',
    json: { name: 'iris', versions: ['v1'], platform: 'sklearn', inputs: [{ messagetype: 'tensor', schema: { names: ['a'] } }, { name: 'in', datatype: 'FP32', shape: ['1', '-1'] }], custom: { a: 'b' } },
  },
];

/** JSON both refuse: Seldon's ParseDict raises, our codec throws BAD_PAYLOAD. */
const REFUSED_BY_BOTH = [
  '{"strData":"a","binData":"YQ=="}',
  '{"datta":{}}',
  '{"data":{"tftensor":{"dtype":"DT_NOPE"}}}',
  '{"meta":{"routing":{"r":2147483648}}}',
  '{"data":{"tensor":{"shape":[1.5],"values":[1]}}}',
  '{"data":{"names":["a",null]}}',
  '{"meta":{"puid":7}}',
];

/** Where we differ on purpose, each checked so the reason stays true: JSON, what Seldon does, what we do. */
const DIFFERENCES = {
  bigInteger: '{"data":{"ndarray":[9007199254740993]}}', // Seldon rounds it to ...992 in silence; we refuse, naming the element
  nan: { data: { ndarray: [Number.NaN] } }, // Seldon's MessageToJson writes the string "NaN"; we give the number (our JSON writes NaN)
};

interface PythonAnswer {
  hex?: string;
  json?: unknown;
  error?: string;
}

/** One seldon python for the whole corpus, asked line by line. */
function startSeldonPython(python: string): { ask(request: object): Promise<PythonAnswer>; stop(): void } {
  const child = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(request) {
      child.stdin.write(`${stringifyJson(request)}\n`);
      const line: IteratorResult<string, unknown> = await lines.next();
      if (line.done === true) throw new Error("Seldon's python ended without answering");
      return parseJsonLossless(line.value) as PythonAnswer;
    },
    stop() {
      child.stdin.end();
    },
  };
}

test("the codec agrees with seldon-core's prediction_pb2 and utils", async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail("Seldon's python is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
    t.skip("Seldon's python is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
    return;
  }
  const seldon = startSeldonPython(SELDON_PYTHON);
  try {
    for (const { kind, json } of CORPUS) {
      const what = `${kind} ${JSON.stringify(json)}`;
      const typed = json as SeldonProtoMessages[typeof kind];
      // (a) Seldon's bytes, read by us.
      const encoded = await seldon.ask({ op: 'encode', kind, json });
      assert.equal(encoded.error, undefined, `Seldon could not encode ${what}`);
      const theirBytes = Buffer.from(encoded.hex ?? '', 'hex');
      const theirJson = await seldon.ask({ op: 'decode', kind, hex: encoded.hex });
      assert.deepEqual(fromProto(kind, theirBytes), theirJson.json, `our decode of Seldon's bytes, ${what}`);
      // (b) our bytes, read by Seldon.
      const ours = toProto(kind, typed);
      assert.equal(Buffer.from(ours).toString('hex'), encoded.hex, `our bytes are Seldon's, ${what}`);
      const read = await seldon.ask({ op: 'decode', kind, hex: Buffer.from(ours).toString('hex') });
      assert.equal(read.error, undefined, `Seldon could not decode our ${what}`);
      assert.deepEqual(read.json, fromProto(kind, ours), `Seldon's reading of our bytes, ${what}`);
    }
  } finally {
    seldon.stop();
  }
});

test('what Seldon refuses we refuse, and the two places we differ on purpose', async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail("Seldon's python is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
    t.skip("Seldon's python is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
    return;
  }
  const seldon = startSeldonPython(SELDON_PYTHON);
  try {
    for (const text of REFUSED_BY_BOTH) {
      const json = parseJsonLossless(text);
      const theirs = await seldon.ask({ op: 'encode', kind: 'SeldonMessage', json });
      assert.match(theirs.error ?? '', /^SeldonMicroserviceException: Invalid JSON/, `Seldon accepted ${text}`);
      assert.throws(() => toProto('SeldonMessage', json as SeldonProtoMessages['SeldonMessage']), { code: 'BAD_PAYLOAD' }, `we accepted ${text}`);
    }
    const big = parseJsonLossless(DIFFERENCES.bigInteger);
    const rounded = await seldon.ask({ op: 'encode', kind: 'SeldonMessage', json: big });
    const back = await seldon.ask({ op: 'decode', kind: 'SeldonMessage', hex: rounded.hex });
    assert.deepEqual(back.json, { data: { ndarray: [9007199254740992] } });
    assert.throws(() => toProto('SeldonMessage', big as SeldonProtoMessages['SeldonMessage']), /data\.ndarray\[0\]: 9007199254740993 cannot be held exactly/);
    const nanBytes = toProto('SeldonMessage', DIFFERENCES.nan);
    const nan = await seldon.ask({ op: 'decode', kind: 'SeldonMessage', hex: Buffer.from(nanBytes).toString('hex') });
    assert.deepEqual(nan.json, { data: { ndarray: ['NaN'] } });
    assert.deepEqual(fromProto('SeldonMessage', nanBytes), DIFFERENCES.nan);
  } finally {
    seldon.stop();
  }
});
