/**
 * One contract, two hosts: the same HTTP cases run against the Python host and the Node host,
 * each started as a real process serving the same test class (test/hosts/fixtures/contract_model.*),
 * and every answer must have the status the case expects and be the same from both.
 *
 * Intended differences (not compared):
 * - an error's `status.info` text: each host words its message for its own language (the
 *   class and method names a user sees); status, `status.code`, `status.reason` and
 *   `status.status` are compared.
 * - the order of keys in a JSON body (JSON objects are compared as values).
 * - headers other than Content-Type (the servers differ: date, keep-alive, server).
 * - a Python method that raises NotImplementedError answers 501 NOT_IMPLEMENTED (JavaScript has
 *   no such exception); a method the class lacks answers 400 in both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { send, startHost, type Answer, type HostKind, type HostProcess } from '../../test/hosts/host-process.ts';
import { parseJsonLossless } from '../protocol/index.ts';

type Model = 'ContractModel' | 'EmptyModel';

interface Case {
  name: string;
  model?: Model;
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  status: number;
  /** The body must equal this (after JSON parsing when the reply is JSON). */
  expect?: unknown;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const TAGS = { tags: { label: 'contract' } };
const q = (value: unknown): string => `?json=${encodeURIComponent(JSON.stringify(value))}`;
const form = (value: unknown): string => `json=${encodeURIComponent(JSON.stringify(value))}`;

const NDARRAY = { data: { names: ['a', 'b'], ndarray: [[1, 2], [3, 4]] } };
const TENSOR = { data: { names: ['a', 'b'], tensor: { shape: [1, 2], values: [1.5, 2.5] } } };
// A reply's column names are the class's class_names, by default t:0, t:1, … (Seldon's wrapper).
const NDARRAY_REPLY = { data: { names: ['t:0', 't:1'], ndarray: [[1, 2], [3, 4]] }, meta: TAGS };
const TENSOR_REPLY = { data: { names: ['t:0', 't:1'], tensor: { shape: [1, 2], values: [1.5, 2.5] } }, meta: TAGS };

const CASES: Case[] = [
  // Payload kinds, echoed in the request's own encoding.
  { name: 'ndarray', path: '/predict', body: JSON.stringify(NDARRAY), headers: JSON_TYPE, status: 200, expect: NDARRAY_REPLY },
  { name: 'tensor', path: '/predict', body: JSON.stringify(TENSOR), headers: JSON_TYPE, status: 200, expect: TENSOR_REPLY },
  { name: 'strData', path: '/predict', body: '{"strData":"hello"}', headers: JSON_TYPE, status: 200, expect: { strData: 'hello', meta: TAGS } },
  { name: 'jsonData', path: '/predict', body: '{"jsonData":{"k":[1,"x"]}}', headers: JSON_TYPE, status: 200, expect: { jsonData: { k: [1, 'x'] }, meta: TAGS } },
  { name: 'binData', path: '/predict', body: '{"binData":"AAEC"}', headers: JSON_TYPE, status: 200, expect: { binData: 'AAEC', meta: TAGS } },
  // Every path that carries a message, and each way to send one.
  { name: 'v1.0 predictions', path: '/api/v1.0/predictions', body: '{"strData":"x"}', headers: JSON_TYPE, status: 200, expect: { strData: 'x', meta: TAGS } },
  { name: 'v0.1 predictions', path: '/api/v0.1/predictions', body: '{"strData":"x"}', headers: JSON_TYPE, status: 200, expect: { strData: 'x', meta: TAGS } },
  { name: 'form json=', path: '/predict', body: form({ strData: 'f' }), headers: FORM_TYPE, status: 200, expect: { strData: 'f', meta: TAGS } },
  { name: 'GET ?json=', method: 'GET', path: `/predict${q({ strData: 'g' })}`, status: 200, expect: { strData: 'g', meta: TAGS } },
  { name: 'trailing slash', path: '/predict/', body: '{"strData":"s"}', headers: JSON_TYPE, status: 200, expect: { strData: 's', meta: TAGS } },
  { name: 'multipart strData', path: '/predict', body: '--XB\r\nContent-Disposition: form-data; name="strData"\r\n\r\nhello\r\n--XB--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=XB' }, status: 200, expect: { strData: 'hello', meta: TAGS } },
  { name: 'NaN and Infinity in an ndarray', path: '/predict', body: '{"data":{"ndarray":[[NaN,Infinity]]}}', headers: JSON_TYPE, status: 200 },
  { name: 'no content type', path: '/predict', body: '{"strData":"n"}', status: 200, expect: { strData: 'n', meta: TAGS } },
  { name: 'transform-input (missing: identity)', path: '/transform-input', body: '{"strData":"t"}', headers: JSON_TYPE, status: 200, expect: { strData: 't', meta: TAGS } },
  { name: 'transform-output (missing: identity)', path: '/transform-output', body: '{"strData":"t"}', headers: JSON_TYPE, status: 200, expect: { strData: 't', meta: TAGS } },
  { name: 'route', path: '/route', body: JSON.stringify(NDARRAY), headers: JSON_TYPE, status: 200 },
  { name: 'aggregate', path: '/aggregate', body: JSON.stringify([{ strData: 'first' }, { strData: 'second' }]), headers: JSON_TYPE, status: 200 },
  { name: 'aggregate seldonMessages', path: '/aggregate', body: JSON.stringify({ seldonMessages: [{ strData: 'a' }] }), headers: JSON_TYPE, status: 200 },
  { name: 'request tags carry on under the model tags', path: '/predict', body: '{"meta":{"puid":"p1","tags":{"label":"theirs","a":1}},"strData":"x"}', headers: JSON_TYPE, status: 200, expect: { strData: 'x', meta: { puid: 'p1', tags: { label: 'contract', a: 1 } } } },
  { name: 'send-feedback', path: '/send-feedback', body: JSON.stringify({ request: NDARRAY, reward: 1 }), headers: JSON_TYPE, status: 200, expect: { data: { ndarray: [] }, meta: TAGS } },
  { name: 'v1.0 feedback', path: '/api/v1.0/feedback', body: JSON.stringify({ request: NDARRAY, reward: 1 }), headers: JSON_TYPE, status: 200 },
  // The read paths.
  { name: '/health/ping', method: 'GET', path: '/health/ping', status: 200, expect: 'pong' },
  { name: '/live', method: 'GET', path: '/live', status: 200, expect: 'live' },
  { name: '/ready', method: 'GET', path: '/ready', status: 200, expect: 'ready' },
  { name: '/health/status', method: 'GET', path: '/health/status', status: 200, expect: { jsonData: { healthy: true }, meta: TAGS } },
  { name: '/metadata', method: 'GET', path: '/metadata', status: 200 },
  { name: 'v1.0 health/status', method: 'GET', path: '/api/v1.0/health/status', status: 200, expect: { jsonData: { healthy: true }, meta: TAGS } },
  { name: 'v1.0 metadata', method: 'GET', path: '/api/v1.0/metadata', status: 200 },
  // Errors.
  { name: 'model refuses (400)', path: '/predict', body: '{"strData":"fail-400"}', headers: JSON_TYPE, status: 400 },
  { name: 'model crashes (500)', path: '/predict', body: '{"strData":"crash"}', headers: JSON_TYPE, status: 500 },
  { name: 'malformed JSON', path: '/predict', body: '{"data":', headers: JSON_TYPE, status: 400 },
  { name: 'empty body', path: '/predict', body: '', headers: JSON_TYPE, status: 400 },
  { name: 'no payload field', path: '/predict', body: '{"meta":{}}', headers: JSON_TYPE, status: 400 },
  { name: 'form without json=', path: '/predict', body: 'x=1', headers: FORM_TYPE, status: 400 },
  { name: 'unknown path', method: 'GET', path: '/nowhere', status: 404 },
  { name: 'DELETE on /predict', method: 'DELETE', path: '/predict', status: 405 },
  { name: 'PUT on /health/ping', method: 'PUT', path: '/health/ping', status: 405 },
  // A class with no methods: Seldon's wrapper answers 400 for a method it cannot call.
  { name: 'missing predict', model: 'EmptyModel', path: '/predict', body: '{"strData":"x"}', headers: JSON_TYPE, status: 400 },
  { name: 'missing route', model: 'EmptyModel', path: '/route', body: '{"strData":"x"}', headers: JSON_TYPE, status: 400 },
  { name: 'missing aggregate', model: 'EmptyModel', path: '/aggregate', body: '[{"strData":"x"}]', headers: JSON_TYPE, status: 400 },
  { name: 'missing transform-input', model: 'EmptyModel', path: '/transform-input', body: '{"strData":"x"}', headers: JSON_TYPE, status: 200 },
  { name: 'missing send_feedback', model: 'EmptyModel', path: '/send-feedback', body: JSON.stringify({ request: NDARRAY, reward: 1 }), headers: JSON_TYPE, status: 200, expect: { data: { ndarray: [] }, meta: {} } },
  { name: 'missing health_status', model: 'EmptyModel', method: 'GET', path: '/health/status', status: 200, expect: { strData: 'healthy', meta: {} } },
];

/** What is compared: status, media type, and the body (JSON as a value, an error without its info text). */
function comparable(answer: Answer): unknown {
  let body: unknown = answer.text;
  if (answer.contentType === 'application/json') {
    body = parseJsonLossless(answer.text); // NaN and Infinity as Python writes them
    const status = (body as { status?: { info?: unknown } }).status;
    if (answer.status >= 400 && typeof status === 'object' && status !== null) {
      assert.equal(typeof status.info, 'string', 'an error says what is wrong in status.info');
      assert.ok((status.info as string).length > 0, 'status.info is not empty');
      body = { status: { ...status, info: '<text>' } };
    }
  }
  return { status: answer.status, contentType: answer.contentType, body };
}

const KINDS: HostKind[] = ['python', 'node'];
const MODELS: Model[] = ['ContractModel', 'EmptyModel'];

describe('the Python and Node hosts answer alike', { timeout: 180_000 }, () => {
  const hosts = new Map<string, HostProcess>();
  const key = (kind: HostKind, model: Model): string => `${kind}:${model}`;

  before(async () => {
    const started = await Promise.allSettled(
      KINDS.flatMap((kind) => MODELS.map(async (model) => hosts.set(key(kind, model), await startHost(kind, `contract_model.${model}`)))),
    );
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw (failed).reason;
  });
  after(async () => {
    await Promise.all([...hosts.values()].map((h) => h.stop()));
  });

  for (const c of CASES) {
    test(`${c.name}: ${c.method ?? 'POST'} ${c.path.split('?')[0]} answers ${c.status} from both hosts`, async () => {
      const answers: Record<string, unknown> = {};
      for (const kind of KINDS) {
        const host = hosts.get(key(kind, c.model ?? 'ContractModel'))!;
        const answer = await send(host.url, c.method ?? 'POST', c.path, c.body, c.headers);
        assert.equal(answer.status, c.status, `${kind} host answered ${answer.status}: ${answer.text}`);
        answers[kind] = comparable(answer);
        if (c.expect !== undefined) {
          const got = answer.contentType === 'application/json' ? (JSON.parse(answer.text) as unknown) : answer.text;
          assert.deepEqual(got, c.expect, `${kind} host's body`);
        }
      }
      assert.deepEqual(answers['node'], answers['python'], 'the Node host answers as the Python host does');
    });
  }
});
