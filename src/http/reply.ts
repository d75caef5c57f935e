/**
 * Answering: JSON bodies and Seldon failure bodies with the error's own status. A failure sent
 * while the request body is still arriving says `Connection: close`, so the rest is not kept; an
 * exchange already answered (by the request timeout, say) or whose client is gone is left alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asTrantorError, failureBody, type TrantorError } from '../protocol/index.ts';
import { ClientGone } from './body.ts';
import { httpOptions } from './options.ts';

const JSON_TYPE = 'application/json';

/** A JSON answer. `extra` is a flat list of header names and values. */
export function sendJson(res: ServerResponse, status: number, body: unknown, extra?: readonly string[]): void {
  sendText(res, status, JSON_TYPE, JSON.stringify(body), extra);
}

export function sendText(res: ServerResponse, status: number, type: string, text: string, extra?: readonly string[]): void {
  if (res.writableEnded) return;
  const headers = ['Content-Type', type, 'Content-Length', String(Buffer.byteLength(text))];
  if (extra !== undefined) headers.push(...extra);
  res.writeHead(status, headers);
  res.end(text);
}

/** True when there is nobody left to answer, or the answer has already gone. */
export function unanswerable(req: IncomingMessage, res: ServerResponse, err?: unknown): boolean {
  return err instanceof ClientGone || res.writableEnded || res.destroyed || (req.destroyed && !req.complete);
}

/**
 * Answers `err` as a Seldon failure body and returns it as a TrantorError (for logging), or
 * undefined when there was no one to answer. Headers already sent: the connection is cut, since a
 * half-written answer cannot be mended.
 */
export function sendFailure(req: IncomingMessage, res: ServerResponse, err: unknown, extra?: readonly string[]): TrantorError | undefined {
  if (unanswerable(req, res, err)) return undefined;
  const error = asTrantorError(err);
  if (res.headersSent) {
    res.destroy();
    return error;
  }
  const headers = extra === undefined ? [] : [...extra];
  if (!req.complete) closeAfterAnswer(req, res, headers);
  sendJson(res, error.status, failureBody(error), headers);
  return error;
}

/**
 * For an answer sent before the request body is complete: adds `Connection: close` to `headers`
 * and closes the connection after the answer — but not at once. Closing a socket with unread
 * bytes makes the kernel send a reset, and a client still uploading (curl, fetch, the CLI) then
 * loses the answer it was about to read. So what still arrives is discarded, unkept, until the
 * client stops or `lingerMs` (the `http.linger` option) passes, as web servers' "lingering close" does.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, headers: string[], lingerMs: number = httpOptions.defaults.linger): void {
  headers.push('Connection', 'close');
  const socket = req.socket;
  // Registered after node's own 'finish' handler, which has just asked the socket to destroy itself.
  res.once('finish', () => {
    if (socket.destroyed) return;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the very listener destroySoon added
    socket.removeListener('finish', socket.destroy);
    const linger = setTimeout(() => socket.destroy(), lingerMs);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    // Discarded: no 'data' listener is left on the request.
    req.resume();
  });
}
