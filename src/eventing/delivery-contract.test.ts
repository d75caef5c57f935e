/**
 * Knative's delivery contract, against real local HTTP subscribers: default retries, backoff
 * waits, `Prefer: reply`, 202 replies, TTL at ingress, dead-letter extensions for every failure,
 * waiting for an unresolved dead-letter sink, and the per-trigger counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { encodeBinary } from '../protocol/index.ts';
import type { DeliveryFailure } from './dispatcher.ts';
import { Eventing } from './eventing.ts';
import type { EventingOptions } from './eventing.ts';
import { brokerKey } from './store/store.ts';
import type { EventStore } from './store/store.ts';
import { binaryHeaders, delivery, freshBrokerStore, makeTrigger, startSubscriber, until, testLimits } from './testing.ts';
import type { Received } from './testing.ts';

let store: EventStore;
const open = (options: Partial<EventingOptions> = {}): Eventing => {
  store = freshBrokerStore();
  return new Eventing({ store, limits: testLimits(), ...options });
};

function post(eventing: Eventing, headers: Record<string, string>, body = '{}') {
  return eventing.ingress('default', 'default', { method: 'POST', headers, body: Buffer.from(body) });
}

/** The TTL of every event the broker `default/default` has stored, oldest first. */
async function storedTtls(store: EventStore): Promise<unknown[]> {
  return (await store.read(brokerKey('default', 'default'), 1, 100)).map((stored) => stored.event.extensions['knativebrokerttl']);
}

/** A port on 127.0.0.1 that nothing listens on: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const gaps = (received: Received[]): number[] => received.slice(1).map((r, i) => r.at - received[i]!.at);

test('a trigger with no delivery spec gets the broker defaults: a subscriber failing twice then succeeding gets the event', async () => {
  const sub = await startSubscriber((_req, n) => ({ status: n <= 2 ? 503 : 200 }));
  const eventing = open();
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t'), subscriberUri: sub.url }]);
    assert.equal((await post(eventing, binaryHeaders('x'))).status, 202);
    await sub.waitFor(3, 10_000);
    await until(() => eventing.deliveryCounters('default/t').delivered === 1);
    assert.equal(sub.received.length, 3);
    assert.deepEqual(eventing.deliveryCounters('default/t'), { delivered: 1, retried: 2, deadLettered: 0, dropped: 0 });
    // The default backoff is exponential from PT0.2S: 200 ms, then 400 ms.
    const [first, second] = gaps(sub.received);
    assert.ok(first! >= 190 && first! < 390, `first wait ${first} ms`);
    assert.ok(second! >= 390 && second! < 790, `second wait ${second} ms`);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

for (const [policy, expected] of [['exponential', [200, 400, 800]], ['linear', [0, 200, 400]]] as const) {
  test(`${policy} backoff waits ${expected.join(', ')} ms between attempts, as Knative's code does`, async () => {
    const sub = await startSubscriber(() => ({ status: 503 }));
    const eventing = open();
    try {
      const trigger = makeTrigger('t', { delivery: delivery({ retry: 3, backoffPolicy: policy, backoffDelayMs: 200 }) });
      await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
      await post(eventing, binaryHeaders('x'));
      const measured = gaps(await sub.waitFor(4, 10_000));
      assert.equal(measured.length, 3);
      measured.forEach((gap, i) => {
        const want = expected[i]!;
        assert.ok(gap >= want - 10 && gap < want + 150, `wait ${i + 1}: ${Math.round(gap)} ms, expected about ${want} ms (all: ${measured.map(Math.round).join(', ')})`);
      });
    } finally {
      await eventing.close();
      await sub.close();
    }
  });
}

test('subscribers get Prefer: reply; the dead-letter sink does not', async () => {
  const sub = await startSubscriber(() => ({ status: 500 }));
  const dls = await startSubscriber();
  const eventing = open();
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 0 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url, deadLetterUri: dls.url }]);
    await post(eventing, binaryHeaders('x'));
    const [dead] = await dls.waitFor(1);
    assert.equal(sub.received[0]!.headers['prefer'], 'reply');
    assert.equal(dead!.headers['prefer'], undefined);
  } finally {
    await eventing.close();
    await sub.close();
    await dls.close();
  }
});

test('a 202 answer carrying an event is not a reply: nothing goes back into the broker', async () => {
  const sub = await startSubscriber(() => {
    const { headers, body } = encodeBinary({ specversion: '1.0', id: 'r', source: 'model', type: 'reply', extensions: {} });
    return { status: 202, headers, body };
  });
  const eventing = open();
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { attributes: { type: 'x' } }), subscriberUri: sub.url }]);
    await post(eventing, binaryHeaders('x'));
    // A reply is stored before its original is marked delivered, so once delivered, none was stored.
    await until(async () => (await eventing.triggerCounts('default/t')).delivered === 1);
    assert.deepEqual(await storedTtls(store), [255], 'only the posted event is in the broker');
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('the ingress sets a missing TTL to 255, takes one hop off a present one, and subscribers never see it', async () => {
  const reply = encodeBinary({ specversion: '1.0', id: 'r', source: 'model', type: 'reply', extensions: {} });
  const sub = await startSubscriber((req) => (req.headers['ce-type'] === 'request' ? { status: 200, headers: reply.headers, body: reply.body } : { status: 200 }));
  const eventing = open();
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t'), subscriberUri: sub.url }]);
    await post(eventing, binaryHeaders('other'));
    await post(eventing, binaryHeaders('request', { 'ce-knativebrokerttl': '5' }));
    // other (255), request (5 → 4), its reply (carries 4 → 3).
    await until(async () => (await eventing.triggerCounts('default/t')).delivered === 3);
    assert.deepEqual(await storedTtls(store), [255, 4, 3]);
    assert.ok(sub.received.every((r) => r.headers['ce-knativebrokerttl'] === undefined), 'a subscriber got knativebrokerttl');
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('dead letters carry knativeerrordest, knativeerrorcode and knativeerrordata for a refused connection, a timeout and a 5xx', async () => {
  const refused = `http://127.0.0.1:${await closedPort()}/`;
  const slow = await startSubscriber(() => ({ status: 200, delayMs: 1000 }));
  const big = 'x'.repeat(2000);
  const failing = await startSubscriber(() => ({ status: 503, body: big }));
  const dls = await startSubscriber();
  const failures: DeliveryFailure[] = [];
  const eventing = open({ onFailure: (f) => failures.push(f) });
  try {
    const spec = delivery({ retry: 0, timeoutMs: 100 });
    await eventing.setTriggers([
      { key: 'default/refused', trigger: makeTrigger('refused', { attributes: { type: 'refused' }, delivery: spec }), subscriberUri: refused, deadLetterUri: dls.url },
      { key: 'default/slow', trigger: makeTrigger('slow', { attributes: { type: 'slow' }, delivery: spec }), subscriberUri: slow.url, deadLetterUri: dls.url },
      { key: 'default/failing', trigger: makeTrigger('failing', { attributes: { type: 'failing' }, delivery: spec }), subscriberUri: failing.url, deadLetterUri: dls.url },
    ]);
    for (const type of ['refused', 'slow', 'failing']) await post(eventing, binaryHeaders(type));
    const dead = await dls.waitFor(3, 10_000);
    const byType = new Map(dead.map((r) => [String(r.headers['ce-type']), r.headers]));
    for (const [type, uri] of [['refused', refused], ['slow', slow.url]] as const) {
      const headers = byType.get(type)!;
      assert.equal(headers['ce-knativeerrordest'], uri, type);
      assert.equal(headers['ce-knativeerrorcode'], '500', `${type}: no response is code 500, as Knative sends`);
      assert.match(Buffer.from(String(headers['ce-knativeerrordata']), 'base64').toString(), /^dispatch error: /, type);
    }
    const failed = byType.get('failing')!;
    assert.equal(failed['ce-knativeerrorcode'], '503');
    assert.equal(String(failed['ce-knativeerrordata']).length, 1024, 'the base64 body is cut to 1024 characters');
    assert.ok(big.startsWith(Buffer.from(String(failed['ce-knativeerrordata']), 'base64').toString()));
    await until(() => failures.length === 3);
    assert.deepEqual(failures.map((f) => f.outcome), ['deadLettered', 'deadLettered', 'deadLettered']);
    for (const key of ['default/refused', 'default/slow', 'default/failing']) {
      assert.deepEqual(eventing.deliveryCounters(key), { delivered: 0, retried: 0, deadLettered: 1, dropped: 0 }, key);
    }
  } finally {
    await eventing.close();
    await Promise.all([slow.close(), failing.close(), dls.close()]);
  }
});

test('a trigger whose dead-letter sink does not resolve keeps its events until it does', async () => {
  const sub = await startSubscriber(() => ({ status: 500 }));
  const witness = await startSubscriber();
  const dls = await startSubscriber();
  const eventing = open();
  try {
    const trigger = makeTrigger('t', { attributes: { type: 'x' }, delivery: delivery({ retry: 0, deadLetterSink: { uri: 'http://later.invalid/' } }) });
    const other = makeTrigger('witness', { attributes: { type: 'x' } });
    const witnessBinding = { key: 'default/witness', trigger: other, subscriberUri: witness.url };
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }, witnessBinding]);
    await post(eventing, binaryHeaders('x'));
    // The same event reached a ready trigger and was marked delivered there; the held one did not send it.
    await until(async () => (await eventing.triggerCounts('default/witness')).delivered === 1);
    assert.equal(sub.received.length, 0);
    assert.equal((await eventing.triggerCounts('default/t')).pending, 1);

    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url, deadLetterUri: dls.url }, witnessBinding]);
    const [dead] = await dls.waitFor(1);
    assert.equal(dead!.headers['ce-knativeerrorcode'], '500');
    assert.equal(sub.received.length, 1);
  } finally {
    await eventing.close();
    await Promise.all([sub.close(), witness.close(), dls.close()]);
  }
});

test('a failed event with no dead-letter sink is counted as dropped and reported once', async () => {
  const sub = await startSubscriber(() => ({ status: 500, body: 'boom' }));
  const failures: DeliveryFailure[] = [];
  const eventing = open({ onFailure: (f) => failures.push(f) });
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 2, backoffDelayMs: 5 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    await post(eventing, binaryHeaders('x', { 'ce-id': 'e-1' }));
    await until(() => failures.length === 1);
    assert.deepEqual(eventing.deliveryCounters('default/t'), { delivered: 0, retried: 2, deadLettered: 0, dropped: 1 });
    assert.deepEqual(
      { ...failures[0]!, error: undefined },
      { trigger: 'default/t', outcome: 'dropped', eventId: 'e-1', eventType: 'x', status: 500, error: undefined, attempts: 3 },
    );
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('an event whose dead-letter sink stops resolving during its last attempt waits for the sink, not dropped', async () => {
  const sub = await startSubscriber(() => ({ status: 500, body: 'slow failure', delayMs: 300 }));
  const dls = await startSubscriber();
  const eventing = open();
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 0, deadLetterSink: { uri: 'http://sink.invalid/' } }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url, deadLetterUri: dls.url }]);
    await post(eventing, binaryHeaders('x'));
    await sub.waitFor(1);
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    await until(() => {
      const lane = eventing.activity()['default/t'];
      return lane?.inFlight === 0 && lane.queued === 1;
    }, 5000, 'the failed event to wait in its lane');
    assert.equal((await eventing.triggerCounts('default/t')).pending, 1);
    assert.equal(dls.received.length, 0);

    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url, deadLetterUri: dls.url }]);
    const [dead] = await dls.waitFor(1);
    assert.equal(dead!.headers['ce-knativeerrorcode'], '500');
    assert.equal(Buffer.from(String(dead!.headers['ce-knativeerrordata']), 'base64').toString(), 'slow failure');
    assert.equal(sub.received.length, 1, 'the subscriber is not tried again');
  } finally {
    await eventing.close();
    await Promise.all([sub.close(), dls.close()]);
  }
});
