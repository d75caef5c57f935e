/**
 * The broker ingress, as Knative's broker answers: POST only (405 with `Allow: POST`), 404 for a
 * broker that does not exist, 413 past the size limit, 400 with the reason for an event that is not
 * valid (nothing stored), and 202 with an empty body once the event is durably stored.
 *
 * Two faces: `ingressResponse` takes a request as values and returns the answer as values (for any
 * server, and for tests); `serveIngress` mounts it on node:http's request and response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { announcedLength, closeAfterAnswer, bodyTooLarge, readBody, unanswerable } from '../http/index.ts';
import { decodeHttpEvent, TrantorError, asTrantorError, failureBody } from '../protocol/index.ts';
import type { CloudEvent, HttpHeaders } from '../protocol/index.ts';

export interface IngressRequest {
  method: string;
  headers: HttpHeaders;
  body: Buffer;
}

export interface IngressResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the ingress needs from the broker behind it. */
export interface IngressTarget {
  hasBroker(namespace: string, name: string): boolean;
  /** Stores a decoded, valid event; resolves once it is durable. */
  accept(namespace: string, name: string, event: CloudEvent): Promise<unknown>;
}

const ACCEPTED: IngressResponse = Object.freeze({ status: 202, headers: Object.freeze({}) as Record<string, string>, body: '' });

function failure(err: TrantorError, extra: Record<string, string> = {}): IngressResponse {
  return {
    status: err.status,
    headers: { 'content-type': 'application/json', ...extra },
    body: JSON.stringify(failureBody(err)),
  };
}

function preflight(target: IngressTarget, namespace: string, name: string, method: string): IngressResponse | undefined {
  if (method !== 'POST') {
    return failure(new TrantorError('METHOD_NOT_ALLOWED', `the broker ingress accepts only POST, not ${method}`), { allow: 'POST' });
  }
  if (!target.hasBroker(namespace, name)) {
    return failure(new TrantorError('NOT_FOUND', `no broker ${name} in namespace ${namespace}`));
  }
  return undefined;
}

function tooLarge(limit: number): IngressResponse {
  return failure(bodyTooLarge(limit, 'the event'));
}

/** The broker's answer to one request. */
export async function ingressResponse(
  target: IngressTarget,
  namespace: string,
  name: string,
  request: IngressRequest,
  /** The largest event taken (`eventing.ingressLimit`). */
  limitBytes: number,
): Promise<IngressResponse> {
  const refused = preflight(target, namespace, name, request.method);
  if (refused !== undefined) return refused;
  if (request.body.length > limitBytes) return tooLarge(limitBytes);
  return accept(target, namespace, name, request.headers, request.body);
}

async function accept(target: IngressTarget, namespace: string, name: string, headers: HttpHeaders, body: Buffer): Promise<IngressResponse> {
  let event: CloudEvent;
  try {
    event = decodeHttpEvent(headers, body);
  } catch (err) {
    return failure(asTrantorError(err));
  }
  try {
    await target.accept(namespace, name, event);
  } catch (err) {
    return failure(asTrantorError(err));
  }
  return ACCEPTED;
}

/** Serves one node:http request for broker `namespace/name`. Never rejects. */
export async function serveIngress(
  target: IngressTarget,
  namespace: string,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
  /** The largest event taken (`eventing.ingressLimit`). */
  limitBytes: number,
): Promise<void> {
  let answer = preflight(target, namespace, name, req.method ?? 'GET');
  if (answer === undefined) {
    try {
      const body = await readBody(req, { limitBytes, what: 'the event' }, announcedLength(req));
      answer = await accept(target, namespace, name, req.headers, body);
    } catch (err) {
      // A client gone mid-body has no one to answer; a body too large is refused unread.
      if (unanswerable(req, res, err)) return;
      answer = failure(asTrantorError(err));
    }
  }
  if (unanswerable(req, res)) return;
  const headers: string[] = [];
  for (const [header, value] of Object.entries(answer.headers)) headers.push(header, value);
  // Not keeping the rest of a refused body: close the connection once answered.
  if (!req.complete) closeAfterAnswer(req, res, headers);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/**
 * The broker a path names, Knative's broker-ingress layout: `/<namespace>/<broker>` (a trailing
 * slash allowed). Undefined for any other path.
 */
export function brokerFromPath(pathname: string): { namespace: string; name: string } | undefined {
  const m = /^\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)\/?$/.exec(pathname);
  if (m === null) return undefined;
  return { namespace: m[1]!, name: m[3]! };
}

/** A broker's in-cluster host name, `<broker>-broker.<namespace>.svc[.cluster.local][:port]`, as the seeds' curl sends it. */
export const BROKER_HOST = /^([a-z0-9-]+)-broker\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?(?::\d+)?$/;

/** The broker a `Host` header names: `default-broker.default.svc.cluster.local` → broker default in namespace default. */
export function brokerFromHost(host: string | undefined): { namespace: string; name: string } | undefined {
  const match = BROKER_HOST.exec(host ?? '');
  return match === null ? undefined : { namespace: match[2]!, name: match[1]! };
}
