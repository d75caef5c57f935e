/**
 * What the Node host is told, read once: Seldon's command line (`MLScore [REST] --service-type
 * MODEL [--parameters JSON] [--http-port N]`) over Seldon's environment contract over defaults,
 * and the host's named options (options.ts) from `--<option>` flags over `TRANTOR_COMPONENT_<OPTION>`
 * variables over their defaults.
 */
import { parseArgs } from 'node:util';
import { compileOption, describe, OptionError } from '../options/index.ts';
import { COMPONENT_ENV } from '../protocol/index.ts';
import { SERVICE_TYPES, type ServiceType } from './contract.ts';
import { HostSetupError } from './errors.ts';
import { componentOptions, type ComponentOptions } from './options.ts';
import { parseParameters } from './parameters.ts';

const DEFAULT_PORT = 9000;

const USAGE =
  'usage: trantor-node-microservice <Interface> [REST] --service-type MODEL|ROUTER|TRANSFORMER|OUTPUT_TRANSFORMER|COMBINER ' +
  '[--parameters JSON] [--http-port N] [--grpc-port N] [--request-timeout D] [--body-limit S] [--keep-alive-timeout D]\n' +
  '  <Interface> is a class in the working directory (MLScore → MLScore.ts exporting MLScore),\n' +
  '  module.Class, or ./path/file.ts:Class';

/** Everything the host needs, resolved once from flags and environment. */
export interface HostConfig {
  readonly interfaceName: string;
  readonly serviceType: ServiceType;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly host: string;
  readonly port: number;
  /** Where gRPC is served beside REST; undefined (neither flag nor variable given): not served. */
  readonly grpcPort: number | undefined;
  readonly cwd: string;
  readonly unitId: string;
  readonly predictorId: string;
  readonly deploymentId: string;
  /** The named options, compiled. */
  readonly options: ComponentOptions;
}

/** The host's environment (`process.env` in the command). */
export type Env = Readonly<Record<string, string | undefined>>;

function parsePort(text: string, where: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65_535) throw new HostSetupError(`${where}: expected a port number 0-65535, got ${JSON.stringify(text)}`, 2);
  return port;
}

/** Each option's flag (`bodyLimit` → `--body-limit`) and variable (`TRANTOR_COMPONENT_BODY_LIMIT`). */
const OPTION_NAMES = Object.keys(componentOptions.table).map((option) => {
  const words = option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return { option, flag: words, env: `TRANTOR_COMPONENT_${words.replaceAll('-', '_').toUpperCase()}` };
});

/** The variables that give a Node host these option values (how `trantor up` passes its own on). */
export function componentOptionsEnv(values: ComponentOptions): Record<string, string> {
  return Object.fromEntries(
    OPTION_NAMES.map(({ option, env }) => {
      const key = option as keyof ComponentOptions;
      return [env, describe(componentOptions.table[key], values[key])];
    }),
  );
}

function compileHostOptions(flags: Readonly<Record<string, string | boolean | undefined>>, env: Env): ComponentOptions {
  const given: Record<string, number> = {};
  for (const { option, flag, env: variable } of OPTION_NAMES) {
    const fromFlag = flags[flag];
    const text = typeof fromFlag === 'string' ? fromFlag : env[variable];
    if (text === undefined || text === '') continue;
    try {
      given[option] = compileOption(componentOptions.table[option as keyof ComponentOptions], text, typeof fromFlag === 'string' ? `--${flag}` : variable);
    } catch (err) {
      if (err instanceof OptionError) throw new HostSetupError(err.message, 2);
      throw err;
    }
  }
  return componentOptions.compile(given);
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
        'grpc-port': { type: 'string' },
        // Seldon's server flags: the ones that cannot be honoured are refused (refuseUnhonoured).
        'metrics-port': { type: 'string' },
        'log-level': { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        persistence: { type: 'string' },
        tracing: { type: 'boolean' },
        debug: { type: 'boolean' },
        'single-threaded': { type: 'string' },
        'access-log': { type: 'boolean' },
        ...Object.fromEntries(OPTION_NAMES.map(({ flag }) => [flag, { type: 'string' as const }])),
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
  const grpcText = values['grpc-port'] ?? env[COMPONENT_ENV.grpcPort];
  const grpcPort =
    grpcText === undefined || grpcText === ''
      ? undefined
      : parsePort(grpcText, values['grpc-port'] !== undefined ? '--grpc-port' : COMPONENT_ENV.grpcPort);

  return Object.freeze({
    interfaceName,
    serviceType: serviceType as ServiceType,
    parameters: Object.freeze(parameters),
    host: env[COMPONENT_ENV.bindHost] || '127.0.0.1',
    port,
    grpcPort,
    cwd,
    unitId: env[COMPONENT_ENV.unitId] ?? '',
    predictorId: env[COMPONENT_ENV.predictorId] ?? '',
    deploymentId: env[COMPONENT_ENV.deploymentId] ?? '',
    options: compileHostOptions(values, env),
  });
}
