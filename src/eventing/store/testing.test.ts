import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from './sqlite.ts';
import { killMidStream } from './testing.ts';

const ACK_EARLY = fileURLToPath(new URL('./ack-early.ts', import.meta.url));

test('the kill -9 contract catches a store that acknowledges appends before storing them', { timeout: 120_000 }, async () => {
  const outcome = await killMidStream({ module: ACK_EARLY, name: 'openAckEarly', args: ['append'] }, (folder) => openSqliteStore(folder));
  assert.ok(outcome.lost.length > 0, `${outcome.appended.size} appends acknowledged, none lost`);
});

test('the kill -9 contract catches a store that acknowledges marks before storing them', { timeout: 120_000 }, async () => {
  const outcome = await killMidStream({ module: ACK_EARLY, name: 'openAckEarly', args: ['mark'] }, (folder) => openSqliteStore(folder));
  assert.deepEqual(outcome.lost, []);
  assert.ok(outcome.unmarked.length > 0, `${outcome.delivered.size} marks acknowledged, none undone`);
});
