import assert from 'node:assert/strict';
import { test } from 'node:test';
import { durationProblemMessage, isoDurationMs } from './duration.ts';

test('ISO-8601 durations of seconds, minutes, hours, days and weeks become milliseconds', () => {
  assert.equal(isoDurationMs('PT0.2S'), 200);
  assert.equal(isoDurationMs('PT1S'), 1000);
  assert.equal(isoDurationMs('PT1M'), 60_000);
  assert.equal(isoDurationMs('PT1M30.5S'), 90_500);
  assert.equal(isoDurationMs('PT2H'), 7_200_000);
  assert.equal(isoDurationMs('P1DT1H'), 90_000_000);
  assert.equal(isoDurationMs('P1W'), 604_800_000);
  assert.equal(isoDurationMs('PT0,5S'), 500);
  assert.equal(isoDurationMs('pt10s'), 10_000);
  assert.equal(isoDurationMs('PT0S'), 0);
});

test('text that is not an ISO-8601 duration is refused', () => {
  for (const text of ['2s', '', 'P', 'PT', 'P1DT', 'PT-1S', '1S', 'PT1.S', 'T1S', 'PT1S1M']) {
    assert.equal(isoDurationMs(text), 'not-iso', text);
  }
});

test('years and months are refused: they have no fixed length', () => {
  assert.equal(isoDurationMs('P1Y'), 'calendar');
  assert.equal(isoDurationMs('P2M'), 'calendar');
  assert.equal(isoDurationMs('PT2M'), 120_000);
});

test('the problem message suggests the ISO form of a Go-style duration', () => {
  assert.equal(durationProblemMessage('2s', 'not-iso'), '"2s" is not an ISO-8601 duration such as PT2S');
  assert.equal(durationProblemMessage('500ms', 'not-iso'), '"500ms" is not an ISO-8601 duration such as PT0.5S');
  assert.equal(durationProblemMessage('1m', 'not-iso'), '"1m" is not an ISO-8601 duration such as PT1M');
  assert.equal(durationProblemMessage('soon', 'not-iso'), '"soon" is not an ISO-8601 duration such as PT0.2S');
  assert.match(durationProblemMessage('P1M', 'calendar'), /^"P1M" uses years or months/);
});
