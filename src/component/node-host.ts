/**
 * `trantor-node-microservice`: serves a user's TypeScript or JavaScript class the way
 * `seldon-core-microservice` serves a Python one.
 *
 *   trantor-node-microservice MLScore [REST] --service-type MODEL [--parameters JSON] [--http-port N]
 *
 * `MLScore` is looked up in the working directory as MLScore.ts, .mts, .js or .mjs, and its
 * export `MLScore` (or the default export) is constructed with the unit's parameters as one
 * object. `module.Class` and `./path/file.ts:Class` name a class in another file. Seldon's
 * environment contract applies: PREDICTIVE_UNIT_HTTP_SERVICE_PORT, PREDICTIVE_UNIT_PARAMETERS,
 * PREDICTIVE_UNIT_ID, PREDICTOR_ID, SELDON_DEPLOYMENT_ID; TRANTOR_BIND_HOST picks the address.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVICE_TYPES, type SeldonComponent, type ServiceType } from './contract.ts';
import { serveComponent, type ComponentServer } from './server.ts';
import { COMPONENT_ENV } from '../protocol/index.ts';

export const READY_PREFIX = 'trantor node host: serving';
const DEFAULT_PORT = 9000;
const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;
const TYPESCRIPT = /\.(?:ts|mts|cts|tsx)$/;

const USAGE =
  'usage: trantor-node-microservice <Interface> [REST] --service-type MODEL|ROUTER|TRANSFORMER|OUTPUT_TRANSFORMER|COMBINER ' +
  '[--parameters JSON] [--http-port N]\n' +
  '  <Interface> is a class in the working directory (MLScore → MLScore.ts exporting MLScore),\n' +
  '  module.Class, or ./path/file.ts:Class';

/** A problem with how the host was started; `exitCode` 2 for bad usage, 1 otherwise. */
export class HostSetupError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'HostSetupError';
    this.exitCode = exitCode;
  }
}

/** Everything the host needs, resolved once from flags and environment. */
export interface HostConfig {
  readonly interfaceName: string;
  readonly serviceType: ServiceType;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly host: string;
  readonly port: number;
  readonly cwd: string;
  readonly unitId: string;
  readonly predictorId: string;
  readonly deploymentId: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function parsePort(text: string, where: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535) throw new HostSetupError(`${where}: expected a port number 0-65535, got ${JSON.stringify(text)}`, 2);
  return port;
}

const TRUE = new Set(['y', 'yes', 't', 'true', 'on', '1']);
const FALSE = new Set(['n', 'no', 'f', 'false', 'off', '0']);

function convertParameter(name: string, type: string, value: unknown, where: string): unknown {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const fail = (expected: string): never => {
    throw new HostSetupError(`${where}: parameter ${name} has type ${type} but its value ${JSON.stringify(value)} is not ${expected}`);
  };
  switch (type) {
    case 'INT': {
      const n = typeof value === 'number' ? value : Number(text.trim());
      return Number.isInteger(n) && text.trim() !== '' ? n : fail('an integer');
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = typeof value === 'number' ? value : Number(text.trim());
      return Number.isFinite(n) && text.trim() !== '' ? n : fail('a number');
    }
    case 'STRING':
      return typeof value === 'string' ? value : text;
    case 'BOOL': {
      if (typeof value === 'boolean') return value;
      const word = text.trim().toLowerCase();
      return TRUE.has(word) ? true : FALSE.has(word) ? false : fail('true or false');
    }
    case 'JSON':
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return fail('valid JSON');
      }
    default:
      throw new HostSetupError(`${where}: parameter ${name} has type ${JSON.stringify(type)}; expected INT, FLOAT, DOUBLE, STRING, BOOL or JSON`);
  }
}

/**
 * Seldon's parameter list `[{"name","value","type"}]` as the one options object the model's
 * constructor receives: `{name: converted value}`.
 */
export function parseParameters(json: string, where: string = COMPONENT_ENV.parameters): Record<string, unknown> {
  if (json.trim() === '') return {};
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch (err) {
    throw new HostSetupError(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (list === null) return {};
  if (!Array.isArray(list)) throw new HostSetupError(`${where}: expected a JSON list of {"name","value","type"}`);
  const out: Record<string, unknown> = {};
  list.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) throw new HostSetupError(`${where}[${i}]: expected {"name","value","type"}`);
    const { name, value, type } = item as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new HostSetupError(`${where}[${i}].name: expected a non-empty string`);
    const kind = type === undefined ? 'STRING' : typeof type === 'string' ? type.toUpperCase() : JSON.stringify(type);
    out[name] = convertParameter(name, kind, value, `${where}[${i}]`);
  });
  return out;
}

/**
 * Seldon's server flags the Node host cannot honour are refused with the reason, never ignored;
 * a value that changes nothing (`--workers 1`, `--threads 1`) is accepted.
 */
function refuseUnhonoured(values: Readonly<Record<string, string | boolean | undefined>>): void {
  const refusals: [string, string | undefined, string][] = [
    ['workers', '1', 'the Node host serves with one process; give the component more replicas instead (or serve it with the Python host, which has --workers)'],
    ['threads', '1', 'the Node host answers on one event loop; give the component more replicas instead'],
    ['metrics-port', undefined, "the Node host serves no metrics port; its replies' meta.metrics reach the gateway's /prometheus"],
    ['grpc-port', undefined, 'the Node host serves REST only; gRPC is not served yet (drop the flag; REST is on --http-port)'],
    ['tracing', undefined, 'tracing is not supported by the Node host'],
  ];
  for (const [flag, harmless, why] of refusals) {
    const value = values[flag];
    if (value !== undefined && value !== false && value !== harmless) {
      throw new HostSetupError(`--${flag}${typeof value === 'string' ? ` ${value}` : ''}: ${why}`, 2);
    }
  }
}

/** Flags over environment over defaults, checked once; throws HostSetupError. */
export function resolveHostConfig(argv: readonly string[], env: Env, cwd: string): HostConfig {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'service-type': { type: 'string' },
        parameters: { type: 'string' },
        'http-port': { type: 'string' },
        // Seldon's server flags: the ones that cannot be honoured are refused (refuseUnhonoured).
        'grpc-port': { type: 'string' },
        'metrics-port': { type: 'string' },
        'log-level': { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        persistence: { type: 'string' },
        tracing: { type: 'boolean' },
        debug: { type: 'boolean' },
        'single-threaded': { type: 'string' },
        'access-log': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new HostSetupError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help === true) throw new HostSetupError(USAGE, 0);
  refuseUnhonoured(values);
  const [interfaceName, api, ...rest] = positionals;
  if (interfaceName === undefined || interfaceName === '') throw new HostSetupError(`the interface (the model class) is missing\n${USAGE}`, 2);
  if (api !== undefined && api.toUpperCase() !== 'REST') {
    throw new HostSetupError(`API type ${api} is not supported by the Node host; use REST`, 2);
  }
  if (rest.length > 0) throw new HostSetupError(`unexpected arguments: ${rest.join(' ')}\n${USAGE}`, 2);

  const serviceType = (values['service-type'] ?? 'MODEL').toUpperCase();
  if (!(SERVICE_TYPES as readonly string[]).includes(serviceType)) {
    throw new HostSetupError(`--service-type ${serviceType} is not one of ${SERVICE_TYPES.join(', ')}`, 2);
  }
  const parameters =
    values.parameters !== undefined
      ? parseParameters(values.parameters, '--parameters')
      : parseParameters(env[COMPONENT_ENV.parameters] ?? '', COMPONENT_ENV.parameters);
  const portText = values['http-port'] ?? env[COMPONENT_ENV.httpPort];
  const port =
    portText === undefined || portText === ''
      ? DEFAULT_PORT
      : parsePort(portText, values['http-port'] !== undefined ? '--http-port' : COMPONENT_ENV.httpPort);

  return Object.freeze({
    interfaceName,
    serviceType: serviceType as ServiceType,
    parameters: Object.freeze(parameters),
    host: env[COMPONENT_ENV.bindHost] || '127.0.0.1',
    port,
    cwd,
    unitId: env[COMPONENT_ENV.unitId] ?? '',
    predictorId: env[COMPONENT_ENV.predictorId] ?? '',
    deploymentId: env[COMPONENT_ENV.deploymentId] ?? '',
  });
}

/** Where an interface name points: candidate files (first existing wins) and the export to take. */
export function interfaceTarget(interfaceName: string, cwd: string): { files: string[]; exportName: string; explicit: boolean } {
  const colon = interfaceName.lastIndexOf(':');
  // `C:\…` is a Windows drive, not a class separator.
  if (colon > 1) {
    const file = resolve(cwd, interfaceName.slice(0, colon));
    return { files: [file], exportName: interfaceName.slice(colon + 1), explicit: true };
  }
  const ext = extname(interfaceName);
  if (interfaceName.includes('/') || interfaceName.includes('\\') || isAbsolute(interfaceName) || /^\.[cm]?[jt]s$/.test(ext)) {
    const file = resolve(cwd, interfaceName);
    const files = ext === '' ? MODULE_EXTENSIONS.map((e) => file + e) : [file];
    return { files, exportName: basename(file, ext), explicit: false };
  }
  // Seldon's `module.Class`: the module file, then the class in it.
  const dot = interfaceName.lastIndexOf('.');
  const modulePath = dot === -1 ? interfaceName : interfaceName.slice(0, dot).replaceAll('.', '/');
  const exportName = dot === -1 ? interfaceName : interfaceName.slice(dot + 1);
  return { files: MODULE_EXTENSIONS.map((e) => join(cwd, modulePath + e)), exportName, explicit: dot !== -1 };
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (TYPESCRIPT.test(file)) {
    // Scoped to this import, so it works whether or not tsx is already registered.
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

function describeExports(ns: Record<string, unknown>): string {
  const names = Object.keys(ns);
  return names.length === 0 ? 'it exports nothing' : `it exports ${names.join(', ')}`;
}

/** Imports the user's module and returns the class (or instance) the interface names. */
export async function loadComponentExport(interfaceName: string, cwd: string): Promise<{ file: string; exportName: string; value: unknown }> {
  const target = interfaceTarget(interfaceName, cwd);
  const file = target.files.find((f) => existsSync(f));
  if (file === undefined) {
    throw new HostSetupError(`cannot find the model for ${interfaceName}: none of ${target.files.join(', ')} exists (working directory ${cwd})`);
  }
  let ns: Record<string, unknown>;
  try {
    ns = await importFile(file);
  } catch (err) {
    throw new HostSetupError(`cannot load ${file}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  let value = ns[target.exportName];
  if (value === undefined && !target.explicit) {
    const fallback = ns['default'];
    // A CommonJS module's default is its exports object; look inside it too.
    value =
      typeof fallback === 'object' && fallback !== null && target.exportName in fallback
        ? (fallback as Record<string, unknown>)[target.exportName]
        : fallback;
  }
  if (value === undefined || value === null) {
    throw new HostSetupError(`${file} has no export ${target.exportName}${target.explicit ? '' : ' and no default export'} (${describeExports(ns)})`);
  }
  return { file, exportName: target.exportName, value };
}

/** A new instance of the exported class with the parameters, or the exported object itself. */
export function instantiate(value: unknown, parameters: Readonly<Record<string, unknown>>, label: string): SeldonComponent {
  if (typeof value === 'function') {
    try {
      return new (value as new (p: Record<string, unknown>) => SeldonComponent)({ ...parameters });
    } catch (err) {
      throw new HostSetupError(`${label}: the constructor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  if (typeof value === 'object' && value !== null) return value;
  throw new HostSetupError(`${label} is a ${typeof value}; export a class (or an object with a predict method)`);
}

export interface NodeHost {
  readonly config: HostConfig;
  readonly model: SeldonComponent;
  readonly server: ComponentServer;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/** Loads, constructs and `load()`s the model, then serves it. Throws HostSetupError. */
export async function startNodeHost(config: HostConfig): Promise<NodeHost> {
  const { file, exportName, value } = await loadComponentExport(config.interfaceName, config.cwd);
  const label = `${exportName} (${file})`;
  const model = instantiate(value, config.parameters, label);
  if (typeof model.load === 'function') {
    try {
      await model.load();
    } catch (err) {
      throw new HostSetupError(`${label}: load() failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  let server: ComponentServer;
  try {
    server = await serveComponent(model, {
      host: config.host,
      port: config.port,
      serviceType: config.serviceType,
      name: exportName,
      unitId: config.unitId,
    });
  } catch (err) {
    throw new HostSetupError(`cannot listen on ${config.host}:${config.port}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const urlHost = server.host.includes(':') ? `[${server.host}]` : server.host;
  return { config, model, server, url: `http://${urlHost}:${server.port}`, close: () => server.close() };
}

export interface HostIO {
  cwd?: string;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Stops the host like SIGTERM does (tests use it instead of a signal). */
  signal?: AbortSignal;
}

/**
 * The command: resolves the configuration, starts the host, prints the ready line, and
 * serves until SIGTERM or SIGINT (or `io.signal`). Resolves with the exit code.
 */
/**
 * Stops the host when the process that started it (`trantor up`, named by TRANTOR_PARENT_PID) is
 * gone, even when it was killed with no chance to stop its children.
 */
function watchParent(parentPid: string | undefined, stop: () => void): void {
  const pid = Number(parentPid);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid !== pid) {
      clearInterval(timer);
      stop();
    }
  }, 1000);
  timer.unref();
}

export async function main(argv: readonly string[] = process.argv.slice(2), env: Env = process.env, io: HostIO = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const err = io.stderr ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let host: NodeHost;
  try {
    const config = resolveHostConfig(argv, env, io.cwd ?? process.cwd());
    host = await startNodeHost(config);
  } catch (e) {
    if (e instanceof HostSetupError) {
      (e.exitCode === 0 ? out : err)(e.exitCode === 0 ? e.message : `trantor-node-microservice: ${e.message}`);
      return e.exitCode;
    }
    err(`trantor-node-microservice: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
  out(`${READY_PREFIX} ${host.config.interfaceName} on ${host.url}`);

  // A model's stray promise rejection is logged, not fatal: the server keeps answering.
  const onRejection = (reason: unknown): void => err(`unhandled rejection in the model: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  process.on('unhandledRejection', onRejection);
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.signal?.removeEventListener('abort', stop);
      done();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    watchParent(env[COMPONENT_ENV.parentPid], stop);
    if (io.signal?.aborted === true) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  await host.close();
  process.off('unhandledRejection', onRejection);
  return 0;
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntry()) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`trantor-node-microservice: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
