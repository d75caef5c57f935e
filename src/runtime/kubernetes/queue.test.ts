import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from './queue.ts';

const FAST = { workers: 4, backoffBaseMs: 10, backoffMaxMs: 40 };

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('a key added many times while waiting is worked once', async () => {
  const done: string[] = [];
  const gate = deferred();
  const queue = new WorkQueue({ ...FAST, workers: 1 }, async (key) => {
    if (key === 'blocker') await gate.promise;
    done.push(key);
  });
  queue.add('blocker'); // holds the only worker while the others wait
  for (let i = 0; i < 5; i++) queue.add('a');
  queue.add('b');
  gate.resolve();
  await queue.idle();
  assert.deepEqual(done, ['blocker', 'a', 'b']);
});

test('one key never runs twice at once; an add during its pass runs one more pass after it', async () => {
  let running = 0;
  let most = 0;
  let passes = 0;
  const gate = deferred();
  const queue = new WorkQueue(FAST, async () => {
    running++;
    most = Math.max(most, running);
    passes++;
    if (passes === 1) await gate.promise;
    running--;
  });
  queue.add('k');
  queue.add('k'); // queued behind the pass that holds the gate
  queue.add('k');
  gate.resolve();
  await queue.idle();
  assert.equal(most, 1);
  assert.equal(passes, 2);
});

test('a failing key is retried with a doubling backoff until it succeeds, then its count resets', async () => {
  const times: number[] = [];
  const delays: number[] = [];
  const queue = new WorkQueue(
    FAST,
    async () => {
      times.push(Date.now());
      await Promise.resolve();
      if (times.length < 4) throw new Error('not yet');
    },
    (_key, _error, retryInMs) => delays.push(retryInMs),
  );
  queue.add('k');
  await queue.idle();
  assert.equal(times.length, 4);
  assert.deepEqual(delays, [10, 20, 40]);
  assert.equal(queue.failuresOf('k'), 0);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= delays[i - 1]! - 2, `retry ${i} waited its backoff`);
});

test('each pass is observed with its duration and whether it failed; depth counts the keys waiting for a worker', async () => {
  const seen: boolean[] = [];
  const gate = deferred();
  let failOnce = true;
  const queue = new WorkQueue({ ...FAST, workers: 1, observe: (seconds, failed) => seen.push(seconds >= 0 && failed) }, async (key) => {
    if (key === 'blocker') await gate.promise;
    if (key === 'flaky' && failOnce) {
      failOnce = false;
      throw new Error('once');
    }
  });
  queue.add('blocker');
  queue.add('flaky');
  queue.add('other');
  assert.equal(queue.depth, 2);
  gate.resolve();
  await queue.idle();
  assert.equal(queue.depth, 0);
  assert.deepEqual(seen, [false, true, false, false]);
});
