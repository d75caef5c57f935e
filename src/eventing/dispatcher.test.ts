import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliverySpec, ObjectEventRecord } from '../manifest/index.ts';
import { ATTEMPT_ANSWER_BYTES, type DeliveryAttempt } from './dispatcher.ts';
import { Eventing } from './eventing.ts';
import type { EventingLimits } from './options.ts';
import { binaryHeaders, delivery, freshBrokerStore, makeTrigger, startSubscriber, testLimits, until } from './testing.ts';

/** The time between the first attempt, answered only after `slowMs`, and its retry. */
async function retryGap(limits: EventingLimits, spec: DeliverySpec, slowMs: number): Promise<number> {
  const sub = await startSubscriber((_req, n) => (n === 1 ? { status: 200, delayMs: slowMs } : { status: 200 }));
  const eventing = new Eventing({ store: freshBrokerStore(), limits });
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { delivery: spec }), subscriberUri: sub.url }]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('slow'), body: Buffer.from('{}') });
    await sub.waitFor(2);
    return sub.received[1]!.at - sub.received[0]!.at;
  } finally {
    await eventing.close();
    await sub.close();
  }
}

test('an attempt that outlives the delivery timeout is retried', async () => {
  const gap = await retryGap(testLimits(), delivery({ retry: 1, backoffDelayMs: 5, timeoutMs: 50 }), 500);
  assert.ok(gap < 400, 'the retry did not wait for the slow answer');
});

test('eventing.deliveryTimeout limits an attempt whose delivery spec sets no timeout', async () => {
  const gap = await retryGap(testLimits({ deliveryTimeout: 50 }), delivery({ retry: 1, backoffDelayMs: 5 }), 2000);
  assert.ok(gap < 1500, 'the retry did not wait for the slow answer');
});

test('a failed attempt is recorded as a DeliveryFailed Event on its Trigger, the event given up on as Dropped', async () => {
  const sub = await startSubscriber(() => ({ status: 500 }));
  const recorded: ObjectEventRecord[] = [];
  const eventing = new Eventing({ store: freshBrokerStore(), limits: testLimits(), recorder: { record: (e) => recorded.push(e) } });
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { delivery: delivery({ retry: 1, backoffDelayMs: 5 }) }), subscriberUri: sub.url }]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('e-1'), body: Buffer.from('{}') });
    await sub.waitFor(2);
    const deadline = Date.now() + 10_000;
    while (!recorded.some((e) => e.reason === 'Dropped')) {
      assert.ok(Date.now() < deadline, `no Dropped event recorded: ${JSON.stringify(recorded)}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(
      recorded.map((e) => [e.type, e.reason, e.involvedObject.kind, e.involvedObject.namespace, e.involvedObject.name]),
      [
        ['Warning', 'DeliveryFailed', 'Trigger', 'default', 't'],
        ['Warning', 'DeliveryFailed', 'Trigger', 'default', 't'],
        ['Warning', 'Dropped', 'Trigger', 'default', 't'],
      ],
    );
    assert.equal(recorded[0]?.message, `Delivery to ${sub.url} failed (500)`);
    assert.match(recorded[2]?.message ?? '', /^Event \S+ \(e-1\) dropped after 2 attempts \(500\); it is lost \(no dead-letter sink took it\)$/);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('onAttempt hears each attempt: delivered, retrying, then the last one with its fate', async () => {
  const ok = await startSubscriber(() => ({ status: 200, body: 'x'.repeat(5000) }));
  const failing = await startSubscriber(() => ({ status: 500, body: 'broken' }));
  const sink = await startSubscriber(() => ({ status: 202 }));
  const attempts: DeliveryAttempt[] = [];
  const eventing = new Eventing({ store: freshBrokerStore(), limits: testLimits(), onAttempt: (a) => attempts.push(a) });
  try {
    const spec = delivery({ retry: 2, backoffDelayMs: 5, deadLetterSink: { uri: sink.url } });
    await eventing.setTriggers([
      { key: 'default/good', trigger: makeTrigger('good'), subscriberUri: ok.url },
      { key: 'default/bad', trigger: makeTrigger('bad', { delivery: spec }), subscriberUri: failing.url, delivery: spec, deadLetterUri: sink.url },
    ]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('t', { 'ce-id': 'e-7', 'ce-source': 'src' }), body: Buffer.from('{}') });
    await until(() => attempts.length >= 5, 10_000, 'five attempts');
    const good = attempts.filter((a) => a.trigger === 'good');
    assert.equal(good.length, 1);
    assert.equal(good[0]!.outcome, 'delivered');
    assert.equal(good[0]!.status, 200);
    assert.equal(good[0]!.answer, 'x'.repeat(ATTEMPT_ANSWER_BYTES));
    assert.equal(good[0]!.target, ok.url);
    const bad = attempts.filter((a) => a.trigger === 'bad' && a.deadLetterSink === undefined);
    assert.deepEqual(bad.map((a) => [a.attempt, a.outcome, a.status, a.answer]), [
      [1, 'retrying', 500, 'broken'],
      [2, 'retrying', 500, 'broken'],
      [3, 'dead-lettered', 500, 'broken'],
    ]);
    // The sink's own attempt, reported before the last attempt's fate (which it decides).
    const toSink = attempts.filter((a) => a.deadLetterSink === true);
    assert.deepEqual(toSink.map((a) => [a.trigger, a.attempt, a.outcome, a.status, a.target]), [['bad', 1, 'delivered', 202, sink.url]]);
    assert.ok(attempts.indexOf(toSink[0]!) < attempts.indexOf(bad[2]!));
    for (const a of attempts) {
      assert.deepEqual([a.namespace, a.broker, a.eventId, a.eventType, a.eventSource], ['default', 'default', 'e-7', 't', 'src']);
      assert.ok(a.seq > 0 && a.durationMs >= 0 && a.time > 0);
    }
    await sink.waitFor(1);
  } finally {
    await eventing.close();
    await Promise.all([ok.close(), failing.close(), sink.close()]);
  }
});

test('onAttempt names what failed when the subscriber does not answer and the dead-letter sink fails too', async () => {
  const sink = await startSubscriber(() => ({ status: 503 }));
  const attempts: DeliveryAttempt[] = [];
  const eventing = new Eventing({ store: freshBrokerStore(), limits: testLimits(), onAttempt: (a) => attempts.push(a) });
  try {
    const spec = delivery({ retry: 1, backoffDelayMs: 5, deadLetterSink: { uri: sink.url } });
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { delivery: spec }), subscriberUri: 'http://127.0.0.1:9/', delivery: spec, deadLetterUri: sink.url }]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('t'), body: Buffer.from('{}') });
    await until(() => attempts.some((a) => a.deadLetterSink === undefined && a.outcome === 'dropped'), 10_000, 'the last attempt with its fate');
    // The sink is tried as often as the subscriber was (the trigger's retry), each attempt listed.
    assert.deepEqual(attempts.filter((a) => a.deadLetterSink === true).map((a) => [a.attempt, a.outcome, a.status]), [
      [1, 'retrying', 503],
      [2, 'dropped', 503],
    ]);
    const only = attempts.find((a) => a.deadLetterSink === undefined && a.outcome === 'dropped');
    assert.equal(only!.attempt, 2);
    assert.equal(only!.outcome, 'dropped');
    assert.equal(only!.status, undefined);
    assert.match(only!.error ?? '', new RegExp(`; the dead-letter sink ${sink.url.replaceAll('.', '\\.')} failed too \\(503\\)$`));
  } finally {
    await eventing.close();
    await sink.close();
  }
});

test('onAttempt reports the last attempt of a trigger with no dead-letter sink as dropped', async () => {
  const failing = await startSubscriber(() => ({ status: 503, body: 'busy' }));
  const attempts: DeliveryAttempt[] = [];
  const eventing = new Eventing({ store: freshBrokerStore(), limits: testLimits(), onAttempt: (a) => attempts.push(a) });
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { delivery: delivery({ retry: 1, backoffDelayMs: 5 }) }), subscriberUri: failing.url }]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('t'), body: Buffer.from('{}') });
    await until(() => attempts.length >= 2, 10_000, 'two attempts');
    assert.deepEqual(attempts.map((a) => [a.attempt, a.outcome, a.status, a.answer, a.error]), [
      [1, 'retrying', 503, 'busy', undefined],
      [2, 'dropped', 503, 'busy', undefined],
    ]);
  } finally {
    await eventing.close();
    await failing.close();
  }
});
