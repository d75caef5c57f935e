/**
 * `trantor up` options, resolved once: flags > TRANTOR_* environment > defaults, then frozen
 * and passed down. Nothing below `main` reads process.env.
 */
import { normalizeHost, normalizeOrigin } from '../http/index.ts';
import { DURABILITIES, type Durability } from '../eventing/index.ts';
import { resolveHome, DEFAULT_MAX_REPLICAS } from '../manifest/index.ts';
import { apiTokenFromEnv } from './api-token.ts';
import { logLevelFlag } from './pod-process.ts';
import { compileOption, type OptionSpec } from '../options/index.ts';
import { compileOptions, OPTION_SECTIONS, type CompiledOptions } from './options.ts';

export interface UpFlags {
  home?: string;
  port?: string;
  host?: string;
  bodyLimit?: string;
  timeout?: string;
  logLevel?: string;
  corsAllowedOrigins?: string;
  allowedHosts?: string;
  maxReplicas?: string;
  durability?: string;
  startupTimeout?: string;
  /** A YAML file of named options (docs/configuration.md). */
  config?: string;
  /** `section.option=value`, over the file's. */
  set?: readonly string[];
}

export interface UpConfig {
  readonly home: string;
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: string;
  /** `TRANTOR_API_TOKEN` (no flag: a flag would show in `ps`); undefined means `<home>/api-token`. */
  readonly apiToken: string | undefined;
  /** Web pages (origins) allowed to call the gateway and the broker, with CORS answers; none by default. */
  readonly corsAllowedOrigins: readonly string[];
  /** Further `Host` names the gateway answers for, beyond its own address and the loopback names. */
  readonly allowedHosts: readonly string[];
  /** The most replicas a predictor or componentSpec may ask for (each is a process). */
  readonly maxReplicas: number;
  /** What an event acknowledged with 202 survives: `process` (a crash, kill -9) or `fsync` (a power loss too). */
  readonly durability: Durability;
  /** How long a replica may take to answer its first health check, unless its container's startupProbe says otherwise. */
  readonly startupTimeoutMs: number;
  /** Every module's named options, compiled (docs/configuration.md). */
  readonly options: CompiledOptions;
}

function parseDurability(text: string): Durability {
  const found = DURABILITIES.find((d) => d === text);
  if (found === undefined) throw new Error(`--durability ${text}: expected one of ${DURABILITIES.join(', ')}`);
  return found;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${text}: expected a port number from 0 to 65535`);
  return port;
}

/** A comma-separated list, each entry checked by `normalize`; the flag is named in any error. */
function parseList(text: string | undefined, flag: string, normalize: (entry: string) => string): readonly string[] {
  const entries = (text ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  return Object.freeze(
    entries.map((entry) => {
      try {
        return normalize(entry);
      } catch (err) {
        throw new Error(`${flag}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
}

function parseMaxReplicas(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) throw new Error(`--max-replicas ${text}: expected a whole number of at least 1`);
  return value;
}

/** Flags (or their variables) that set a named option: a flag given wins over `--config` and `--set`. */
const OPTION_FLAGS = [
  { flag: '--body-limit', variable: 'TRANTOR_BODY_LIMIT', given: (flags: UpFlags) => flags.bodyLimit, section: 'gateway', option: 'bodyLimit' },
  { flag: '--request-timeout', variable: 'TRANTOR_REQUEST_TIMEOUT', given: (flags: UpFlags) => flags.timeout, section: 'gateway', option: 'requestTimeout' },
  { flag: '--startup-timeout', variable: 'TRANTOR_STARTUP_TIMEOUT', given: (flags: UpFlags) => flags.startupTimeout, section: 'runtime', option: 'startupTimeout' },
] as const;

/** The named options from `--config` and `--set`, with the option-setting flags over them. */
function resolveOptions(flags: UpFlags, env: NodeJS.ProcessEnv): CompiledOptions {
  const options: Record<string, Readonly<Record<string, number>>> = { ...compileOptions(OPTION_SECTIONS, { file: flags.config ?? env['TRANTOR_CONFIG'], sets: flags.set ?? [] }) };
  for (const { flag, variable, given, section, option } of OPTION_FLAGS) {
    const text = given(flags) ?? env[variable];
    if (text === undefined) continue;
    const table: Readonly<Record<string, OptionSpec>> = OPTION_SECTIONS[section].table;
    options[section] = Object.freeze({ ...options[section], [option]: compileOption(table[option]!, text, flag) });
  }
  return Object.freeze(options) as CompiledOptions;
}

export function resolveUpConfig(flags: UpFlags, env: NodeJS.ProcessEnv): UpConfig {
  const options = resolveOptions(flags, env);
  return Object.freeze({
    home: resolveHome(flags.home, env),
    host: flags.host ?? env['TRANTOR_HOST'] ?? '127.0.0.1',
    port: parsePort(flags.port ?? env['TRANTOR_PORT'] ?? '8000'),
    bodyLimitBytes: options.gateway.bodyLimit,
    requestTimeoutMs: options.gateway.requestTimeout,
    logLevel: logLevelFlag(flags.logLevel ?? env['TRANTOR_LOG_LEVEL'], flags.logLevel === undefined ? 'TRANTOR_LOG_LEVEL' : '--log-level'),
    apiToken: apiTokenFromEnv(env['TRANTOR_API_TOKEN']),
    corsAllowedOrigins: parseList(flags.corsAllowedOrigins ?? env['TRANTOR_CORS_ALLOWED_ORIGINS'], '--cors-allowed-origins', normalizeOrigin),
    allowedHosts: parseList(flags.allowedHosts ?? env['TRANTOR_ALLOWED_HOSTS'], '--allowed-hosts', normalizeHost),
    maxReplicas: parseMaxReplicas(flags.maxReplicas ?? env['TRANTOR_MAX_REPLICAS'] ?? String(DEFAULT_MAX_REPLICAS)),
    durability: parseDurability(flags.durability ?? env['TRANTOR_DURABILITY'] ?? 'process'),
    startupTimeoutMs: options.runtime.startupTimeout,
    options,
  });
}
