import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeBinary } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import { Eventing } from './eventing.ts';
import type { EventingOptions, TriggerBinding } from './eventing.ts';
import type { EventStore } from './store/store.ts';
import { forwardingStore } from './store/forwarding.ts';
import { binaryHeaders, delivery, freshBrokerStore, makeBroker, openBrokerStore, makeTrigger, sleepMs, startSubscriber, storeFolder, until, testLimits } from './testing.ts';

const folder = (): string => storeFolder('trantor-eventing-');
const open = (dir: string, options: Partial<EventingOptions> = {}): Eventing =>
  new Eventing({ store: openBrokerStore(dir), limits: testLimits(), ...options });

function post(eventing: Eventing, headers: Record<string, string>, body = '{"data":{"ndarray":[[1,2,3,4]]}}', broker = 'default') {
  return eventing.ingress('default', broker, { method: 'POST', headers, body: Buffer.from(body) });
}

const SEED_CURL = {
  'Ce-Id': '536808d3-88be-4077-9d7a-a3f162705f79',
  'Ce-specversion': '0.3',
  'Ce-Type': 'seldon.iris-deployment.default.request',
  'Ce-Source': 'seldon.examples.streaming.curl',
  'Content-Type': 'application/json',
};

test('the seed curl gets 202 Accepted with an empty body and the event is stored', async () => {
  const eventing = open(folder());
  try {
    const answer = await post(eventing, SEED_CURL);
    assert.equal(answer.status, 202);
    assert.equal(answer.body, '');
    const stored = [];
    for await (const e of eventing.tail('default', 'default', { fromSeq: 0 })) {
      stored.push(e);
      break;
    }
    assert.equal(stored[0]!.event.id, SEED_CURL['Ce-Id']);
    assert.equal(stored[0]!.event.extensions['knativebrokerttl'], 255);
    assert.match(String(stored[0]!.event.extensions['knativearrivaltime']), /^\d{4}-\d\d-\d\dT/);
  } finally {
    await eventing.close();
  }
});

test('bad events get 400 with the reason and nothing is stored', async () => {
  const dir = folder();
  const eventing = open(dir);
  try {
    const noType = { ...SEED_CURL } as Record<string, string>;
    delete noType['Ce-Type'];
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [noType, '{}', /missing required attribute type/],
      [{ ...SEED_CURL, 'Ce-specversion': '0.2' }, '{}', /specversion "0.2"/],
      [{ ...SEED_CURL, 'Ce-Time': 'yesterday' }, '{}', /time/],
      [{ 'content-type': 'application/cloudevents+json' }, '{not json', /not valid JSON/],
      [{ 'content-type': 'application/cloudevents-batch+json' }, '[]', /batch/],
    ];
    for (const [headers, body, reason] of cases) {
      const answer = await post(eventing, headers, body);
      assert.equal(answer.status, 400, body);
      const failure = JSON.parse(answer.body) as { status: { info: string; reason: string } };
      assert.match(failure.status.info, reason);
      assert.equal(failure.status.reason, 'BAD_EVENT');
    }
  } finally {
    await eventing.close();
  }
  const store = openBrokerStore(dir);
  assert.deepEqual(await store.read('default/default', 0), []);
  await store.close();
});

test('the ingress answers 405 with Allow: POST to other methods', async () => {
  const eventing = open(folder());
  try {
    const answer = await eventing.ingress('default', 'default', { method: 'GET', headers: {}, body: Buffer.alloc(0) });
    assert.equal(answer.status, 405);
    assert.equal(answer.headers['allow'], 'POST');
  } finally {
    await eventing.close();
  }
});

test('the ingress answers 404 for an undeclared broker; default exists in every namespace', async () => {
  const eventing = open(folder());
  try {
    assert.equal((await post(eventing, SEED_CURL, '{}', 'nope')).status, 404);
    eventing.setBrokers([makeBroker('nope')]);
    assert.equal((await post(eventing, SEED_CURL, '{}', 'nope')).status, 202);
    const other = await eventing.ingress('any-namespace', 'default', { method: 'POST', headers: SEED_CURL, body: Buffer.from('{}') });
    assert.equal(other.status, 202);
  } finally {
    await eventing.close();
  }
});

test('the ingress answers 413 to an event over the size limit, over real HTTP too', async () => {
  const eventing = open(folder(), { limits: testLimits({ ingressLimit: 100 }) });
  const server = createServer((req, res) => void eventing.handleHttp('default', 'default', req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    assert.equal((await post(eventing, SEED_CURL, 'x'.repeat(101))).status, 413);
    const { port } = server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/default/default', headers: SEED_CURL }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('y'.repeat(5000));
    });
    assert.equal(status, 413);
  } finally {
    server.close();
    await eventing.close();
  }
});

test('202 is answered only after the store has made the event durable', async () => {
  const inner = freshBrokerStore();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const gated = forwardingStore(inner, {
    append: async (broker, records) => {
      await gate;
      return inner.append(broker, records);
    },
  });
  const eventing = new Eventing({ store: gated, limits: testLimits() });
  try {
    let answered = false;
    const pending = post(eventing, SEED_CURL).then((a) => {
      answered = true;
      return a;
    });
    await sleepMs(30);
    assert.equal(answered, false);
    assert.deepEqual(await inner.read('default/default', 0), []);
    release();
    assert.equal((await pending).status, 202);
    assert.equal((await inner.read('default/default', 0)).length, 1);
  } finally {
    await eventing.close();
  }
});

test('a matching event is delivered in binary mode with its attributes', async () => {
  const sub = await startSubscriber();
  const eventing = open(folder());
  try {
    await eventing.setTriggers([
      { key: 'default/t', trigger: makeTrigger('t', { attributes: { type: 'seldon.iris-deployment.default.request' } }), subscriberUri: sub.url },
      { key: 'default/other', trigger: makeTrigger('other', { attributes: { type: 'other' } }), subscriberUri: sub.url },
    ]);
    assert.equal((await post(eventing, { ...SEED_CURL, 'Ce-Source': 'a b' })).status, 202);
    const [got] = await sub.waitFor(1);
    assert.equal(got!.headers['ce-type'], 'seldon.iris-deployment.default.request');
    assert.equal(got!.headers['ce-source'], 'a%20b');
    assert.equal(got!.headers['ce-specversion'], '0.3');
    assert.equal(got!.headers['ce-knativebrokerttl'], undefined, 'the broker keeps its TTL to itself');
    assert.equal(got!.body.toString(), '{"data":{"ndarray":[[1,2,3,4]]}}');
    await sleepMs(50);
    assert.equal(sub.received.length, 1);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('delivery format json sends the event in structured mode', async () => {
  const sub = await startSubscriber();
  const eventing = open(folder());
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { delivery: delivery({ format: 'json' }) }), subscriberUri: sub.url }]);
    await post(eventing, SEED_CURL);
    const [got] = await sub.waitFor(1);
    assert.match(String(got!.headers['content-type']), /^application\/cloudevents\+json/);
    assert.deepEqual(got!.event?.data, { data: { ndarray: [[1, 2, 3, 4]] } });
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a subscriber failing twice then succeeding gets the event 3 times', async () => {
  const sub = await startSubscriber((_req, n) => ({ status: n <= 2 ? 503 : 200 }));
  const eventing = open(folder());
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 3, backoffDelayMs: 5, backoffPolicy: 'linear' }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    await post(eventing, SEED_CURL);
    const got = await sub.waitFor(3);
    assert.ok(got.every((r) => r.headers['ce-id'] === SEED_CURL['Ce-Id']));
    await sleepMs(100);
    assert.equal(sub.received.length, 3);
    assert.deepEqual(await eventing.triggerCounts('default/t'), { pending: 0, delivered: 1, deadLettered: 0 });
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a subscriber that always fails sends the event to the dead-letter sink with the three error extensions', async () => {
  const sub = await startSubscriber(() => ({ status: 500, body: 'model exploded' }));
  const dls = await startSubscriber();
  const eventing = open(folder());
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 2, backoffDelayMs: 5 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url, deadLetterUri: dls.url }]);
    await post(eventing, SEED_CURL);
    const [dead] = await dls.waitFor(1);
    assert.equal(sub.received.length, 3);
    assert.equal(dead!.headers['ce-id'], SEED_CURL['Ce-Id']);
    assert.equal(dead!.headers['ce-knativeerrordest'], sub.url);
    assert.equal(dead!.headers['ce-knativeerrorcode'], '500');
    assert.equal(Buffer.from(String(dead!.headers['ce-knativeerrordata']), 'base64').toString(), 'model exploded');
    await sleepMs(20);
    assert.deepEqual(await eventing.triggerCounts('default/t'), { pending: 0, delivered: 0, deadLettered: 1 });
  } finally {
    await eventing.close();
    await sub.close();
    await dls.close();
  }
});

test('a 400 from the subscriber is not retried', async () => {
  const sub = await startSubscriber(() => ({ status: 400 }));
  const dls = await startSubscriber();
  const eventing = open(folder());
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 3, backoffDelayMs: 5 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url, deadLetterUri: dls.url }]);
    await post(eventing, SEED_CURL);
    const [dead] = await dls.waitFor(1);
    assert.equal(dead!.headers['ce-knativeerrorcode'], '400');
    assert.equal(sub.received.length, 1);
  } finally {
    await eventing.close();
    await sub.close();
    await dls.close();
  }
});

test('a 2xx reply with a body that is not an event is delivered, the body discarded (as Knative does)', async () => {
  const sub = await startSubscriber(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }));
  const eventing = open(folder());
  try {
    const trigger = makeTrigger('t', { delivery: delivery({ retry: 1, backoffDelayMs: 5 }) });
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    await post(eventing, SEED_CURL);
    await until(() => eventing.deliveryCounters('default/t').delivered === 1);
    assert.equal(sub.received.length, 1);
    assert.deepEqual(await eventing.triggerCounts('default/t'), { pending: 0, delivered: 1, deadLettered: 0 });
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('an event that failed for good with no dead-letter sink is dropped, not retried forever', async () => {
  const sub = await startSubscriber(() => ({ status: 500 }));
  const eventing = open(folder());
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { delivery: delivery({ retry: 0 }) }), subscriberUri: sub.url }]);
    await post(eventing, SEED_CURL);
    await until(() => eventing.deliveryCounters('default/t').dropped === 1);
    assert.equal(sub.received.length, 1);
    assert.deepEqual(await eventing.triggerCounts('default/t'), { pending: 0, delivered: 0, deadLettered: 1 });
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a reply event is published back into the broker and matched by another trigger', async () => {
  const reply: CloudEvent = {
    specversion: '0.3', id: 'puid-1', source: 'seldon.iris-deployment', type: 'seldon.iris-deployment.default.response',
    datacontenttype: 'application/json', extensions: {}, data: { data: { names: ['t:0'], ndarray: [[0.9]] }, meta: {} },
  };
  const model = await startSubscriber(() => {
    const { headers, body } = encodeBinary(reply);
    return { status: 200, headers, body };
  });
  const display = await startSubscriber();
  const eventing = open(folder());
  try {
    await eventing.setTriggers([
      { key: 'default/model', trigger: makeTrigger('model', { attributes: { type: 'seldon.iris-deployment.default.request' } }), subscriberUri: model.url },
      {
        key: 'default/display',
        trigger: makeTrigger('display', { attributes: { type: 'seldon.iris-deployment.default.response', source: 'seldon.iris-deployment' } }),
        subscriberUri: display.url,
      },
    ]);
    await post(eventing, SEED_CURL);
    const [shown] = await display.waitFor(1);
    assert.equal(shown!.event?.id, 'puid-1');
    assert.equal(shown!.event?.type, 'seldon.iris-deployment.default.response');
    assert.deepEqual(JSON.parse(shown!.body.toString()), reply.data);
    assert.equal(model.received.length, 1);
  } finally {
    await eventing.close();
    await model.close();
    await display.close();
  }
});

test('a looping event is dropped once its TTL is spent, and the drop is counted', async () => {
  // The subscriber answers every event with a new event of the same type: a loop.
  let n = 0;
  const echo = await startSubscriber(() => {
    n += 1;
    const { headers, body } = encodeBinary({ specversion: '1.0', id: `loop-${n}`, source: 'echo', type: 'loop', extensions: {} });
    return { status: 200, headers, body };
  });
  const eventing = open(folder());
  try {
    await eventing.setTriggers([{ key: 'default/echo', trigger: makeTrigger('echo', { attributes: { type: 'loop' } }), subscriberUri: echo.url }]);
    // Stored with 2, 1, 0; the reply to the last one is dropped.
    assert.equal((await post(eventing, binaryHeaders('loop', { 'ce-knativebrokerttl': '3' }), '')).status, 202);
    await until(() => eventing.deliveryCounters('default/echo').dropped === 1);
    assert.equal(echo.received.length, 3);
    assert.deepEqual(echo.received.map((r) => r.headers['ce-knativebrokerttl']), [undefined, undefined, undefined]);
  } finally {
    await eventing.close();
    await echo.close();
  }
});

test('an event posted with a TTL of 0 or less is refused with 400 and not stored', async () => {
  const sub = await startSubscriber();
  const eventing = open(folder());
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t'), subscriberUri: sub.url }]);
    for (const ttl of ['0', '-1']) {
      const answer = await post(eventing, binaryHeaders('x', { 'ce-knativebrokerttl': ttl }));
      assert.equal(answer.status, 400);
      assert.match(answer.body, /knativebrokerttl is/);
    }
    assert.deepEqual(await eventing.triggerCounts('default/t'), { pending: 0, delivered: 0, deadLettered: 0 });
    assert.equal(sub.received.length, 0);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a trigger without a subscriber URI keeps its events until it gets one', async () => {
  const sub = await startSubscriber();
  const eventing = open(folder());
  try {
    const trigger = makeTrigger('t');
    await eventing.setTriggers([{ key: 'default/t', trigger }]);
    await post(eventing, SEED_CURL);
    await post(eventing, binaryHeaders('second'));
    await sleepMs(30);
    assert.equal((await eventing.triggerCounts('default/t')).pending, 2);
    await eventing.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    const got = await sub.waitFor(2);
    assert.deepEqual(got.map((r) => r.headers['ce-type']), ['seldon.iris-deployment.default.request', 'second']);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a new instance on the same folder delivers what the old one had not (restart)', async () => {
  const dir = folder();
  const trigger = makeTrigger('t', { delivery: delivery({ retry: 5, backoffDelayMs: 5 }) });
  const first = open(dir);
  const down = await startSubscriber(() => ({ status: 503 }));
  await first.setTriggers([{ key: 'default/t', trigger, subscriberUri: down.url }]);
  for (let i = 0; i < 5; i++) assert.equal((await post(first, binaryHeaders(`restart-${i}`))).status, 202);
  await down.waitFor(5);
  await first.close();
  await down.close();

  const sub = await startSubscriber();
  const second = open(dir);
  try {
    await second.setTriggers([{ key: 'default/t', trigger, subscriberUri: sub.url }]);
    const got = await sub.waitFor(5);
    assert.deepEqual(got.map((r) => r.headers['ce-type']).sort(), [0, 1, 2, 3, 4].map((i) => `restart-${i}`));
    await sleepMs(30);
    assert.equal((await second.triggerCounts('default/t')).pending, 0);
  } finally {
    await second.close();
    await sub.close();
  }
});

test('a slow trigger with a bounded queue still gets every event exactly once', async () => {
  const sub = await startSubscriber();
  const eventing = open(folder(), { limits: testLimits({ maxQueuedPerTrigger: 5, maxInFlightPerTrigger: 2 }) });
  try {
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t'), subscriberUri: sub.url }]);
    await Promise.all(Array.from({ length: 60 }, (_, i) => post(eventing, binaryHeaders(`e${i}`))));
    await sub.waitFor(60);
    await sleepMs(50);
    const types = sub.received.map((r) => r.headers['ce-type']);
    assert.equal(types.length, 60);
    assert.equal(new Set(types).size, 60);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

test('a trigger removed from the set is forgotten with its pending deliveries', async () => {
  const eventing = open(folder());
  try {
    const binding: TriggerBinding = { key: 'default/t', trigger: makeTrigger('t') };
    await eventing.setTriggers([binding]);
    await post(eventing, SEED_CURL);
    assert.equal((await eventing.triggerCounts('default/t')).pending, 1);
    await eventing.setTriggers([]);
    assert.equal((await eventing.triggerCounts('default/t')).pending, 0);
  } finally {
    await eventing.close();
  }
});

test('publish stores an event from inside the process and tail follows new events', async () => {
  const eventing = open(folder());
  try {
    const controller = new AbortController();
    const seen: string[] = [];
    const tailing = (async () => {
      for await (const stored of eventing.tail('default', 'default', { signal: controller.signal })) {
        seen.push(stored.event.id);
        if (seen.length === 2) controller.abort();
      }
    })();
    await sleepMs(10);
    const result = await eventing.publish('default', 'default', { specversion: '1.0', id: 'p1', source: 'cli', type: 't', extensions: {} });
    assert.equal(result.stored, true);
    await post(eventing, { ...SEED_CURL, 'Ce-Id': 'p2' });
    await tailing;
    assert.deepEqual(seen, ['p1', 'p2']);
    await assert.rejects(eventing.publish('default', 'default', { specversion: '1.0', id: '', source: 'cli', type: 't', extensions: {} }), /id must not be empty/);
    await assert.rejects(eventing.publish('default', 'nope', { specversion: '1.0', id: 'x', source: 'cli', type: 't', extensions: {} }), /no broker nope/);
  } finally {
    await eventing.close();
  }
});

test('a trigger without its own delivery spec uses its broker\'s', async () => {
  const sub = await startSubscriber((_req, n) => ({ status: n === 1 ? 500 : 200 }));
  const eventing = open(folder());
  try {
    eventing.setBrokers([makeBroker('b', 'default', delivery({ retry: 1, backoffDelayMs: 5 }))]);
    await eventing.setTriggers([{ key: 'default/t', trigger: makeTrigger('t', { broker: 'b' }), subscriberUri: sub.url }]);
    await post(eventing, SEED_CURL, '{}', 'b');
    await sub.waitFor(2);
  } finally {
    await eventing.close();
    await sub.close();
  }
});

/** A store in front of SQLite whose appends fail, while `full()` says so, with `failure()`. */
function fillableStore(full: () => boolean, failure: () => Error): { store: EventStore; refused: () => number } {
  const inner = freshBrokerStore();
  let refused = 0;
  const store = forwardingStore(inner, {
    append: (broker, records) => {
      if (!full()) return inner.append(broker, records);
      refused += 1;
      return Promise.reject(failure());
    },
  });
  return { store, refused: () => refused };
}

test('a store out of space (ENOSPC from any backend) is answered 507 INSUFFICIENT_STORAGE, never 500', async () => {
  const { store } = fillableStore(
    () => true,
    () => Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' }),
  );
  const eventing = new Eventing({ store, limits: testLimits() });
  try {
    const answer = await post(eventing, SEED_CURL);
    assert.equal(answer.status, 507, answer.body);
    const body = JSON.parse(answer.body) as { status: { reason: string; info: string } };
    assert.equal(body.status.reason, 'INSUFFICIENT_STORAGE');
    assert.match(body.status.info, /^the broker's disk is full: no space left on device/);
  } finally {
    await eventing.close();
  }
});

test('a reply that cannot be stored on a full disk is stored once space returns, and only then is its delivery marked', async () => {
  let full = false;
  const { store, refused } = fillableStore(
    () => full,
    () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
  );
  const replies = await startSubscriber();
  const model = await startSubscriber(() => ({ status: 200, headers: binaryHeaders('reply', { 'ce-id': 'the-reply' }), body: '{"ok":true}' }));
  const eventing = new Eventing({ store, limits: testLimits() });
  try {
    await eventing.setTriggers([
      { key: 'default/model', trigger: makeTrigger('model', { attributes: { type: 'request' } }), subscriberUri: model.url },
      { key: 'default/replies', trigger: makeTrigger('replies', { attributes: { type: 'reply' } }), subscriberUri: replies.url },
    ]);
    assert.equal((await post(eventing, binaryHeaders('request'))).status, 202);
    full = true;
    await model.waitFor(1);
    const deadline = Date.now() + 5000;
    while (refused() < 2 && Date.now() < deadline) await sleepMs(20);
    assert.ok(refused() >= 2, 'the reply was not tried again while the disk was full');
    assert.deepEqual(await eventing.triggerCounts('default/model'), { pending: 1, delivered: 0, deadLettered: 0 });

    full = false;
    const [reply] = await replies.waitFor(1, 5000);
    assert.equal(reply!.headers['ce-id'], 'the-reply');
    const markedBy = Date.now() + 5000;
    while ((await eventing.triggerCounts('default/model')).delivered === 0 && Date.now() < markedBy) await sleepMs(20);
    assert.deepEqual(await eventing.triggerCounts('default/model'), { pending: 0, delivered: 1, deadLettered: 0 });
    assert.equal(model.received.length, 1, 'the request was not delivered again');
  } finally {
    await eventing.close();
    await replies.close();
    await model.close();
  }
});
