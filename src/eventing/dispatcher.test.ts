import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Eventing } from './eventing.ts';
import { binaryHeaders, delivery, freshBrokerStore, makeTrigger, startSubscriber, testLimits } from './testing.ts';

test('an attempt that outlives the delivery timeout is retried', async () => {
  const sub = await startSubscriber((_req, n) => (n === 1 ? { status: 200, delayMs: 500 } : { status: 200 }));
  const eventing = new Eventing({ store: freshBrokerStore(), limits: testLimits() });
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 1, backoffDelayMs: 5, timeoutMs: 50 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('slow'), body: Buffer.from('{}') });
    await sub.waitFor(2);
    assert.ok(sub.received[1]!.at - sub.received[0]!.at < 400, 'the retry did not wait for the slow answer');
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('eventing.deliveryTimeout limits an attempt whose delivery spec sets no timeout', async () => {
  const sub = await startSubscriber((_req, n) => (n === 1 ? { status: 200, delayMs: 2000 } : { status: 200 }));
  const eventing = new Eventing({ store: freshBrokerStore(), limits: testLimits({ deliveryTimeout: 50 }) });
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 1, backoffDelayMs: 5 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    await eventing.ingress('default', 'default', { method: 'POST', headers: binaryHeaders('slow'), body: Buffer.from('{}') });
    await sub.waitFor(2);
    assert.ok(sub.received[1]!.at - sub.received[0]!.at < 1500, 'the retry did not wait for the slow answer');
  } finally {
    await eventing.close();
    await sub.close();
  }
});
