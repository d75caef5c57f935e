import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeldonResponse, type Features, type SeldonComponent } from './contract.ts';
import { createDispatcher } from './dispatch.ts';
import { MicroserviceError } from './errors.ts';

class Identity implements SeldonComponent {
  predict(X: Features): Features {
    return X;
  }
}

const quiet = { onModelError: () => {} };

test('a tensor request gets a tensor reply with names t:0, t:1', async () => {
  const d = createDispatcher(new Identity());
  const reply = await d.handle('predict', { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } } });
  assert.deepEqual(reply, { status: 200, body: { data: { names: ['t:0', 't:1'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } }, meta: {} } });
});

test('the model receives a tensor as nested arrays and the request names', async () => {
  let seen: unknown;
  const d = createDispatcher({ predict: (X: Features, names: string[]) => ((seen = { X, names }), X) });
  await d.handle('predict', { data: { names: ['a', 'b', 'c'], tensor: { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] } } });
  assert.deepEqual(seen, { X: [[1, 2, 3], [4, 5, 6]], names: ['a', 'b', 'c'] });
});

test('an ndarray request gets an ndarray reply', async () => {
  const reply = await createDispatcher(new Identity()).handle('predict', { data: { ndarray: [[1, 2, 3]] } });
  assert.deepEqual(reply.body, { data: { names: ['t:0', 't:1', 't:2'], ndarray: [[1, 2, 3]] }, meta: {} });
});

test('class names from a method name the output columns', async () => {
  const model = { predict: () => [[0.1, 0.9]], class_names: () => ['setosa', 'virginica'] };
  const reply = await createDispatcher(model).handle('predict', { data: { ndarray: [[1, 2]] } });
  assert.deepEqual(reply.body, { data: { names: ['setosa', 'virginica'], ndarray: [[0.1, 0.9]] }, meta: {} });
});

test('class names from an array property name the output columns', async () => {
  const model = { predict: () => [[0.1, 0.9]], classNames: ['no', 'yes'] };
  const reply = await createDispatcher(model).handle('predict', { data: { tensor: { shape: [1, 1], values: [3] } } });
  assert.deepEqual(reply.body, { data: { names: ['no', 'yes'], tensor: { shape: [1, 2], values: [0.1, 0.9] } }, meta: {} });
});

test('a 1-D output has no names', async () => {
  const reply = await createDispatcher({ predict: () => [1, 2] }).handle('predict', { data: { ndarray: [[1]] } });
  assert.deepEqual(reply.body, { data: { names: [], ndarray: [1, 2] }, meta: {} });
});

test('a non-numeric output to a tensor request comes back as an ndarray', async () => {
  const reply = await createDispatcher({ predict: () => [['a', 'b']] }).handle('predict', { data: { tensor: { shape: [1, 1], values: [1] } } });
  assert.deepEqual(reply.body, { data: { names: ['t:0', 't:1'], ndarray: [['a', 'b']] }, meta: {} });
});

test('strData reaches the model as a string and a string output is strData', async () => {
  const reply = await createDispatcher({ predict: (X: Features) => `got ${X as string}` }).handle('predict', { strData: 'hello' });
  assert.deepEqual(reply.body, { strData: 'got hello', meta: {} });
});

test('binData reaches the model as a Buffer and a Buffer output is base64 binData', async () => {
  let seen: unknown;
  const model = { predict: (X: Features) => ((seen = X), Buffer.concat([X as Buffer, Buffer.from('!')])) };
  const reply = await createDispatcher(model).handle('predict', { binData: Buffer.from('abc').toString('base64') });
  assert.ok(Buffer.isBuffer(seen));
  assert.deepEqual(reply.body, { binData: Buffer.from('abc!').toString('base64'), meta: {} });
});

test('jsonData reaches the model as its JSON value and an object output is jsonData', async () => {
  const model = { predict: (X: Features) => ({ echo: X }) };
  const reply = await createDispatcher(model).handle('predict', { jsonData: { a: [1, 2] } });
  assert.deepEqual(reply.body, { jsonData: { echo: { a: [1, 2] } }, meta: {} });
});

test('a numeric list output to a non-data request is a tensor', async () => {
  const reply = await createDispatcher({ predict: () => [[1, 2]] }).handle('predict', { strData: 'x' });
  assert.deepEqual(reply.body, { data: { names: ['t:0', 't:1'], tensor: { shape: [1, 2], values: [1, 2] } }, meta: {} });
});

test('predict_raw receives the whole message and its reply is returned as it is', async () => {
  const model = {
    predict_raw: (msg: unknown) => ({ jsonData: { raw: msg } }),
    predict: () => assert.fail('predict must not be called when predict_raw exists'),
  };
  const reply = await createDispatcher(model).handle('predict', { strData: 's', meta: { puid: 'p' } });
  assert.deepEqual(reply, { status: 200, body: { jsonData: { raw: { strData: 's', meta: { puid: 'p' } } } } });
});

test('an async predict is awaited', async () => {
  const reply = await createDispatcher({ predict: async (X: Features) => Promise.resolve(X) }).handle('predict', { data: { ndarray: [[5]] } });
  assert.deepEqual(reply.body, { data: { names: ['t:0'], ndarray: [[5]] }, meta: {} });
});

test('a predict answering a thenable that is not a Promise is awaited, and its rejection is the model\'s failure', async () => {
  const answering = { predict: (X: Features) => ({ then: (done: (value: Features) => void) => done(X) }) };
  const reply = await createDispatcher(answering).handle('predict', { data: { ndarray: [[7]] } });
  assert.deepEqual(reply.body, { data: { names: ['t:0'], ndarray: [[7]] }, meta: {} });
  const seen: string[] = [];
  const failing = { predict: () => ({ then: (_done: unknown, fail: (err: Error) => void) => fail(new TypeError('late')) }) };
  const failed = await createDispatcher(failing, { onModelError: (_e, where) => seen.push(where) }).handle('predict', { data: { ndarray: [[7]] } });
  assert.equal(failed.status, 500);
  assert.deepEqual(seen, ['predict']);
});

test('an error thrown by the model answers 500 MICROSERVICE_INTERNAL_ERROR with its type and message', async () => {
  const model = {
    predict: () => {
      throw new RangeError('weights not loaded');
    },
  };
  const reply = await createDispatcher(model, quiet).handle('predict', { data: { ndarray: [[1]] } });
  assert.deepEqual(reply, {
    status: 500,
    body: { status: { code: 500, info: 'RangeError: weights not loaded', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' } },
  });
});

test('an error thrown by the model is reported to onModelError', async () => {
  const seen: string[] = [];
  const model = { predict: () => Promise.reject(new Error('boom')) };
  await createDispatcher(model, { onModelError: (_e, where) => seen.push(where) }).handle('predict', { strData: 'x' });
  assert.deepEqual(seen, ['predict']);
});

test('a MicroserviceError answers with its own 4xx status and message', async () => {
  const model = {
    predict: () => {
      throw new MicroserviceError('expected 4 features, got 5', 422);
    },
  };
  const reply = await createDispatcher(model, quiet).handle('predict', { data: { ndarray: [[1, 2, 3, 4, 5]] } });
  assert.deepEqual(reply, {
    status: 422,
    body: { status: { code: 422, info: 'expected 4 features, got 5', reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' } },
  });
});

test('a MicroserviceError defaults to 400', async () => {
  const model = {
    predict: () => {
      throw new MicroserviceError('bad input');
    },
  };
  const reply = await createDispatcher(model, quiet).handle('predict', { strData: 'x' });
  assert.equal(reply.status, 400);
});

test('an output that is not a payload answers 500 saying what to return', async () => {
  const reply = await createDispatcher({ predict: () => 42 }, quiet).handle('predict', { strData: 'x' });
  assert.equal(reply.status, 500);
  assert.match((reply.body as { status: { info: string } }).status.info, /predict returned a number \(42\); return an array/);
});

test('a message that is not a Seldon message answers 400 naming the field', async () => {
  const reply = await createDispatcher(new Identity()).handle('predict', { data: { tensor: { shape: [2], values: [1] } } });
  assert.equal(reply.status, 400);
  assert.match((reply.body as { status: { info: string } }).status.info, /data\.tensor/);
});

test('a model without predict answers 400 saying so', async () => {
  const reply = await createDispatcher({}, { name: 'Empty' }).handle('predict', { strData: 'x' });
  assert.equal(reply.status, 400);
  assert.match((reply.body as { status: { info: string } }).status.info, /Empty has no predict method/);
});

test('tags and metrics from the model are added to meta, after the request tags', async () => {
  const model = {
    predict: (X: Features) => X,
    tags: () => ({ model: 'v2' }),
    metrics: () => [{ key: 'calls', type: 'COUNTER' as const, value: 1 }],
  };
  const reply = await createDispatcher(model).handle('predict', { strData: 'x', meta: { puid: 'abc', tags: { from: 'req' } } });
  assert.deepEqual(reply.body, {
    strData: 'x',
    meta: { tags: { from: 'req', model: 'v2' }, metrics: [{ key: 'calls', type: 'COUNTER', value: 1 }], puid: 'abc' },
  });
});

test('a SeldonResponse adds tags for one request', async () => {
  const model = { predict: (X: Features) => new SeldonResponse(X, { tags: { once: true } }) };
  const reply = await createDispatcher(model).handle('predict', { strData: 'x' });
  assert.deepEqual(reply.body, { strData: 'x', meta: { tags: { once: true } } });
});

test('a missing transform_input is the identity', async () => {
  const reply = await createDispatcher({}).handle('transformInput', { data: { ndarray: [[1, 2]] } });
  assert.deepEqual(reply.body, { data: { names: ['t:0', 't:1'], ndarray: [[1, 2]] }, meta: {} });
});

test('transform_output is called by its snake_case name', async () => {
  const model = { transform_output: (X: Features) => (X as number[][]).map((row) => row.map((v) => v * 10)) };
  const reply = await createDispatcher(model).handle('transformOutput', { data: { ndarray: [[1, 2]] } });
  assert.deepEqual(reply.body, { data: { names: ['t:0', 't:1'], ndarray: [[10, 20]] }, meta: {} });
});

test('route replies with the child index as [[N]]', async () => {
  const reply = await createDispatcher({ route: () => 1 }).handle('route', { data: { ndarray: [[1]] } });
  assert.deepEqual(reply.body, { data: { names: ['t:0'], ndarray: [[1]] }, meta: {} });
});

test('a route that is not an integer answers 500', async () => {
  const reply = await createDispatcher({ route: () => 'left' } as unknown as SeldonComponent, quiet).handle('route', { data: { ndarray: [[1]] } });
  assert.equal(reply.status, 500);
});

test('aggregate receives every message payload and names and replies in the first encoding', async () => {
  let seen: unknown;
  const model = {
    aggregate: (Xs: Features[], names: string[][]) => {
      seen = { Xs, names };
      return [[(Xs[0] as number[][])[0]![0]! + (Xs[1] as number[][])[0]![0]!]];
    },
  };
  const body = [
    { data: { names: ['a'], tensor: { shape: [1, 1], values: [1] } }, meta: { tags: { x: 1 } } },
    { data: { names: ['b'], ndarray: [[2]] }, meta: { tags: { y: 2 } } },
  ];
  const reply = await createDispatcher(model).handle('aggregate', body);
  assert.deepEqual(seen, { Xs: [[[1]], [[2]]], names: [['a'], ['b']] });
  assert.deepEqual(reply.body, { data: { names: ['t:0'], tensor: { shape: [1, 1], values: [3] } }, meta: { tags: { x: 1, y: 2 } } });
});

test('aggregate of something that is not a list answers 400', async () => {
  const reply = await createDispatcher({ aggregate: () => [] }).handle('aggregate', { data: { ndarray: [] } });
  assert.equal(reply.status, 400);
});

test('send_feedback receives features, names, reward, truth and this unit\'s routing', async () => {
  let seen: unknown[] = [];
  const model = { send_feedback: (...args: unknown[]) => void (seen = args) };
  const feedback = {
    request: { data: { names: ['a'], ndarray: [[1]] } },
    response: { meta: { routing: { router: 2 } }, data: { ndarray: [[0]] } },
    reward: 0.5,
    truth: { data: { ndarray: [[9]] } },
  };
  const reply = await createDispatcher(model, { unitId: 'router' }).handle('sendFeedback', feedback);
  assert.deepEqual(seen, [[[1]], ['a'], 0.5, [[9]], 2]);
  assert.deepEqual(reply.body, { data: { ndarray: [] }, meta: {} });
});

test('health status defaults to strData healthy', async () => {
  const reply = await createDispatcher({}).handle('healthStatus');
  assert.deepEqual(reply.body, { strData: 'healthy', meta: {} });
});

test('metadata merges init_metadata over the defaults', async () => {
  const model = { init_metadata: () => ({ versions: ['v1'], platform: 'node' }) };
  const reply = await createDispatcher(model, { unitId: 'classifier' }).handle('metadata');
  assert.deepEqual(reply.body, { name: 'classifier', versions: ['v1'], platform: 'node', inputs: [], outputs: [] });
});
