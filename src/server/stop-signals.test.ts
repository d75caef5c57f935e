import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

/** Runs `stopOnSignals` in a child with the given shutdown, sends it `signals`, and reports how it ended. */
async function stopped(shutdown: string, signals: NodeJS.Signals[], forceAfterMs = 10_000): Promise<{ code: number | null; out: string }> {
  const script = `
    import { stopOnSignals } from ${JSON.stringify(new URL('./stop-signals.ts', import.meta.url).href)};
    let runs = 0;
    stopOnSignals({ signals: ['SIGTERM', 'SIGINT'], say: (line) => console.log(line), forceAfterMs: ${forceAfterMs}, shutdown: async () => { runs++; console.log('shutdown ' + runs); ${shutdown} } });
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => ((out += chunk.toString()), out.includes('ready') && resolve())));
  for (const signal of signals) child.kill(signal);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

test('the first signal runs the shutdown once and exits 0; a second signal does not run it again', async () => {
  const { code, out } = await stopped('await new Promise((r) => setTimeout(r, 200));', ['SIGTERM', 'SIGINT']);
  assert.equal(code, 0, out);
  // Sent together, the two may be handled in either order: one stops, the other is a no-op.
  assert.match(out, /SIG(TERM|INT): stopping\nshutdown 1\n/);
  assert.equal(out.match(/stopping/g)?.length, 1, out);
  assert.doesNotMatch(out, /shutdown 2/);
});

test('a failing shutdown exits 1 saying why', async () => {
  const { code, out } = await stopped("throw new Error('disk gone');", ['SIGINT']);
  assert.equal(code, 1);
  assert.match(out, /stopping failed: disk gone/);
});

test('a shutdown that hangs is cut after forceAfterMs with exit 1', async () => {
  const started = Date.now();
  const { code } = await stopped('await new Promise(() => {});', ['SIGTERM'], 300);
  assert.equal(code, 1);
  assert.ok(Date.now() - started < 8_000);
});
