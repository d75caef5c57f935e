/**
 * Reading a request body, the one way every server does it: a byte limit (refused early when
 * Content-Length already says too much), and an abort policy — a client that closes, resets or
 * errors mid-body makes the promise reject with ClientGone, never an unhandled rejection or a
 * crash. A refused body is not kept: the reply says `Connection: close` (see reply.ts).
 * The time a body may take is the server's request timeout (server.ts), not a timer per request.
 */
import type { IncomingMessage } from 'node:http';
import { TrantorError } from '../protocol/index.ts';

/** The body is refused: larger than `limitBytes`, named in the message with its unit. */
export function bodyTooLarge(limitBytes: number, what = 'the request body'): TrantorError {
  return new TrantorError('BODY_TOO_LARGE', `${what} is larger than the limit of ${limitBytes} bytes (${formatBytes(limitBytes)})`);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** The client went away before its body was complete: there is no one to answer. */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before the request body was complete');
    this.name = 'ClientGone';
  }
}

/** Content-Length as a number, or undefined when absent (chunked) or not a number. */
export function announcedLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export interface BodyLimit {
  readonly limitBytes: number;
  /** Names the body in the 413 message ("the manifest", "the event"). */
  readonly what?: string;
}

/**
 * The whole body as bytes. Rejects with BODY_TOO_LARGE as soon as more than the limit is announced
 * or arrives (and stops reading), with ClientGone when the client aborts.
 * `announced` is the Content-Length when the caller already parsed it (the gateway scans raw
 * headers); otherwise it is read from the request.
 */
export function readBody(req: IncomingMessage, limit: BodyLimit, announced?: number): Promise<Buffer> {
  const length = announced ?? announcedLength(req);
  if (length !== undefined && length > limit.limitBytes) {
    req.pause();
    return Promise.reject(bodyTooLarge(limit.limitBytes, limit.what));
  }
  if (req.complete && req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    let first: Buffer | undefined;
    let rest: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit.limitBytes) {
        stop();
        req.pause();
        first = undefined;
        rest = undefined;
        reject(bodyTooLarge(limit.limitBytes, limit.what));
        return;
      }
      if (first === undefined) first = chunk;
      else (rest ??= [first]).push(chunk);
    };
    const onEnd = (): void => {
      stop();
      if (rest !== undefined) resolve(Buffer.concat(rest, size));
      else resolve(first ?? Buffer.alloc(0));
    };
    // 'error' (a reset) and 'close' before 'end' (an abort) both mean the body will never be whole.
    const onGone = (): void => {
      stop();
      reject(new ClientGone());
    };
    const stop = (): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onGone);
      req.removeListener('close', onGone);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/** The whole body as UTF-8 text; see readBody. */
export async function readText(req: IncomingMessage, limit: BodyLimit, announced?: number): Promise<string> {
  const body = await readBody(req, limit, announced);
  return body.toString('utf8');
}
