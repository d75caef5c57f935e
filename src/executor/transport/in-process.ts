/**
 * The in-process transport: TypeScript/JavaScript components served inside the control plane
 * (deployments that opt in with the `trantor.io/in-process` annotation) are called directly with
 * the walk's message, no second HTTP hop and no JSON round trip; every other unit goes to the
 * fallback transport.
 *
 * Loading a component needs `component` and the local runtime's launch plan, which the executor
 * may not import (DESIGN.md §2): the loaded components come in through `LocalComponents`, built
 * in `server` and passed to this transport's constructor (wiring by construction).
 */
import { stringifyJson } from '../../protocol/json-lossless.ts';
import type { UnitKey } from './endpoints.ts';
import { invoke, MethodTransport, responseOf } from './transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Transport, TransportResponse } from './transport.ts';

/** A component loaded in this process: answers a method with a status and a fresh value. */
export interface LocalComponent {
  handle(method: ComponentMethod, payload: unknown): Promise<{ status: number; body: unknown }>;
}

export interface LocalComponents {
  /** The component serving `unit` in this process; undefined when the unit runs elsewhere. Called per call: keep it a lookup. */
  componentOf(unit: UnitKey): LocalComponent | undefined;
}

export class InProcessTransport extends MethodTransport {
  readonly #components: LocalComponents;
  readonly #fallback: Transport;

  constructor(components: LocalComponents, fallback: Transport) {
    super();
    this.#components = components;
    this.#fallback = fallback;
  }

  protected async send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<TransportResponse> {
    const component = this.#components.componentOf(unit);
    if (component === undefined) return invoke(this.#fallback, unit, method, payload, options);
    const reply = await component.handle(method, payload);
    // The reply is a fresh value the executor reads as it is; its text is made only if asked for.
    return responseOf(reply.status, reply.body, stringifyJson);
  }

  close(): Promise<void> {
    return this.#fallback.close();
  }
}
