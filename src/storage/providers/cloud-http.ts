/**
 * The HTTP the S3 and GCS providers share: one request function over node:http(s) with kept-alive
 * connections (a multi-file model reuses them), an unreachable endpoint turned into UNAVAILABLE
 * naming it, and the checks every ranged read needs (a resumed read must start where it was asked
 * to, or the cache would splice two different offsets together).
 *
 * node:http rather than fetch: S3_VERIFY_SSL=0 needs a TLS option fetch does not take without
 * another dependency, and a response body here is already an async iterable of bytes.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { TrantorError } from '../../protocol/index.ts';

const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
  httpsUnverified: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
};

export interface CloudRequest {
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  /** false to accept any TLS certificate (S3_VERIFY_SSL=0). */
  readonly verifyTls?: boolean;
  /** The model URI this request serves, for messages. */
  readonly uri: URL;
  /** What to add when the server's TLS certificate is refused (how to turn checks off, if the store allows it). */
  readonly tlsAdvice?: string;
}

/** Sends one request; resolves with the response head (any status), its body still to read. */
export function send(url: URL, request: CloudRequest): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  const agent = secure ? (request.verifyTls === false ? agents.httpsUnverified : agents.https) : agents.http;
  const transport = secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(url, { method: request.method ?? 'GET', headers: request.headers, agent, signal: request.signal }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (request.signal.aborted) {
        reject(request.signal.reason instanceof Error ? request.signal.reason : err);
        return;
      }
      const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(err.code ?? '');
      const advice = certificate
        ? `the store's TLS certificate was not accepted${request.tlsAdvice === undefined ? '' : `; ${request.tlsAdvice}`}`
        : 'check the endpoint and that the store is up';
      reject(new TrantorError('UNAVAILABLE', `${request.uri.href}: cannot reach ${url.origin} (${err.code ?? err.message}); ${advice}`, { cause: err }));
    });
    req.end();
  });
}

/** A response body as text (error bodies and listings; at most `limit` bytes are kept). */
export async function readText(response: IncomingMessage, limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (length < limit) chunks.push(chunk);
    length += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Checks a read's answer before its bytes are handed on: 200 for a read from 0, 206 starting at
 * the offset for a resumed one. Returns the body; `fail` turns any other status into the error.
 */
export async function rangedBody(
  response: IncomingMessage,
  offset: number,
  uri: URL,
  fail: (response: IncomingMessage) => Promise<never>,
): Promise<AsyncIterable<Uint8Array>> {
  const status = response.statusCode ?? 0;
  if (status === 416 && offset > 0) {
    response.resume();
    throw new TrantorError('UNAVAILABLE', `${uri.href}: the store has no bytes from offset ${offset} (416); the object shrank, fetch it again`);
  }
  if (status !== (offset > 0 ? 206 : 200)) {
    if (status === 200 && offset > 0) {
      response.resume();
      throw new TrantorError('UNAVAILABLE', `${uri.href}: asked for bytes from ${offset}, the store sent the whole object; fetch it again`);
    }
    return fail(response);
  }
  if (offset > 0) {
    const start = /^bytes (\d+)-/.exec(response.headers['content-range'] ?? '')?.[1];
    if (start === undefined || Number(start) !== offset) {
      response.resume();
      throw new TrantorError('UNAVAILABLE', `${uri.href}: asked for bytes from ${offset}, the store sent ${response.headers['content-range'] ?? 'no Content-Range'}`);
    }
  }
  return response;
}

/** `bytes=N-` for a resumed read, nothing for a whole one. */
export function rangeHeader(offset: number): Record<string, string> {
  return offset > 0 ? { range: `bytes=${offset}-` } : {};
}
