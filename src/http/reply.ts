/**
 * Answering: JSON bodies and Seldon failure bodies with the error's own status. A failure sent
 * while the request body is still arriving says `Connection: close`, so the rest is not read; an
 * exchange already answered (by the request timeout, say) or whose client is gone is left alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asTrantorError, failureBody, type TrantorError } from '../protocol/index.ts';
import { ClientGone } from './body.ts';

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
  // The rest of a refused body is not read: close the connection once answered.
  if (!req.complete) headers.push('Connection', 'close');
  sendJson(res, error.status, failureBody(error), headers);
  return error;
}
