/**
 * Talking to a running `trantor up` over its HTTP API, found through the home folder.
 */
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import type { FailureBody } from '../protocol/index.ts';
import type { ControlPlaneInfo } from '../spec/index.ts';
import { homeLayout } from '../spec/index.ts';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export function readControlPlane(home: string): ControlPlaneInfo {
  const file = homeLayout.controlPlane(home);
  let info: ControlPlaneInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo;
  } catch {
    throw new CliError(`no control plane is running for home ${home} (no ${file}); start one with: trantor up --home ${home}`);
  }
  try {
    process.kill(info.pid, 0);
  } catch {
    throw new CliError(`the control plane for home ${home} (pid ${info.pid}) is not running; start it with: trantor up --home ${home}`);
  }
  return info;
}

export interface ApiAnswer {
  status: number;
  body: string;
}

export async function callApi(
  info: ControlPlaneInfo,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<ApiAnswer> {
  try {
    const res = await request(`${info.apiUrl}${path}`, { method, body: body ?? null, headers });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new CliError(`cannot reach the control plane at ${info.apiUrl}: ${detail}`);
  }
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

export async function callApiJson<T>(info: ControlPlaneInfo, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: string, headers?: Record<string, string>): Promise<T> {
  const answer = await callApi(info, method, path, body, headers);
  if (answer.status >= 300) throw new CliError(failureOf(answer));
  return JSON.parse(answer.body) as T;
}
