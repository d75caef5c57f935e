import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './control-plane.ts';
import { feedbackBody, lastPredictionFile, readLastPrediction, saveLastPrediction, seldonMessageText } from './feedback.ts';

test('feedback parts are Seldon messages or rows, digits kept as given', () => {
  assert.equal(seldonMessageText(' [[1.50, 2]] ', '--request'), '{"data":{"ndarray":[[1.50, 2]]}}');
  assert.equal(seldonMessageText('{"data":{"ndarray":[[0.1]]}}', '--response'), '{"data":{"ndarray":[[0.1]]}}');
  assert.throws(() => seldonMessageText('{oops', '--truth'), (err: unknown) => err instanceof CliError && /^--truth: not JSON/.test(err.message));
  assert.throws(() => seldonMessageText('3', '--request'), /--request: expected a Seldon message/);
  assert.deepEqual(JSON.parse(feedbackBody({ request: '{"a":1}', response: '{"b":2}', reward: 0.5, truth: '{"c":3}' })), { request: { a: 1 }, response: { b: 2 }, reward: 0.5, truth: { c: 3 } });
});

test("the last prediction is kept in the home's cli folder, the user's alone, with its puid", () => {
  const home = mkdtempSync(join(tmpdir(), 'trantor-feedback-'));
  try {
    assert.throws(() => readLastPrediction(home), /--last: this CLI has made no prediction with home .* yet/);
    saveLastPrediction(home, { namespace: 'ns', name: 'iris', request: '[[1]]', response: '{"meta":{"puid":"abc"},"data":{}}' });
    const last = readLastPrediction(home);
    assert.equal(last.puid, 'abc');
    assert.equal(last.request, '[[1]]');
    assert.equal(statSync(lastPredictionFile(home)).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'cli')).mode & 0o777, 0o700);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
