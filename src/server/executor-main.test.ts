import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import * as grpc from '@grpc/grpc-js';
import { componentRpc, fromProto, toProto } from '../protocol/index.ts';
import { resolveExecutorConfig, startPodExecutor, type ExecutorFlags } from './executor-main.ts';

const FLAGS: ExecutorFlags = { sdep: 'pair', namespace: 'models', predictor: 'main', http_port: '0', host: '127.0.0.1' };

function engine(overrides: Record<string, unknown> = {}, port = 9000): Record<string, string> {
  const predictor = {
    name: 'main',
    graph: {
      name: 'model',
      type: 'MODEL',
      endpoint: { type: 'REST', service_host: '127.0.0.1', service_port: port, httpPort: port, grpcPort: 9500 },
      logger: { mode: 'all' },
      parameters: [],
      children: [],
    },
    componentSpecs: [{ spec: { containers: [{ name: 'model', image: 'example/model' }] }, metadata: { creationTimestamp: null } }],
    replicas: 0,
    labels: { version: 'main' },
    ...overrides,
  };
  return { ENGINE_PREDICTOR: Buffer.from(JSON.stringify(predictor)).toString('base64') };
}

test("the predictor comes from ENGINE_PREDICTOR, each node's address from its endpoint", () => {
  const config = resolveExecutorConfig(FLAGS, engine({ shadow: true, traffic: 0 }));
  assert.equal(config.predictor.name, 'main');
  assert.equal(config.deployment.metadata.namespace, 'models');
  assert.deepEqual(config.addresses.get('model'), { id: 'model@127.0.0.1:9000', host: '127.0.0.1', port: 9000, grpcPort: 9500 });
  // A GRPC node: service_port is its gRPC port, httpPort its REST one.
  const grpc = resolveExecutorConfig(FLAGS, engine({ graph: { name: 'model', endpoint: { type: 'GRPC', service_host: 'h', service_port: 9501, httpPort: 9001, grpcPort: 9501 }, children: [] } }));
  assert.deepEqual(grpc.addresses.get('model'), { id: 'model@h:9001', host: 'h', port: 9001, grpcPort: 9501 });
  assert.equal(grpc.predictor.graph.endpoint.type, 'GRPC');
  // A shadow predictor's pod serves what reaches it.
  assert.equal(config.predictor.traffic, 100);
});

test("Seldon's request-logger arguments and default endpoint reach the executor's logger", () => {
  const config = resolveExecutorConfig({ ...FLAGS, log_work_buffer_size: '50', log_write_timeout_ms: '2000' }, { ...engine(), REQUEST_LOGGER_DEFAULT_ENDPOINT: 'http://default-broker' });
  assert.equal(config.options.executor.loggerQueue, 50);
  assert.equal(config.options.executor.loggerTimeout, 2000);
  assert.equal(config.predictor.graph.logger?.url, 'http://default-broker');
});

test('arguments that do not apply are named; full_health_checks reads as Go flags do', () => {
  const config = resolveExecutorConfig({ ...FLAGS, grpc_port: '5001', full_health_checks: 'false' }, engine(), ['--kafka_broker', 'k:9092']);
  assert.deepEqual(config.ignored, ['--kafka_broker k:9092']);
  // gRPC is served: on the HTTP port always, and on --grpc_port as Seldon's executor serves it.
  assert.equal(config.grpcPort, 5001);
  assert.equal(resolveExecutorConfig(FLAGS, engine()).grpcPort, undefined);
  assert.throws(() => resolveExecutorConfig({ ...FLAGS, grpc_port: 'five' }, engine()), /grpc_port/);
  assert.equal(config.fullHealthChecks, false);
  assert.equal(resolveExecutorConfig({ ...FLAGS, full_health_checks: true }, engine()).fullHealthChecks, true);
});

test('what cannot be served is refused at start, saying why', () => {
  assert.throws(() => resolveExecutorConfig(FLAGS, {}), /ENGINE_PREDICTOR is not set/);
  assert.throws(() => resolveExecutorConfig(FLAGS, { ENGINE_PREDICTOR: 'bm90IGpzb24=' }), /ENGINE_PREDICTOR: not the predictor's JSON/);
  assert.throws(() => resolveExecutorConfig({ ...FLAGS, transport: 'kafka' }, engine()), /--transport kafka: expected rest or grpc/);
  assert.throws(() => resolveExecutorConfig({ ...FLAGS, protocol: 'tensorflow' }, engine()), /--protocol tensorflow: trantor executor serves the seldon and v2 protocols only/);
  assert.throws(() => resolveExecutorConfig({ ...FLAGS, server_type: 'kafka' }, engine()), /--server_type kafka/);
  assert.throws(() => resolveExecutorConfig({ ...FLAGS, predictor: 'other' }, engine()), /ENGINE_PREDICTOR holds predictor "main"/);
  assert.throws(() => resolveExecutorConfig({ namespace: 'models' }, engine()), /--sdep is required/);
  assert.throws(() => resolveExecutorConfig(FLAGS, engine({ ssl: { certSecretName: 'tls' } })), /sets ssl: trantor executor serves plain HTTP only/);
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test("with full health checks /ready follows each component's /health/status", async () => {
  let healthy = false;
  const component = createServer((req, res) => {
    res.writeHead(req.url === '/health/status' && healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end('{}');
  });
  const port = await listen(component);
  const pod = await startPodExecutor(resolveExecutorConfig({ ...FLAGS, full_health_checks: 'true' }, engine({}, port)), pino({ level: 'silent' }));
  try {
    assert.match((await pod.ready()) ?? '', /not every component answers yet: model/);
    const closed = await fetch(`${pod.gateway.url}/ready`);
    assert.equal(closed.status, 503);
    healthy = true;
    assert.equal(await pod.ready(), undefined);
    assert.equal((await fetch(`${pod.gateway.url}/ready`)).status, 200);
  } finally {
    await pod.close();
    component.close();
  }
});

test('a node whose endpoint.type is GRPC is called over gRPC at its service_port', async () => {
  // Seldon's Model/Predict, answering each row's sum: the REST port has nothing listening.
  const server = new grpc.Server();
  const predict = componentRpc('predict');
  const asIs = (bytes: Buffer): Buffer => bytes;
  const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, done) => {
    const rows = fromProto('SeldonMessage', call.request).data?.ndarray as number[][];
    done(null, Buffer.from(toProto('SeldonMessage', { data: { ndarray: rows.map((row) => [row.reduce((a, b) => a + b, 0)]) } })));
  };
  server.register(predict.path, handler, asIs, asIs, 'unary');
  const grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
  const closed = createServer();
  const restPort = await listen(closed);
  closed.close();
  const graph = { name: 'model', type: 'MODEL', endpoint: { type: 'GRPC', service_host: '127.0.0.1', service_port: grpcPort, httpPort: restPort, grpcPort }, parameters: [], children: [] };
  const pod = await startPodExecutor(resolveExecutorConfig(FLAGS, engine({ graph })), pino({ level: 'silent' }));
  try {
    const res = await fetch(`${pod.gateway.url}/api/v1.0/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":{"ndarray":[[1,2],[3,4.5]]}}' });
    const body = (await res.json()) as { data?: { ndarray?: unknown } };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.data?.ndarray, [[3], [7.5]]);
  } finally {
    await pod.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
});

test('--grpc_port serves Seldon\'s gRPC service for the pod\'s deployment, as the HTTP port does', async () => {
  const component = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  const port = await listen(component);
  const pod = await startPodExecutor(resolveExecutorConfig({ ...FLAGS, grpc_port: '0' }, engine({}, port)), pino({ level: 'silent' }));
  try {
    assert.ok(pod.gateway.grpcPort !== undefined && pod.gateway.grpcPort !== 0);
    for (const grpcPort of [pod.gateway.grpcPort, pod.gateway.port]) {
      const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
      try {
        // No `seldon` metadata: a pod serves its own deployment, as Seldon's executor does.
        const answer = await new Promise<Buffer>((resolve, reject) => {
          client.makeUnaryRequest('/seldon.protos.Seldon/Predict', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(toProto('SeldonMessage', { strData: 'over grpc' })), (err, value) => (err === null ? resolve(value!) : reject(err)));
        });
        assert.equal(fromProto('SeldonMessage', answer).strData, 'over grpc');
      } finally {
        client.close();
      }
    }
  } finally {
    await pod.close();
    component.close();
  }
});

test('--protocol v2 serves the V2 paths at the root, calls each node at its V2 paths, and /ready follows their model ready checks', async () => {
  let ready = false;
  const component = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v2/models/model/ready') {
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' });
        return res.end(ready ? '' : '{"error":"loading"}');
      }
      if (req.url !== '/v2/models/model/infer') {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end('{"error":"no such path"}');
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { inputs: { name: string; data: number[] }[] };
      const answer = JSON.stringify({ model_name: 'model', outputs: [{ name: 'predict', shape: [1], datatype: 'INT64', data: [body.inputs[0]!.data.length] }] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
  });
  const port = await listen(component);
  assert.equal(resolveExecutorConfig({ ...FLAGS, protocol: 'kfserving' }, engine({}, port)).deployment.spec.protocol, 'v2');
  const pod = await startPodExecutor(resolveExecutorConfig({ ...FLAGS, protocol: 'v2', full_health_checks: 'true' }, engine({}, port)), pino({ level: 'silent' }));
  try {
    assert.match((await pod.ready()) ?? '', /not every component answers yet: model/);
    ready = true;
    assert.equal(await pod.ready(), undefined);
    const res = await fetch(`${pod.gateway.url}/v2/models/model/infer`, { method: 'POST', body: '{"inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":[1,2,3]}]}' });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { outputs: { data: unknown }[] }).outputs[0]?.data, [3]);
    const seldon = await fetch(`${pod.gateway.url}/api/v1.0/predictions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":{"ndarray":[[1]]}}' });
    assert.equal(seldon.status, 404);
  } finally {
    await pod.close();
    component.close();
  }
});
