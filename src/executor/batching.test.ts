import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TrantorError, parseJsonLossless, stringifyJson } from '../protocol/index.ts';
import type { SeldonMessage } from '../protocol/index.ts';
import type { Parameter, Predictor } from '../manifest/index.ts';
import { batchedUnits } from './batching.ts';
import { PredictorExecutor } from './executor.ts';
import { EXECUTOR_DEFAULTS } from './options.ts';
import { planGraph } from './plan.ts';
import { StaticEndpoints, answerJson, graphNode, predictorOf, standIn } from './testing.ts';
import type { ComponentBehaviour, StandIn } from './testing.ts';
import { HttpTransport } from './transport/http.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

const batchParameters = (size: number, waitMs: number): Parameter[] => [
  { name: 'batch_max_size', value: String(size), type: 'INT' },
  { name: 'batch_max_wait_ms', value: String(waitMs), type: 'FLOAT' },
];

const batched = (size = 32, waitMs = 5): Predictor => predictorOf('default', graphNode('model', { type: 'MODEL', parameters: batchParameters(size, waitMs) }));

async function serve(predictor: Predictor, behaviour: ComponentBehaviour): Promise<{ executor: PredictorExecutor; component: StandIn }> {
  const component = await standIn(behaviour);
  cleanup.push(() => component.close());
  const endpoints = new StaticEndpoints();
  endpoints.set('model', [component.replica()]);
  const transport = new HttpTransport({ endpoints, retryWindowMs: 100 });
  cleanup.push(() => transport.close());
  return { executor: new PredictorExecutor({ namespace: 'seldon', deployment: 'dep', predictor, transport }), component };
}

/** Doubles every number after `delayMs`, in the request's encoding, tagging the reply; echoes other payloads. */
const doubling =
  (delayMs: number): ComponentBehaviour =>
  (request, res) => {
    const message = JSON.parse(request.body) as SeldonMessage;
    const twice = (v: unknown): unknown => (Array.isArray(v) ? v.map(twice) : typeof v === 'number' ? v * 2 : v);
    const data = message.data;
    let reply: SeldonMessage;
    if (data?.ndarray !== undefined) reply = { data: { ...data, ndarray: twice(data.ndarray) as unknown[] } };
    else if (data?.tensor !== undefined) reply = { data: { ...data, tensor: { shape: data.tensor.shape, values: twice(data.tensor.values) as number[] } } };
    else reply = { ...message };
    reply.meta = { ...(message.meta?.puid === undefined ? {} : { puid: message.meta.puid }), tags: { model: 'doubler' }, metrics: [{ key: 'calls', type: 'COUNTER', value: 1 }] };
    setTimeout(() => answerJson(res, 200, reply), delayMs);
  };

const predicts = (component: StandIn): number => component.received.filter((r) => r.path === '/predict').length;

test('batch parameters: opt in with batch_max_size; the wait defaults to 2 ms; bad values leave batching off', () => {
  const settingsOf = (parameters: Parameter[]): unknown => [...batchedUnits(planGraph('seldon', 'dep', predictorOf('default', graphNode('m', { parameters }))), EXECUTOR_DEFAULTS.batchMaxWait).values()][0];
  assert.equal(settingsOf([]), undefined);
  assert.deepEqual(settingsOf(batchParameters(32, 1.5)), { maxSize: 32, maxWaitMs: 1.5 });
  assert.deepEqual(settingsOf([{ name: 'batch_max_size', value: '8', type: 'INT' }]), { maxSize: 8, maxWaitMs: 2 });
  assert.equal(settingsOf([{ name: 'batch_max_size', value: 'many', type: 'STRING' }]), undefined);
});

test('32 concurrent one-row requests reach the component in far fewer calls, each caller getting its own row', async () => {
  const { executor, component } = await serve(batched(32, 5), doubling(10));
  const replies = await Promise.all(Array.from({ length: 32 }, (_, i) => executor.predict({ data: { names: ['a', 'b'], ndarray: [[i, i + 0.5]] } }, `puid-${i}`)));
  replies.forEach((reply, i) => {
    assert.deepEqual(reply.data, { names: ['a', 'b'], ndarray: [[2 * i, 2 * i + 1]] });
    assert.equal(reply.meta?.puid, `puid-${i}`);
    assert.deepEqual(reply.meta?.tags, { model: 'doubler' });
    assert.deepEqual(reply.meta?.metrics, [{ key: 'calls', type: 'COUNTER', value: 1 }]);
  });
  const calls = predicts(component);
  assert.ok(calls <= 4, `expected at most 4 calls for 32 requests, got ${calls}`);
  // The batched call carries every row, names kept.
  const biggest = component.received.map((r) => JSON.parse(r.body) as SeldonMessage).sort((a, b) => (b.data?.ndarray?.length ?? 0) - (a.data?.ndarray?.length ?? 0))[0]!;
  assert.ok((biggest.data?.ndarray?.length ?? 0) > 1);
  assert.deepEqual(biggest.data?.names, ['a', 'b']);
});

test('requests of several rows, and tensors, are split back by their row counts in their own encoding', async () => {
  const { executor, component } = await serve(batched(64, 5), doubling(10));
  const requests: SeldonMessage[] = Array.from({ length: 12 }, (_, i) => {
    const rows = (i % 3) + 1;
    const values = Array.from({ length: rows * 2 }, (_, k) => 100 * i + k);
    return { data: { tensor: { shape: [rows, 2], values } } };
  });
  const replies = await Promise.all(requests.map((r, i) => executor.predict(r, `p${i}`)));
  replies.forEach((reply, i) => {
    const sent = requests[i]!.data!.tensor!;
    assert.deepEqual(reply.data?.tensor, { shape: sent.shape, values: sent.values.map((v) => v * 2) });
    assert.equal(reply.data?.ndarray, undefined);
  });
  assert.ok(predicts(component) < 12);
});

test('a failed batched call fails every caller in it', async () => {
  const failing: ComponentBehaviour = (_request, res) => {
    setTimeout(() => answerJson(res, 500, { status: { code: 500, info: 'model exploded', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' } }), 10);
  };
  const { executor, component } = await serve(batched(32, 5), failing);
  const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => executor.predict({ data: { ndarray: [[i]] } }, `p${i}`)));
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof TrantorError);
    assert.equal(r.reason.message, 'model exploded');
  }
  assert.ok(predicts(component) <= 4);
});

test('a component that is unreachable fails every batched caller', async () => {
  const { executor, component } = await serve(batched(32, 5), doubling(10));
  await component.close();
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => executor.predict({ data: { ndarray: [[i]] } }, `p${i}`)));
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.equal((r.reason as TrantorError).code, 'UNAVAILABLE');
  }
});

test('messages that cannot be batched go straight through, one call each', async () => {
  const { executor, component } = await serve(batched(32, 5), doubling(10));
  // One batchable request first keeps a call in flight, so everything after it would queue if it could.
  const first = executor.predict({ data: { ndarray: [[1]] } }, 'first');
  const odd: SeldonMessage[] = [
    { strData: 'hello' },
    { jsonData: { a: 1 } },
    { data: { ndarray: [1, 2, 3] } },
    { data: { ndarray: [[[1, 2]], [[3, 4]]] } },
    { data: { tensor: { shape: [1, 2, 2], values: [1, 2, 3, 4] } } },
    { data: { ndarray: [[1, 2]] }, meta: { tags: { customer: 'x' } } },
  ];
  const replies = await Promise.all(odd.map((m, i) => executor.predict(m, `odd${i}`)));
  await first;
  assert.equal(replies[0]!.strData, 'hello');
  assert.deepEqual(replies[1]!.jsonData, { a: 1 });
  assert.deepEqual(replies[2]!.data?.ndarray, [2, 4, 6]);
  assert.deepEqual(replies[3]!.data?.ndarray, [[[2, 4]], [[6, 8]]]);
  assert.deepEqual(replies[4]!.data?.tensor, { shape: [1, 2, 2], values: [2, 4, 6, 8] });
  assert.deepEqual(replies[5]!.data?.ndarray, [[2, 4]]);
  assert.equal(predicts(component), 1 + odd.length);
});

test('requests of different widths are batched apart and each still gets its own rows', async () => {
  const { executor } = await serve(batched(32, 5), doubling(10));
  const requests: SeldonMessage[] = Array.from({ length: 20 }, (_, i) => ({ data: { ndarray: [i % 2 === 0 ? [i] : [i, i]] } }));
  const replies = await Promise.all(requests.map((m, i) => executor.predict(m, `w${i}`)));
  replies.forEach((reply, i) => assert.deepEqual(reply.data?.ndarray, [i % 2 === 0 ? [2 * i] : [2 * i, 2 * i]]));
});

test('an idle node sends at once, the request as it came, without waiting for batch_max_wait_ms', async () => {
  const { executor, component } = await serve(batched(32, 1_000), doubling(0));
  const started = performance.now();
  const reply = await executor.predict({ data: { ndarray: [[1, 2]] } }, 'alone');
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 200, `took ${elapsed} ms`);
  assert.deepEqual(reply.data?.ndarray, [[2, 4]]);
  assert.deepEqual(JSON.parse(component.received[0]!.body), { data: { ndarray: [[1, 2]] }, meta: { puid: 'alone' } });
  // One after the other, each request is alone: no call waits.
  const again = performance.now();
  for (let i = 0; i < 5; i++) await executor.predict({ data: { ndarray: [[i, i]] } }, `seq${i}`);
  assert.ok(performance.now() - again < 500);
  assert.equal(predicts(component), 6);
});

test('what piles up behind an in-flight call goes when that call answers, before batch_max_wait_ms', async () => {
  const { executor, component } = await serve(batched(32, 1_000), doubling(20));
  const started = performance.now();
  const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => executor.predict({ data: { ndarray: [[i]] } }, `p${i}`)));
  const elapsed = performance.now() - started;
  replies.forEach((reply, i) => assert.deepEqual(reply.data?.ndarray, [[2 * i]]));
  assert.equal(predicts(component), 2);
  assert.ok(elapsed < 500, `took ${elapsed} ms`);
});

test('a node without batch parameters is called once per request', async () => {
  const { executor, component } = await serve(predictorOf('default', graphNode('model', { type: 'MODEL' })), doubling(5));
  await Promise.all(Array.from({ length: 8 }, (_, i) => executor.predict({ data: { ndarray: [[i]] } }, `p${i}`)));
  assert.equal(predicts(component), 8);
});

test('batched rows keep integers above 2^53 and NaN exactly, into the stacked call and back to each caller', async () => {
  // The component answers the very text it got: what the stacked call carried comes back to be split.
  const { executor, component } = await serve(batched(8, 20), (request, res) => setTimeout(() => answerJson(res, 200, request.body), 5));
  const rows = ['[[12345678901234567890,1]]', '[[NaN,2]]', '[[1e400,3]]'];
  const replies = await Promise.all(rows.map((row, i) => executor.predict(parseJsonLossless(`{"data":{"ndarray":${row}}}`) as SeldonMessage, `p${i}`)));
  assert.ok(predicts(component) < rows.length, `expected one stacked call, got ${predicts(component)}`);
  // The first goes at once to the idle node; the two behind it are stacked into one call.
  const bodies = component.received.map((r) => r.body).join('\n');
  assert.match(bodies, /"ndarray":\[\[12345678901234567890,1\]\]/);
  assert.match(bodies, /"ndarray":\[\[NaN,2\],\[1e400,3\]\]/);
  replies.forEach((reply, i) => assert.equal(stringifyJson(reply.data), `{"ndarray":${rows[i]}}`));
});
