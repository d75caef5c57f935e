import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from './errors.ts';
import { decodeBody } from './body.ts';

function failure(fn: () => unknown): TrantorError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrantorError);
    return err;
  }
  assert.fail('expected a TrantorError');
}

test('a JSON body decodes', () => {
  assert.deepEqual(decodeBody('application/json; charset=utf-8', '{"data":{"ndarray":[[1]]}}'), { data: { ndarray: [[1]] } });
});

test('a form body carries the message in its json field', () => {
  const body = `json=${encodeURIComponent('{"data":{"names":["a","b"],"tensor":{"shape":[2,2],"values":[0,0,1,1]}}}')}`;
  assert.deepEqual(decodeBody('application/x-www-form-urlencoded', body), {
    data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } },
  });
});

test('a GET query string carries the message in json=', () => {
  assert.deepEqual(decodeBody(undefined, '', `json=${encodeURIComponent('{"strData":"hi"}')}`), { strData: 'hi' });
});

test('malformed JSON is a 400 that quotes the parser', () => {
  const err = failure(() => decodeBody('application/json', '{"data":'));
  assert.equal(err.status, 400);
  assert.equal(err.code, 'BAD_JSON');
  assert.match(err.message, /^body: not valid JSON \(/);
});

test('an unsupported content type is a 415 that says what is accepted', () => {
  const err = failure(() => decodeBody('text/csv', '1,2'));
  assert.equal(err.status, 415);
  assert.match(err.message, /text\/csv is not supported; send application\/json/);
});

test('an empty body is a 400', () => {
  assert.equal(failure(() => decodeBody('application/json', '')).code, 'EMPTY_BODY');
});

test('a form without a json field is a 400 that names the field', () => {
  assert.match(failure(() => decodeBody('application/x-www-form-urlencoded', 'x=1')).message, /no json= field/);
});

test('JSON sent with curl -d and no content type is read as JSON', () => {
  assert.deepEqual(decodeBody('application/x-www-form-urlencoded', '{"data":{"ndarray":[[1]]}}'), { data: { ndarray: [[1]] } });
});
