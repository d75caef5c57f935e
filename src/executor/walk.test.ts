import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { TrantorError, parseJsonLossless } from '../protocol/index.ts';
import type { SeldonMessage } from '../protocol/index.ts';
import type { GraphNode, Predictor } from '../manifest/index.ts';
import { PredictorExecutor } from './executor.ts';
import { StaticEndpoints, answerJson, graphNode, identity, predictorOf, standIn } from './testing.ts';
import type { ComponentBehaviour, StandIn } from './testing.ts';
import { HttpTransport } from './transport/http.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup) await c();
});

interface Graph {
  executor: PredictorExecutor;
  components: Record<string, StandIn>;
}

/** Serves each named node with its behaviour and builds an executor over real HTTP. */
async function graph(predictor: Predictor, behaviours: Record<string, ComponentBehaviour>, timeoutMs?: number): Promise<Graph> {
  const endpoints = new StaticEndpoints();
  const components: Record<string, StandIn> = {};
  for (const [node, behaviour] of Object.entries(behaviours)) {
    const s = await standIn(behaviour);
    cleanup.push(() => s.close());
    components[node] = s;
    endpoints.set(node, [s.replica()]);
  }
  const transport = new HttpTransport({ endpoints, retryWindowMs: 100 });
  cleanup.push(() => transport.close());
  const executor = new PredictorExecutor({ namespace: 'seldon', deployment: 'dep', predictor, transport, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  return { executor, components };
}

const single = (fields: Partial<GraphNode> = {}): Predictor => predictorOf('default', graphNode('classifier', { type: 'MODEL', ...fields }));

/** A component that answers `reply(request message)` on every POST. */
const answering = (reply: (message: SeldonMessage, path: string) => unknown): ComponentBehaviour => (request, res) => answerJson(res, 200, reply(JSON.parse(request.body) as SeldonMessage, request.path));

const request: SeldonMessage = { data: { ndarray: [[1, 2, 3, 4]] } };

test('a MODEL node is sent the message on /predict and its answer comes back with meta', async () => {
  const { executor, components } = await graph(single({ implementation: 'SKLEARN_SERVER' }), {
    classifier: answering(() => ({ data: { names: ['t:0'], ndarray: [[0.9]] } })),
  });
  const reply = await executor.predict(request, 'puid1');
  assert.deepEqual(reply, {
    data: { names: ['t:0'], ndarray: [[0.9]] },
    meta: { puid: 'puid1', tags: {}, routing: {}, requestPath: { classifier: 'SKLEARN_SERVER' }, metrics: [] },
  });
  const sent = components['classifier']!.received[0]!;
  assert.equal(sent.path, '/predict');
  assert.deepEqual(JSON.parse(sent.body), { data: { ndarray: [[1, 2, 3, 4]] }, meta: { puid: 'puid1' } });
});

test('requestPath shows the node\'s container image when it has one', async () => {
  const predictor = predictorOf('default', graphNode('classifier', { type: 'MODEL' }), {
    componentSpecs: [{ containers: [{ name: 'classifier', image: 'seldonio/mock_classifier:1.0', env: [] }] }],
  });
  const { executor } = await graph(predictor, { classifier: identity });
  const reply = await executor.predict(request, 'p');
  assert.deepEqual(reply.meta?.requestPath, { classifier: 'seldonio/mock_classifier:1.0' });
});

test('requestPath shows the container command when there is neither image nor implementation', async () => {
  const predictor = predictorOf('default', graphNode('classifier', { type: 'MODEL' }), {
    componentSpecs: [{ containers: [{ name: 'classifier', command: ['seldon-core-microservice', 'MLScore'], env: [] }] }],
  });
  const { executor } = await graph(predictor, { classifier: identity });
  assert.deepEqual((await executor.predict(request, 'p')).meta?.requestPath, { classifier: 'seldon-core-microservice MLScore' });
});

test('a 400 failure body from the model keeps its status and message', async () => {
  const info = 'expected 4 features per row, got 5 (data.ndarray[0])';
  const { executor } = await graph(single(), {
    classifier: (_r, res) => answerJson(res, 400, { status: { code: 400, info, reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' } }),
  });
  await assert.rejects(executor.predict(request, 'p'), (err: TrantorError) => {
    assert.equal(err.status, 400);
    assert.equal(err.message, info);
    assert.equal(err.reason, 'MICROSERVICE_BAD_DATA');
    return true;
  });
});

test('a 500 without a Seldon body fails with the component\'s status and text', async () => {
  const { executor } = await graph(single(), { classifier: (_r, res) => res.writeHead(500).end('Traceback: boom') });
  await assert.rejects(executor.predict(request, 'p'), (err: TrantorError) => {
    assert.equal(err.status, 500);
    assert.equal(err.message, 'node "classifier" answered HTTP 500: Traceback: boom');
    return true;
  });
});

test('an answer that is not JSON is BAD_UPSTREAM naming the node', async () => {
  const { executor } = await graph(single(), { classifier: (_r, res) => res.writeHead(200).end('<html>hello</html>') });
  await assert.rejects(executor.predict(request, 'p'), (err: TrantorError) => {
    assert.equal(err.code, 'BAD_UPSTREAM');
    assert.equal(err.status, 502);
    assert.match(err.message, /^node "classifier" answered with something that is not JSON: <html>hello<\/html>/);
    return true;
  });
});

test('an answer that is JSON but not a Seldon message is BAD_UPSTREAM naming the node', async () => {
  const { executor } = await graph(single(), { classifier: (_r, res) => answerJson(res, 200, [1, 2, 3]) });
  await assert.rejects(executor.predict(request, 'p'), (err: TrantorError) => {
    assert.equal(err.code, 'BAD_UPSTREAM');
    assert.match(err.message, /^node "classifier" answered with something that is not a Seldon message/);
    return true;
  });
});

test('a transformer\'s output is its child model\'s input', async () => {
  const predictor = predictorOf('default', graphNode('scale', { type: 'TRANSFORMER', children: [graphNode('classifier', { type: 'MODEL' })] }));
  const { executor, components } = await graph(predictor, {
    scale: answering((m) => ({ data: { ndarray: (m.data!.ndarray as number[][]).map((row) => row.map((x) => x * 10)) } })),
    classifier: identity,
  });
  const reply = await executor.predict(request, 'p');
  assert.deepEqual(reply.data, { ndarray: [[10, 20, 30, 40]] });
  assert.equal(components['scale']!.received[0]!.path, '/transform-input');
  assert.equal(components['classifier']!.received[0]!.path, '/predict');
  assert.deepEqual(Object.keys(reply.meta!.requestPath!), ['scale', 'classifier']);
});

test('an output transformer transforms its child\'s answer', async () => {
  const predictor = predictorOf('default', graphNode('post', { type: 'OUTPUT_TRANSFORMER', children: [graphNode('classifier', { type: 'MODEL' })] }));
  const { executor, components } = await graph(predictor, {
    post: answering((m) => ({ strData: `seen ${JSON.stringify(m.data)}` })),
    classifier: answering(() => ({ data: { ndarray: [7] } })),
  });
  const reply = await executor.predict(request, 'p');
  assert.equal(reply.strData, 'seen {"ndarray":[7]}');
  assert.equal(components['post']!.received[0]!.path, '/transform-output');
});

/** A ROUTER over two models, `a` and `b`. */
function routerGraph(): Predictor {
  return predictorOf('default', graphNode('router', { type: 'ROUTER', children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })] }));
}

const routeTo = (route: number): ComponentBehaviour => answering(() => ({ data: { ndarray: [[route]] } }));

test('a router\'s route picks the child and is recorded in meta.routing', async () => {
  const { executor, components } = await graph(routerGraph(), {
    router: routeTo(1),
    a: answering(() => ({ strData: 'a' })),
    b: answering(() => ({ strData: 'b' })),
  });
  const reply = await executor.predict(request, 'p');
  assert.equal(reply.strData, 'b');
  assert.deepEqual(reply.meta?.routing, { router: 1 });
  assert.deepEqual(Object.keys(reply.meta.requestPath!), ['router', 'b']);
  assert.equal(components['a']!.received.length, 0);
  assert.equal(components['router']!.received[0]!.path, '/route');
});

test('route -2 stops the walk at the router', async () => {
  const { executor, components } = await graph(routerGraph(), { router: routeTo(-2), a: identity, b: identity });
  const reply = await executor.predict(request, 'p');
  assert.deepEqual(reply.data, request.data);
  assert.deepEqual(reply.meta?.routing, { router: -2 });
  assert.equal(components['a']!.received.length + components['b']!.received.length, 0);
});

test('a route out of range is BAD_UPSTREAM naming the router', async () => {
  const { executor } = await graph(routerGraph(), { router: routeTo(5), a: identity, b: identity });
  await assert.rejects(executor.predict(request, 'p'), /router "router" answered route 5; expected -2 \(stop\), -1 \(all children\) or a child index 0\.\.1/);
});

test('route -1 sends to every child and a combiner aggregates their answers as a JSON array', async () => {
  const predictor = predictorOf('default', graphNode('combine', { type: 'COMBINER', children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })] }));
  const { executor, components } = await graph(predictor, {
    combine: answering((m) => ({ jsonData: m })),
    a: answering(() => ({ data: { ndarray: [1] } })),
    b: answering(() => ({ data: { ndarray: [2] } })),
  });
  const reply = await executor.predict(request, 'p');
  assert.equal(components['combine']!.received[0]!.path, '/aggregate');
  assert.deepEqual(JSON.parse(components['combine']!.received[0]!.body), [
    { data: { ndarray: [1] }, meta: { puid: 'p' } },
    { data: { ndarray: [2] }, meta: { puid: 'p' } },
  ]);
  assert.deepEqual(reply.jsonData, [{ data: { ndarray: [1] }, meta: { puid: 'p' } }, { data: { ndarray: [2] }, meta: { puid: 'p' } }]);
});

test('RANDOM_ABTEST routes in the executor by ratioA', async () => {
  const predictor = predictorOf('default', graphNode('ab', {
    implementation: 'RANDOM_ABTEST',
    parameters: [{ name: 'ratioA', value: '1', type: 'FLOAT' }],
    children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })],
  }));
  const { executor } = await graph(predictor, { a: answering(() => ({ strData: 'a' })), b: answering(() => ({ strData: 'b' })) });
  const reply = await executor.predict(request, 'p');
  assert.equal(reply.strData, 'a');
  assert.deepEqual(reply.meta?.routing, { ab: 0 });
  assert.deepEqual(reply.meta?.requestPath, { ab: 'RANDOM_ABTEST', a: '' });
});

test('AVERAGE_COMBINER averages its children\'s outputs in the executor', async () => {
  const predictor = predictorOf('default', graphNode('avg', {
    implementation: 'AVERAGE_COMBINER',
    children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })],
  }));
  const { executor } = await graph(predictor, {
    a: answering(() => ({ data: { names: ['x', 'y'], ndarray: [[1, 2]] } })),
    b: answering(() => ({ data: { names: ['x', 'y'], ndarray: [[3, 6]] } })),
  });
  assert.deepEqual((await executor.predict(request, 'p')).data, { names: ['x', 'y'], ndarray: [[2, 4]] });
});

test('tags merge along the path with later nodes overriding, and metrics concatenate', async () => {
  const predictor = predictorOf('default', graphNode('t', { type: 'TRANSFORMER', children: [graphNode('m', { type: 'MODEL' })] }));
  const { executor } = await graph(predictor, {
    t: answering((m) => ({ data: m.data, meta: { tags: { stage: 't', fromT: 1 }, metrics: [{ key: 'c', type: 'COUNTER', value: 1 }] } })),
    m: answering((m) => ({ data: m.data, meta: { tags: { stage: 'm' }, metrics: [{ key: 'g', type: 'GAUGE', value: 2 }] } })),
  });
  const meta = (await executor.predict(request, 'p')).meta!;
  assert.deepEqual(meta.tags, { stage: 'm', fromT: 1 });
  assert.deepEqual(meta.metrics, [{ key: 'c', type: 'COUNTER', value: 1 }, { key: 'g', type: 'GAUGE', value: 2 }]);
});

test('children walked in parallel merge their tags and metrics in child order, whichever answers first', async () => {
  const predictor = predictorOf('default', graphNode('avg', {
    implementation: 'AVERAGE_COMBINER',
    children: [graphNode('a', { type: 'MODEL' }), graphNode('b', { type: 'MODEL' })],
  }));
  const { executor } = await graph(predictor, {
    // child 0 answers last; its sibling's values must still win for the keys both set.
    a: (request, res) => setTimeout(() => answerJson(res, 200, { data: { ndarray: [[1]] }, meta: { tags: { who: 'a', onlyA: 1 }, metrics: [{ key: 'a', type: 'COUNTER', value: 1 }] } }), 60),
    b: answering(() => ({ data: { ndarray: [[3]] }, meta: { tags: { who: 'b' }, metrics: [{ key: 'b', type: 'COUNTER', value: 1 }] } })),
  });
  const meta = (await executor.predict(request, 'p')).meta!;
  assert.deepEqual(meta.tags, { who: 'b', onlyA: 1 });
  assert.deepEqual(meta.metrics, [{ key: 'a', type: 'COUNTER', value: 1 }, { key: 'b', type: 'COUNTER', value: 1 }]);
});

test('a walk slower than its time limit fails UPSTREAM_TIMEOUT', async () => {
  const { executor } = await graph(single(), { classifier: () => undefined }, 150);
  await assert.rejects(executor.predict(request, 'p'), (err: TrantorError) => err.code === 'UPSTREAM_TIMEOUT' && err.status === 504);
});

test('feedback goes to the model\'s /send-feedback and the answer carries the puid', async () => {
  const { executor, components } = await graph(single(), { classifier: answering(() => ({ data: { ndarray: [] } })) });
  const reply = await executor.feedback({ request, response: { data: { ndarray: [[0.9]] } }, reward: 1 }, 'fp');
  assert.equal(components['classifier']!.received[0]!.path, '/send-feedback');
  assert.equal((JSON.parse(components['classifier']!.received[0]!.body) as { reward?: number }).reward, 1);
  assert.equal(reply.meta?.puid, 'fp');
});

test('feedback follows the route the response recorded', async () => {
  const { executor, components } = await graph(routerGraph(), { router: identity, a: identity, b: identity });
  await executor.feedback({ request, response: { data: { ndarray: [1] }, meta: { routing: { router: 1 } } }, reward: 0.5 }, 'p');
  assert.equal(components['router']!.received[0]!.path, '/send-feedback');
  assert.equal(components['a']!.received.length, 0);
  assert.equal(components['b']!.received[0]!.path, '/send-feedback');
});

/** A graph of two routers: outer picks inner (which picks x or y) or z. */
function nestedRouters(): Predictor {
  return predictorOf('default', graphNode('outer', {
    type: 'ROUTER',
    children: [graphNode('inner', { type: 'ROUTER', children: [graphNode('x', { type: 'MODEL' }), graphNode('y', { type: 'MODEL' })] }), graphNode('z', { type: 'MODEL' })],
  }));
}

const feedbackPaths = (components: Record<string, StandIn>): Record<string, string[]> =>
  Object.fromEntries(Object.entries(components).map(([name, s]) => [name, s.received.map((r) => r.path)]));

test('feedback walks down each router\'s recorded route and every node on the path gets the reward', async () => {
  const { executor, components } = await graph(nestedRouters(), { outer: identity, inner: identity, x: identity, y: identity, z: identity });
  const response: SeldonMessage = { data: { ndarray: [[1]] }, meta: { routing: { outer: 0, inner: 1 } } };
  await executor.feedback({ request, response, reward: 0.25 }, 'p');
  assert.deepEqual(feedbackPaths(components), { outer: ['/send-feedback'], inner: ['/send-feedback'], x: [], y: ['/send-feedback'], z: [] });
  for (const node of ['outer', 'inner', 'y']) {
    const sent = JSON.parse(components[node]!.received[0]!.body) as { reward?: number; response?: SeldonMessage };
    assert.equal(sent.reward, 0.25);
    assert.deepEqual(sent.response?.meta?.routing, { outer: 0, inner: 1 });
  }
});

test('feedback goes down every child of a router that recorded -1 (or nothing), and nowhere below -2', async () => {
  const all = await graph(nestedRouters(), { outer: identity, inner: identity, x: identity, y: identity, z: identity });
  await all.executor.feedback({ request, response: { data: { ndarray: [[1]] }, meta: { routing: { outer: -1 } } }, reward: 1 }, 'p');
  for (const node of ['outer', 'inner', 'x', 'y', 'z']) assert.deepEqual(all.components[node]!.received.map((r) => r.path), ['/send-feedback'], node);
  const stop = await graph(routerGraph(), { router: identity, a: identity, b: identity });
  await stop.executor.feedback({ request, response: { data: { ndarray: [[1]] }, meta: { routing: { router: -2 } } }, reward: 1 }, 'p');
  assert.deepEqual(feedbackPaths(stop.components), { router: ['/send-feedback'], a: [], b: [] });
});

test('a router or model without send_feedback (404, 501 NOT_IMPLEMENTED) is passed over and the feedback succeeds', async () => {
  const notFound: ComponentBehaviour = (_r, res) => answerJson(res, 404, 'not found');
  const notImplemented: ComponentBehaviour = (_r, res) => answerJson(res, 501, { status: { code: 501, info: 'send_feedback is not implemented', reason: 'NOT_IMPLEMENTED', status: 'FAILURE' } });
  const { executor, components } = await graph(nestedRouters(), {
    outer: notFound,
    inner: notImplemented,
    x: answering(() => ({ data: { ndarray: [] }, meta: { tags: { learned: true } } })),
    y: identity,
    z: identity,
  });
  const reply = await executor.feedback({ request, response: { data: { ndarray: [[1]] }, meta: { routing: { outer: 0, inner: 0 } } }, reward: 1 }, 'fp');
  assert.deepEqual(feedbackPaths(components), { outer: ['/send-feedback'], inner: ['/send-feedback'], x: ['/send-feedback'], y: [], z: [] });
  assert.equal(reply.meta?.puid, 'fp');
  assert.deepEqual(reply.meta?.tags, { learned: true });
});

test('a send_feedback that fails otherwise fails the feedback with the component\'s status', async () => {
  const { executor } = await graph(routerGraph(), {
    router: (_r, res) => answerJson(res, 500, { status: { code: 500, info: 'bandit state lost', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' } }),
    a: identity,
    b: identity,
  });
  await assert.rejects(
    executor.feedback({ request, response: { data: { ndarray: [[1]] }, meta: { routing: { router: 0 } } }, reward: 1 }, 'p'),
    (err: TrantorError) => err.status === 500 && err.message.includes('bandit state lost'),
  );
});

test('the graph\'s metadata holds each node\'s metadata and the graph\'s inputs and outputs', async () => {
  const predictor = predictorOf('default', graphNode('t', { type: 'TRANSFORMER', children: [graphNode('m', { type: 'MODEL' })] }));
  const { executor } = await graph(predictor, {
    t: (_r, res) => answerJson(res, 200, { name: 't', inputs: [{ name: 'raw' }], outputs: [{ name: 'scaled' }] }),
    m: (_r, res) => answerJson(res, 200, { name: 'm', inputs: [{ name: 'scaled' }], outputs: [{ name: 'proba' }] }),
  });
  assert.deepEqual(await executor.metadata(), {
    name: 'default',
    models: { t: { name: 't', inputs: [{ name: 'raw' }], outputs: [{ name: 'scaled' }] }, m: { name: 'm', inputs: [{ name: 'scaled' }], outputs: [{ name: 'proba' }] } },
    graphinputs: [{ name: 'raw' }],
    graphoutputs: [{ name: 'proba' }],
  });
  assert.deepEqual(await executor.metadata('m'), { name: 'm', inputs: [{ name: 'scaled' }], outputs: [{ name: 'proba' }] });
});

test('metadata of a node that is not in the graph is NOT_FOUND listing the nodes', async () => {
  const { executor } = await graph(single(), { classifier: identity });
  await assert.rejects(executor.metadata('nope'), (err: TrantorError) => err.code === 'NOT_FOUND' && err.message.includes('nodes: classifier'));
});

test('health asks the root component\'s /health/status', async () => {
  const { executor, components } = await graph(single(), { classifier: identity });
  assert.deepEqual(await executor.health(), { data: { ndarray: [] }, status: { status: 'SUCCESS' } });
  assert.equal(components['classifier']!.received[0]!.method, 'GET');
  assert.equal(components['classifier']!.received[0]!.path, '/health/status');
});

test('predict leaves the caller\'s message unchanged', async () => {
  const { executor } = await graph(single(), { classifier: identity });
  const message: SeldonMessage = { data: { ndarray: [[1]] }, meta: { tags: { a: 1 } } };
  const copy = structuredClone(message);
  await executor.predict(message, 'p');
  assert.deepEqual(message, copy);
});

test('SIMPLE_MODEL is answered by the executor with Seldon\'s fixed scores, no component called', async () => {
  const predictor = predictorOf('default', graphNode('simple', { implementation: 'SIMPLE_MODEL' }));
  const { executor } = await graph(predictor, {});
  const reply = await executor.predict(request, 'p');
  assert.deepEqual(reply.data, { names: ['class0', 'class1', 'class2'], tensor: { shape: [1, 3], values: [0.1, 0.9, 0.5] } });
  assert.deepEqual(reply.meta?.requestPath, { simple: 'SIMPLE_MODEL' });
  assert.deepEqual(await executor.status('simple'), { status: { status: 'SUCCESS' } });
});

test('SIMPLE_MODEL under a SIMPLE_ROUTER: the router picks it and its answer leaves the graph', async () => {
  const predictor = predictorOf('default', graphNode('router', { implementation: 'SIMPLE_ROUTER', children: [graphNode('simple', { implementation: 'SIMPLE_MODEL' })] }));
  const { executor } = await graph(predictor, {});
  const reply = await executor.predict(request, 'p');
  assert.deepEqual(reply.data?.tensor?.values, [0.1, 0.9, 0.5]);
  assert.deepEqual(reply.meta?.routing, { router: 0 });
});

test('a component gets the request\'s members in their order, meta where it was with the puid added, a `__proto__` member kept', async () => {
  const { executor, components } = await graph(single(), { classifier: identity });
  const request = parseJsonLossless('{"strData":"x","meta":{"tags":{"a":1},"__proto__":{"b":2}},"__proto__":{"c":3},"extra":[1]}') as SeldonMessage;
  await executor.predict(request, 'p1');
  assert.equal(components['classifier']!.received[0]!.body, '{"strData":"x","meta":{"tags":{"a":1},"__proto__":{"b":2},"puid":"p1"},"__proto__":{"c":3},"extra":[1]}');
  // Without meta, it comes last.
  await executor.predict(parseJsonLossless('{"strData":"y","extra":2}') as SeldonMessage, 'p2');
  assert.equal(components['classifier']!.received[1]!.body, '{"strData":"y","extra":2,"meta":{"puid":"p2"}}');
});
