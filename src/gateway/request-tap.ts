/**
 * The gateway's tap for the dashboard's request inspector: after answering a prediction or a
 * feedback (Seldon's protocol and V2, over REST or gRPC), the gateway hands the request and its answer to a
 * `RequestTap`. The tap says whether it wants them (`active`) before the gateway keeps anything
 * of a request, so while no one looks the tap costs one property read per request.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { SeldonMessage } from '../protocol/index.ts';
import type { RouteKind } from './routes.ts';

/** One answered request, as the gateway hands it over: bodies as they are (the tap cuts and copies them). */
export interface TappedRequest {
  readonly puid: string;
  /** When it arrived, ms since the epoch. */
  readonly time: number;
  readonly namespace: string;
  readonly deployment: string;
  /** The predictor that answered; undefined when the request failed before one was picked. */
  readonly predictor: string | undefined;
  /** The HTTP method; `gRPC` for a gRPC call. */
  readonly method: string;
  /** The URL's path, without the query; a gRPC call's full method (`/seldon.protos.Seldon/Predict`). */
  readonly path: string;
  /** The HTTP status; a gRPC call's is REST's for the same outcome, and `grpcStatus` names its code. */
  readonly status: number;
  /** A gRPC call's status code by name (`OK`, `INVALID_ARGUMENT`). */
  readonly grpcStatus?: string | undefined;
  readonly latencyMs: number;
  /** The body as it came (a GET's query string; a gRPC call's message as JSON); empty when none was read. */
  readonly request: string | Uint8Array;
  /** The answer's body as sent (a gRPC answer as JSON, a failure as `CODE: message`). */
  readonly response: string | Uint8Array;
  /** The answer's `meta.requestPath`, when it had one. */
  readonly requestPath: Readonly<Record<string, string>> | undefined;
}

export interface RequestTap {
  /** Read once per request before anything is kept: while false, the gateway keeps nothing for the tap. */
  readonly active: boolean;
  /** Called once per tapped request, after its answer was written. */
  record(request: TappedRequest): void;
}

/** What the gateway gathers for the tap while a tapped request is answered. */
export interface TapState {
  readonly namespace: string;
  readonly deployment: string;
  predictor: string | undefined;
  request: string | Uint8Array;
  response: string | Uint8Array;
  requestPath: Readonly<Record<string, string>> | undefined;
}

/** The answer's body and the path its prediction took, for the request tap. */
export function tapAnswer(tap: TapState, body: string, reply: SeldonMessage): void {
  tap.response = body;
  const path = reply.meta?.requestPath;
  if (path !== undefined) tap.requestPath = path;
}

/** The routes whose requests the tap sees: predictions and feedback, Seldon's and V2's. */
export function isTappedRoute(kind: RouteKind): boolean {
  return kind === 'predictions' || kind === 'feedback' || kind === 'v2-infer';
}

/** How one answered request was called and answered, beside what its TapState gathered. */
export interface TappedCall {
  readonly puid: string;
  /** `Date.now()` and `performance.now()` when it arrived. */
  readonly started: number;
  readonly t0: number;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly grpcStatus?: string | undefined;
}

/** Hands one answered request to `tap`. The tap's failure is logged, not the request's: it was answered already. */
export function handToTap(tap: RequestTap | undefined, state: TapState, call: TappedCall, logger: Logger | undefined): void {
  if (tap === undefined) return;
  try {
    const request: { -readonly [K in keyof TappedRequest]: TappedRequest[K] } = {
      puid: call.puid,
      time: call.started,
      namespace: state.namespace,
      deployment: state.deployment,
      predictor: state.predictor,
      method: call.method,
      path: call.path,
      status: call.status,
      latencyMs: performance.now() - call.t0,
      request: state.request,
      response: state.response,
      requestPath: state.requestPath,
    };
    if (call.grpcStatus !== undefined) request.grpcStatus = call.grpcStatus;
    tap.record(request);
  } catch (err) {
    logger?.warn({ err, puid: call.puid }, 'the request tap failed on a request; the request was answered');
  }
}
