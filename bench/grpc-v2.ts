/**
 * gRPC and the Open Inference Protocol (V2) beside MLServer (`BENCH_ONLY=grpc-v2`): the iris
 * SKLEARN_SERVER through our gateway over Seldon REST, Seldon gRPC, V2 REST and V2 gRPC (a
 * `protocol: v2` copy of the iris deployment), then MLServer with mlserver-sklearn serving the same
 * joblib over V2 REST and V2 gRPC, each alone on the machine (ours is stopped before MLServer
 * starts), one after another in one run. REST load: wrk (bench/wrk.ts); gRPC load: ghz, or a
 * grpc-js client (bench/grpc-load.ts); the same concurrency for both. Each contender is probed
 * with one request first: one of ours that this build does not serve is reported as such, not
 * measured; then a 2 s warm-up and the measured window. A window with any error is reported as
 * failed, not as a speed. The targets' ratios are printed under the table.
 *
 * Part of `npm run bench`; alone: `BENCH_ONLY=grpc-v2 npm run bench`, or
 * `node --import tsx bench/grpc-v2.ts` after `npm run build` (BENCH_SECONDS=2 for a short check).
 * `BENCH_MLSERVER_WORKERS` lists MLServer's `parallel_workers` to run (default 2 and 0, see MLSERVER_WORKERS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { decodeModelInferResponse, fromProto, toProto, v2MessageType } from '../src/protocol/index.ts';
import { grpcLoad, grpcLoadGenerator, type GrpcCall } from './grpc-load.ts';
import { MLSERVER_PYTHON, mlserverMissing, startMlserver } from './mlserver.ts';
import { load, loadGenerator, type LoadFigures } from './wrk.ts';

const ROOT = join(import.meta.dirname, '..');
const TRANTOR = join(ROOT, 'bin', 'trantor.js');
const IRIS_MODEL = join(ROOT, 'examples', 'iris', 'model');
const SELDON_PROTO = join(ROOT, 'src', 'protocol', 'grpc', 'seldon.proto');
const V2_PROTO = join(ROOT, 'src', 'protocol', 'v2', 'v2.proto');
const WARM_UP_SECONDS = 2;
/**
 * MLServer's `parallel_workers`, each a separate run: 2, the configuration of its published iris
 * figures (1,300 req/s REST, 2,259 gRPC), its HTTP and gRPC servers in the main process handing
 * each request to one of two inference processes; and 0, inference in the main process, which on
 * two cores answers a model this small about twice as fast (the hop to a worker costs more than the
 * second core gives). The targets are checked against the faster, so ours is held to MLServer at
 * its best here. `BENCH_MLSERVER_WORKERS=2` (a comma-separated list) chooses others.
 */
const MLSERVER_WORKERS = (process.env['BENCH_MLSERVER_WORKERS'] ?? '2,0').split(',').map(Number);

/** One row, four features: the same body for every contender of each protocol. */
const FEATURES = [1, 2, 3, 4];
const SELDON_JSON = { data: { ndarray: [FEATURES] } };
const v2Input = { name: 'predict', datatype: 'FP32', shape: [1, 4] };
const V2_REST_BODY = JSON.stringify({ inputs: [{ ...v2Input, data: FEATURES }] });
const v2GrpcJson = (model: string): Record<string, unknown> => ({ model_name: model, inputs: [{ ...v2Input, contents: { fp32_contents: FEATURES } }] });

/**
 * The large tensor: 100,000 doubles in one row, to a model answering their sum (bench/models/
 * SumModel.ts), so a call's cost is carrying and reading the tensor. Full-precision values, as a
 * model's float64 features are: about 19 characters each in JSON, 8 bytes in protobuf.
 */
const LARGE_COUNT = 100_000;
/**
 * Calls in flight for the large tensor, REST and gRPC alike: 4, not 16. At 16 a call waited over
 * wrk's 2 s timeout on a busy machine (p99 1.2–1.6 s on a quiet one), and a client sending 2 MB
 * bodies keeps few in flight.
 */
const LARGE_IN_FLIGHT = 4;
const LARGE_VALUES = Array.from({ length: LARGE_COUNT }, (_, i) => Math.sin(i + 1) * 1000);
const LARGE_SHAPE = [1, LARGE_COUNT];
const SELDON_LARGE_JSON = { data: { tensor: { shape: LARGE_SHAPE, values: LARGE_VALUES } } };
const largeV2Input = { name: 'x', datatype: 'FP64', shape: LARGE_SHAPE };
const LARGE_RAW = Buffer.from(Float64Array.from(LARGE_VALUES).buffer);
const V2_LARGE_REST_BODY = JSON.stringify({ inputs: [{ ...largeV2Input, data: LARGE_VALUES }] });
/** The binary_data extension: a JSON header naming the tensor's size, then its little-endian bytes. */
const V2_LARGE_HEADER = JSON.stringify({ inputs: [{ ...largeV2Input, parameters: { binary_data_size: LARGE_RAW.length } }] });
const V2_LARGE_BINARY_BODY = Buffer.concat([Buffer.from(V2_LARGE_HEADER), LARGE_RAW]);
const V2_LARGE_BINARY_HEADERS = { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': String(Buffer.byteLength(V2_LARGE_HEADER)) };

/**
 * Our deployments of the iris model: the repo's example (Seldon protocol, `transport: rest`), the
 * same with `spec.transport: grpc` (Seldon's way to say every node is called over gRPC: the whole
 * path gRPC, as REST is for the example), and the same under `protocol: v2`.
 */
interface Deployment {
  namespace: string;
  name: string;
  node: string;
  /** The spec's fields besides the predictor. */
  spec: string[];
  /** The iris SKLEARN_SERVER, or the TypeScript SumModel. */
  model?: 'iris' | 'sum';
}
const IRIS: Deployment = { namespace: 'seldon', name: 'iris-model', node: 'classifier', spec: [] };
const IRIS_GRPC: Deployment = { ...IRIS, name: 'iris-grpc', spec: ['transport: grpc'] };
const IRIS_V2: Deployment = { ...IRIS, name: 'iris-v2', spec: ['protocol: v2'] };
const SUM: Deployment = { namespace: 'seldon', name: 'sum', node: 'sum', spec: [], model: 'sum' };
const SUM_GRPC: Deployment = { ...SUM, name: 'sum-grpc', spec: ['transport: grpc'] };
const SUM_V2: Deployment = { ...SUM, name: 'sum-v2', spec: ['protocol: v2'] };
const MLSERVER_MODEL = 'iris';
/** The large tensor's contenders are named apart from iris's, so no target line mixes the two. */
const LARGE = '100k doubles through our gateway';
const OURS = 'Trantor gateway';
const SELDON_REST = 'Seldon REST';
const SELDON_GRPC_REST_MODEL = 'Seldon gRPC (spec.transport: rest)';
const SELDON_GRPC = 'Seldon gRPC (spec.transport: grpc)';

const SUM_MODELS = join(ROOT, 'bench', 'models');

/** The deployment's manifest: iris as the SKLEARN_SERVER, the sum as a TypeScript component. */
function manifestOf(d: Deployment): string {
  const predictor =
    d.model === 'sum'
      ? `  - name: default
    replicas: 1
    graph:
      name: ${d.node}
      type: MODEL
      children: []
    componentSpecs:
    - spec:
        containers:
        - name: ${d.node}
          command: [trantor-node-microservice, SumModel]
          args: [--service-type, MODEL]
          workingDir: ${JSON.stringify(SUM_MODELS)}
`
      : `  - graph:
      implementation: SKLEARN_SERVER
      modelUri: ${JSON.stringify(IRIS_MODEL)}
      name: ${d.node}
    name: default
    replicas: 1
`;
  return `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: ${d.name}
  namespace: ${d.namespace}
spec:
${d.spec.map((line) => `  ${line}\n`).join('')}  predictors:
${predictor}`;
}

export type Outcome =
  | { kind: 'measured'; figures: LoadFigures & { clientCpu?: number } }
  /** One of ours that this build does not serve (the probe's answer says why). */
  | { kind: 'absent'; reason: string }
  /** A peer that could not run here. */
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; reason: string };

export interface Contender {
  name: string;
  outcome: Outcome;
  /** The request's size (body or message), for the MB/s column. */
  requestBytes?: number;
}

export interface GrpcV2Report {
  contenders: Contender[];
  seconds: number;
  connections: number;
}

export interface GrpcV2Options {
  seconds: number;
  connections: number;
}

/** A probe's verdict: undefined when the answer is a real prediction, else what was wrong. */
type Check = (answer: unknown) => string | undefined;

const seldonCheck: Check = (answer) => {
  const data = (answer as { data?: { ndarray?: unknown; tensor?: unknown } }).data;
  return data?.ndarray !== undefined || data?.tensor !== undefined ? undefined : `no prediction in ${JSON.stringify(answer).slice(0, 200)}`;
};
const v2Check: Check = (answer) => {
  const outputs = (answer as { outputs?: unknown[] }).outputs;
  return Array.isArray(outputs) && outputs.length > 0 ? undefined : `no outputs in ${JSON.stringify(answer).slice(0, 200)}`;
};

async function probeRest(url: string, body: string | Buffer, check: Check, headers: Record<string, string> = {}): Promise<string | undefined> {
  try {
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    if (response.status !== 200) return `HTTP ${response.status}: ${text.slice(0, 200)}`;
    return check(JSON.parse(text));
  } catch (error) {
    return (error as Error).message;
  }
}

async function probeGrpc(call: GrpcCall, decode: (bytes: Buffer) => unknown, check: Check): Promise<string | undefined> {
  const client = new Client(call.target, credentials.createInsecure());
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(call.metadata)) metadata.set(key, value);
  try {
    const answer = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(`/${call.method}`, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(call.bytes), metadata, { deadline: Date.now() + 30_000 }, (error: ServiceError | null, value?: Buffer) =>
        // grpc-js's details for a failed connection end in a timestamp and an empty note: not news.
        error === null && value !== undefined ? resolve(value) : reject(new Error(`gRPC status ${error?.code}: ${error?.details.replace(/ \([^)]*\)\. Resolution note: ?$/, '')}`)),
      ),
    );
    return check(decode(answer));
  } catch (error) {
    return (error as Error).message.slice(0, 200);
  } finally {
    client.close();
  }
}

/** Warm-up, then the window; errors fail the contender. */
async function measure(run: Endpoint['run'], seconds: number): Promise<Outcome> {
  try {
    await run(WARM_UP_SECONDS);
    const figures = await run(seconds);
    if (figures.errors > 0) {
      const first = figures.firstError;
      return { kind: 'failed', reason: `${figures.errors} errors in ${figures.requests + figures.errors} requests${first === undefined ? '' : ` (${first})`}` };
    }
    return { kind: 'measured', figures };
  } catch (error) {
    return { kind: 'failed', reason: (error as Error).message };
  }
}

interface Endpoint {
  name: string;
  requestBytes: number;
  /** Why it cannot be measured (from the probe), or undefined. */
  probe(): Promise<string | undefined>;
  run(seconds: number): Promise<LoadFigures & { clientCpu?: number; firstError?: string }>;
}

function restEndpoint(name: string, url: string, body: string | Buffer, check: Check, connections: number, headers: Record<string, string> = {}): Endpoint {
  return { name, requestBytes: Buffer.byteLength(body), probe: () => probeRest(url, body, check, headers), run: (seconds) => load({ url, body, connections, seconds, headers }) };
}

function grpcEndpoint(name: string, call: GrpcCall, decode: (bytes: Buffer) => unknown, check: Check, concurrency: number): Endpoint {
  return { name, requestBytes: call.bytes.byteLength, probe: () => probeGrpc(call, decode, check), run: (seconds) => grpcLoad(call, { concurrency, seconds }) };
}

const decodeSeldon = (bytes: Buffer): unknown => fromProto('SeldonMessage', bytes);
const decodeV2 = (bytes: Buffer): unknown => decodeModelInferResponse(bytes).message;

export function seldonCall(target: string, deployment: { namespace: string; name: string } = IRIS, json: Record<string, unknown> = SELDON_JSON): GrpcCall {
  return {
    target,
    method: 'seldon.protos.Seldon/Predict',
    json,
    bytes: toProto('SeldonMessage', json),
    protoFile: SELDON_PROTO,
    importPaths: [join(ROOT, 'src', 'protocol', 'grpc')],
    metadata: { seldon: deployment.name, namespace: deployment.namespace },
  };
}

export function v2Call(target: string, model: string, metadata: Record<string, string>, json: Record<string, unknown> = v2GrpcJson(model)): GrpcCall {
  const type = v2MessageType('ModelInferRequest');
  return {
    target,
    method: 'inference.GRPCInferenceService/ModelInfer',
    json,
    bytes: type.encode(type.fromObject(json)).finish(),
    protoFile: V2_PROTO,
    importPaths: [join(ROOT, 'src', 'protocol', 'v2')],
    metadata,
  };
}

/** Processes started here and not yet stopped: killed (with their groups) if the bench process exits early. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRANTOR, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`trantor ${args.join(' ')} exited with ${code}: ${err.trim()}`))));
  });
}

/** `trantor up` in its own process group (its model servers go with it), until `stop`; `env` adds to the environment. */
export async function startUp(home: string, env: NodeJS.ProcessEnv = {}): Promise<{ gateway: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [TRANTOR, 'up', '--port', '0'], { env: { ...process.env, ...env, TRANTOR_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    const group = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    group('SIGTERM');
    const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 20_000, false).unref())]);
    if (!inTime) group('SIGKILL');
    group('SIGKILL');
    running.delete(child);
  };
  const gateway = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('trantor up printed no gateway line in 60 s')), 60_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^gateway: (http:\/\/\S+)/.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`trantor up exited with ${code} before it was ready`)));
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { gateway, stop };
}

/** Probes, then measures, each endpoint in turn; `missing` is how a failed probe is reported. */
async function measureAll(endpoints: Endpoint[], seconds: number, missing: 'absent' | 'failed'): Promise<Contender[]> {
  const contenders: Contender[] = [];
  for (const endpoint of endpoints) {
    const wrong = await endpoint.probe();
    const outcome: Outcome = wrong !== undefined ? { kind: missing, reason: wrong } : await measure((s) => endpoint.run(s), seconds);
    console.log(`  ${endpoint.name}: ${describe(outcome)}`);
    contenders.push({ name: endpoint.name, outcome, requestBytes: endpoint.requestBytes });
  }
  return contenders;
}

async function ours(scratch: string, options: GrpcV2Options): Promise<Contender[]> {
  const home = join(scratch, 'home');
  const env = { ...process.env, TRANTOR_HOME: home };
  const up = await startUp(home);
  try {
    const target = new URL(up.gateway).host;
    const path = (d: Deployment): string => `${up.gateway}/seldon/${d.namespace}/${d.name}`;
    const c = options.connections;
    const l = Math.min(LARGE_IN_FLIGHT, c);
    const plan: [Deployment, Endpoint[]][] = [
      [
        IRIS,
        [
          restEndpoint(`${OURS}, ${SELDON_REST}`, `${path(IRIS)}/api/v1.0/predictions`, JSON.stringify(SELDON_JSON), seldonCheck, c),
          grpcEndpoint(`${OURS}, ${SELDON_GRPC_REST_MODEL}`, seldonCall(target, IRIS), decodeSeldon, seldonCheck, c),
        ],
      ],
      [IRIS_GRPC, [grpcEndpoint(`${OURS}, ${SELDON_GRPC}`, seldonCall(target, IRIS_GRPC), decodeSeldon, seldonCheck, c)]],
      [
        IRIS_V2,
        [
          restEndpoint(`${OURS}, V2 REST`, `${path(IRIS_V2)}/v2/models/${IRIS_V2.node}/infer`, V2_REST_BODY, v2Check, c),
          grpcEndpoint(`${OURS}, V2 gRPC`, v2Call(target, IRIS_V2.node, { seldon: IRIS_V2.name, namespace: IRIS_V2.namespace }), decodeV2, v2Check, c),
        ],
      ],
      [SUM, [restEndpoint(`${LARGE}, ${SELDON_REST}`, `${path(SUM)}/api/v1.0/predictions`, JSON.stringify(SELDON_LARGE_JSON), seldonCheck, l)]],
      [SUM_GRPC, [grpcEndpoint(`${LARGE}, ${SELDON_GRPC}`, seldonCall(target, SUM_GRPC, SELDON_LARGE_JSON), decodeSeldon, seldonCheck, l)]],
      [
        SUM_V2,
        [
          restEndpoint(`${LARGE}, V2 REST (JSON)`, `${path(SUM_V2)}/v2/models/${SUM_V2.node}/infer`, V2_LARGE_REST_BODY, v2Check, l),
          restEndpoint(`${LARGE}, V2 REST (binary_data)`, `${path(SUM_V2)}/v2/models/${SUM_V2.node}/infer`, V2_LARGE_BINARY_BODY, v2Check, l, V2_LARGE_BINARY_HEADERS),
          grpcEndpoint(
            `${LARGE}, V2 gRPC (raw_input_contents)`,
            v2Call(target, SUM_V2.node, { seldon: SUM_V2.name, namespace: SUM_V2.namespace }, { model_name: SUM_V2.node, inputs: [largeV2Input], raw_input_contents: [LARGE_RAW] }),
            decodeV2,
            v2Check,
            l,
          ),
        ],
      ],
    ];
    const contenders: Contender[] = [];
    for (const [deployment, endpoints] of plan) {
      const manifest = join(scratch, `${deployment.name}.yaml`);
      writeFileSync(manifest, manifestOf(deployment));
      const refused = await run(['apply', '-f', manifest, '--wait'], env).then(
        () => undefined,
        (error: unknown) => (error as Error).message,
      );
      // The plain example must run on any build; a build that refuses or cannot serve the others
      // still measures the rest.
      if (refused !== undefined && deployment === IRIS) throw new Error(refused);
      if (refused === undefined) contenders.push(...(await measureAll(endpoints, options.seconds, 'absent')));
      else {
        for (const { name, requestBytes } of endpoints) {
          const outcome: Outcome = { kind: 'absent', reason: refused };
          console.log(`  ${name}: ${describe(outcome)}`);
          contenders.push({ name, outcome, requestBytes });
        }
      }
    }
    return contenders;
  } finally {
    await up.stop();
  }
}

/** MLServer with `workers` parallel inference processes, started, measured and stopped. */
async function mlserver(scratch: string, workers: number, options: GrpcV2Options): Promise<Contender[]> {
  const names = (version: string): string[] => ['V2 REST', 'V2 gRPC'].map((protocol) => `MLServer${version}, parallel_workers ${workers}, ${protocol}`);
  const skip = (outcome: Outcome): Contender[] => {
    for (const name of names('')) console.log(`  ${name}: ${describe(outcome)}`);
    return names('').map((name) => ({ name, outcome }));
  };
  const missing = mlserverMissing(workers);
  if (missing !== undefined) return skip({ kind: 'skipped', reason: missing });
  let server;
  try {
    server = await startMlserver({ dir: join(scratch, `mlserver-${workers}`), modelName: MLSERVER_MODEL, modelUri: join(IRIS_MODEL, 'model.joblib'), parallelWorkers: workers });
  } catch (error) {
    const [first = '', ...log] = (error as Error).message.split('\n');
    console.log(log.join('\n'));
    return skip({ kind: 'failed', reason: `MLServer did not start: ${first}` });
  }
  try {
    const [rest, grpc] = names(` ${server.version}`);
    return await measureAll(
      [
        restEndpoint(rest!, `${server.rest}/v2/models/${MLSERVER_MODEL}/infer`, V2_REST_BODY, v2Check, options.connections),
        grpcEndpoint(grpc!, v2Call(server.grpc, MLSERVER_MODEL, {}), decodeV2, v2Check, options.connections),
      ],
      options.seconds,
      'failed',
    );
  } finally {
    await server.stop();
  }
}

export async function benchGrpcV2(options: GrpcV2Options): Promise<GrpcV2Report> {
  const scratch = mkdtempSync(join(tmpdir(), 'trantor-bench-grpc-v2-'));
  try {
    console.log(`gRPC and V2 beside MLServer: REST by ${loadGenerator()}, gRPC by ${grpcLoadGenerator()}`);
    const contenders = await ours(scratch, options);
    for (const workers of MLSERVER_WORKERS) contenders.push(...(await mlserver(scratch, workers, options)));
    return { contenders, seconds: options.seconds, connections: options.connections };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function describe(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'measured':
      return `${Math.round(outcome.figures.requestsPerSecond)} req/s`;
    case 'absent':
      return `not served by this build (${outcome.reason})`;
    case 'skipped':
      return `skipped: ${outcome.reason}`;
    case 'failed':
      return `FAILED: ${outcome.reason}`;
  }
}

/** A contender by who serves it and over what: `[server prefix, protocol suffix]`. */
type Pick = readonly [server: string, protocol: string];

/** A target line: the ratio of two contenders' req/s, or why there is none. */
function ratioLine(report: GrpcV2Report, label: string, top: Pick, bottom: Pick, target: number | undefined): string {
  // Of several (MLServer's configurations), the fastest measured.
  const find = ([server, protocol]: Pick): Contender | undefined => {
    const matching = report.contenders.filter((c) => c.name.startsWith(server) && c.name.endsWith(protocol));
    const rate = (c: Contender): number => (c.outcome.kind === 'measured' ? c.outcome.figures.requestsPerSecond : -1);
    return matching.sort((x, y) => rate(y) - rate(x))[0];
  };
  const [a, b] = [find(top), find(bottom)];
  const goal = target === undefined ? '' : ` (target ≥ ${target}×)`;
  if (a?.outcome.kind !== 'measured' || b?.outcome.kind !== 'measured') {
    const missing = [a, b].filter((c) => c?.outcome.kind !== 'measured').map((c) => c?.name ?? '?');
    return `- ${label}: no figure${goal}: ${missing.join(' and ')} not measured`;
  }
  const ratio = a.outcome.figures.requestsPerSecond / b.outcome.figures.requestsPerSecond;
  const verdict = target === undefined ? '' : ratio >= target ? ' — met' : ' — MISSED';
  const against = bottom[0] === top[0] ? '' : ` (against ${b.name})`;
  return `- ${label}: ${ratio.toFixed(2)}×${goal}${verdict}${against}`;
}

export function formatGrpcV2(report: GrpcV2Report): string {
  const lines = [
    `gRPC and V2 (iris SKLEARN_SERVER; and ${LARGE_COUNT.toLocaleString('en')} doubles, shape [1, ${LARGE_COUNT}], to a TypeScript sum model) beside MLServer; ${cpus().length} cores; REST: ${loadGenerator()}, ${report.connections} connections; gRPC: ${grpcLoadGenerator()}, ${report.connections} calls in flight (the 100k doubles: ${Math.min(LARGE_IN_FLIGHT, report.connections)} for both); ${report.seconds} s each after a ${WARM_UP_SECONDS} s warm-up; MLServer debug off; python ${MLSERVER_PYTHON}`,
    '',
    '| contender | requests/s | p50 ms | p99 ms | errors | client CPU | request MB/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const notes: string[] = [];
  for (const { name, outcome, requestBytes } of report.contenders) {
    if (outcome.kind !== 'measured') {
      const [label] = describe(outcome).split(/[:(]/);
      lines.push(`| ${name} | ${label!.trim()} | | | | | |`);
      notes.push(`- ${name}: ${describe(outcome)}`);
      continue;
    }
    const f = outcome.figures;
    const cpu = f.clientCpu === undefined ? '—' : `${Math.round(f.clientCpu * 100)}%`;
    // The requests' payload carried per second (bodies or messages; MB = 10^6 bytes).
    const rate = requestBytes === undefined ? '—' : ((f.requestsPerSecond * requestBytes) / 1e6).toFixed(requestBytes * f.requestsPerSecond >= 1e7 ? 0 : 2);
    lines.push(`| ${name} | ${Math.round(f.requestsPerSecond)} | ${f.p50} | ${f.p99} | ${f.errors} | ${cpu} | ${rate} |`);
  }
  if (notes.length > 0) lines.push('', ...notes);
  lines.push(
    '',
    ratioLine(report, 'gRPC vs REST through our gateway, Seldon protocol, each path whole', [OURS, SELDON_GRPC], [OURS, SELDON_REST], 1.3),
    ratioLine(report, 'gRPC vs REST at our gateway, the same REST deployment', [OURS, SELDON_GRPC_REST_MODEL], [OURS, SELDON_REST], undefined),
    ratioLine(report, 'our V2 REST vs MLServer V2 REST', [OURS, 'V2 REST'], ['MLServer', 'V2 REST'], 2),
    ratioLine(report, 'our V2 gRPC vs MLServer V2 gRPC', [OURS, 'V2 gRPC'], ['MLServer', 'V2 gRPC'], undefined),
    ratioLine(report, 'V2 gRPC vs V2 REST through our gateway', [OURS, 'V2 gRPC'], [OURS, 'V2 REST'], undefined),
    ratioLine(report, 'gRPC vs REST through our gateway, Seldon protocol, 100k doubles, each path whole', [LARGE, SELDON_GRPC], [LARGE, SELDON_REST], 1.3),
    ratioLine(report, 'V2 gRPC (raw_input_contents) vs V2 REST (JSON), 100k doubles', [LARGE, 'V2 gRPC (raw_input_contents)'], [LARGE, 'V2 REST (JSON)'], undefined),
    ratioLine(report, 'V2 gRPC (raw_input_contents) vs V2 REST (binary_data), 100k doubles', [LARGE, 'V2 gRPC (raw_input_contents)'], [LARGE, 'V2 REST (binary_data)'], undefined),
  );
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
  const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
  console.log(`\n${formatGrpcV2(await benchGrpcV2({ seconds, connections }))}`);
}
