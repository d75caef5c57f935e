/**
 * The dashboard's calls to the control plane, all on this page's own origin: `/dashboard/api/v1/…`
 * is the control-plane API (docs/api.md) behind a dashboard session, `/dashboard/api/stream` the
 * live feed. The session comes from the one-time code in the login link (`trantor dashboard`) and is
 * kept in this origin's localStorage: unlike a cookie, no page on another port of 127.0.0.1 is sent it.
 */

const SESSION_KEY = 'trantor.dashboard.session';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export function currentSession(): string | null {
  return localStorage.getItem(SESSION_KEY);
}

export function forgetSession(): void {
  localStorage.removeItem(SESSION_KEY);
}

/** Redeems the login link's one-time code for a session. */
export async function login(code: string): Promise<void> {
  const res = await fetch('/dashboard/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  const body = (await res.json().catch(() => ({}))) as { session?: string; status?: { reason?: string; info?: string } };
  if (!res.ok || typeof body.session !== 'string') throw new ApiError(res.status, body.status?.reason ?? 'LOGIN_FAILED', body.status?.info ?? `login failed (${res.status})`);
  localStorage.setItem(SESSION_KEY, body.session);
}

/** Listeners told when the session is refused (the control plane restarted, or the session ended). */
const loggedOut = new Set<() => void>();
export function onLoggedOut(listener: () => void): () => void {
  loggedOut.add(listener);
  return () => loggedOut.delete(listener);
}

function headers(extra?: HeadersInit): Headers {
  const h = new Headers(extra);
  const session = currentSession();
  if (session !== null) h.set('authorization', `Bearer ${session}`);
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  let reason = `HTTP_${res.status}`;
  let message = text;
  try {
    const body = JSON.parse(text) as { status?: { reason?: string; info?: string }; error?: { message?: string } };
    reason = body.status?.reason ?? reason;
    message = body.status?.info ?? body.error?.message ?? text;
  } catch {
    // not JSON: the text is the message
  }
  if (res.status === 401) {
    forgetSession();
    for (const listener of [...loggedOut]) listener();
  }
  return new ApiError(res.status, reason, message || `HTTP ${res.status}`);
}

/** `path` as the API names it (`/v1/deployments`) or a dashboard path (`/dashboard/api/requests`). */
function address(path: string): string {
  return path.startsWith('/dashboard/') ? path : `/dashboard/api${path}`;
}

export interface CallOptions {
  method?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  body?: string;
  contentType?: string;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

async function send(path: string, options: CallOptions): Promise<Response> {
  const h = headers(options.headers);
  let body: string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    h.set('content-type', 'application/json');
  } else if (options.contentType !== undefined) {
    h.set('content-type', options.contentType);
  }
  const init: RequestInit = { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers: h };
  if (body !== undefined) init.body = body;
  if (options.signal !== undefined) init.signal = options.signal;
  const res = await fetch(address(path), init);
  if (!res.ok) throw await failure(res);
  return res;
}

/** Calls the API and reads its JSON answer. */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await send(path, options);
  return (await res.json()) as T;
}

/** Calls the API and reads its answer as text. */
export async function apiText(path: string, options: CallOptions = {}): Promise<string> {
  return (await send(path, options)).text();
}

/** Calls the API and hands each line of its streamed answer to `onLine` until it ends or `signal` aborts. */
export async function followLines(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  const res = await send(path, { signal });
  if (res.body === null) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1) {
        onLine(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
    if (rest !== '') onLine(rest);
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/**
 * The live feed (server-sent events over fetch, so the session goes in a header): each event's
 * name and parsed data to `onEvent`; reconnects after a dropped connection until `signal` aborts.
 * `onState` says whether the feed is connected.
 */
export function openFeed(onEvent: (event: string, data: unknown) => void, onState: (connected: boolean) => void, signal: AbortSignal): void {
  const run = async (): Promise<void> => {
    let event = 'message';
    let data = '';
    await followLines(
      '/dashboard/api/stream',
      (line) => {
        if (line === '') {
          if (data !== '') onEvent(event, JSON.parse(data) as unknown);
          event = 'message';
          data = '';
        } else if (line.startsWith('event:')) {
          event = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          data += line.slice(5).trimStart();
        } else if (line.startsWith(':')) {
          onState(true); // a comment: the first one says the stream is open
        }
      },
      signal,
    );
  };
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        await run();
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) return onState(false);
      }
      onState(false);
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  void loop();
}
