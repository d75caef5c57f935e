/**
 * The query of `GET /v1/deployments/<ns>/<name>/logs`, with Kubernetes' names for pod logs
 * (`container`, `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`, `previous`, `follow`), and
 * the selection and formatting of lines by it. Pure: the route hands it the lines and the clock.
 */
import { TrantorError } from '../protocol/index.ts';
import type { LogLine } from '../manifest/index.ts';

export interface LogsQuery {
  /** A graph node: only its replicas' lines. */
  container?: string;
  /** Past lines per replica; all that are kept when absent. */
  tailLines?: number;
  /** Only lines read at or after this time (milliseconds since the epoch). */
  since?: number;
  timestamps: boolean;
  previous: boolean;
  follow: boolean;
}

/** Past lines per replica when the query names no `tailLines` (nor the older `tail`). */
export const DEFAULT_TAIL_LINES = 100;

function bad(message: string): TrantorError {
  return new TrantorError('BAD_QUERY', message);
}

function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null) return false;
  if (value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw bad(`${name}=${value}: expected true or false`);
}

function integer(params: URLSearchParams, name: string, min: number): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw bad(`${name}=${value}: expected a whole number of at least ${min}`);
  }
  return Number(value);
}

/** Reads the query; `now` turns `sinceSeconds` into a time. Every bad value is named. */
export function parseLogsQuery(params: URLSearchParams, now: number): LogsQuery {
  // tailLines=-1 is kubectl's "all lines"; `tail` is this API's older name.
  const tail = integer(params, 'tailLines', -1) ?? integer(params, 'tail', -1) ?? DEFAULT_TAIL_LINES;
  const sinceSeconds = integer(params, 'sinceSeconds', 1);
  const sinceTime = params.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime !== null) throw bad('sinceSeconds and sinceTime: give at most one');
  let since: number | undefined;
  if (sinceSeconds !== undefined) since = now - sinceSeconds * 1000;
  if (sinceTime !== null) {
    since = rfc3339Time(sinceTime);
    if (since === undefined) throw bad(`sinceTime=${sinceTime}: expected an RFC 3339 time such as 2024-05-01T12:00:00Z`);
  }
  const container = params.get('container');
  if (container === '') throw bad('container=: name a graph node');
  return {
    ...(container === null ? {} : { container }),
    ...(tail < 0 ? {} : { tailLines: tail }),
    ...(since === undefined ? {} : { since }),
    timestamps: flag(params, 'timestamps'),
    previous: flag(params, 'previous'),
    follow: flag(params, 'follow'),
  };
}

/** Milliseconds since the epoch of an RFC 3339 time (`2024-05-01T12:00:00Z`, `…:00.5+02:00`); undefined when it is not one. */
export function rfc3339Time(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : time;
}

/** The graph node of a replica id `<predictor>/<node>/<index>`. */
export function nodeOfReplica(replica: string): string {
  return replica.split('/')[1] ?? '';
}

/** Whether a line read now (followed) passes the query's container filter. */
export function admits(query: LogsQuery, line: LogLine): boolean {
  return query.container === undefined || nodeOfReplica(line.replica) === query.container;
}

/** The past lines the query asks for: its container's, since its time, the last `tailLines` of each replica; oldest first. */
export function selectLogLines(lines: readonly LogLine[], query: LogsQuery): LogLine[] {
  const kept = lines.filter((line) => admits(query, line) && (query.since === undefined || (line.time !== undefined && line.time >= query.since)));
  if (query.tailLines === undefined) return kept;
  const left = new Map<string, number>();
  for (const line of kept) left.set(line.replica, (left.get(line.replica) ?? 0) + 1);
  // Walk forward, skipping each replica's lines until only its last tailLines remain.
  return kept.filter((line) => {
    const remaining = left.get(line.replica)!;
    left.set(line.replica, remaining - 1);
    return remaining <= query.tailLines!;
  });
}

/** RFC 3339 with nine fraction digits, as `kubectl logs --timestamps` prints: `2024-05-01T12:00:00.123456789Z`. */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // …T12:00:00.123Z
  const nanos = Math.round((ms - whole) * 1e6);
  return `${iso.slice(0, 23)}${String(Math.min(nanos, 999_999)).padStart(6, '0')}Z`;
}

/** One line of the answer: `[<replica>] [<time> ]<line>`. */
export function formatLogLine(line: LogLine, timestamps: boolean): string {
  const time = timestamps ? `${rfc3339Nano(line.time ?? Date.now())} ` : '';
  return `[${line.replica}] ${time}${line.line}\n`;
}
