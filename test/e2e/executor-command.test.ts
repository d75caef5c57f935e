/**
 * `trantor executor`, the executor of a predictor's pod, run as the operator's container runs it:
 * the arguments and ENGINE_PREDICTOR come from render() for a two-node graph (so the command and
 * the renderer stay in step), only the ports moved to free ones on 127.0.0.1. Two real Node
 * component hosts stand in for the pod's component containers. Checked: `/ready` before and after
 * they are up (and after one goes), predictions (plain, v0.1 path, CloudEvent), metadata, feedback
 * and `/prometheus`, all at the root path as Seldon's executor serves them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeEnginePredictor, ENGINE_PREDICTOR_ENV, EXECUTOR_CONTAINER } from '../../src/runtime/kubernetes/index.ts';
import { renderedContainers, type RenderedContainer } from '../../src/runtime/kubernetes/testing.ts';
import { send, startHost, type HostProcess } from '../hosts/host-process.ts';
import { freePort, ROOT, TRANTOR, waitFor } from './harness.ts';

const MANIFEST = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: pair, namespace: models}
spec:
  predictors:
  - name: main
    graph:
      name: scaler
      type: TRANSFORMER
      children:
      - name: echo
        type: MODEL
    componentSpecs:
    - spec:
        containers:
        - {name: scaler, image: example/noop, command: [trantor-node-microservice, NoopModel]}
        - {name: echo, image: example/noop, command: [trantor-node-microservice, NoopModel]}
`;

/** The executor container render() puts in the predictor's pod. */
function renderedExecutor(): RenderedContainer {
  const [found] = renderedContainers(MANIFEST, EXECUTOR_CONTAINER);
  if (found === undefined) throw new Error('render() made no executor container');
  return found;
}

interface EngineNode {
  name: string;
  endpoint: { service_host: string; service_port: number; httpPort: number };
  children: EngineNode[];
}

const ports = new Map<string, number>();
const hosts = new Map<string, HostProcess>();
let executor: ChildProcess;
let url = '';
let stderr = '';

async function startComponent(name: string): Promise<void> {
  const host = await startHost('node', 'NoopModel', { cwd: join(ROOT, 'examples', 'noop-ts'), env: { PREDICTIVE_UNIT_HTTP_SERVICE_PORT: String(ports.get(name)) } });
  hosts.set(name, host);
}

before(async () => {
  const container = renderedExecutor();
  const engine = decodeEnginePredictor(container.env.find((e) => e.name === ENGINE_PREDICTOR_ENV)!.value) as unknown as { graph: EngineNode };
  // The pod's component ports, moved to free ones; the host stays render's `localhost`.
  const move = async (node: EngineNode): Promise<void> => {
    const port = await freePort();
    ports.set(node.name, port);
    node.endpoint.service_port = port;
    node.endpoint.httpPort = port;
    for (const child of node.children) await move(child);
  };
  await move(engine.graph);
  assert.deepEqual([...ports.keys()], ['scaler', 'echo']);
  const args = [...container.args];
  args[args.indexOf('--http_port') + 1] = '0';
  // gRPC is served on its own port too: a free one here.
  args[args.indexOf('--grpc_port') + 1] = '0';
  // One of Seldon's arguments that does not apply here, to be named as ignored.
  args.push('--kafka_broker', 'kafka.local:9092', '--host', '127.0.0.1');
  executor = spawn(process.execPath, [TRANTOR, 'executor', ...args], {
    env: { ...process.env, [ENGINE_PREDICTOR_ENV]: Buffer.from(JSON.stringify(engine)).toString('base64') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  executor.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trantor executor printed no address in 30 s:\n${stderr}`)), 30_000);
    createInterface({ input: executor.stdout! }).on('line', (line) => {
      const match = /^executor: (http:\/\/\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    executor.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trantor executor exited with ${code}:\n${stderr}`));
    });
  });
});

after(async () => {
  await Promise.all([...hosts.values()].map((h) => h.stop()));
  if (executor.exitCode === null) {
    const exited = new Promise((resolve) => executor.once('exit', resolve));
    executor.kill('SIGTERM');
    await exited;
  }
});

const json = { 'content-type': 'application/json' };

test('it names the Seldon arguments it ignores', () => {
  assert.match(stderr, /ignoring .*--kafka_broker kafka\.local:9092/);
  assert.match(stderr, /models\/pair predictor main, nodes scaler, echo/);
});

test('/live answers at once; /ready answers 503 until every component answers, then 200', async () => {
  assert.equal((await send(url, 'GET', '/live')).status, 200);
  const before = await send(url, 'GET', '/ready');
  assert.equal(before.status, 503, before.text);
  assert.match(before.text, /scaler, echo/);
  await startComponent('scaler');
  const half = await send(url, 'GET', '/ready');
  assert.equal(half.status, 503, half.text);
  assert.doesNotMatch(half.text, /scaler/);
  await startComponent('echo');
  await waitFor('/ready to answer 200', async () => (await send(url, 'GET', '/ready')).status === 200, 20_000);
});

test('predictions at the root walk the graph through both components', async () => {
  const body = JSON.stringify({ data: { ndarray: [[1, 2, 3]] } });
  for (const path of ['/api/v1.0/predictions', '/api/v0.1/predictions']) {
    const answer = await send(url, 'POST', path, body, json);
    assert.equal(answer.status, 200, answer.text);
    const reply = JSON.parse(answer.text) as { data: { ndarray: number[][] }; meta: { requestPath: Record<string, string>; puid: string } };
    assert.deepEqual(reply.data.ndarray, [[1, 2, 3]]);
    assert.deepEqual(Object.keys(reply.meta.requestPath).sort(), ['echo', 'scaler']);
    assert.equal(answer.headers['seldon-puid'], reply.meta.puid);
  }
});

test('a CloudEvent in gets a CloudEvent back', async () => {
  const answer = await send(url, 'POST', '/api/v1.0/predictions', JSON.stringify({ data: { ndarray: [[4]] } }), {
    ...json,
    'ce-specversion': '1.0',
    'ce-id': 'event-1',
    'ce-type': 'io.example.request',
    'ce-source': 'test',
  });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['ce-specversion'], '1.0');
  assert.ok(answer.headers['ce-id'] !== undefined);
  assert.deepEqual((JSON.parse(answer.text) as { data: { ndarray: number[][] } }).data.ndarray, [[4]]);
});

test('graph metadata names both nodes; feedback is taken', async () => {
  const metadata = await send(url, 'GET', '/api/v1.0/metadata');
  assert.equal(metadata.status, 200, metadata.text);
  const graph = JSON.parse(metadata.text) as { name: string; models: Record<string, unknown> };
  assert.equal(graph.name, 'main');
  assert.deepEqual(Object.keys(graph.models).sort(), ['echo', 'scaler']);
  const feedback = await send(url, 'POST', '/api/v1.0/feedback', JSON.stringify({ request: { data: { ndarray: [[1]] } }, response: { data: { ndarray: [[1]] } }, reward: 1 }), json);
  assert.equal(feedback.status, 200, feedback.text);
});

test('/prometheus has the requests served and the calls to each component', async () => {
  const answer = await send(url, 'GET', '/prometheus');
  assert.equal(answer.status, 200);
  assert.match(answer.text, /seldon_api_executor_server_requests_seconds_count\{[^}]*service="predictions"[^}]*\} [1-9]/);
  for (const node of ['scaler', 'echo']) assert.match(answer.text, new RegExp(`seldon_api_executor_client_requests_seconds_count\\{[^}]*model_name="${node}"`));
});

test('/ready answers 503 again once a component goes', async () => {
  await hosts.get('echo')!.stop();
  hosts.delete('echo');
  await waitFor('/ready to answer 503', async () => (await send(url, 'GET', '/ready')).status === 503, 20_000);
  const answer = await send(url, 'GET', '/ready');
  assert.match(answer.text, /echo/);
  assert.doesNotMatch(answer.text, /scaler/);
});

test('an unknown path is a 404 that names the root path of predictions', async () => {
  const answer = await send(url, 'POST', '/seldon/models/pair', '{}', json);
  assert.equal(answer.status, 404);
  assert.match(answer.text, /predictions go to \/api\/v1\.0\/predictions/);
});

test('SIGTERM stops it with exit code 0 (the pod ending)', async () => {
  const exited = new Promise<number | null>((resolve) => executor.once('exit', (code) => resolve(code)));
  executor.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});
