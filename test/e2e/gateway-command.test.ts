/**
 * `trantor gateway`, the process of the gateway Deployment, run as the operator's container runs
 * it: its arguments and TRANTOR_GATEWAY_PREDICTORS, and each predictor's executor arguments and
 * ENGINE_PREDICTOR, come from render() for a SeldonDeployment with a 75/25 split and a shadow (so
 * the commands and the renderer stay in step). Only addresses moved: ports to free ones on
 * 127.0.0.1, and each predictor Service's DNS name to its executor's address (no cluster DNS
 * here). Three real `trantor executor` processes stand behind one real `trantor gateway`; one Node
 * component host plays every predictor's model container (the graphs' node names tell the
 * predictors apart in `meta.requestPath`). A second SeldonDeployment, `protocol: v2`, gets its own
 * executor and gateway over the same host: the Open Inference Protocol through `trantor gateway`
 * over REST JSON, the binary_data extension and gRPC.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { decodeModelInferResponse, decodeV2Response, encodeModelInferRequest, encodeV2Request } from '../../src/protocol/index.ts';
import { decodeEnginePredictor, ENGINE_PREDICTOR_ENV, EXECUTOR_CONTAINER, GATEWAY_PREDICTORS_ENV } from '../../src/runtime/kubernetes/index.ts';
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
    traffic: 75
    graph: {name: model-a, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - {name: model-a, image: example/noop, command: [trantor-node-microservice, NoopModel]}
  - name: canary
    traffic: 25
    graph: {name: model-b, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - {name: model-b, image: example/noop, command: [trantor-node-microservice, NoopModel]}
  - name: mirror
    shadow: true
    graph: {name: model-c, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - {name: model-c, image: example/noop, command: [trantor-node-microservice, NoopModel]}
`;

const MANIFEST_V2 = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: inference, namespace: models}
spec:
  protocol: v2
  predictors:
  - name: main
    graph: {name: echo, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - {name: echo, image: example/noop, command: [trantor-node-microservice, NoopModel]}
`;

interface EngineNode {
  name: string;
  endpoint: { service_host: string; service_port: number; httpPort: number };
  children: EngineNode[];
}

const containersOf = (name: string, manifest = MANIFEST): RenderedContainer[] => renderedContainers(manifest, name);

function envOf(container: RenderedContainer, name: string): string {
  const value = container.env.find((e) => e.name === name)?.value;
  assert.ok(value !== undefined, `${container.name} has no ${name}`);
  return value;
}

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** `trantor <args>` with `env`, once it prints `<label>: http://…`. */
function startTrantor(label: string, args: readonly string[], env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [TRANTOR, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  return new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`trantor ${label} printed no address in 60 s:\n${output}`)), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = new RegExp(`^${label}: (http://[^/\\s]+)`).exec(line);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`trantor ${label} exited with ${code}:\n${output}`));
    });
  });
}

const BODY_LIMIT = 64 * 1024;
const executors = new Map<string, Running>();
let host: HostProcess | undefined;
let hostPort = 0;
let gateway: Running;
let base = '';
/** The `protocol: v2` deployment's executor and gateway. */
let v2Executor: Running | undefined;
let v2Gateway: Running | undefined;
let v2Base = '';

/** The rendered executor's arguments and ENGINE_PREDICTOR, its model container moved to the one host. */
function executorStart(container: RenderedContainer): { name: string; args: string[]; env: Record<string, string> } {
  const engine = decodeEnginePredictor(envOf(container, ENGINE_PREDICTOR_ENV)) as unknown as { name: string; graph: EngineNode };
  engine.graph.endpoint.service_host = '127.0.0.1';
  engine.graph.endpoint.service_port = hostPort;
  engine.graph.endpoint.httpPort = hostPort;
  const args = [...container.args];
  args[args.indexOf('--http_port') + 1] = '0';
  args[args.indexOf('--grpc_port') + 1] = '0';
  return { name: engine.name, args: ['executor', ...args, '--host', '127.0.0.1'], env: { [ENGINE_PREDICTOR_ENV]: Buffer.from(JSON.stringify(engine)).toString('base64') } };
}

/** The rendered gateway's arguments and TRANTOR_GATEWAY_PREDICTORS, each Service's DNS name moved to its executor's address. */
function gatewayStart(container: RenderedContainer, sdep: string, addresses: ReadonlyMap<string, string>): { args: string[]; env: Record<string, string> } {
  assert.deepEqual(container.command, ['trantor', 'gateway']);
  const predictors = JSON.parse(envOf(container, GATEWAY_PREDICTORS_ENV)) as { name: string; http: string }[];
  for (const p of predictors) {
    assert.equal(p.http, `http://${sdep}-${p.name}.models.svc.cluster.local:8000`);
    p.http = addresses.get(p.name)!;
  }
  const args = [...container.args];
  args[args.indexOf('--http_port') + 1] = '0';
  args[args.indexOf('--grpc_port') + 1] = '0';
  args.push('--host', '127.0.0.1', '--set', `gateway.bodyLimit=${BODY_LIMIT}`);
  return { args: ['gateway', ...args], env: { [GATEWAY_PREDICTORS_ENV]: JSON.stringify(predictors) } };
}

before(async () => {
  hostPort = await freePort();
  // Each predictor's pod: its executor, with the model container's address moved to the one host.
  const addresses = new Map<string, string>();
  for (const container of containersOf(EXECUTOR_CONTAINER)) {
    const start = executorStart(container);
    const running = await startTrantor('executor', start.args, start.env);
    executors.set(start.name, running);
    addresses.set(start.name, running.url);
  }
  assert.deepEqual([...executors.keys()].sort(), ['canary', 'main', 'mirror']);

  const [container] = containersOf('gateway');
  assert.ok(container !== undefined, 'render() made no gateway container');
  // The Services' DNS names resolve to the executors' addresses here.
  const start = gatewayStart(container, 'pair', addresses);
  gateway = await startTrantor('gateway', start.args, start.env);
  base = `${gateway.url}/seldon/models/pair`;

  const [v2ExecutorContainer] = containersOf(EXECUTOR_CONTAINER, MANIFEST_V2);
  const [v2GatewayContainer] = containersOf('gateway', MANIFEST_V2);
  assert.ok(v2ExecutorContainer !== undefined && v2GatewayContainer !== undefined, 'render() made no executor or gateway for the protocol: v2 deployment');
  const v2Start = executorStart(v2ExecutorContainer);
  v2Executor = await startTrantor('executor', v2Start.args, v2Start.env);
  const v2GatewayStart = gatewayStart(v2GatewayContainer, 'inference', new Map([[v2Start.name, v2Executor.url]]));
  v2Gateway = await startTrantor('gateway', v2GatewayStart.args, v2GatewayStart.env);
  v2Base = `${v2Gateway.url}/seldon/models/inference`;
});

after(async () => {
  await host?.stop();
  await Promise.all([...executors.values(), ...(v2Executor === undefined ? [] : [v2Executor])].map((e) => e.stop()));
  await gateway?.stop();
  await v2Gateway?.stop();
});

const json = { 'content-type': 'application/json' };

async function predict(headers: Record<string, string> = {}): Promise<{ status: number; puid: string; node: string; meta: { puid: string } }> {
  const answer = await send(base, 'POST', '/api/v1.0/predictions', JSON.stringify({ data: { ndarray: [[1, 2]] } }), { ...json, ...headers });
  assert.equal(answer.status, 200, answer.text);
  const reply = JSON.parse(answer.text) as { meta: { puid: string; requestPath: Record<string, string> } };
  return { status: answer.status, puid: String(answer.headers['seldon-puid']), node: Object.keys(reply.meta.requestPath).join(','), meta: reply.meta };
}

/** The count of `seldon_api_executor_server_requests_seconds` predictions in a `/prometheus` text, per predictor. */
function predictionsCounted(text: string, predictor: string): number {
  const pattern = new RegExp(`^seldon_api_executor_server_requests_seconds_count\\{[^}]*predictor_name="${predictor}"[^}]*service="predictions"[^}]*code="200"[^}]*\\} (\\d+)$`, 'm');
  return Number(pattern.exec(text)?.[1] ?? 0);
}

test('it names the predictors it forwards to and its own gRPC port', () => {
  assert.doesNotMatch(gateway.output(), /ignoring/);
  assert.match(gateway.output(), /gRPC also on port \d+/);
  assert.match(gateway.output(), /models\/pair, predictors main \(traffic 75\) at http:\/\/127\.0\.0\.1:\d+\/, canary \(traffic 25\)/);
});

test("/live answers at once; /ready answers 503 until the serving predictors' executors are ready", async () => {
  assert.equal((await send(gateway.url, 'GET', '/live')).status, 200);
  const waiting = await send(gateway.url, 'GET', '/ready');
  assert.equal(waiting.status, 503, waiting.text);
  assert.match(waiting.text, /main \(HTTP 503[^)]*model-a/);
  assert.match(waiting.text, /canary \(HTTP 503[^)]*model-b/);
  // A shadow does not hold readiness back.
  assert.doesNotMatch(waiting.text, /mirror/);
  host = await startHost('node', 'NoopModel', { cwd: join(ROOT, 'examples', 'noop-ts'), env: { PREDICTIVE_UNIT_HTTP_SERVICE_PORT: String(hostPort) } });
  await waitFor('the gateway to be ready', async () => (await send(gateway.url, 'GET', '/ready')).status === 200, 30_000, () => gateway.output());
});

const REQUESTS = 400;

test('predictions split 75/25 between the two predictors, and the shadow gets a copy of each', async () => {
  const seen = new Map<string, number>();
  for (let i = 0; i < REQUESTS; i++) {
    const { node } = await predict();
    seen.set(node, (seen.get(node) ?? 0) + 1);
  }
  assert.deepEqual([...seen.keys()].sort(), ['model-a', 'model-b'], 'only the two serving predictors answer');
  // 400 draws at 25%: mean 100, standard deviation 8.7; the bounds are 4.6 deviations out.
  const canary = seen.get('model-b')!;
  assert.ok(canary >= 60 && canary <= 140, `canary served ${canary} of ${REQUESTS}`);
  const mirror = executors.get('mirror')!;
  await waitFor('the shadow to have every copy', async () => predictionsCounted((await send(mirror.url, 'GET', '/prometheus')).text, 'mirror') >= REQUESTS, 30_000);
  const metrics = (await send(gateway.url, 'GET', '/prometheus')).text;
  assert.equal(predictionsCounted(metrics, 'main') + predictionsCounted(metrics, 'canary'), REQUESTS);
  assert.equal(predictionsCounted(metrics, 'canary'), canary);
});

test("the caller's puid passes through to the executor and back; without one the executor's reply carries the gateway's", async () => {
  const given = await predict({ 'seldon-puid': 'journey-puid-42' });
  assert.equal(given.puid, 'journey-puid-42');
  assert.equal(given.meta.puid, 'journey-puid-42');
  const fresh = await predict();
  assert.equal(fresh.meta.puid, fresh.puid);
  assert.notEqual(fresh.puid, 'journey-puid-42');
});

test("a body past the gateway's limit gets the gateway's 413 (the executors take up to 10 MB)", async () => {
  const body = JSON.stringify({ strData: 'x'.repeat(BODY_LIMIT + 1) });
  const answer = await send(base, 'POST', '/api/v1.0/predictions', body, json);
  assert.equal(answer.status, 413, answer.text);
  const failure = JSON.parse(answer.text) as { status: { reason: string; info: string } };
  assert.equal(failure.status.reason, 'PAYLOAD_TOO_LARGE');
  assert.ok(answer.headers['seldon-puid'] !== undefined);
});

test("unknown deployments and paths get the gateway's errors; docs describe the deployment", async () => {
  const other = await send(gateway.url, 'POST', '/seldon/models/other/api/v1.0/predictions', '{}', json);
  assert.equal(other.status, 404);
  assert.match(other.text, /no SeldonDeployment named \\"other\\" in namespace \\"models\\"/);
  const wrongMethod = await send(base, 'DELETE', '/api/v1.0/predictions');
  assert.equal(wrongMethod.status, 405);
  const openapi = await send(base, 'GET', '/api/v1.0/doc/openapi.json');
  assert.equal(openapi.status, 200);
  assert.match(openapi.text, /main \(traffic 75[^)]*\); canary \(traffic 25[^)]*\); mirror \(shadow/);
});

test('a CloudEvent in gets a CloudEvent back, through the remote executor', async () => {
  const answer = await send(base, 'POST', '/api/v1.0/predictions', JSON.stringify({ data: { ndarray: [[4]] } }), {
    ...json,
    'ce-specversion': '1.0',
    'ce-id': 'event-1',
    'ce-type': 'io.example.request',
    'ce-source': 'test',
  });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['ce-specversion'], '1.0');
  assert.deepEqual((JSON.parse(answer.text) as { data: { ndarray: number[][] } }).data.ndarray, [[4]]);
});

test('feedback goes to the predictor whose graph made the prediction (its requestPath)', async () => {
  const count = async (name: string): Promise<number> => {
    const text = (await send(executors.get(name)!.url, 'GET', '/prometheus')).text;
    return Number(new RegExp(`^seldon_api_executor_server_requests_seconds_count\\{[^}]*service="feedback"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  const feedback = JSON.stringify({ request: { data: { ndarray: [[1, 2]] } }, response: { meta: { requestPath: { 'model-b': 'example/noop' } } }, reward: 1 });
  for (let i = 0; i < 8; i++) {
    const answer = await send(base, 'POST', '/api/v1.0/feedback', feedback, json);
    assert.equal(answer.status, 200, answer.text);
  }
  assert.equal(await count('canary'), 8);
  assert.equal(await count('main'), 0);
});

test('protocol: v2 through its gateway: V2 REST JSON and binary data, readiness and metadata, from the executor behind it', async () => {
  assert.match(v2Gateway!.output(), /models\/inference \(protocol: v2\), predictors main/);
  await waitFor('the V2 gateway to be ready', async () => (await send(v2Gateway!.url, 'GET', '/ready')).status === 200, 30_000, () => v2Gateway!.output());
  // 2^53 + 1: no double holds it, so only the text carries it through.
  const inference = '{"id":"e2e-1","inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[[1.5,9007199254740993]]}]}';
  const answer = await send(v2Base, 'POST', '/v2/models/echo/infer', inference, { ...json, 'seldon-puid': 'v2-journey-1' });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['seldon-puid'], 'v2-journey-1');
  const reply = JSON.parse(answer.text) as { id: string; model_name: string; outputs: { name: string; shape: number[]; datatype: string }[] };
  assert.equal(reply.id, 'e2e-1');
  assert.equal(reply.model_name, 'echo');
  assert.deepEqual(reply.outputs.map((o) => [o.name, o.shape, o.datatype]), [['predict', [1, 2], 'FP64']]);
  assert.match(answer.text, /"data":\[\[?1\.5,9007199254740993\]/, 'every digit comes back');

  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'FP32', shape: [1, 3], values: new Float32Array([0.5, -2, 8]) }]);
  const binary = await fetch(`${v2Base}/v2/models/echo/infer`, { method: 'POST', body: encoded.body, headers: { 'inference-header-content-length': String(encoded.headerLength) } });
  assert.equal(binary.status, 200);
  const length = binary.headers.get('inference-header-content-length');
  assert.ok(length !== null, 'the answer came as binary data');
  const decoded = decodeV2Response(new Uint8Array(await binary.arrayBuffer()), Number(length));
  assert.deepEqual([...(decoded.tensors[0]!.values as Float64Array)], [0.5, -2, 8]);

  assert.deepEqual(JSON.parse((await send(v2Base, 'GET', '/v2/health/ready')).text), { ready: true });
  assert.deepEqual(JSON.parse((await send(v2Base, 'GET', '/v2/models/echo/ready')).text), { name: 'echo', ready: true });
  assert.equal((JSON.parse((await send(v2Base, 'GET', '/v2/models/echo')).text) as { name: string }).name, 'echo');
  const unknown = await send(v2Base, 'GET', '/v2/models/nothing/ready');
  assert.equal(unknown.status, 404, unknown.text);
  assert.match(unknown.text, /no model named \\"nothing\\"/);
  // Seldon's paths are not this deployment's; its doc page lists only V2's.
  assert.equal((await send(v2Base, 'POST', '/api/v1.0/predictions', '{"data":{"ndarray":[[1]]}}', json)).status, 404);
  const openapi = JSON.parse((await send(v2Base, 'GET', '/api/v1.0/doc/openapi.json')).text) as { paths: Record<string, unknown> };
  assert.ok(Object.keys(openapi.paths).every((path) => path.startsWith('/v2')), Object.keys(openapi.paths).join(', '));
});

test('protocol: v2 through its gateway: gRPC ModelInfer at the gateway, forwarded to the executor', async () => {
  const client = new grpc.Client(new URL(v2Gateway!.url).host, grpc.credentials.createInsecure());
  try {
    const metadata = new grpc.Metadata();
    metadata.set('seldon', 'inference');
    metadata.set('namespace', 'models');
    metadata.set('seldon-puid', 'v2-grpc-journey');
    const request = encodeModelInferRequest({ name: 'echo' }, { id: 'g-1' }, [{ name: 'x', datatype: 'FP64', shape: [1, 2], values: new Float64Array([0.25, 4]) }]);
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(request), metadata, { deadline: Date.now() + 30_000 }, (err, value) => {
        if (err !== null) reject(err);
        else resolve(value!);
      });
    });
    const reply = decodeModelInferResponse(bytes);
    assert.equal(reply.message.id, 'g-1');
    assert.equal(reply.message.model_name, 'echo');
    assert.deepEqual([...(reply.tensors[0]!.values as Float64Array)], [0.25, 4]);
  } finally {
    client.close();
  }
});

test("/ready answers 503 again once a serving predictor's executor goes", async () => {
  assert.equal(await executors.get('canary')!.stop(), 0);
  await waitFor('/ready to answer 503', async () => (await send(gateway.url, 'GET', '/ready')).status === 503, 30_000);
  const answer = await send(gateway.url, 'GET', '/ready');
  assert.match(answer.text, /canary/);
  assert.doesNotMatch(answer.text, /main \(/);
});

test('SIGTERM stops it with exit code 0 (the pod ending)', async () => {
  assert.equal(await gateway.stop(), 0, gateway.output());
  assert.match(gateway.output(), /SIGTERM: stopping/);
});

test('without TRANTOR_GATEWAY_PREDICTORS it does not start, and says why', () => {
  const env = { ...process.env };
  delete env[GATEWAY_PREDICTORS_ENV];
  const result = spawnSync(process.execPath, [TRANTOR, 'gateway', '--sdep', 'pair', '--namespace', 'models', '--http_port', '0'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /TRANTOR_GATEWAY_PREDICTORS is not set/);
  const malformed = spawnSync(process.execPath, [TRANTOR, 'gateway', '--sdep', 'pair', '--namespace', 'models', '--http_port', '0'], { env: { ...env, [GATEWAY_PREDICTORS_ENV]: '[{"name":"main"}]' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(malformed.status, 1);
  assert.match(malformed.stderr, /TRANTOR_GATEWAY_PREDICTORS\[0\]\.http: expected the executor's URL/);
});
