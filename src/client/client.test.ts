import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { TrantorError } from '../protocol/index.ts';
import { SeldonClient, SeldonClientError } from './index.ts';

interface Seen {
  /** Which connection the request came on (numbered in order of opening). */
  connection: number;
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in for the gateway: answers canned Seldon messages by path and records each request. */
class FakeGateway {
  readonly seen: Seen[] = [];
  private readonly socketIds = new WeakMap<object, number>();
  private connections = 0;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const connection = this.socketIds.get(req.socket) ?? -1;
        const seen = { connection, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.seen.push(seen);
        this.answer(seen, res);
      });
    });
    this.server.on('connection', (socket) => {
      this.connections += 1;
      this.socketIds.set(socket, this.connections);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  get last(): Seen {
    const seen = this.seen.at(-1);
    assert.ok(seen, 'the gateway saw no request');
    return seen;
  }

  private answer(seen: Seen, res: ServerResponse): void {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const path = seen.url.replace(/^\/prefix/, '');
    if (path.endsWith('/slow/api/v1.0/predictions')) {
      setTimeout(() => json(200, { data: { ndarray: [] } }), 2_000).unref();
      return;
    }
    if (path.endsWith('/bad-data/api/v1.0/predictions')) {
      json(400, { status: { code: 400, info: 'expected 4 features per row, got 5 (data.ndarray[0])', reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' } });
      return;
    }
    if (path.endsWith('/failing/api/v1.0/predictions')) {
      json(200, { status: { code: 500, info: 'model raised ValueError', reason: 'MICROSERVICE_INTERNAL_ERROR', status: 'FAILURE' } });
      return;
    }
    if (path.endsWith('/html/api/v1.0/predictions')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>not a model</html>');
      return;
    }
    if (path.endsWith('/gone/api/v1.0/predictions')) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('upstream connect error');
      return;
    }
    if (/\/api\/v(1\.0|0\.1)\/predictions$/.test(path)) {
      const request = JSON.parse(seen.body) as { data?: { tensor?: unknown } };
      const data = request.data?.tensor !== undefined
        ? { names: ['t:0', 't:1', 't:2'], tensor: { shape: [1, 3], values: [0.1, 0.2, 0.7] } }
        : { names: ['t:0', 't:1', 't:2'], ndarray: [[0.1, 0.2, 0.7]] };
      json(200, { data, meta: { puid: 'puid-1', requestPath: { classifier: 'sklearn' } } }, { 'seldon-puid': 'puid-1' });
      return;
    }
    if (path.endsWith('/api/v1.0/feedback')) {
      json(200, { data: { ndarray: [] }, meta: {} });
      return;
    }
    if (path.endsWith('/api/v1.0/metadata/classifier')) {
      json(200, { name: 'classifier', versions: ['v1'], platform: 'seldon', inputs: [{ name: 'x', datatype: 'FP64', shape: [4] }], outputs: [] });
      return;
    }
    if (path.endsWith('/api/v1.0/metadata')) {
      json(200, { name: 'default', models: { classifier: { name: 'classifier', platform: 'seldon' } }, graphinputs: [], graphoutputs: [] });
      return;
    }
    if (path.endsWith('/down/api/v1.0/health/status')) {
      json(503, { status: { code: 503, info: 'no replica of classifier is ready', reason: 'MICROSERVICE_UNAVAILABLE', status: 'FAILURE' } });
      return;
    }
    if (path.endsWith('/api/v1.0/health/status')) {
      json(200, { status: { status: 'SUCCESS' } });
      return;
    }
    json(404, { status: { code: 404, info: `no route ${seen.url}`, reason: 'NOT_FOUND', status: 'FAILURE' } });
  }
}

const gateway = new FakeGateway();
let client: SeldonClient;

before(async () => {
  await gateway.start();
  client = new SeldonClient({ gatewayEndpoint: `http://127.0.0.1:${gateway.port}`, namespace: 'seldon' });
});

after(async () => {
  await client.close();
  await gateway.stop();
});

/** The SeldonClientError `promise` rejects with. */
async function failureOf(promise: Promise<unknown>): Promise<SeldonClientError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SeldonClientError, `expected a SeldonClientError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

test('predict posts an ndarray to the deployment path and returns the message with its puid', async () => {
  const prediction = await client.predict({ deploymentName: 'iris-model', data: [[1, 2, 3, 4]] });
  assert.equal(prediction.puid, 'puid-1');
  assert.equal(gateway.last.method, 'POST');
  assert.equal(gateway.last.url, '/seldon/seldon/iris-model/api/v1.0/predictions');
  assert.equal(gateway.last.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(gateway.last.body), { data: { ndarray: [[1, 2, 3, 4]] } });
  assert.deepEqual(prediction, {
    data: { names: ['t:0', 't:1', 't:2'], ndarray: [[0.1, 0.2, 0.7]] },
    meta: { puid: 'puid-1', requestPath: { classifier: 'sklearn' } },
  });
  assert.equal(JSON.stringify(prediction).includes('"puid":"puid-1"}'), false, 'puid is not serialised beside the message fields');
});

test('predict with payloadType tensor sends names and a tensor built from the rows', async () => {
  const prediction = await client.predict({ deploymentName: 'iris-model', data: [[0, 0], [1, 1]], names: ['a', 'b'], payloadType: 'tensor' });
  assert.deepEqual(JSON.parse(gateway.last.body), { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } } });
  assert.deepEqual(prediction.data?.tensor, { shape: [1, 3], values: [0.1, 0.2, 0.7] });
});

test('predict sends a whole message, with meta, to the v0.1 path of another namespace', async () => {
  await client.predict({
    deploymentName: 'my model',
    namespace: 'team-a',
    apiVersion: 'v0.1',
    message: { strData: 'hello' },
    meta: { tags: { source: 'test' } },
  });
  assert.equal(gateway.last.url, '/seldon/team-a/my%20model/api/v0.1/predictions');
  assert.deepEqual(JSON.parse(gateway.last.body), { strData: 'hello', meta: { tags: { source: 'test' } } });
});

test('a 4xx Seldon failure becomes a SeldonClientError with the status, info and reason', async () => {
  const err = await failureOf(client.predict({ deploymentName: 'bad-data', data: [[1, 2, 3, 4, 5]] }));
  assert.equal(err.code, 'FAILURE');
  assert.equal(err.status, 400);
  assert.equal(err.reason, 'MICROSERVICE_BAD_DATA');
  assert.equal(err.info, 'expected 4 features per row, got 5 (data.ndarray[0])');
  assert.equal(
    err.message,
    'POST /seldon/seldon/bad-data/api/v1.0/predictions: 400 MICROSERVICE_BAD_DATA: expected 4 features per row, got 5 (data.ndarray[0])',
  );
});

test('a 200 whose status is FAILURE is a failure too', async () => {
  const err = await failureOf(client.predict({ deploymentName: 'failing', data: [[1]] }));
  assert.equal(err.code, 'FAILURE');
  assert.equal(err.status, 200);
  assert.equal(err.reason, 'MICROSERVICE_INTERNAL_ERROR');
  assert.equal(err.info, 'model raised ValueError');
});

test('a failure with a text body carries the text as info', async () => {
  const err = await failureOf(client.predict({ deploymentName: 'gone', data: [[1]] }));
  assert.equal(err.status, 502);
  assert.equal(err.info, 'upstream connect error');
  assert.equal(err.reason, undefined);
});

test('a 2xx answer that is not JSON is a BAD_RESPONSE', async () => {
  const err = await failureOf(client.predict({ deploymentName: 'html', data: [[1]] }));
  assert.equal(err.code, 'BAD_RESPONSE');
  assert.equal(err.status, 200);
  assert.equal(err.body, '<html>not a model</html>');
});

test('feedback posts request, response, reward and truth, with the response puid as Seldon-Puid', async () => {
  const request = { data: { ndarray: [[1, 2, 3, 4]] } };
  const response = await client.predict({ deploymentName: 'iris-model', data: request.data.ndarray });
  await client.feedback({ deploymentName: 'iris-model', request, response, reward: 1, truth: { data: { ndarray: [[0, 0, 1]] } } });
  assert.equal(gateway.last.url, '/seldon/seldon/iris-model/api/v1.0/feedback');
  assert.equal(gateway.last.headers['seldon-puid'], 'puid-1');
  assert.deepEqual(JSON.parse(gateway.last.body), {
    request,
    response: { data: { names: ['t:0', 't:1', 't:2'], ndarray: [[0.1, 0.2, 0.7]] }, meta: { puid: 'puid-1', requestPath: { classifier: 'sklearn' } } },
    reward: 1,
    truth: { data: { ndarray: [[0, 0, 1]] } },
  });
});

test('metadata reads the graph, or one model by name', async () => {
  const graph = await client.metadata({ deploymentName: 'iris-model' });
  assert.equal(gateway.last.method, 'GET');
  assert.equal(gateway.last.url, '/seldon/seldon/iris-model/api/v1.0/metadata');
  assert.equal(graph.models?.['classifier']?.platform, 'seldon');
  const model = await client.metadata({ deploymentName: 'iris-model', model: 'classifier' });
  assert.equal(gateway.last.url, '/seldon/seldon/iris-model/api/v1.0/metadata/classifier');
  assert.deepEqual(model.inputs, [{ name: 'x', datatype: 'FP64', shape: [4] }]);
});

test('health resolves when healthy and throws with the status when not', async () => {
  assert.deepEqual(await client.health({ deploymentName: 'iris-model' }), { status: { status: 'SUCCESS' } });
  assert.equal(gateway.last.url, '/seldon/seldon/iris-model/api/v1.0/health/status');
  const err = await failureOf(client.health({ deploymentName: 'down' }));
  assert.equal(err.status, 503);
  assert.equal(err.reason, 'MICROSERVICE_UNAVAILABLE');
});

test('an unknown deployment is a 404 failure', async () => {
  const err = await failureOf(client.metadata({ deploymentName: 'nope', model: 'x/y' }));
  assert.equal(err.status, 404);
  assert.equal(gateway.last.url, '/seldon/seldon/nope/api/v1.0/metadata/x%2Fy');
});

test('a call that takes longer than its timeout fails with TIMEOUT', async () => {
  const started = Date.now();
  const err = await failureOf(client.predict({ deploymentName: 'slow', data: [[1]], timeoutMs: 100 }));
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.status, undefined);
  assert.match(err.message, /no answer within 100 ms/);
  assert.ok(Date.now() - started < 1_500, 'the timeout cut the call short');
});

test("the caller's signal aborts a call", async () => {
  const controller = new AbortController();
  const call = client.predict({ deploymentName: 'slow', data: [[1]], signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const err = await failureOf(call);
  assert.equal(err.code, 'ABORTED');
});

test('a gateway that is not there fails with CONNECTION', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const nowhere = new SeldonClient({ gatewayEndpoint: `127.0.0.1:${port}`, deploymentName: 'iris-model' });
  try {
    const err = await failureOf(nowhere.predict({ data: [[1]] }));
    assert.equal(err.code, 'CONNECTION');
    assert.match(err.message, /ECONNREFUSED/);
  } finally {
    await nowhere.close();
  }
});

test('calls reuse kept-alive connections', async () => {
  const connectionsUsed = async (options: { connections?: number }): Promise<number> => {
    const first = gateway.seen.length;
    const c = new SeldonClient({ gatewayEndpoint: `http://127.0.0.1:${gateway.port}`, deploymentName: 'iris-model', ...options });
    try {
      for (let i = 0; i < 20; i++) await c.predict({ data: [[1, 2, 3, 4]] });
    } finally {
      await c.close();
    }
    return new Set(gateway.seen.slice(first).map((s) => s.connection)).size;
  };
  assert.equal(await connectionsUsed({ connections: 1 }), 1);
  // The pool may open a spare socket while another finishes its answer, but never one per call.
  const pooled = await connectionsUsed({});
  assert.ok(pooled <= 4, `20 calls used ${pooled} connections`);
});

test('a bare host:port endpoint with a path prefix, and a default deployment, are honoured', async () => {
  const prefixed = new SeldonClient({ gatewayEndpoint: `127.0.0.1:${gateway.port}/prefix/`, deploymentName: 'iris-model' });
  try {
    await prefixed.predict({ data: [[1, 2, 3, 4]] });
    assert.equal(gateway.last.url, '/prefix/seldon/default/iris-model/api/v1.0/predictions');
  } finally {
    await prefixed.close();
  }
});

test('misuse is reported before anything is sent', async () => {
  const count = gateway.seen.length;
  await assert.rejects(client.predict({ data: [[1]] }), TypeError);
  await assert.rejects(client.predict({ deploymentName: 'd' }), /give data \(rows of features\) or a message/);
  await assert.rejects(client.predict({ deploymentName: 'd', data: [[1]], message: { strData: 'x' } }), /either data or message/);
  await assert.rejects(
    client.predict({ deploymentName: 'd', data: [[1, 2], [3]], payloadType: 'tensor' }),
    (err: unknown) => err instanceof TrantorError && err.code === 'BAD_PAYLOAD',
  );
  assert.throws(() => new SeldonClient({ gatewayEndpoint: 'ftp://x' }), /use http:\/\/ or https:\/\//);
  assert.throws(() => new SeldonClient({ gatewayEndpoint: 'http://x', timeoutMs: 0 }), /timeoutMs must be a positive number/);
  assert.equal(gateway.seen.length, count);
});
