/**
 * Talking to a running `trantor up` over its HTTP API, found through the home folder, with the
 * home's API token on every call (through the SDK's ControlPlaneClient).
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ControlPlaneClient, readApiToken } from '../client/index.ts';
import type { FailureBody } from '../protocol/index.ts';
import type { ControlPlaneInfo } from '../manifest/index.ts';
import { homeLayout } from '../manifest/index.ts';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Whether a `trantor up` holds the home's lock (src/server/home-lock.ts: an exclusive SQLite lock
 * on up.lock, which the kernel drops when that process dies). A shared read that finds the file
 * busy means it is held; the read lasts microseconds, and `up` waits that out.
 */
function upIsRunning(home: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(homeLayout.lock(home), { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  } finally {
    db?.close();
  }
}

export function readControlPlane(home: string): ControlPlaneInfo {
  const file = homeLayout.controlPlane(home);
  // The lock, not the pid in the file: a pid outlives a kill -9 as a zombie and is reused.
  const running = upIsRunning(home);
  let info: ControlPlaneInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo;
  } catch {
    if (running) throw new CliError(`the control plane for home ${home} is starting (restoring what was applied); try again in a moment`);
    throw new CliError(`no control plane is running for home ${home} (no ${file}); start one with: trantor up --home ${home}`);
  }
  if (!running) {
    throw new CliError(`the control plane for home ${home} (pid ${info.pid}) is not running; start it with: trantor up --home ${home}`);
  }
  return info;
}

/**
 * The running control plane of `home` and its API token: `TRANTOR_API_TOKEN` when set (the
 * control plane was started with it), else `<home>/api-token`.
 */
export function connectControlPlane(home: string, env: NodeJS.ProcessEnv): ControlPlaneClient {
  const info = readControlPlane(home);
  const fromEnv = env['TRANTOR_API_TOKEN'];
  try {
    return ControlPlaneClient.of(info, fromEnv !== undefined && fromEnv !== '' ? fromEnv : readApiToken(home));
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
}

export interface ApiAnswer {
  status: number;
  body: string;
}

export async function callApi(
  info: ControlPlaneClient,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  try {
    return await info.request(method, path, body, headers);
  } catch (err) {
    throw unreachable(info, err);
  }
}

/** A GET read as it arrives (`logs -f`, `events tail`); a non-2xx answer becomes a CliError. */
export async function streamApi(info: ControlPlaneClient, path: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  let res;
  try {
    res = await info.stream(path, signal);
  } catch (err) {
    throw unreachable(info, err);
  }
  if (res.status >= 300) throw new CliError(failureOf({ status: res.status, body: await res.text() }));
  return res.body;
}

function unreachable(info: ControlPlaneClient, err: unknown): CliError {
  const detail = err instanceof Error ? err.message : String(err);
  return new CliError(`cannot reach the control plane at ${info.apiUrl}: ${detail}`);
}

/** The failure message of a non-2xx API answer. */
export function failureOf(answer: ApiAnswer): string {
  try {
    const parsed = JSON.parse(answer.body) as Partial<FailureBody>;
    if (parsed.status?.info !== undefined) return parsed.status.info;
  } catch {
    // not JSON: show it as it is
  }
  return answer.body.trim() || `HTTP ${answer.status}`;
}

export async function callApiJson<T>(info: ControlPlaneClient, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: string, headers?: Record<string, string>): Promise<T> {
  const answer = await callApi(info, method, path, body, headers);
  if (answer.status >= 300) throw new CliError(failureOf(answer));
  return JSON.parse(answer.body) as T;
}
