import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson } from './body.ts';
import { decodeHttpEvent } from './cloudevents/index.ts';
import { TrantorError } from './errors.ts';
import { MAX_JSON_DEPTH, assertJsonDepth, depthExceededAt } from './json-depth.ts';

const arrays = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const objects = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

function tooDeep(err: unknown): boolean {
  return err instanceof TrantorError && err.code === 'JSON_TOO_DEEP' && err.status === 400 && err.message.includes(String(MAX_JSON_DEPTH));
}

test('nesting up to the limit passes and one level more is refused', () => {
  assert.equal(depthExceededAt(arrays(MAX_JSON_DEPTH)), -1);
  assert.equal(depthExceededAt(arrays(MAX_JSON_DEPTH + 1)), MAX_JSON_DEPTH);
  assert.equal(depthExceededAt(objects(MAX_JSON_DEPTH)), -1);
  assert.notEqual(depthExceededAt(objects(MAX_JSON_DEPTH + 1)), -1);
});

test('parseJson refuses 10,000-deep arrays and objects with JSON_TOO_DEEP before parsing', () => {
  assert.throws(() => parseJson(arrays(10_000)), tooDeep);
  assert.throws(() => parseJson(objects(10_000)), tooDeep);
  assert.throws(() => parseJson(`json=${arrays(10_000)}`.slice(5), 'form field json'), /form field json/);
});

test('brackets inside strings, and escaped quotes, do not count', () => {
  const inString = JSON.stringify({ text: '['.repeat(5_000) + '\\"{{{' });
  assert.equal(depthExceededAt(inString), -1);
  assert.deepEqual(parseJson(inString), JSON.parse(inString));
  assert.equal(depthExceededAt(`["\\"${'['.repeat(600)}"]`), -1);
});

test('the scan reads UTF-8 bytes as it reads text', () => {
  assert.notEqual(depthExceededAt(Buffer.from(arrays(1_000))), -1);
  assert.equal(depthExceededAt(Buffer.from(JSON.stringify({ é: '{'.repeat(1_000) }))), -1);
  assert.throws(() => assertJsonDepth(Buffer.from(objects(1_000)), 'event data'), /event data/);
});

test('CloudEvents: deep structured events and deep JSON data in binary mode are refused', () => {
  const structured = Buffer.from(JSON.stringify({ specversion: '1.0', id: '1', source: 's', type: 't' }).replace(/}$/, `,"data":${arrays(10_000)}}`));
  assert.throws(() => decodeHttpEvent({ 'content-type': 'application/cloudevents+json' }, structured), tooDeep);
  const binary = { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': 's', 'ce-type': 't', 'content-type': 'application/json' };
  assert.throws(() => decodeHttpEvent(binary, Buffer.from(objects(10_000))), tooDeep);
  // Not JSON data: bytes are bytes.
  assert.doesNotThrow(() => decodeHttpEvent({ ...binary, 'content-type': 'application/octet-stream' }, Buffer.from(arrays(10_000))));
});
