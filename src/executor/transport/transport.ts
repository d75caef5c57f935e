/**
 * How the executor reaches a graph node. The walk speaks only to this interface, in Seldon's
 * methods and messages (as Seldon's Go executor calls `client.Predict`, `client.Route`): how a
 * method travels — a wrapper path over HTTP, a call in process, an RPC — is each transport's own
 * business, so a gRPC or V2 transport arrives without a change to the walk.
 */
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

export interface TransportResponse {
  /** The component's status, HTTP's numbering (a component failure keeps its own). */
  status: number;
  /** The answer as JSON text (made on demand by a transport that has the value). */
  readonly body: string;
  /**
   * The answer already as a value, when the transport has it (a component served in process):
   * readers use it and skip a JSON round trip.
   */
  readonly value?: unknown;
}

/**
 * Every method resolves with whatever status the component answered and rejects with a
 * TrantorError only when no answer came (UNAVAILABLE, UPSTREAM_TIMEOUT). Messages given are the
 * caller's: a transport does not change them.
 *
 * Callers should pass the same `unit` object on every call for a node: a transport may key its
 * per-node state (round-robin position, connections, a loaded component) on the object.
 */
export interface Transport {
  predict(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse>;
  transformInput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse>;
  transformOutput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse>;
  route(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse>;
  /** The children's answers, in child order. */
  aggregate(unit: UnitKey, messages: readonly SeldonMessage[], options: CallOptions): Promise<TransportResponse>;
  sendFeedback(unit: UnitKey, feedback: Feedback, options: CallOptions): Promise<TransportResponse>;
  metadata(unit: UnitKey, options: CallOptions): Promise<TransportResponse>;
  /** The component's own health answer (Seldon's `/health/status`). */
  health(unit: UnitKey, options: CallOptions): Promise<TransportResponse>;
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
  protected abstract send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<TransportResponse>;
  abstract close(): Promise<void>;

  predict(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'predict', message, options);
  }
  transformInput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'transformInput', message, options);
  }
  transformOutput(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'transformOutput', message, options);
  }
  route(unit: UnitKey, message: SeldonMessage, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'route', message, options);
  }
  aggregate(unit: UnitKey, messages: readonly SeldonMessage[], options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'aggregate', messages, options);
  }
  sendFeedback(unit: UnitKey, feedback: Feedback, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'sendFeedback', feedback, options);
  }
  metadata(unit: UnitKey, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'metadata', undefined, options);
  }
  health(unit: UnitKey, options: CallOptions): Promise<TransportResponse> {
    return this.send(unit, 'health', undefined, options);
  }
}

/** Calls `method` of `transport`, for wrappers (metering, batching) that pass most methods on. */
export function invoke(transport: Transport, unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<TransportResponse> {
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

/** A response holding a value; its JSON text is made only if someone reads `body`. */
export function responseOf(status: number, value: unknown, stringify: (value: unknown) => string): TransportResponse {
  let text: string | undefined;
  return {
    status,
    value,
    get body(): string {
      text ??= stringify(value);
      return text;
    },
  };
}

/** `node "classifier" (predictor default of seldon/iris-model)`, the way errors name a node. */
export function describeUnit(unit: UnitKey): string {
  return `node "${unit.node}" (predictor ${unit.predictor} of ${unit.namespace}/${unit.deployment})`;
}
