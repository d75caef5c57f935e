import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeliverySpec } from '../manifest/index.ts';
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
