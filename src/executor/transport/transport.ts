/**
 * How the executor reaches a graph node. The walk speaks only to this interface, in Seldon's
 * methods and messages (as Seldon's Go executor calls `client.Predict`, `client.Route`): how a
 * method travels — a wrapper path over HTTP, a call in process, an RPC — is each transport's own
 * business, so a gRPC or V2 transport arrives without a change to the walk.
 */
import { TrantorError, parseJsonLossless, parseSeldonMessage, stringifyJson } from '../../protocol/index.ts';
import type { Feedback, SeldonMessage } from '../../protocol/index.ts';
import type { UnitKey } from './endpoints.ts';

/** A component method the executor calls; the HTTP transport's path table maps each to a wrapper path. */
export type ComponentMethod = 'predict' | 'transformInput' | 'transformOutput' | 'route' | 'aggregate' | 'sendFeedback' | 'metadata' | 'health';

export interface CallOptions {
  /** Safe to send again to another replica when the connection fails mid-call (predictions are). */
  idempotent: boolean;
  /** Time the call may take, retries included. */
  timeoutMs: number;
}

/** A component's answer, parsed once where it crossed a wire: its message, or its failure. */
export type Reply<T> = Answer<T> | Failure;

export interface Answer<T> {
  /** The component's status, HTTP's numbering: 2xx. */
  readonly status: number;
  /** The answer as a value (exact JSON numbers kept): a Seldon message, or the metadata or health object. */
  readonly message: T;
  readonly failure?: undefined;
  readonly body?: undefined;
}

/**
 * A component that answered with a failure status (its own, as Seldon relays it), or with a
 * success that is not the protocol's (not JSON, not a Seldon message: BAD_UPSTREAM).
 */
export interface Failure {
  readonly status: number;
  readonly message?: undefined;
  /** What the executor answers for it: COMPONENT_FAILURE with the component's status, or BAD_UPSTREAM. */
  readonly failure: TrantorError;
  /** The failure's body as a value; undefined when it was not JSON. */
  readonly body: unknown;
}

/**
 * Every method resolves with the component's answer, parsed (a `Failure` when it answered one),
 * and rejects with a TrantorError only when no answer came (UNAVAILABLE, UPSTREAM_TIMEOUT).
 * Messages given are the caller's: a transport does not change them. Messages answered are
 * fresh values, the caller's to keep (the executor sets the reply's `meta` on the last one).
 *
 * Callers should pass the same `unit` object on every call for a node: a transport may key its
 * per-node state (round-robin position, connections, a loaded component) on the object.
 */
export interface Transport {
  predict(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>>;
  transformInput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>>;
  transformOutput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>>;
  route(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>>;
  /** The children's answers, in child order. */
  aggregate(unit: UnitKey, messages: readonly SeldonMessage[], options: CallOptions): Promise<Reply<SeldonMessage>>;
  sendFeedback(unit: UnitKey, feedback: Feedback, options: CallOptions): Promise<Reply<SeldonMessage>>;
  metadata(unit: UnitKey, options: CallOptions): Promise<Reply<unknown>>;
  /** The component's own health answer (Seldon's `/health/status`). */
  health(unit: UnitKey, options: CallOptions): Promise<Reply<unknown>>;
  /** Closes every connection; calls made afterwards fail. */
  close(): Promise<void>;
}

/** What a method sends: a message, the children's messages, feedback, or nothing (metadata, health). */
export type MethodPayload = SeldonMessage | readonly SeldonMessage[] | Feedback | undefined;

/**
 * A transport whose methods all travel one way, differing only in the method's name: it
 * implements `send`, and each named method is a call of it.
 */
export abstract class MethodTransport implements Transport {
  /** Answers a message method (all but metadata and health) with a Seldon message, as `answerOf` checks it. */
  protected abstract send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>>;
  abstract close(): Promise<void>;

  predict(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>> {
    return this.send(unit, 'predict', message, options) as Promise<Reply<SeldonMessage>>;
  }
  transformInput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>> {
    return this.send(unit, 'transformInput', message, options) as Promise<Reply<SeldonMessage>>;
  }
  transformOutput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>> {
    return this.send(unit, 'transformOutput', message, options) as Promise<Reply<SeldonMessage>>;
  }
  route(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<Reply<SeldonMessage>> {
    return this.send(unit, 'route', message, options) as Promise<Reply<SeldonMessage>>;
  }
  aggregate(unit: UnitKey, messages: readonly SeldonMessage[], options: CallOptions): Promise<Reply<SeldonMessage>> {
    return this.send(unit, 'aggregate', messages, options) as Promise<Reply<SeldonMessage>>;
  }
  sendFeedback(unit: UnitKey, feedback: Feedback, options: CallOptions): Promise<Reply<SeldonMessage>> {
    return this.send(unit, 'sendFeedback', feedback, options) as Promise<Reply<SeldonMessage>>;
  }
  metadata(unit: UnitKey, options: CallOptions): Promise<Reply<unknown>> {
    return this.send(unit, 'metadata', undefined, options);
  }
  health(unit: UnitKey, options: CallOptions): Promise<Reply<unknown>> {
    return this.send(unit, 'health', undefined, options);
  }
}

/** The methods that answer with a Seldon message (metadata and health answer any JSON value). */
export type MessageMethod = Exclude<ComponentMethod, 'metadata' | 'health'>;

/** Calls `method` of `transport`, for wrappers (metering, batching) that pass most methods on. */
export function invoke(transport: Transport, unit: UnitKey, method: MessageMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<SeldonMessage>>;
export function invoke(transport: Transport, unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>>;
export function invoke(transport: Transport, unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
  switch (method) {
    case 'predict':
      return transport.predict(unit, payload as SeldonMessage, options);
    case 'transformInput':
      return transport.transformInput(unit, payload as SeldonMessage, options);
    case 'transformOutput':
      return transport.transformOutput(unit, payload as SeldonMessage, options);
    case 'route':
      return transport.route(unit, payload as SeldonMessage, options);
    case 'aggregate':
      return transport.aggregate(unit, payload as readonly SeldonMessage[], options);
    case 'sendFeedback':
      return transport.sendFeedback(unit, payload as Feedback, options);
    case 'metadata':
      return transport.metadata(unit, options);
    case 'health':
      return transport.health(unit, options);
  }
}

/**
 * A component's 2xx answer, already a value, as a Reply: for a method that answers a message,
 * checked to be a Seldon message (BAD_UPSTREAM when it is not).
 */
export function answerOf(unit: UnitKey, method: ComponentMethod, status: number, value: unknown): Reply<unknown> {
  if (method === 'metadata' || method === 'health') return { status, message: value };
  try {
    return { status, message: parseSeldonMessage(value) };
  } catch (err) {
    const failure = new TrantorError('BAD_UPSTREAM', `node "${unit.node}" answered with something that is not a Seldon message: ${(err as Error).message}`);
    return { status, failure, body: value };
  }
}

/**
 * A component's 2xx answer as JSON text, parsed once: messages keep exact numbers (and NaN, as
 * Seldon's wrapper writes it); metadata and health are read as plain JSON.
 */
export function answerOfText(unit: UnitKey, method: ComponentMethod, status: number, text: string): Reply<unknown> {
  let value: unknown;
  try {
    value = method === 'metadata' || method === 'health' ? JSON.parse(text) : parseJsonLossless(text);
  } catch {
    return { status, failure: new TrantorError('BAD_UPSTREAM', `node "${unit.node}" answered with something that is not JSON: ${snippet(text)}`), body: undefined };
  }
  return answerOf(unit, method, status, value);
}

/** A component's answer as it came over a wire, status and text, parsed once into a Reply. */
export function replyOfText(unit: UnitKey, method: ComponentMethod, status: number, text: string): Reply<unknown> {
  if (status >= 200 && status < 300) return answerOfText(unit, method, status, text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return failureOf(unit, status, body, text);
}

/**
 * A component's failure status with its body (a value, or undefined when it was not JSON) and
 * text: its own status and message when it sent a Seldon failure body, as Seldon relays it.
 */
export function failureOf(unit: UnitKey, status: number, body: unknown, text: string): Failure {
  const seldon = typeof body === 'object' && body !== null ? (body as { status?: unknown }).status : undefined;
  if (typeof seldon === 'object' && seldon !== null && typeof (seldon as { info?: unknown }).info === 'string') {
    return { status, failure: seldonFailure(unit.node, status, seldon), body };
  }
  const detail = text.trim() === '' ? 'an empty body' : snippet(text);
  return { status, failure: new TrantorError('COMPONENT_FAILURE', `node "${unit.node}" answered HTTP ${status}: ${detail}`, { status }), body };
}

/** A failure status from a component's answer (`status.status` FAILURE), with its HTTP status when that is one. */
export function seldonFailure(node: string, httpStatus: number, status: NonNullable<SeldonMessage['status']>): TrantorError {
  const code = httpStatus >= 400 && httpStatus <= 599 ? httpStatus : 500;
  return new TrantorError('COMPONENT_FAILURE', status.info ?? `node "${node}" failed`, {
    status: code,
    reason: status.reason === '' ? undefined : status.reason,
  });
}

/** The failure's body as text, for a transport that holds it as a value. */
export function failureText(body: unknown): string {
  return body === undefined ? '' : stringifyJson(body);
}

function snippet(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** `node "classifier" (predictor default of seldon/iris-model)`, the way errors name a node. */
export function describeUnit(unit: UnitKey): string {
  return `node "${unit.node}" (predictor ${unit.predictor} of ${unit.namespace}/${unit.deployment})`;
}
