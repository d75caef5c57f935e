/**
 * The in-process transport: TypeScript/JavaScript components served inside the control plane
 * (deployments that opt in with the `trantor.io/in-process` annotation) are called directly with
 * a copy of the walk's message, no second HTTP hop and no JSON round trip (the reply is the
 * component's own value, never stringified); every other unit goes to the fallback transport. The copy keeps a component that changes its input in place (as a
 * NumPy-minded model may) from changing the message its siblings, loggers or the caller still
 * hold, as a JSON round trip used to; it costs a fraction of one. A call that outlives its time
 * fails UPSTREAM_TIMEOUT, as over HTTP, though the component's work goes on to its end; one timer
 * per transport watches the calls in flight (set for the earliest deadline), not one per call.
 *
 * Loading a component needs `component` and the local runtime's launch plan, which the executor
 * may not import (DESIGN.md §2): the loaded components come in through `LocalComponents`, built
 * in `server` and passed to this transport's constructor (wiring by construction).
 */
import { TrantorError } from '../../protocol/index.ts';
import type { UnitKey } from './endpoints.ts';
import { answerOf, describeUnit, failureOf, failureText, invoke, MethodTransport } from './transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Reply, Transport } from './transport.ts';

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
  readonly #deadlines = new Deadlines();

  constructor(components: LocalComponents, fallback: Transport) {
    super();
    this.#components = components;
    this.#fallback = fallback;
  }

  protected send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
    const component = this.#components.componentOf(unit);
    if (component === undefined) return invoke(this.#fallback, unit, method, payload, options);
    return this.#deadlines.within(component.handle(method, copyOf(payload)), unit, options.timeoutMs, method);
  }

  close(): Promise<void> {
    this.#deadlines.close();
    return this.#fallback.close();
  }
}

/** A call in flight: when it must have answered, and how it fails then. */
interface Pending {
  readonly deadline: number;
  readonly expire: () => void;
}

/**
 * The deadlines of the calls in flight, watched by one timer set for the earliest: a call adds
 * and removes a set entry instead of setting and clearing a timer of its own. The timer stays
 * set when the last call settles (under load the set empties after nearly every call, and a
 * timer cleared and set again per call costs more than the call's own bookkeeping). It holds the
 * process open only while a call is in flight (unref'd when none is), and when it fires with
 * nothing due it sets itself for the next deadline in flight, if any.
 */
class Deadlines {
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires; Infinity when none is set. */
  #armedFor = Number.POSITIVE_INFINITY;

  /** The component's answer as a Reply, or UPSTREAM_TIMEOUT when it does not come within `timeoutMs`. */
  within(answer: Promise<{ status: number; body: unknown }>, unit: UnitKey, timeoutMs: number, method: ComponentMethod): Promise<Reply<unknown>> {
    return new Promise<Reply<unknown>>((resolve, reject) => {
      const pending: Pending = {
        deadline: Date.now() + timeoutMs,
        expire: () => reject(new TrantorError('UPSTREAM_TIMEOUT', `${describeUnit(unit)} did not answer within ${timeoutMs} ms`)),
      };
      this.#add(pending);
      answer.then(
        ({ status, body }) => {
          this.#remove(pending);
          try {
            // The reply is a fresh value the executor reads as it is: no text is made, but for a failure's message.
            resolve(status >= 200 && status < 300 ? answerOf(unit, method, status, body) : failureOf(unit, status, body, failureText(body)));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
        (err: Error) => {
          this.#remove(pending);
          reject(err);
        },
      );
    });
  }

  #add(pending: Pending): void {
    const pendingCalls = this.#pending;
    pendingCalls.add(pending);
    if (pending.deadline < this.#armedFor) this.#arm(pending.deadline);
    else if (pendingCalls.size === 1) this.#timer?.ref();
  }

  #remove(pending: Pending): void {
    const pendingCalls = this.#pending;
    pendingCalls.delete(pending);
    if (pendingCalls.size === 0) this.#timer?.unref();
  }

  /** Drops the idle timer; calls still in flight keep theirs, so they still time out. */
  close(): void {
    if (this.#pending.size > 0 || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = at;
    // At least 1 ms: the timer's clock may lag Date.now(), and an early wake-up just sets it again.
    this.#timer = setTimeout(this.#fire, Math.max(1, at - Date.now()));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const pending of this.#pending) {
      if (pending.deadline <= now) {
        this.#pending.delete(pending);
        pending.expire();
      } else if (pending.deadline < next) {
        next = pending.deadline;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  };
}

/** A deep copy of a message's arrays and plain objects; other values (strings, exact JSON numbers) are immutable and shared. */
function copyOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // Numbers and strings, most of a message, are shared without a call each.
      copy[i] = typeof item === 'object' && item !== null ? copyOf(item) : item;
    }
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const field = copyOf((value as Record<string, unknown>)[key]);
    // A member named `__proto__` (JSON allows it) stays a member, not the copy's prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: field, enumerable: true, writable: true, configurable: true });
    else copy[key] = field;
  }
  return copy;
}
