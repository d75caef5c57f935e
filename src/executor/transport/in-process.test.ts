/** The in-process transport's deadlines: one timer for every call in flight, each call failing at its own time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrantorError } from '../../protocol/index.ts';
import { StaticEndpoints } from '../testing.ts';
import type { UnitKey } from './endpoints.ts';
import { HttpTransport } from './http.ts';
import { InProcessTransport } from './in-process.ts';
import type { LocalComponent } from './in-process.ts';

const unit: UnitKey = Object.freeze({ namespace: 'deadlines', deployment: 'model', predictor: 'default', node: 'slow' });
const MESSAGE = { data: { ndarray: [[1]] } };

/** A component whose answers wait until the test releases them. */
function heldComponent(): { component: LocalComponent; release: () => void } {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { component: { handle: () => released.then(() => ({ status: 200, body: { data: { ndarray: [[2]] } } })) }, release };
}

function timeoutOf(err: unknown): number {
  assert.ok(err instanceof TrantorError);
  assert.equal(err.code, 'UPSTREAM_TIMEOUT');
  return Number(/within (\d+) ms/.exec(err.message)?.[1]);
}

test('calls in flight with different time limits each fail at their own deadline, and calls answered in time succeed', async () => {
  const { component, release } = heldComponent();
  let serving = component;
  const fallback = new HttpTransport({ endpoints: new StaticEndpoints(), retryWindowMs: 100 });
  const transport = new InProcessTransport({ componentOf: () => serving }, fallback);
  try {
    const started = Date.now();
    const settled = (p: Promise<unknown>): Promise<{ err: unknown; at: number }> =>
      p.then(
        () => ({ err: undefined, at: Date.now() - started }),
        (err: unknown) => ({ err, at: Date.now() - started }),
      );
    // The long call comes first: the shorter one after it must still fail on time, not at the long one's deadline.
    const long = settled(transport.predict(unit, MESSAGE, { idempotent: true, timeoutMs: 60_000 }));
    const short = settled(transport.predict(unit, MESSAGE, { idempotent: true, timeoutMs: 150 }));
    const shorter = settled(transport.predict(unit, MESSAGE, { idempotent: true, timeoutMs: 50 }));
    const first = await shorter;
    assert.equal(timeoutOf(first.err), 50);
    assert.ok(first.at >= 45, `failed after ${first.at} ms, before its deadline`);
    const second = await short;
    assert.equal(timeoutOf(second.err), 150);
    assert.ok(second.at >= 145 && second.at < 5_000, `failed after ${second.at} ms`);
    // The long call is still waiting; once the component answers it succeeds.
    release();
    const answered = await long;
    assert.equal(answered.err, undefined);
    // Every call has settled (the shared timer is off); a new call is timed afresh.
    const held = heldComponent();
    serving = held.component;
    const late = await settled(transport.predict(unit, MESSAGE, { idempotent: true, timeoutMs: 80 }));
    held.release();
    assert.equal(timeoutOf(late.err), 80);
  } finally {
    await transport.close();
  }
});

test('calls one after another share the deadline timer: it is set once, not once per call, and still holds no idle process open', async (t) => {
  const fallback = new HttpTransport({ endpoints: new StaticEndpoints(), retryWindowMs: 100 });
  const transport = new InProcessTransport({ componentOf: () => ({ handle: () => Promise.resolve({ status: 200, body: { data: { ndarray: [[2]] } } }) }) }, fallback);
  const timers = t.mock.method(globalThis, 'setTimeout');
  try {
    for (let i = 0; i < 50; i++) {
      const reply = await transport.predict(unit, MESSAGE, { idempotent: true, timeoutMs: 30_000 });
      assert.deepEqual(reply.message, { data: { ndarray: [[2]] } });
    }
    assert.equal(timers.mock.callCount(), 1);
    const timer = timers.mock.calls[0]!.result as NodeJS.Timeout;
    assert.equal(timer.hasRef(), false, 'the timer is unref\'d while no call is in flight');
  } finally {
    await transport.close();
  }
});

test('a call in flight when the transport closes still fails at its deadline', async () => {
  const { component, release } = heldComponent();
  const fallback = new HttpTransport({ endpoints: new StaticEndpoints(), retryWindowMs: 100 });
  const transport = new InProcessTransport({ componentOf: () => component }, fallback);
  const call = transport.predict(unit, MESSAGE, { idempotent: true, timeoutMs: 80 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  await transport.close();
  assert.equal(timeoutOf(await call), 80);
  release();
});
