import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { acquireHomeLock } from './home-lock.ts';

const home = mkdtempSync(join(tmpdir(), 'trantor-lock-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** A full garbage collection, without starting node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

test('a second lock on a held home is refused with a message naming the home; after release it is free', () => {
  const first = acquireHomeLock(home);
  assert.throws(() => acquireHomeLock(home), new RegExp(`another trantor up is running for home ${home} \\(it holds ${first.file}\\)`));
  first.release();
  acquireHomeLock(home).release();
});

test('the lock stays held when the caller drops its handle and garbage is collected', () => {
  const file = acquireHomeLock(home).file;
  collectGarbage();
  assert.throws(() => acquireHomeLock(home), new RegExp(`it holds ${file}`));
});
