/**
 * Health of a component replica: Seldon's wrapper answers `GET /health/ping` with `pong`;
 * servers that do not have that path (an executor, an MLServer) answer `GET /ready` with 200.
 * A container's own `readinessProbe`/`livenessProbe` may name another path (`httpGet.path`) or
 * ask only for a TCP connection (`tcpSocket`).
 *
 * Once a replica is ready it is probed on, in Kubernetes' words: a readiness probe takes it out
 * of the balancer after `failureThreshold` failures in a row (and back after `successThreshold`
 * successes), a liveness probe has it killed and restarted after `failureThreshold` failures.
 * A process that is stopped (SIGSTOP) or stuck still accepts connections but answers nothing,
 * so each probe has its own timeout.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Probe } from '../../manifest/index.ts';
import type { RuntimeOptions } from './options.ts';

/** What a probe checks and how often, in milliseconds. */
export interface ProbeSettings {
  /** `GET` this path and expect 2xx or 3xx; absent: `/health/ping` (pong) or `/ready`. */
  path?: string;
  /** Only open a TCP connection. */
  tcp?: boolean;
  /** No probe before this long after the process started. */
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

/** The two probes a ready replica gets. */
export interface Probes {
  readiness: Readonly<ProbeSettings>;
  liveness: Readonly<ProbeSettings>;
}

/**
 * The probes a replica gets when its container names none: by default quicker to act than
 * Kubernetes' (10 s periods). Readiness reacts to one miss; liveness waits for five in a row, so a
 * host busy with one slow prediction (the Python host answers pings between requests) is not
 * killed for it.
 */
export function defaultProbes(options: RuntimeOptions): Readonly<Probes> {
  return Object.freeze({
    readiness: Object.freeze({
      initialDelayMs: 0,
      periodMs: options.readinessPeriod,
      timeoutMs: options.readinessTimeout,
      failureThreshold: options.readinessFailureThreshold,
      successThreshold: options.readinessSuccessThreshold,
    }),
    liveness: Object.freeze({
      initialDelayMs: 0,
      periodMs: options.livenessPeriod,
      timeoutMs: options.livenessTimeout,
      failureThreshold: options.livenessFailureThreshold,
      // Kubernetes allows only 1 for a liveness probe.
      successThreshold: 1,
    }),
  });
}

/** A manifest's probe over the defaults: the fields it gives win. */
export function probeSettings(probe: Probe | undefined, defaults: Readonly<ProbeSettings>): Readonly<ProbeSettings> {
  if (probe === undefined) return defaults;
  const settings: ProbeSettings = {
    initialDelayMs: probe.initialDelaySeconds === undefined ? defaults.initialDelayMs : probe.initialDelaySeconds * 1000,
    periodMs: probe.periodSeconds === undefined ? defaults.periodMs : probe.periodSeconds * 1000,
    timeoutMs: probe.timeoutSeconds === undefined ? defaults.timeoutMs : probe.timeoutSeconds * 1000,
    failureThreshold: probe.failureThreshold ?? defaults.failureThreshold,
    successThreshold: probe.successThreshold ?? defaults.successThreshold,
  };
  if (probe.httpGet?.path !== undefined) settings.path = probe.httpGet.path;
  else if (probe.tcpSocket !== undefined) settings.tcp = true;
  return Object.freeze(settings);
}

interface ProbeAnswer {
  status: number;
  body: string;
}

/** How a probe reaches a replica: where, and how much of an answer it reads. */
export interface ProbeTarget {
  host: string;
  port: number;
  /** Bytes of an answer's body read. */
  bodyLimit: number;
}

function get(target: ProbeTarget, path: string, signal: AbortSignal, timeoutMs: number): Promise<ProbeAnswer | null> {
  const { host, port, bodyLimit } = target;
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < bodyLimit) body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** True when the replica at `target` says it is ready; false when it does not answer, or not yet. */
export async function isReady(target: ProbeTarget, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  const ping = await get(target, '/health/ping', signal, timeoutMs);
  if (ping === null) return false;
  if (ping.status === 200 && ping.body.includes('pong')) return true;
  if (ping.status !== 404) return false;
  const ready = await get(target, '/ready', signal, timeoutMs);
  return ready !== null && ready.status === 200;
}

function accepts(host: string, port: number, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** One probe of the replica at `target`, as `settings` say; false on no answer within its timeout. */
export async function probeOnce(target: ProbeTarget, settings: Readonly<ProbeSettings>, signal: AbortSignal): Promise<boolean> {
  if (settings.tcp === true) return accepts(target.host, target.port, signal, settings.timeoutMs);
  if (settings.path === undefined) return isReady(target, signal, settings.timeoutMs);
  const answer = await get(target, settings.path, signal, settings.timeoutMs);
  return answer !== null && answer.status >= 200 && answer.status < 400;
}

export interface ProbeLoopOptions {
  target: ProbeTarget;
  /** Read before every probe, so an applied manifest's new timings take effect without a restart. */
  settings: () => Readonly<ProbeSettings>;
  /** When the process started (for `initialDelayMs`). */
  startedAt: number;
  signal: AbortSignal;
  /** Told of every probe's outcome, with how many in a row had that outcome. */
  onResult: (ok: boolean, streak: number) => void;
}

/** Probes every `periodMs` (from the start of one probe to the next) until `signal` aborts. */
export async function probeLoop(options: ProbeLoopOptions): Promise<void> {
  const { signal } = options;
  let last: boolean | undefined;
  let streak = 0;
  const first = options.startedAt + options.settings().initialDelayMs;
  let next = Math.max(Date.now() + options.settings().periodMs, first);
  while (!signal.aborted) {
    await sleep(Math.max(0, next - Date.now()), signal);
    if (signal.aborted) return;
    const settings = options.settings();
    const began = Date.now();
    next = began + settings.periodMs;
    const ok = await probeOnce(options.target, settings, signal);
    if (signal.aborted) return;
    streak = ok === last ? streak + 1 : 1;
    last = ok;
    options.onResult(ok, streak);
  }
}

export interface WaitOptions {
  target: ProbeTarget;
  intervalMs: number;
  timeoutMs: number;
  /** How long one health check may take. */
  pingTimeoutMs: number;
  signal: AbortSignal;
}

export type WaitOutcome = 'ready' | 'timeout' | 'aborted';

/** Polls the replica until it is ready, the timeout passes, or `signal` aborts (the process exited, or it is being stopped). */
export async function waitUntilReady(options: WaitOptions): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  const { signal } = options;
  while (!signal.aborted) {
    if (await isReady(options.target, signal, options.pingTimeoutMs)) return signal.aborted ? 'aborted' : 'ready';
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

/** `GET /health/ping`, the way a replica's message names its probe. */
export function describeProbe(settings: Readonly<ProbeSettings>): string {
  if (settings.tcp === true) return 'a TCP connection';
  return `GET ${settings.path ?? '/health/ping'} within ${settings.timeoutMs} ms`;
}
