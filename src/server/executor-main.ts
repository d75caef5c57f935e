/**
 * `trantor executor`: the executor inside a predictor's pod on Kubernetes, in the place of Seldon's
 * (container `seldon-container-engine`). It reads the predictor from `ENGINE_PREDICTOR` (base64
 * JSON, as the operator writes it) and Seldon's executor arguments, and serves that predictor's API
 * at the root of its HTTP port — predictions, feedback, metadata, docs, CloudEvents, `/ready`,
 * `/live`, `/prometheus` — and Seldon's gRPC service on the same port and on `--grpc_port`, with
 * the same gateway and executor code `trantor up` runs, calling the pod's component containers at
 * the `service_host:service_port` of each graph node, over HTTP or gRPC as the node's
 * `endpoint.type` says.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { ByEndpointTransport, GrpcTransport, GrpcV2Transport, HttpTransport, HttpV2Transport, Metrics, PredictorExecutor, RequestLogger, endpointTypeIn, executorOptions, grpcEndpoints, grpcTransportOptions, httpTransportOptions, requestLoggerOptions, type NodePlan } from '../executor/index.ts';
import { createGateway, eventNamingOf, type DeploymentEntry, type DeploymentTable, type Gateway } from '../gateway/index.ts';
import { loadManifests, type EndpointSource, type Predictor, type ReplicaAddress, type SeldonDeployment, type UnitKey } from '../manifest/index.ts';
import { compileOptions, OPTION_SECTIONS, type CompiledOptions } from './options.ts';
import { logLevelFlag, portFlag, requiredFlag, runPodProcess } from './pod-process.ts';

/** The environment variable the operator puts the predictor in. */
export const ENGINE_PREDICTOR = 'ENGINE_PREDICTOR';
/** Where a node's `logger` without `url` sends its events, as in Seldon's executor. */
export const REQUEST_LOGGER_DEFAULT_ENDPOINT = 'REQUEST_LOGGER_DEFAULT_ENDPOINT';

/** Seldon's executor arguments (as commander hands them over, names unchanged) and Trantor's own. */
export interface ExecutorFlags {
  sdep?: string;
  namespace?: string;
  predictor?: string;
  /** The predictor's JSON in a file, instead of ENGINE_PREDICTOR. */
  file?: string;
  http_port?: string;
  grpc_port?: string;
  protocol?: string;
  transport?: string;
  server_type?: string;
  prometheus_path?: string;
  log_work_buffer_size?: string;
  log_write_timeout_ms?: string;
  /** `true` checks each component's `/health/status` for `/ready`; otherwise a TCP connect. */
  full_health_checks?: string | boolean;
  log_level?: string;
  /** Trantor's own: the address to bind (default every interface, as in a pod). */
  host?: string;
  config?: string;
  set?: readonly string[];
}

export interface PodExecutorConfig {
  readonly deployment: SeldonDeployment;
  readonly predictor: Predictor;
  /** Each graph node's address in the pod (or its Service), by node name. */
  readonly addresses: ReadonlyMap<string, ReplicaAddress>;
  readonly host: string;
  readonly port: number;
  /** `--grpc_port`: gRPC on a port of its own too (it is always served on `port`). */
  readonly grpcPort: number | undefined;
  readonly fullHealthChecks: boolean;
  readonly logLevel: string;
  readonly options: CompiledOptions;
  /** What was given and is not used, for the start-up notice. */
  readonly ignored: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The predictor's JSON text: `--file`, else ENGINE_PREDICTOR decoded from base64. */
function predictorText(flags: ExecutorFlags, env: NodeJS.ProcessEnv): string {
  if (flags.file !== undefined) return readFileSync(flags.file, 'utf8');
  const encoded = env[ENGINE_PREDICTOR];
  if (encoded === undefined || encoded === '') throw new Error(`${ENGINE_PREDICTOR} is not set: it holds the predictor as base64 JSON (or give --file predictor.json)`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/**
 * Each node's address by node name: `endpoint.service_host`, its REST port and, when it has one,
 * its gRPC port. The operator writes `service_port` as the port of the node's endpoint type
 * beside both `httpPort` and `grpcPort` (Seldon's own JSON may give `service_port` alone).
 */
function nodeAddresses(graph: unknown, into: Map<string, ReplicaAddress>): void {
  if (!isRecord(graph)) return;
  const endpoint = graph['endpoint'];
  if (isRecord(endpoint) && typeof graph['name'] === 'string') {
    const host = endpoint['service_host'];
    const grpcType = endpoint['type'] === 'GRPC';
    const servicePort = numberOr(endpoint['service_port']);
    const port = grpcType ? numberOr(endpoint['httpPort']) ?? servicePort : servicePort ?? numberOr(endpoint['httpPort']);
    const grpcPort = grpcType ? servicePort ?? numberOr(endpoint['grpcPort']) : numberOr(endpoint['grpcPort']);
    if (typeof host === 'string' && host !== '' && port !== undefined) {
      into.set(graph['name'], { id: `${graph['name']}@${host}:${port}`, host, port, ...(grpcPort === undefined ? {} : { grpcPort }) });
    }
  }
  const children = graph['children'];
  if (Array.isArray(children)) for (const child of children) nodeAddresses(child, into);
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** Flags and environment, checked and compiled once: everything the pod executor runs from. */
export function resolveExecutorConfig(flags: ExecutorFlags, env: NodeJS.ProcessEnv, unknown: readonly string[] = []): PodExecutorConfig {
  const sdep = requiredFlag(flags.sdep, 'sdep');
  const namespace = requiredFlag(flags.namespace, 'namespace');
  // The components' default endpoint type, as spec.transport is (the operator writes each node's own).
  const transport = flags.transport ?? 'rest';
  if (transport !== 'rest' && transport !== 'grpc') throw new Error(`--transport ${transport}: expected rest or grpc`);
  const serverType = flags.server_type ?? 'rpc';
  if (serverType !== 'rpc') throw new Error(`--server_type ${serverType}: trantor executor serves rpc only (no kafka)`);
  const protocol = flags.protocol ?? 'seldon';
  // `kfserving` is Seldon's older name for V2; the manifest reader takes both.
  if (protocol !== 'seldon' && protocol !== 'v2' && protocol !== 'kfserving') throw new Error(`--protocol ${protocol}: trantor executor serves the seldon and v2 protocols only`);
  const ignored = unknown.length === 0 ? [] : [unknown.join(' ')];
  if (flags.prometheus_path !== undefined && flags.prometheus_path !== '/prometheus') ignored.push(`--prometheus_path ${flags.prometheus_path} (metrics are at /prometheus)`);
  const logLevel = logLevelFlag(flags.log_level);

  let engine: unknown;
  try {
    engine = JSON.parse(predictorText(flags, env));
  } catch (err) {
    throw new Error(`${flags.file ?? ENGINE_PREDICTOR}: not the predictor's JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(engine)) throw new Error(`${flags.file ?? ENGINE_PREDICTOR}: expected the predictor as a JSON object`);
  const addresses = new Map<string, ReplicaAddress>();
  nodeAddresses(engine['graph'], addresses);
  // The pod serves whatever reaches it: a shadow predictor's pod is a predictor of its own here.
  const { shadow: _shadow, traffic: _traffic, ...served } = engine;
  const document = { apiVersion: 'machinelearning.seldon.io/v1', kind: 'SeldonDeployment', metadata: { name: sdep, namespace }, spec: { protocol, transport, predictors: [served] } };
  const deployment = loadManifests(JSON.stringify(document), { source: flags.file ?? ENGINE_PREDICTOR }).deployments[0]!;
  const predictor = deployment.spec.predictors[0]!;
  if (flags.predictor !== undefined && flags.predictor !== predictor.name) throw new Error(`--predictor ${flags.predictor}: ${ENGINE_PREDICTOR} holds predictor "${predictor.name}"`);
  // The operator's probes would ask for HTTPS; better a clear refusal than a pod never ready.
  if (predictor.ssl !== undefined) throw new Error(`predictor "${predictor.name}" sets ssl: trantor executor serves plain HTTP only`);
  withDefaultLoggerUrl(predictor.graph, env[REQUEST_LOGGER_DEFAULT_ENDPOINT]);

  const compiled = compileOptions(OPTION_SECTIONS, { file: flags.config, sets: flags.set ?? [] });
  // Seldon's request-logger arguments are the executor's logger options, over the file's.
  const executor = executorOptions.compile({
    ...compiled.executor,
    ...(flags.log_work_buffer_size === undefined ? {} : { loggerQueue: flags.log_work_buffer_size }),
    ...(flags.log_write_timeout_ms === undefined ? {} : { loggerTimeout: `${flags.log_write_timeout_ms}ms` }),
  });
  const full = flags.full_health_checks;
  return Object.freeze({
    deployment,
    predictor,
    addresses,
    host: flags.host ?? '0.0.0.0',
    port: portFlag(flags.http_port ?? '8000', 'http_port'),
    grpcPort: flags.grpc_port === undefined ? undefined : portFlag(flags.grpc_port, 'grpc_port'),
    fullHealthChecks: full === true || full === 'true',
    logLevel,
    options: Object.freeze({ ...compiled, executor }),
    ignored: Object.freeze(ignored),
  });
}

/** A node's `logger` without `url` logs to REQUEST_LOGGER_DEFAULT_ENDPOINT, when it is set. */
function withDefaultLoggerUrl(node: Predictor['graph'], url: string | undefined): void {
  if (url === undefined || url === '') return;
  if (node.logger !== undefined && (node.logger.url === undefined || node.logger.url === '')) node.logger.url = url;
  for (const child of node.children) withDefaultLoggerUrl(child, url);
}

/** The pod's components, where the predictor says they listen. */
class PodEndpoints implements EndpointSource {
  readonly #replicas: ReadonlyMap<string, readonly ReplicaAddress[]>;

  constructor(addresses: ReadonlyMap<string, ReplicaAddress>) {
    this.#replicas = new Map([...addresses].map(([node, address]) => [node, Object.freeze([address])]));
  }

  replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
    return this.#replicas.get(unit.node) ?? [];
  }
}

/** Whether a TCP connection to `address` opens within `timeoutMs` (Seldon's check without full health checks). */
function accepts(address: ReplicaAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address.host, port: address.port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export interface PodExecutor {
  readonly gateway: Gateway;
  readonly executor: PredictorExecutor;
  /** Why the pod is not ready (the nodes not answering), or undefined when every component answers. */
  ready(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Builds the executor over the pod's components and starts serving. */
export async function startPodExecutor(config: PodExecutorConfig, logger: Logger): Promise<PodExecutor> {
  const { deployment, predictor, options } = config;
  const { namespace, name } = deployment.metadata;
  // Each node over REST or gRPC as its endpoint.type says.
  const endpoints = new PodEndpoints(config.addresses);
  const rest = new HttpTransport(httpTransportOptions(endpoints, options.executor));
  const grpc = new GrpcTransport(grpcTransportOptions(grpcEndpoints(endpoints), options.executor));
  const transport = new ByEndpointTransport({ endpointTypeOf: (unit) => endpointTypeIn(deployment, unit), endpoints, rest, grpc });
  const metrics = new Metrics({ logger });
  const requestLogger = new RequestLogger(requestLoggerOptions(options.executor));
  const executor = new PredictorExecutor({
    namespace,
    deployment: name,
    predictor,
    transport,
    protocol: deployment.spec.protocol,
    v2Transport: new HttpV2Transport(rest),
    v2GrpcTransport: new GrpcV2Transport(grpc),
    timeoutMs: options.gateway.requestTimeout,
    metrics,
    requestLogger,
    options: options.executor,
  });
  const remote: NodePlan[] = executor.plan.order.filter((node) => node.builtIn === undefined);
  const missing = remote.filter((node) => !config.addresses.has(node.name)).map((node) => node.name);
  if (missing.length > 0) throw new Error(`${ENGINE_PREDICTOR}: no endpoint.service_host and service_port for ${missing.join(', ')}`);

  const checkMs = options.executor.connectTimeout;
  const answers = async (node: NodePlan): Promise<boolean> => {
    if (!config.fullHealthChecks) return accepts(config.addresses.get(node.name)!, checkMs);
    // A V2 component is asked its model ready check; a Seldon one its /health/status.
    if (executor.v2 !== undefined) return executor.v2.modelReady(node.name, undefined, { timeoutMs: checkMs });
    return executor.status(node.name, { timeoutMs: checkMs }).then(() => true, () => false);
  };
  const ready = async (): Promise<string | undefined> => {
    const up = await Promise.all(remote.map(answers));
    const down = remote.filter((_node, i) => !up[i]).map((node) => node.name);
    return down.length === 0 ? undefined : `not every component answers yet: ${down.join(', ')}`;
  };

  const entry: DeploymentEntry = { namespace, name, executors: [executor], eventNaming: eventNamingOf(deployment) };
  const table: DeploymentTable = { lookup: (ns, n) => (ns === namespace && n === name ? entry : undefined) };
  const gateway = await createGateway({
    host: config.host,
    port: config.port,
    limits: options.gateway,
    http: options.http,
    deployments: table,
    logger,
    metrics,
    pod: { namespace, name, ready },
    ...(config.grpcPort === undefined ? {} : { grpcPort: config.grpcPort }),
  });
  return {
    gateway,
    executor,
    ready,
    close: async () => {
      await gateway.close();
      await transport.close();
    },
  };
}

/** `trantor executor`: runs until SIGTERM (the pod's end) or SIGINT. */
export async function runPodExecutor(flags: ExecutorFlags, env: NodeJS.ProcessEnv, unknown: readonly string[]): Promise<void> {
  const config = resolveExecutorConfig(flags, env, unknown);
  const { namespace, name } = config.deployment.metadata;
  await runPodProcess({
    command: 'executor',
    logLevel: config.logLevel,
    ignored: config.ignored,
    start: (logger) => startPodExecutor(config, logger),
    describe: (pod) => `${namespace}/${name} predictor ${config.predictor.name}, nodes ${pod.executor.nodeNames.join(', ')}${pod.gateway.grpcPort === undefined ? '' : `; gRPC also on port ${pod.gateway.grpcPort}`}`,
    url: (pod) => pod.gateway.url,
  });
}
