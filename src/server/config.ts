/**
 * `trantor up` options, resolved once: flags > TRANTOR_* environment > defaults, then frozen
 * and passed down. Nothing below `main` reads process.env.
 */
import { DURABILITIES, type Durability } from '../eventing/index.ts';
import { resolveHome } from '../spec/home.ts';

export interface UpFlags {
  home?: string;
  port?: string;
  host?: string;
  bodyLimit?: string;
  timeout?: string;
  logLevel?: string;
  durability?: string;
}

export interface UpConfig {
  readonly home: string;
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: string;
  /** What an event acknowledged with 202 survives: `process` (a crash, kill -9) or `fsync` (a power loss too). */
  readonly durability: Durability;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, k: 1e3, kib: 1024, ki: 1024, mb: 1e6, m: 1e6, mib: 2 ** 20, mi: 2 ** 20, gb: 1e9, gib: 2 ** 30 };

export function parseSize(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw new Error(`${what} ${text}: expected a size such as 10mb, 512kb or 1048576`);
  return Math.round(Number(match[1]) * unit);
}

export function parseDurationMs(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new Error(`${what} ${text}: expected a duration such as 30s, 2m or 500ms`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value : unit === 'm' ? value * 60_000 : value * 1000;
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

export function resolveUpConfig(flags: UpFlags, env: NodeJS.ProcessEnv): UpConfig {
  return Object.freeze({
    home: resolveHome(flags.home, env),
    host: flags.host ?? env['TRANTOR_HOST'] ?? '127.0.0.1',
    port: parsePort(flags.port ?? env['TRANTOR_PORT'] ?? '8000'),
    bodyLimitBytes: parseSize(flags.bodyLimit ?? env['TRANTOR_BODY_LIMIT'] ?? '10mb', '--body-limit'),
    requestTimeoutMs: parseDurationMs(flags.timeout ?? env['TRANTOR_REQUEST_TIMEOUT'] ?? '30s', '--request-timeout'),
    logLevel: flags.logLevel ?? env['TRANTOR_LOG_LEVEL'] ?? 'info',
    durability: parseDurability(flags.durability ?? env['TRANTOR_DURABILITY'] ?? 'process'),
  });
}
