import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { PredictorExecutor, Metrics, HttpTransport } from '../executor/index.ts';
import { StaticEndpoints, answerJson, graphNode, identity, predictorOf, standIn } from '../executor/testing.ts';
import type { ComponentBehaviour, StandIn } from '../executor/testing.ts';
import type { SeldonMessage } from '../protocol/index.ts';
import type { Predictor } from '../manifest/index.ts';
import type { DeploymentTable } from './deployments.ts';
import { httpOptions } from '../http/index.ts';
import { rawExchange, truncatedPost } from '../http/testing.ts';
import { createGateway } from './server.ts';
import { MapDeploymentTable } from './testing.ts';
import type { Gateway, GatewayOptions } from './server.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface Setup {
  gateway: Gateway;
  endpoints: StaticEndpoints;
  components: StandIn[];
  base: string;
}

/** A gateway serving seldon/iris-model with the given predictors; each predictor's single node `classifier`-like is served by the given replicas. */
async function setup(
  predictors: { predictor: Predictor; replicas: ComponentBehaviour[] }[],
  options: Partial<GatewayOptions> = {},
  retryWindowMs = 300,
): Promise<Setup> {
  const endpoints = new StaticEndpoints();
  const transport = new HttpTransport({ endpoints, retryWindowMs });
  cleanup.push(() => transport.close());
  const components: StandIn[] = [];
  const executors: PredictorExecutor[] = [];
  for (const { predictor, replicas } of predictors) {
    const addresses = [];
    for (const behaviour of replicas) {
      const s = await standIn(behaviour);
      cleanup.push(() => s.close());
      components.push(s);
      addresses.push(s.replica());
    }
    endpoints.set(predictor.graph.name, addresses);
    executors.push(new PredictorExecutor({ namespace: 'seldon', deployment: 'iris-model', predictor, transport, ...(options.metrics === undefined ? {} : { metrics: options.metrics }) }));
  }
  const table = new MapDeploymentTable();
  table.entries.set('seldon/iris-model', { namespace: 'seldon', name: 'iris-model', executors });
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, limits: { bodyLimit: 10 * 1024 * 1024, requestTimeout: 30_000 }, deployments: table, ...options });
  cleanup.push(() => gateway.close());
  return { gateway, endpoints, components, base: `${gateway.url}/seldon/seldon/iris-model` };
}

const iris = (fields: Partial<Predictor> = {}, node = 'classifier'): Predictor =>
  predictorOf('default', graphNode(node, { implementation: 'SKLEARN_SERVER', modelUri: '/models/iris' }), fields);

const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';

interface Answer {
  status: number;
  headers: Headers;
  json: SeldonMessage;
}

async function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, json: JSON.parse(await res.text()) as SeldonMessage };
}

async function getJson(url: string): Promise<unknown> {
  return (await fetch(url)).json();
}

/** The value at `path` inside a parsed JSON document. */
function dig(value: unknown, ...path: (string | number)[]): unknown {
  let at = value;
  for (const key of path) at = (at as Record<string | number, unknown> | undefined)?.[key];
  return at;
}

function assertFailure(res: Answer, status: number, reason: string, info: RegExp | string): void {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.match(res.headers.get('seldon-puid') ?? '', /^\S+$/);
  assert.equal(res.json.status?.code, status);
  assert.equal(res.json.status.reason, reason);
  assert.equal(res.json.status.status, 'FAILURE');
  if (typeof info === 'string') assert.equal(res.json.status.info, info);
  else assert.match(res.json.status.info ?? '', info);
}

test('a prediction through the gateway carries meta.puid, requestPath and the same Seldon-Puid header', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${base}/api/v1.0/predictions`, BODY);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const puid = res.headers.get('seldon-puid');
  assert.match(puid ?? '', /^[a-z2-7]{26}$/);
  assert.deepEqual(res.json, {
    data: { ndarray: [[1, 2, 3, 4]] },
    meta: { puid, tags: {}, routing: {}, requestPath: { classifier: 'SKLEARN_SERVER' }, metrics: [] },
  });
});

test('the puid of the Seldon-Puid request header is kept', async () => {
  const { base, components } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${base}/api/v1.0/predictions`, BODY, { 'content-type': 'application/json', 'seldon-puid': 'my-request-1' });
  assert.equal(res.headers.get('seldon-puid'), 'my-request-1');
  assert.equal(res.json.meta?.puid, 'my-request-1');
  assert.equal(dig(JSON.parse(components[0]!.received[0]!.body), 'meta', 'puid'), 'my-request-1');
});

test('the puid in the request\'s meta is kept when no header names one', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[[1]]},"meta":{"puid":"from-body"}}');
  assert.equal(res.headers.get('seldon-puid'), 'from-body');
  assert.equal(res.json.meta?.puid, 'from-body');
});

test('the v0.1 path, a form with json= and a GET with ?json= all predict', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const v01 = await post(`${base}/api/v0.1/predictions`, BODY);
  assert.deepEqual(v01.json.data, { ndarray: [[1, 2, 3, 4]] });
  const form = await post(`${base}/api/v1.0/predictions`, `json=${encodeURIComponent(BODY)}`, { 'content-type': 'application/x-www-form-urlencoded' });
  assert.deepEqual(form.json.data, { ndarray: [[1, 2, 3, 4]] });
  const get = await fetch(`${base}/api/v1.0/predictions?json=${encodeURIComponent(BODY)}`);
  assert.equal(get.status, 200);
  assert.deepEqual(dig(await get.json(), 'data'), { ndarray: [[1, 2, 3, 4]] });
});

test('a tensor request comes back as a tensor', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const body = '{"data":{"names":["a","b"],"tensor":{"shape":[2,2],"values":[0,0,1,1]}}}';
  const res = await post(`${base}/api/v1.0/predictions`, body);
  assert.deepEqual(res.json.data, { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } });
});

test('a 400 from the model passes through with its message', async () => {
  const info = 'expected 4 features per row, got 5 (data.ndarray[0])';
  const { base } = await setup([{ predictor: iris(), replicas: [(_r, res) => answerJson(res, 400, { status: { code: 400, info, reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' } })] }]);
  assertFailure(await post(`${base}/api/v1.0/predictions`, '{"data":{"ndarray":[[1,2,3,4,5]]}}'), 400, 'MICROSERVICE_BAD_DATA', info);
});

test('a prediction is retried on another replica when one replica\'s socket is destroyed mid-request', async () => {
  const crash: ComponentBehaviour = (_r, res) => res.socket?.destroy();
  const { base, components } = await setup([{ predictor: iris(), replicas: [crash, identity] }]);
  for (let i = 0; i < 4; i++) {
    const res = await post(`${base}/api/v1.0/predictions`, BODY);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.data, { ndarray: [[1, 2, 3, 4]] });
  }
  assert.ok(components[0]!.received.length >= 1, 'the crashing replica was tried');
});

test('no ready replica answers 503 naming the node, predictor and deployment', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [] }], {}, 50);
  assertFailure(
    await post(`${base}/api/v1.0/predictions`, BODY),
    503,
    'MICROSERVICE_UNAVAILABLE',
    'no ready replica of node "classifier" (predictor default of seldon/iris-model)',
  );
});

test('a body over the limit gets 413 naming the limit', async () => {
  const { gateway, components } = await setup([{ predictor: iris(), replicas: [identity] }], { limits: { bodyLimit: 1024 } });
  const big = JSON.stringify({ data: { ndarray: [Array.from({ length: 2000 }, (_, i) => i)] } });
  const res = await post(`${gateway.url}/seldon/seldon/iris-model/api/v1.0/predictions`, big);
  assertFailure(res, 413, 'PAYLOAD_TOO_LARGE', 'the request body is larger than the limit of 1024 bytes (1 KiB)');
  assert.equal(components[0]!.received.length, 0);
});

test('a chunked body that grows over the limit gets 413 naming the limit', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }], { limits: { bodyLimit: 64 * 1024 } });
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(`${gateway.url}/seldon/seldon/iris-model/api/v1.0/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', () => undefined); // the gateway may close before the client has written everything
    const chunk = 'x'.repeat(16 * 1024);
    let sent = 0;
    const pump = (): void => {
      while (sent < 200 && req.write(chunk)) sent++;
      if (sent < 200 && !req.destroyed) req.once('drain', pump);
      else req.end();
    };
    pump();
  });
  assert.equal(status, 413);
  assert.match(String(dig(JSON.parse(body), 'status', 'info')), /limit of 65536 bytes \(64 KiB\)/);
});

test('an unsupported content type gets 415 saying which are accepted', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  assertFailure(await post(`${base}/api/v1.0/predictions`, BODY, { 'content-type': 'application/xml' }), 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/xml is not supported; send application\/json, a form with a json= field, or multipart\/form-data/);
});

test('malformed JSON gets 400 with the parser\'s message', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${base}/api/v1.0/predictions`, '{"data": {');
  assertFailure(res, 400, 'MICROSERVICE_BAD_DATA', /^body: not valid JSON \(.+\)$/);
});

test('a message that is not a Seldon message gets 400 naming the field', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  assertFailure(await post(`${base}/api/v1.0/predictions`, '{"data":{"tensor":{"shape":[2],"values":[1]}}}'), 400, 'MICROSERVICE_BAD_DATA', /data\.tensor: shape \[2\] holds 2 values, got 1/);
});

test('an unknown deployment gets 404 with Seldon\'s failure body', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${gateway.url}/seldon/y/x/api/v1.0/predictions`, BODY);
  assert.equal(res.status, 404);
  assert.deepEqual(res.json, { status: { code: 404, info: 'no SeldonDeployment named "x" in namespace "y"', reason: 'NOT_FOUND', status: 'FAILURE' } });
  assert.ok(res.headers.get('seldon-puid'));
});

test('an unknown path gets 404', async () => {
  const { gateway, base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  assertFailure(await post(`${gateway.url}/nothing/here`, BODY), 404, 'NOT_FOUND', /no such path: \/nothing\/here/);
  assertFailure(await post(`${base}/api/v9/predictions`, BODY), 404, 'NOT_FOUND', /no such path/);
});

test('a wrong method gets 405 with Allow', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await fetch(`${base}/api/v1.0/predictions`, { method: 'PUT', body: BODY });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST, GET');
  assert.equal(dig(await res.json(), 'status', 'reason'), 'METHOD_NOT_ALLOWED');
  assert.equal((await fetch(`${base}/api/v1.0/metadata`, { method: 'POST', body: '{}' })).status, 405);
});

test('the doc page is HTML that works offline and shows this deployment\'s curl', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await fetch(`${base}/api/v1.0/doc/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.ok(res.headers.get('seldon-puid'));
  const html = await res.text();
  assert.match(html, /^<!doctype html>/);
  assert.ok(html.includes(`curl -X POST ${base}/api/v1.0/predictions`), 'the example curl uses this deployment\'s URL');
  assert.ok(html.includes('id="schema-SeldonMessage"'));
  assert.ok(!/<script[^>]+src=|<link[^>]+href="http/.test(html), 'no external scripts or stylesheets');
});

test('openapi.json is an OpenAPI 3 document of the deployment\'s endpoints and Seldon schemas', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await fetch(`${base}/api/v1.0/doc/openapi.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const doc: unknown = await res.json();
  assert.equal(dig(doc, 'openapi'), '3.0.3');
  assert.deepEqual(dig(doc, 'servers'), [{ url: base }]);
  assert.ok(dig(doc, 'paths', '/api/v1.0/predictions', 'post', 'requestBody', 'content', 'application/json', 'example', 'data'));
  assert.ok(dig(doc, 'components', 'schemas', 'SeldonMessage', 'properties', 'data'));
  assert.deepEqual(dig(doc, 'paths', '/api/v1.0/metadata/{model}', 'get', 'parameters', 0, 'schema', 'enum'), ['classifier']);
});

test('traffic between predictors roughly follows their weights', async () => {
  const tag = (name: string): ComponentBehaviour => (_r, res) => answerJson(res, 200, { strData: name });
  const { base } = await setup([
    { predictor: predictorOf('main', graphNode('main-model', { type: 'MODEL' }), { traffic: 75 }), replicas: [tag('main')] },
    { predictor: predictorOf('canary', graphNode('canary-model', { type: 'MODEL' }), { traffic: 25 }), replicas: [tag('canary')] },
  ]);
  const counts: Record<string, number> = { main: 0, canary: 0 };
  await Promise.all(Array.from({ length: 400 }, async () => {
    const res = await post(`${base}/api/v1.0/predictions`, BODY);
    counts[res.json.strData!]! += 1;
  }));
  assert.equal(counts['main']! + counts['canary']!, 400);
  assert.ok(counts['canary']! > 60 && counts['canary']! < 140, `canary got ${counts['canary']} of 400 (expected about 100)`);
});

test('a failing shadow predictor does not affect the answer', async () => {
  const { base, components } = await setup([
    { predictor: iris(), replicas: [identity] },
    { predictor: predictorOf('shadow', graphNode('shadow-model', { type: 'MODEL' }), { shadow: true, traffic: 0 }), replicas: [(_r, res) => answerJson(res, 500, { status: { code: 500, info: 'shadow broke', status: 'FAILURE' } })] },
  ]);
  for (let i = 0; i < 5; i++) {
    const res = await post(`${base}/api/v1.0/predictions`, BODY);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.meta?.requestPath, { classifier: 'SKLEARN_SERVER' });
  }
  for (let i = 0; i < 50 && components[1]!.received.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(components[1]!.received.length, 5, 'the shadow got a copy of each request');
});

test('a model slower than the request timeout gets 504', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [() => undefined] }], { limits: { requestTimeout: 200 } });
  assertFailure(
    await post(`${base}/api/v1.0/predictions`, BODY),
    504,
    'MICROSERVICE_TIMEOUT',
    'node "classifier" (predictor default of seldon/iris-model) did not answer within the request\'s time limit of 200 ms',
  );
});

test('/ready and /live answer 200 at the gateway root', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }]);
  for (const path of ['/ready', '/live']) {
    const res = await fetch(`${gateway.url}${path}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.ok(res.headers.get('seldon-puid'));
  }
});

test('metadata, health and a node\'s status are answered by the components', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const metadata = await getJson(`${base}/api/v1.0/metadata`);
  assert.equal(dig(metadata, 'name'), 'default');
  assert.equal(dig(metadata, 'models', 'classifier', 'name'), 'identity');
  assert.deepEqual(dig(metadata, 'graphinputs'), [{ name: 'x', datatype: 'FP64', shape: [1] }]);
  assert.equal(dig(await getJson(`${base}/api/v1.0/metadata/classifier`), 'name'), 'identity');
  assert.equal((await fetch(`${base}/api/v1.0/metadata/nope`)).status, 404);
  assert.equal((await fetch(`${base}/api/v1.0/health/status`)).status, 200);
  assert.equal((await fetch(`${base}/api/v1.0/status/classifier`)).status, 200);
  assert.equal((await fetch(`${base}/api/v1.0/status/nope`)).status, 404);
});

test('feedback reaches the model and the answer keeps the prediction\'s puid', async () => {
  const { base, components } = await setup([{ predictor: iris(), replicas: [(_r, res) => answerJson(res, 200, { data: { ndarray: [] } })] }]);
  const feedback = { request: { data: { ndarray: [[1, 2, 3, 4]] } }, response: { data: { ndarray: [[0.9]] }, meta: { puid: 'prediction-1', requestPath: { classifier: 'x' } } }, reward: 1 };
  const res = await post(`${base}/api/v1.0/feedback`, JSON.stringify(feedback));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('seldon-puid'), 'prediction-1');
  assert.equal(components[0]!.received[0]!.path, '/send-feedback');
  assertFailure(await post(`${base}/api/v1.0/feedback`, '{"reward":"high"}'), 400, 'MICROSERVICE_BAD_DATA', 'reward: expected a number, got "high"');
});

test('the namespace-less path serves deployments of the default namespace', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${gateway.url}/seldon/iris-model/api/v1.0/predictions`, BODY);
  assertFailure(res, 404, 'NOT_FOUND', 'no SeldonDeployment named "iris-model" in namespace "default"');
});

test('a malformed HTTP request gets a JSON 400 with a Seldon-Puid', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(gateway.port, '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (text += c));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(answer, /\r\nSeldon-Puid: [a-z2-7]{26}\r\n/);
  assert.match(answer, /"reason":"MICROSERVICE_BAD_DATA"/);
});

test('an unexpected exception answers 500 INTERNAL and the gateway keeps serving', async () => {
  const throwing: DeploymentTable = {
    lookup: () => {
      throw new Error('table is broken');
    },
  };
  const gateway = await createGateway({ host: '127.0.0.1', port: 0, deployments: throwing });
  cleanup.push(() => gateway.close());
  assertFailure(await post(`${gateway.url}/seldon/a/b/api/v1.0/predictions`, BODY), 500, 'INTERNAL_ERROR', 'table is broken');
  assert.equal((await fetch(`${gateway.url}/live`)).status, 200);
});

test('a binary-mode CloudEvent request gets a CloudEvent reply with the puid and Seldon type and source', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${base}/api/v1.0/predictions`, '{"data": { "ndarray": [[1,2,3,4]]}}', {
    'content-type': 'application/json',
    'ce-id': '536808d3-88be-4077-9d7a-a3f162705f79',
    'ce-specversion': '0.3',
    'ce-type': 'seldon.iris-model.seldon.request',
    'ce-source': 'seldon.examples.streaming%20curl',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('ce-specversion'), '0.3');
  assert.equal(res.headers.get('ce-id'), res.json.meta?.puid);
  assert.equal(res.headers.get('ce-type'), 'seldon.iris-model.seldon.response');
  assert.equal(res.headers.get('ce-source'), 'seldon.iris-model');
  assert.deepEqual(res.json.data?.ndarray, [[1, 2, 3, 4]]);
});

test('a structured-mode CloudEvent request gets a structured reply carrying the Seldon reply as data', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const event = { specversion: '1.0', id: 'e-1', source: 'tests', type: 'seldon.iris-model.seldon.request', datacontenttype: 'application/json', data: { data: { ndarray: [[1, 2]] } } };
  const res = await fetch(`${base}/api/v1.0/predictions`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/cloudevents+json' } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/cloudevents\+json/);
  const reply = (await res.json()) as { specversion: string; id: string; type: string; source: string; data: SeldonMessage };
  assert.equal(reply.specversion, '1.0');
  assert.equal(reply.type, 'seldon.iris-model.seldon.response');
  assert.equal(reply.source, 'seldon.iris-model');
  assert.equal(reply.id, reply.data.meta?.puid);
  assert.deepEqual(reply.data.data?.ndarray, [[1, 2]]);
});

test('a CloudEvent request without its required attributes is a 400 that names the missing one', async () => {
  const { base } = await setup([{ predictor: iris(), replicas: [identity] }]);
  const res = await post(`${base}/api/v1.0/predictions`, BODY, { 'content-type': 'application/json', 'ce-specversion': '1.0', 'ce-type': 't', 'ce-source': 's' });
  assert.equal(res.status, 400);
  assert.match(JSON.stringify(res.json), /\bid\b/);
});

test('paths outside /seldon go to the other routes when one takes them', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }], {
    otherRoutes: (_req, res, path) => {
      if (path !== '/default/default') return false;
      res.writeHead(202).end();
      return true;
    },
  });
  assert.equal((await fetch(`${gateway.url}/default/default`, { method: 'POST', body: '{}' })).status, 202);
  assert.equal((await fetch(`${gateway.url}/default/other`, { method: 'POST', body: '{}' })).status, 404);
});

/** One sample of the Prometheus text format. */
interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface PromFamily {
  name: string;
  type: string;
  samples: PromSample[];
}

const PROM_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PROM_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROM_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A strict parser of Prometheus' text exposition format (0.0.4): HELP and TYPE lines, samples
 * with escaped label values, a family's samples together under its TYPE, no repeated series,
 * and histogram buckets that are cumulative and end with `+Inf` equal to `_count`.
 */
function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  let current: PromFamily | undefined;
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const familyOf = (sample: string, type: string): boolean => {
    if (sample === current?.name) return true;
    if (type === 'histogram') return ['_bucket', '_sum', '_count'].some((suffix) => sample === `${current!.name}${suffix}`);
    if (type === 'summary') return ['_sum', '_count'].some((suffix) => sample === `${current!.name}${suffix}`);
    return false;
  };
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}: ${line}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (match === null) continue; // a comment
      const [, keyword, name, rest] = match;
      assert.match(name!, PROM_NAME, where);
      if (keyword === 'TYPE') {
        assert.ok(PROM_TYPES.has(rest!), `${where}: unknown type`);
        assert.ok(!families.has(name!), `${where}: a second TYPE for ${name}`);
        current = { name: name!, type: rest!, samples: [] };
        families.set(name!, current);
      } else {
        assert.doesNotMatch(rest!.replace(/\\[\\n]/g, ''), /\\/, `${where}: a bad escape in HELP`);
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(sample !== null, `${where}: not a sample line`);
    const [, name, labelText, valueText] = sample;
    assert.ok(current !== undefined && familyOf(name!, current.type), `${where}: a sample outside its family's TYPE`);
    const labels: Record<string, string> = {};
    let rest = labelText ?? '';
    while (rest !== '') {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(rest);
      assert.ok(label !== null, `${where}: bad labels at ${rest}`);
      assert.match(label[1]!, PROM_LABEL, where);
      assert.ok(!(label[1]! in labels), `${where}: label ${label[1]} twice`);
      labels[label[1]!] = label[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(label[0].length);
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    assert.ok(valueText === 'NaN' || !Number.isNaN(value), `${where}: bad value`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    assert.ok(!seen.has(series), `${where}: a repeated series`);
    seen.add(series);
    current.samples.push({ name: name!, labels, value });
  }
  for (const family of families.values()) {
    if (family.type !== 'histogram') continue;
    const groups = new Map<string, PromSample[]>();
    for (const s of family.samples) {
      const { le, ...others } = s.labels;
      const key = JSON.stringify(Object.entries(others).sort());
      if (s.name.endsWith('_bucket')) assert.ok(le !== undefined, `${family.name}: a bucket without le`);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const samples of groups.values()) {
      const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
      const count = samples.find((s) => s.name.endsWith('_count'));
      assert.ok(count !== undefined && samples.some((s) => s.name.endsWith('_sum')), `${family.name}: a series without _sum or _count`);
      for (let i = 1; i < buckets.length; i++) {
        assert.ok(boundOf(buckets[i]!) > boundOf(buckets[i - 1]!), `${family.name}: buckets out of order`);
        assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${family.name}: buckets not cumulative`);
      }
      const last = buckets.at(-1);
      assert.equal(last?.labels['le'], '+Inf', `${family.name}: the last bucket is not +Inf`);
      assert.equal(last.value, count.value, `${family.name}: +Inf bucket differs from _count`);
    }
  }
  return families;
}

function boundOf(bucket: PromSample): number {
  const le = bucket.labels['le']!;
  const bound = le === '+Inf' ? Infinity : Number(le);
  assert.ok(!Number.isNaN(bound), `bad le ${le}`);
  return bound;
}

/** The value of the one sample named `name` whose labels include `labels`; fails unless exactly one matches. */
function sampleValue(families: Map<string, PromFamily>, family: string, name: string, labels: Record<string, string>): number {
  const found = families.get(family)?.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) ?? [];
  assert.equal(found.length, 1, `one ${name} with ${JSON.stringify(labels)}; found ${JSON.stringify(found)}`);
  return found[0]!.value;
}

test('/prometheus serves the request histograms and custom metrics in the text format', async () => {
  const metrics = new Metrics();
  const component: ComponentBehaviour = (request, res) => {
    if (request.body.includes('"fail"')) return answerJson(res, 500, { status: { code: 500, info: 'boom', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' } });
    answerJson(res, 200, {
      data: { ndarray: [[1]] },
      meta: {
        metrics: [
          { key: 'iris_requests', type: 'COUNTER', value: 1, tags: { mood: 'good' } },
          { key: 'iris_temperature', type: 'GAUGE', value: 36.6 },
          { key: 'iris_inference', type: 'TIMER', value: 20 },
          { key: 'not a name', type: 'COUNTER', value: 1 },
        ],
      },
    });
  };
  const predictor = iris({
    labels: { version: 'v2' },
    componentSpecs: [{ containers: [{ name: 'classifier', image: 'seldonio/sklearnserver:1.17.1' }] as Predictor['componentSpecs'][number]['containers'] }],
  });
  const { gateway, base } = await setup([{ predictor, replicas: [component] }], { metrics });
  for (let i = 0; i < 3; i++) assert.equal((await post(`${base}/api/v1.0/predictions`, BODY)).status, 200);
  assert.equal((await post(`${base}/api/v1.0/predictions`, '{"jsonData":"fail"}')).status, 500);
  assert.equal((await post(`${base}/api/v1.0/predictions`, '{"data":')).status, 400);
  assert.equal((await fetch(`${gateway.url}/seldon/seldon/nobody/api/v1.0/predictions`, { method: 'POST', body: BODY })).status, 404);

  const res = await fetch(`${gateway.url}/prometheus`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), metrics.contentType);
  const text = await res.text();
  const families = parsePrometheus(text);

  const server = { deployment_name: 'iris-model', predictor_name: 'default', predictor_version: 'v2', service: 'predictions', method: 'POST' };
  const serverName = 'seldon_api_executor_server_requests_seconds';
  assert.equal(families.get(serverName)?.type, 'histogram');
  assert.equal(sampleValue(families, serverName, `${serverName}_count`, { ...server, code: '200' }), 3);
  assert.equal(sampleValue(families, serverName, `${serverName}_count`, { ...server, code: '500' }), 1);
  assert.equal(sampleValue(families, serverName, `${serverName}_count`, { ...server, code: '400' }), 1);
  assert.equal(families.get(serverName)!.samples.filter((s) => s.name.endsWith('_count')).length, 3, 'the unknown deployment is not recorded');
  assert.deepEqual(
    families.get(serverName)!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels['code'] === '200').map((s) => s.labels['le']),
    ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'],
  );

  const client = { deployment_name: 'iris-model', predictor_name: 'default', predictor_version: 'v2', model_name: 'classifier', model_image: 'seldonio/sklearnserver', model_version: '1.17.1', service: '/predict', method: 'POST' };
  const clientName = 'seldon_api_executor_client_requests_seconds';
  assert.equal(sampleValue(families, clientName, `${clientName}_count`, { ...client, code: '200' }), 3);
  assert.equal(sampleValue(families, clientName, `${clientName}_count`, { ...client, code: '500' }), 1);

  const custom = { deployment_name: 'iris-model', predictor_name: 'default', model_name: 'classifier' };
  assert.equal(families.get('iris_requests')?.type, 'counter');
  assert.equal(sampleValue(families, 'iris_requests', 'iris_requests', { ...custom, mood: 'good' }), 3);
  assert.equal(families.get('iris_temperature')?.type, 'gauge');
  assert.equal(sampleValue(families, 'iris_temperature', 'iris_temperature', custom), 36.6);
  assert.equal(families.get('iris_inference')?.type, 'histogram');
  assert.equal(sampleValue(families, 'iris_inference', 'iris_inference_count', custom), 3);
  assert.ok(Math.abs(sampleValue(families, 'iris_inference', 'iris_inference_sum', custom) - 0.06) < 1e-9, 'TIMER milliseconds are observed in seconds');
  assert.equal(sampleValue(families, 'iris_inference', 'iris_inference_bucket', { ...custom, le: '0.01' }), 0);
  assert.equal(sampleValue(families, 'iris_inference', 'iris_inference_bucket', { ...custom, le: '0.025' }), 3);

  const underDeployment = await fetch(`${base}/prometheus`);
  assert.equal(underDeployment.status, 200);
  assert.ok(parsePrometheus(await underDeployment.text()).has(serverName));
});

test('/prometheus is a 404 when the gateway has no metrics', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }]);
  assert.equal((await fetch(`${gateway.url}/prometheus`)).status, 404);
});

test('the http options reach the gateway: a stopping gateway cuts a request in flight after http.closeGrace, not the default 3 s', async () => {
  const { gateway } = await setup([{ predictor: iris(), replicas: [identity] }], { http: { ...httpOptions.defaults, closeGrace: 200 } });
  let arrived = false;
  gateway.server.once('request', () => (arrived = true));
  // Its body never completes, so the request stays in flight until the gateway cuts it.
  const pending = rawExchange(gateway.port, truncatedPost(gateway.port, '/seldon/seldon/iris-model/api/v1.0/predictions', 100, '{"data":'));
  const deadline = Date.now() + 5_000;
  while (!arrived && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(arrived, 'the request reached the gateway');
  const started = Date.now();
  await gateway.close();
  const waited = Date.now() - started;
  assert.ok(waited >= 150, `closed after ${waited} ms, before the grace time`);
  assert.ok(waited < 2_000, `closed after ${waited} ms; the 200 ms grace was not used`);
  assert.ok((await pending).closedByServer);
});
