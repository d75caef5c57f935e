import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeploymentView } from '../manifest/index.ts';
import { WaitDisplay, waitForDeployments, type WaitTarget } from './wait.ts';

/** A deployment view with just what the wait reads. */
function viewOf(state: 'Creating' | 'Available' | 'Failed', description?: string, ready = 0): DeploymentView {
  const replicas = [{ name: 'r0', state: ready > 0 ? 'Ready' : 'Starting' }];
  return { status: { state, replicas, ...(description === undefined ? {} : { description }) } } as unknown as DeploymentView;
}

/** A clock that moves only when the wait sleeps, and a script of views, one per poll. */
function scripted(views: DeploymentView[]): { view: (t: WaitTarget) => Promise<DeploymentView>; now: () => number; sleep: (ms: number) => Promise<void> } {
  let time = 0;
  let i = 0;
  return {
    view: () => Promise.resolve(views[Math.min(i++, views.length - 1)]!),
    now: () => time,
    sleep: (ms) => {
      time += ms;
      return Promise.resolve();
    },
  };
}

const target = { namespace: 'seldon', name: 'iris' };
const downloading = (mb: number): DeploymentView => viewOf('Creating', `downloading gs://m/iris ${mb}.0 MB of 20.0 MB (5.0 MB/s)`);

test('off a terminal, progress lines come at most once a second per deployment, and the final one always', async () => {
  const lines: string[] = [];
  // 200 ms polls: ten views changing every poll over 2 s, then Available.
  const script = scripted([...Array.from({ length: 10 }, (_, i) => downloading(i + 1)), viewOf('Available', undefined, 1)]);
  await waitForDeployments(script.view, [target], { timeoutMs: 60_000, write: (l) => lines.push(l), terminalColumns: undefined, now: script.now, sleep: script.sleep });
  assert.deepEqual(lines, [
    'seldon/iris: Creating (0/1 replicas ready) — downloading gs://m/iris 1.0 MB of 20.0 MB (5.0 MB/s)',
    'seldon/iris: Creating (0/1 replicas ready) — downloading gs://m/iris 6.0 MB of 20.0 MB (5.0 MB/s)',
    'seldon/iris: Available (1/1 replicas ready)',
  ]);
});

test('off a terminal, an unchanged line is not printed again', () => {
  const lines: string[] = [];
  const display = new WaitDisplay(['a/b'], { write: (l) => lines.push(l), terminalColumns: undefined });
  display.update('a/b', 'a/b: Creating', 0, false);
  display.update('a/b', 'a/b: Creating', 5000, false);
  display.update('a/b', 'a/b: Creating', 9000, true);
  assert.deepEqual(lines, ['a/b: Creating']);
});

test('on a terminal, one line per deployment is redrawn in place on each change', () => {
  const writes: string[] = [];
  const display = new WaitDisplay(['a/one', 'a/two'], { write: (l) => writes.push(l), terminalColumns: 80 });
  display.update('a/one', 'a/one: Creating', 0, false);
  display.update('a/two', 'a/two: Creating', 0, false);
  display.update('a/one', 'a/one: Creating 50%', 100, false);
  display.update('a/two', 'a/two: Creating', 200, false);
  assert.deepEqual(writes, [
    '\r\x1b[2Ka/one: Creating',
    '\x1b[1A\r\x1b[2Ka/one: Creating',
    '\r\x1b[2Ka/two: Creating',
    '\x1b[2A\r\x1b[2Ka/one: Creating 50%',
    '\r\x1b[2Ka/two: Creating',
  ]);
});

test('on a terminal, a line wider than the terminal is cut so the redraw climbs the right number of lines', () => {
  const writes: string[] = [];
  new WaitDisplay(['a/b'], { write: (l) => writes.push(l), terminalColumns: 12 }).update('a/b', 'a/b: Creating — downloading', 0, false);
  assert.deepEqual(writes, ['\r\x1b[2Ka/b: Creat…']);
});

test('a timeout names the last state of each pending deployment and the commands that show why', async () => {
  const script = scripted([downloading(3)]);
  await assert.rejects(
    waitForDeployments(script.view, [target], { timeoutMs: 1000, write: () => {}, terminalColumns: undefined, now: script.now, sleep: script.sleep }),
    (err: Error) => {
      assert.equal(
        err.message,
        [
          'timed out after 1s waiting for seldon/iris to become Available',
          '  last state: seldon/iris: Creating (0/1 replicas ready) — downloading gs://m/iris 3.0 MB of 20.0 MB (5.0 MB/s)',
          '  see why: trantor describe sdep iris -n seldon; trantor logs iris -n seldon',
        ].join('\n'),
      );
      return true;
    },
  );
});

test('a Failed deployment fails the wait with its description once the others are settled', async () => {
  const views: Record<string, DeploymentView[]> = { bad: [viewOf('Failed', 'spec.predictors[0].graph.modelUri: cannot fetch')], good: [viewOf('Creating'), viewOf('Available', undefined, 1)] };
  const seen: string[] = [];
  const polls: Record<string, number> = { bad: 0, good: 0 };
  let time = 0;
  await assert.rejects(
    waitForDeployments(
      (t) => {
        seen.push(t.name);
        const list = views[t.name]!;
        return Promise.resolve(list[Math.min(polls[t.name]!++, list.length - 1)]!);
      },
      [{ namespace: 'ns', name: 'bad' }, { namespace: 'ns', name: 'good' }],
      { timeoutMs: 60_000, write: () => {}, terminalColumns: undefined, now: () => time, sleep: (ms) => Promise.resolve(void (time += ms)) },
    ),
    /^CliError: ns\/bad failed: spec\.predictors\[0\]\.graph\.modelUri: cannot fetch$/,
  );
  assert.deepEqual(seen, ['bad', 'good', 'good']);
});

test("while a replica loads, the line shows what it last printed; once Available, it does not", async () => {
  const loading = { status: { state: 'Creating', replicas: [{ id: 'default/classifier/0', name: 'iris-default-classifier-0', state: 'Starting', lastLine: 'loading the model from /models/iris (3 of 4 files)' }] } } as unknown as DeploymentView;
  const lines: string[] = [];
  const script = scripted([loading, viewOf('Available', undefined, 1)]);
  await waitForDeployments(script.view, [target], { timeoutMs: 60_000, write: (l) => lines.push(l), terminalColumns: undefined, now: script.now, sleep: script.sleep });
  assert.deepEqual(lines, [
    'seldon/iris: Creating (0/1 replicas ready) — iris-default-classifier-0 printed: loading the model from /models/iris (3 of 4 files)',
    'seldon/iris: Available (1/1 replicas ready)',
  ]);
});
