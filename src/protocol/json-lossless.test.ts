import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonNumber, isJsonNumber, mayLosePrecision, parseJsonLossless, stringifyJson } from './json-lossless.ts';

test('NaN, Infinity and -Infinity, as Python writes them, are read as numbers and written back the same way', () => {
  const text = '{"data":{"ndarray":[[NaN,Infinity,-Infinity,1.5]]}}';
  const value = parseJsonLossless(text) as { data: { ndarray: number[][] } };
  const row = value.data.ndarray[0]!;
  assert.ok(Number.isNaN(row[0]));
  assert.equal(row[1], Number.POSITIVE_INFINITY);
  assert.equal(row[2], Number.NEGATIVE_INFINITY);
  assert.equal(row[3], 1.5);
  assert.equal(stringifyJson(value), text);
});

test('an integer beyond 2^53 and numbers a double overflows or underflows keep their text', () => {
  const text = '{"data":{"ndarray":[[12345678901234567890,1e400,-1E+400,1e-400,9007199254740993]]}}';
  const value = parseJsonLossless(text) as { data: { ndarray: unknown[][] } };
  for (const n of value.data.ndarray[0]!) assert.ok(isJsonNumber(n));
  assert.equal(stringifyJson(value), text);
});

test('numbers a double holds exactly stay plain numbers even when the slow path reads them', () => {
  const value = parseJsonLossless('[1234567890123456, 9007199254740991, 1e300, 0.5e-300, 0e-999, "1234567890123456789"]') as unknown[];
  assert.deepEqual(value, [1234567890123456, 9007199254740991, 1e300, 0.5e-300, 0, '1234567890123456789']);
});

test('the careful parser reads what JSON.parse reads: escapes, unicode, nesting, __proto__ as an own key', () => {
  const text = '{"a":"x\\"y\\\\z\\u00e9\\n","b":[true,false,null,{}],"c":{"__proto__":1},"d":-0.25e2, "e" : [ ] ,"n":NaN}';
  const value = parseJsonLossless(text) as Record<string, unknown>;
  const expected = JSON.parse(text.replace('NaN', '0')) as Record<string, unknown>;
  assert.deepEqual({ ...value, n: 0 }, expected);
  assert.ok(Object.hasOwn(value['c'] as object, '__proto__'));
  assert.equal(Object.getPrototypeOf(value['c']), Object.prototype);
});

test('text that is not JSON is still refused, with JSON.parse\'s own message', () => {
  for (const bad of ['{"a":}', '[1,2', 'NaNa', '{"a":1}x', '[12345678901234567890,]', "{'a':1}", '[Infinity', '-Inf']) {
    assert.throws(() => parseJsonLossless(bad), SyntaxError, bad);
  }
  assert.throws(() => parseJsonLossless('{"a":}'), (err: Error) => err.message === (() => { try { JSON.parse('{"a":}'); } catch (e) { return (e as Error).message; } return ''; })());
});

test('stringifyJson is JSON.stringify for ordinary values, nulls and undefined members included', () => {
  const values: unknown[] = [{ a: [1, 'two', null, true], b: undefined, c: { d: 1.25 } }, [undefined, () => 1], 'text', 3, null, { when: new Date(0) }];
  for (const v of values) assert.equal(stringifyJson(v), JSON.stringify(v));
  assert.equal(stringifyJson(new JsonNumber('1e400')), '1e400');
  assert.equal(stringifyJson([Number.NaN]), "[NaN]");
});

test('a JsonNumber does arithmetic as its nearest double and a plain JSON.stringify gets the best it can', () => {
  const n = new JsonNumber('12345678901234567890');
  assert.equal(Number(n), 12345678901234567000);
  assert.equal((n as unknown as number) + 0, 12345678901234567000);
  assert.equal(JSON.stringify([n, new JsonNumber('1e400')]), '[12345678901234567000,null]');
});

test('a big integer at the very start, after a sign or inside an array is kept; a long fraction is a plain double', () => {
  assert.ok(isJsonNumber(parseJsonLossless('12345678901234567890')));
  assert.ok(isJsonNumber(parseJsonLossless('-12345678901234567890')));
  const value = parseJsonLossless('[0.96666666666666667,12345678901234567.5,[99999999999999999]]') as unknown[];
  assert.equal(value[0], Number('0.96666666666666667'));
  assert.equal(value[1], Number('12345678901234567.5'));
  assert.ok(isJsonNumber((value[2] as unknown[])[0]));
});

test('the fast path\'s boundary: every number a double would change goes to the careful parser, letters and digits inside ids do not', () => {
  for (const text of ['[1e400]', '[-1.5E+308]', '{"a":12345678901234567}', '[-1234567890123456]', '[0.5e-400]', ' 1e999', '[1,\n2e100]', '{"a":\t-9e-999}', '12345678901234567']) {
    assert.equal(mayLosePrecision(text), true, text);
  }
  for (const text of ['{"meta":{"puid":"c67fmzfriy6rj3obae234f3qco"}}', '{"id":"id1234567890123456"}', '[0.12345678901234567, 1e99, 123456789012345]', '{"x_1e100":1}']) {
    assert.equal(mayLosePrecision(text), false, text);
  }
  // Both paths read the same values.
  const text = '{"meta":{"puid":"c67fmzfriy6rj3obae234f3qco"},"data":{"ndarray":[[1e400,2]]}}';
  assert.equal(stringifyJson(parseJsonLossless(text)), text);
});
