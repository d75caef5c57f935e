/**
 * `trantor gateway`: the process of the gateway Deployment the operator makes for each
 * SeldonDeployment (no service mesh needed). It serves `/seldon/<ns>/<sdep>/…` with the same
 * gateway `trantor up` runs — routes, traffic split and shadows, errors, puid, limits, doc pages,
 * CloudEvents, `/prometheus` — where each predictor is its executor behind the predictor's
 * Service, told by TRANTOR_GATEWAY_PREDICTORS. `/ready` answers 200 once every non-shadow
 * predictor's executor answers its own `/ready`.
 */
import type { Logger } from 'pino';
import { Metrics } from '../executor/index.ts';
import { createGateway, remoteDeployment, type Gateway, type RemoteDeployment, type RemotePredictorSpec } from '../gateway/index.ts';
import { GATEWAY_PREDICTORS_ENV } from '../runtime/kubernetes/index.ts';
import { compileOptions, OPTION_SECTIONS, type CompiledOptions } from './options.ts';
import { logLevelFlag, portFlag, requiredFlag, runPodProcess } from './pod-process.ts';

/** The arguments the operator passes (Seldon's executor spelling) and Trantor's own. */
export interface GatewayFlags {
  sdep?: string;
  namespace?: string;
  http_port?: string;
  /** gRPC on a port of its own too (it is always served on the HTTP port). */
  grpc_port?: string;
  log_level?: string;
  /** The address to bind (default every interface, as in a pod). */
  host?: string;
  config?: string;
  set?: readonly string[];
}

export interface GatewayProcessConfig {
  readonly namespace: string;
  /** The SeldonDeployment's name. */
  readonly name: string;
  readonly predictors: readonly RemotePredictorSpec[];
  readonly host: string;
  readonly port: number;
  /** `--grpc_port`: gRPC on a port of its own too. */
  readonly grpcPort: number | undefined;
  readonly logLevel: string;
  readonly options: CompiledOptions;
  /** What was given and is not served, for the start-up notice. */
  readonly ignored: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * TRANTOR_GATEWAY_PREDICTORS, checked: a JSON array of `{name, traffic, shadow, http, grpc}` (and
 * optionally `nodes`, the graph's node names, and `protocol`, the deployment's `seldon` — the
 * default — or `v2`, the same in every entry), one per predictor. Every problem is named with
 * the variable and the entry's place.
 */
export function parseGatewayPredictors(text: string | undefined): RemotePredictorSpec[] {
  const variable = GATEWAY_PREDICTORS_ENV;
  if (text === undefined || text.trim() === '') {
    throw new Error(`${variable} is not set: it holds the predictors as JSON [{"name","traffic","shadow","http"}] (the operator sets it)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${variable}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${variable}: expected a non-empty JSON array of predictors`);
  const problems: string[] = [];
  const specs: RemotePredictorSpec[] = [];
  const names = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const at = `${variable}[${i}]`;
    if (!isRecord(entry)) return void problems.push(`${at}: expected an object`);
    const { name, traffic = 0, shadow = false, http, nodes = [], protocol = 'seldon' } = entry;
    if (typeof name !== 'string' || name === '') problems.push(`${at}.name: expected the predictor's name`);
    else if (names.has(name)) problems.push(`${at}.name: "${name}" is listed twice`);
    else names.add(name);
    if (typeof traffic !== 'number' || !Number.isFinite(traffic) || traffic < 0) problems.push(`${at}.traffic: expected a number ≥ 0`);
    if (typeof shadow !== 'boolean') problems.push(`${at}.shadow: expected true or false`);
    let url: URL | undefined;
    if (typeof http !== 'string' || !URL.canParse(http)) problems.push(`${at}.http: expected the executor's URL, e.g. http://<predictor service>.<ns>.svc.cluster.local:8000`);
    else if ((url = new URL(http)).protocol !== 'http:' || url.search !== '' || url.hash !== '') problems.push(`${at}.http: ${http}: expected a plain http:// URL`);
    if (!Array.isArray(nodes) || !nodes.every((n): n is string => typeof n === 'string')) problems.push(`${at}.nodes: expected the graph's node names`);
    if (protocol !== 'seldon' && protocol !== 'v2') problems.push(`${at}.protocol: ${JSON.stringify(protocol)}: expected "seldon" or "v2" (the SeldonDeployment's spec.protocol)`);
    else if (specs.length > 0 && specs[0]!.protocol !== protocol) problems.push(`${at}.protocol: "${protocol}", but ${variable}[0] is "${specs[0]!.protocol}": a deployment's predictors speak one protocol`);
    if (problems.length === 0) {
      specs.push(Object.freeze({ name: name as string, traffic: traffic as number, shadow: shadow as boolean, url: url!, nodes: Object.freeze([...(nodes as string[])]), protocol: protocol as 'seldon' | 'v2' }));
    }
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return specs;
}

/** Flags and environment, checked and compiled once: everything the gateway process runs from. */
export function resolveGatewayConfig(flags: GatewayFlags, env: NodeJS.ProcessEnv, unknown: readonly string[] = []): GatewayProcessConfig {
  const name = requiredFlag(flags.sdep, 'sdep');
  const namespace = requiredFlag(flags.namespace, 'namespace');
  const logLevel = logLevelFlag(flags.log_level);
  const predictors = parseGatewayPredictors(env[GATEWAY_PREDICTORS_ENV]);
  const ignored = unknown.length === 0 ? [] : [unknown.join(' ')];
  return Object.freeze({
    namespace,
    name,
    predictors: Object.freeze(predictors),
    host: flags.host ?? '0.0.0.0',
    port: portFlag(flags.http_port ?? '8000', 'http_port'),
    grpcPort: flags.grpc_port === undefined ? undefined : portFlag(flags.grpc_port, 'grpc_port'),
    logLevel,
    options: compileOptions(OPTION_SECTIONS, { file: flags.config, sets: flags.set ?? [] }),
    ignored: Object.freeze(ignored),
  });
}

export interface GatewayProcess {
  readonly gateway: Gateway;
  readonly deployment: RemoteDeployment;
  close(): Promise<void>;
}

/** Builds the remote predictors and starts serving. */
export async function startGatewayProcess(config: GatewayProcessConfig, logger: Logger): Promise<GatewayProcess> {
  const { namespace, name, options } = config;
  const metrics = new Metrics({ logger });
  const deployment = remoteDeployment({ namespace, name, predictors: config.predictors, executor: options.executor, timeoutMs: options.gateway.requestTimeout, metrics });
  const table = { lookup: (ns: string, n: string) => (ns === namespace && n === name ? deployment.entry : undefined) };
  const checkMs = options.executor.connectTimeout;
  let gateway: Gateway;
  try {
    gateway = await createGateway({
      host: config.host,
      port: config.port,
      limits: options.gateway,
      http: options.http,
      deployments: table,
      logger,
      metrics,
      ready: () => deployment.notReady(checkMs),
      ...(config.grpcPort === undefined ? {} : { grpcPort: config.grpcPort }),
    });
  } catch (err) {
    await deployment.close();
    throw err;
  }
  return {
    gateway,
    deployment,
    close: async () => {
      await gateway.close();
      await deployment.close();
    },
  };
}

/** `trantor gateway`: runs until SIGTERM (the pod's end) or SIGINT. */
export async function runGateway(flags: GatewayFlags, env: NodeJS.ProcessEnv, unknown: readonly string[]): Promise<void> {
  const config = resolveGatewayConfig(flags, env, unknown);
  const { namespace, name } = config;
  await runPodProcess({
    command: 'gateway',
    logLevel: config.logLevel,
    ignored: config.ignored,
    start: (logger) => startGatewayProcess(config, logger),
    describe: (running) => `${namespace}/${name}${config.predictors[0]!.protocol === 'v2' ? ' (protocol: v2)' : ''}, predictors ${config.predictors.map((p) => `${p.name} (${p.shadow ? 'shadow' : `traffic ${p.traffic}`}) at ${p.url.href}`).join(', ')}${running.gateway.grpcPort === undefined ? '' : `; gRPC also on port ${running.gateway.grpcPort}`}`,
    url: (running) => `${running.gateway.url}/seldon/${namespace}/${name}`,
  });
}
