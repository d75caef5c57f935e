import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliverySpec, ObjectEventRecord } from '../manifest/index.ts';
import { Eventing } from './eventing.ts';
import type { EventingLimits } from './options.ts';
import { binaryHeaders, delivery, freshBrokerStore, makeTrigger, startSubscriber, testLimits } from './testing.ts';

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
