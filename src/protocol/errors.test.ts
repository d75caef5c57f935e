import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, TrantorError, asTrantorError, failureBody } from './errors.ts';

test('docs/errors.md lists every error code with its status and reason', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, { status, reason }] of Object.entries(ERROR_CODES)) {
    assert.ok(doc.includes(`| \`${code}\` | ${status} | \`${reason}\` |`), `docs/errors.md is missing ${code}`);
  }
  const listed = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed.sort(), Object.keys(ERROR_CODES).sort());
});

test('a failure body carries the status, the message and the reason', () => {
  const err = new TrantorError('PAYLOAD_SHAPE', 'expected 4 features per row, got 5');
  assert.deepEqual(failureBody(err), {
    status: { code: 400, info: 'expected 4 features per row, got 5', reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' },
  });
});

test('an unknown thrown value becomes an INTERNAL error with its message', () => {
  const err = asTrantorError(new RangeError('boom'));
  assert.equal(err.code, 'INTERNAL');
  assert.equal(err.status, 500);
  assert.equal(err.message, 'boom');
});

test('a 501 has its own code: NOT_IMPLEMENTED, the status and reason the Python host answers a NotImplementedError with', () => {
  assert.deepEqual({ status: ERROR_CODES.NOT_IMPLEMENTED.status, reason: ERROR_CODES.NOT_IMPLEMENTED.reason }, { status: 501, reason: 'NOT_IMPLEMENTED' });
  const err = new TrantorError('NOT_IMPLEMENTED', 'send_feedback is not implemented');
  assert.deepEqual(failureBody(err).status, { code: 501, info: 'send_feedback is not implemented', reason: 'NOT_IMPLEMENTED', status: 'FAILURE' });
  const python = readFileSync(new URL('../../python/trantor_runtime/component.py', import.meta.url), 'utf8');
  assert.match(python, /501, "NOT_IMPLEMENTED"/);
});

test("an error's code fixes its status and reason: no other status can be asked for", () => {
  // @ts-expect-error a different status is a different code
  const err = new TrantorError('NOT_FOUND', 'no such thing', { status: 418, reason: 'TEAPOT' });
  assert.equal(err.status, 404);
  assert.equal(err.reason, 'NOT_FOUND');
});

test("COMPONENT_FAILURE alone passes on a component's own status and reason; without a reason it follows the status", () => {
  assert.deepEqual(failureBody(new TrantorError('COMPONENT_FAILURE', 'bad', { status: 422 })).status, { code: 422, info: 'bad', reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' });
  assert.deepEqual(failureBody(new TrantorError('COMPONENT_FAILURE', 'down', { status: 503 })).status, { code: 503, info: 'down', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' });
  assert.equal(new TrantorError('COMPONENT_FAILURE', 'x', { status: 409, reason: 'CONFLICT' }).reason, 'CONFLICT');
  assert.equal(new TrantorError('COMPONENT_FAILURE', 'x').status, 500);
});
