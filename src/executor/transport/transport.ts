/**
 * How the executor reaches a graph node. The walk speaks only to this interface, so a new way
 * of reaching components (in-process hosts, gRPC) is a new Transport, not a change to the walk.
 */
import type { UnitKey } from './endpoints.ts';

export interface CallOptions {
  /** `POST` unless told; `GET` sends no body. */
  method?: 'GET' | 'POST';
  /** Safe to send again to another replica when the connection fails mid-call (predictions are). */
  idempotent: boolean;
  /** Time the call may take, retries included. */
  timeoutMs: number;
  /** Extra request headers, lower-case names. */
  headers?: Readonly<Record<string, string>>;
}

export interface TransportResponse {
  status: number;
  /** The response body as text (components answer JSON). */
  readonly body: string;
  /**
   * The body already parsed, when the transport has it as a value (a component served in
   * process): readers use it and skip a JSON round trip.
   */
  readonly value?: unknown;
}

export interface Transport {
  /**
   * Sends `body` to the wrapper path `path` (`/predict`, `/route` …) of a ready replica of
   * `unit`. Resolves with whatever status the component answered; rejects with a TrantorError
   * only when no answer came (UNAVAILABLE, UPSTREAM_TIMEOUT).
   *
   * Callers should pass the same `unit` object on every call for a node: a transport may key
   * its per-node state (round-robin position, connections) on the object.
   */
  call(unit: UnitKey, path: string, body: string, options: CallOptions): Promise<TransportResponse>;
  /** Closes every connection; calls made afterwards fail. */
  close(): Promise<void>;
}

/** `node "classifier" (predictor default of seldon/iris-model)`, the way errors name a node. */
export function describeUnit(unit: UnitKey): string {
  return `node "${unit.node}" (predictor ${unit.predictor} of ${unit.namespace}/${unit.deployment})`;
}
