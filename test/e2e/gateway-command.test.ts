/**
 * `trantor gateway`, the process of the gateway Deployment, run as the operator's container runs
 * it: its arguments and TRANTOR_GATEWAY_PREDICTORS, and each predictor's executor arguments and
 * ENGINE_PREDICTOR, come from render() for a SeldonDeployment with a 75/25 split and a shadow (so
 * the commands and the renderer stay in step). Only addresses moved: ports to free ones on
 * 127.0.0.1, and each predictor Service's DNS name to its executor's address (no cluster DNS
 * here). Three real `trantor executor` processes stand behind one real `trantor gateway`; one Node
 * component host plays every predictor's model container (the graphs' node names tell the
 * predictors apart in `meta.requestPath`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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

interface EngineNode {
  name: string;
  endpoint: { service_host: string; service_port: number; httpPort: number };
  children: EngineNode[];
}

const containersOf = (name: string): RenderedContainer[] => renderedContainers(MANIFEST, name);

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

before(async () => {
  hostPort = await freePort();
  // Each predictor's pod: its executor, with the model container's address moved to the one host.
  const addresses = new Map<string, string>();
  for (const container of containersOf(EXECUTOR_CONTAINER)) {
    const engine = decodeEnginePredictor(envOf(container, ENGINE_PREDICTOR_ENV)) as unknown as { name: string; graph: EngineNode };
    engine.graph.endpoint.service_host = '127.0.0.1';
    engine.graph.endpoint.service_port = hostPort;
    engine.graph.endpoint.httpPort = hostPort;
    const args = [...container.args];
    args[args.indexOf('--http_port') + 1] = '0';
    args[args.indexOf('--grpc_port') + 1] = '0';
    const running = await startTrantor('executor', ['executor', ...args, '--host', '127.0.0.1'], { [ENGINE_PREDICTOR_ENV]: Buffer.from(JSON.stringify(engine)).toString('base64') });
    executors.set(engine.name, running);
    addresses.set(engine.name, running.url);
  }
  assert.deepEqual([...executors.keys()].sort(), ['canary', 'main', 'mirror']);

  const [container] = containersOf('gateway');
  assert.ok(container !== undefined, 'render() made no gateway container');
  assert.deepEqual(container.command, ['trantor', 'gateway']);
  // The Services' DNS names resolve to the executors' addresses here.
  const predictors = JSON.parse(envOf(container, GATEWAY_PREDICTORS_ENV)) as { name: string; http: string }[];
  for (const p of predictors) {
    assert.equal(p.http, `http://pair-${p.name}.models.svc.cluster.local:8000`);
    p.http = addresses.get(p.name)!;
  }
  const args = [...container.args];
  args[args.indexOf('--http_port') + 1] = '0';
  args[args.indexOf('--grpc_port') + 1] = '0';
  args.push('--host', '127.0.0.1', '--set', `gateway.bodyLimit=${BODY_LIMIT}`);
  gateway = await startTrantor('gateway', ['gateway', ...args], { [GATEWAY_PREDICTORS_ENV]: JSON.stringify(predictors) });
  base = `${gateway.url}/seldon/models/pair`;
});

after(async () => {
  await host?.stop();
  await Promise.all([...executors.values()].map((e) => e.stop()));
  await gateway?.stop();
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
