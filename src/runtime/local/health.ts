/**
 * Readiness of a component replica: Seldon's wrapper answers `GET /health/ping` with `pong`;
 * servers that do not have that path (an executor, an MLServer) answer `GET /ready` with 200.
 */
import { request } from 'node:http';

const PROBE_TIMEOUT_MS = 1_000;
const BODY_LIMIT = 4_096;

interface ProbeAnswer {
  status: number;
  body: string;
}

function get(host: string, port: number, path: string, signal: AbortSignal): Promise<ProbeAnswer | null> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: PROBE_TIMEOUT_MS, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** True when the replica on `host:port` says it is ready; false when it does not answer, or not yet. */
export async function isReady(host: string, port: number, signal: AbortSignal): Promise<boolean> {
  const ping = await get(host, port, '/health/ping', signal);
  if (ping === null) return false;
  if (ping.status === 200 && ping.body.includes('pong')) return true;
  if (ping.status !== 404) return false;
  const ready = await get(host, port, '/ready', signal);
  return ready !== null && ready.status === 200;
}

export interface WaitOptions {
  host: string;
  port: number;
  intervalMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}

export type WaitOutcome = 'ready' | 'timeout' | 'aborted';

/** Polls the replica until it is ready, the timeout passes, or `signal` aborts (the process exited, or it is being stopped). */
export async function waitUntilReady(options: WaitOptions): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const { signal } = options;
  while (!signal.aborted) {
    if (await isReady(options.host, options.port, signal)) return signal.aborted ? 'aborted' : 'ready';
    if (signal.aborted) return 'aborted';
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    await sleep(Math.min(options.intervalMs, left), signal);
  }
  return 'aborted';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
