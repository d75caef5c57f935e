/**
 * Sending one fuzz input and classifying what came back. Raw inputs go over a bare `node:net`
 * socket, byte for byte (nothing a client library would refuse to send is out of reach); inputs
 * that are well-formed HTTP with bad content go through undici. Every exchange has a deadline.
 */
import { connect } from 'node:net';
import { request, type Dispatcher } from 'undici';

/** What the fuzzer does after writing a raw request's bytes. */
export type RawEnding =
  /** The request is complete: an answer must come before the deadline. */
  | 'answer'
  /** Half-close at once (a body cut short, then the client is done): any answer is checked. */
  | 'end'
  /** Reset at once. */
  | 'reset'
  /** Keep the socket open for `holdMs` (a body that stops mid-way), then close it. */
  | 'hold';

export interface RawInput {
  readonly via: 'raw';
  readonly bytes: Buffer;
  readonly ending: RawEnding;
  readonly holdMs?: number;
}

export interface HttpInput {
  readonly via: 'undici';
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

export type Input = RawInput | HttpInput;

export type OutcomeKind =
  /** A status line arrived. */
  | 'answered'
  /** The server closed the connection without a status line. */
  | 'closed'
  /** Nothing before the deadline. */
  | 'timeout'
  /** No connection at all: the server is gone. */
  | 'refused';

export interface Outcome {
  readonly kind: OutcomeKind;
  readonly status?: number;
  /** The start of the answer, for reports of a 5xx. */
  readonly excerpt?: string;
  readonly ms: number;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;

/** Writes a raw request and waits for a status line, a close, or the deadline. */
export function sendRaw(port: number, input: RawInput, deadlineMs: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (kind: OutcomeKind): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(hold);
      socket.destroy();
      const text = received.subarray(0, 600).toString('latin1');
      const status = STATUS_LINE.exec(text)?.[1];
      const ms = Date.now() - started;
      if (status !== undefined) resolve({ kind: 'answered', status: Number(status), excerpt: text, ms });
      else resolve({ kind, ms, ...(text === '' ? {} : { excerpt: text }) });
    };
    const deadline = setTimeout(() => finish('timeout'), deadlineMs);
    let hold: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // The status line (and the headers after it) are all the fuzzer judges.
      if (received.includes('\r\n\r\n') || received.length > 4096) finish('answered');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? 'refused' : 'closed'));
    socket.on('close', () => finish('closed'));
    socket.on('connect', () => {
      socket.write(input.bytes, () => {
        if (settled) return;
        if (input.ending === 'end') socket.end();
        else if (input.ending === 'reset') socket.resetAndDestroy();
        else if (input.ending === 'hold') hold = setTimeout(() => socket.end(), input.holdMs ?? 200);
      });
    });
  });
}

/** Sends a well-formed HTTP request through undici and waits for its answer. */
export async function sendHttp(dispatcher: Dispatcher, origin: string, input: HttpInput, deadlineMs: number): Promise<Outcome> {
  const started = Date.now();
  const signal = AbortSignal.timeout(deadlineMs);
  try {
    const res = await request(`${origin}${input.path}`, {
      dispatcher,
      method: input.method,
      headers: input.headers,
      body: input.body ?? null,
      signal,
      headersTimeout: deadlineMs,
      bodyTimeout: deadlineMs,
    });
    let excerpt = '';
    if (res.statusCode >= 500) excerpt = (await res.body.text()).slice(0, 600);
    else await res.body.dump({ limit: 4 * 1024 * 1024 });
    return { kind: 'answered', status: res.statusCode, ms: Date.now() - started, ...(excerpt === '' ? {} : { excerpt }) };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const ms = Date.now() - started;
    if (signal.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timeout', ms };
    if (code === 'ECONNREFUSED') return { kind: 'refused', ms };
    return { kind: 'closed', ms, excerpt: err instanceof Error ? `${code} ${err.message}` : String(err) };
  }
}
