/**
 * The replica rules every network transport follows, in one place: round-robin over a node's
 * ready replicas, passive outlier ejection (as Envoy does it: a replica whose calls fail to
 * connect or time out `consecutiveFailures` times in a row leaves the rotation for an ejection
 * time that grows with each repeat, up to a cap; the last replica standing is never ejected), and
 * the retry window a call keeps looking for a replica in, with doubling waits between rounds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TrantorError } from '../../protocol/index.ts';

/** A replica as the rotation sees it; each transport's replica record carries these fields. */
export interface RotatingReplica {
  readonly id: string;
  /** Failed connections and timeouts since its last answer. */
  failures: number;
  /** Ejections since it last answered after coming back; the multiplier of the ejection time. */
  ejections: number;
  /** Left out of the round-robin until then (0: not ejected). */
  ejectedUntil: number;
}

export interface EjectionPolicy {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
}

export interface RetryPolicy {
  readonly retryWindowMs: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
}

/** A new replica record's rotation fields. */
export const FRESH = Object.freeze({ failures: 0, ejections: 0, ejectedUntil: 0 });

/** One node's replicas in round-robin order. */
export class Rotation<R extends RotatingReplica> {
  /** The replicas, in the order the runtime offers them. */
  order: R[] = [];
  #next = 0;
  /** The latest `ejectedUntil` of its replicas; 0 when none is ejected, so a pick reads no clock. */
  #ejectedUntil = 0;
  readonly #policy: EjectionPolicy;

  constructor(policy: EjectionPolicy) {
    this.#policy = policy;
  }

  /**
   * The next replica, skipping those this call already tried or gave up on and, while another is
   * left, the ejected ones; undefined when none is left.
   */
  pick(tried?: ReadonlySet<string>, abandoned?: ReadonlySet<string>): R | undefined {
    const order = this.order;
    const n = order.length;
    if (n === 0) return undefined;
    let now = 0;
    if (this.#ejectedUntil !== 0) {
      now = Date.now();
      if (now >= this.#ejectedUntil) this.#ejectedUntil = 0;
    }
    if (this.#ejectedUntil === 0 && (tried === undefined || tried.size === 0) && (abandoned === undefined || abandoned.size === 0)) {
      const index = this.#next++ % n;
      if (this.#next >= 0x3fffffff) this.#next = 0;
      return order[index];
    }
    let fallback = -1;
    for (let i = 0; i < n; i++) {
      const index = (this.#next + i) % n;
      const candidate = order[index]!;
      if (tried?.has(candidate.id) === true || abandoned?.has(candidate.id) === true) continue;
      if (candidate.ejectedUntil > now) {
        if (fallback < 0) fallback = index;
        continue;
      }
      this.#next = (index + 1) % n;
      return candidate;
    }
    if (fallback < 0) return undefined;
    this.#next = (fallback + 1) % n;
    return order[fallback];
  }

  /** A call to `replica` failed to connect, lost its connection or timed out. */
  failed(replica: R): void {
    if (++replica.failures >= this.#policy.consecutiveFailures) this.eject(replica, Date.now());
  }

  /** `replica` answered at `at`: its failures are forgiven, and its ejections once it has answered for a while since the last. */
  answered(replica: R, at: number): void {
    replica.failures = 0;
    if (replica.ejections !== 0 && at - replica.ejectedUntil > this.#policy.baseEjectionMs) replica.ejections = 0;
  }

  /** Leaves `replica` out of the rotation for a while; false when it is the last one standing. */
  eject(replica: R, now: number): boolean {
    if (replica.ejectedUntil > now) return true;
    let standing = 0;
    for (const other of this.order) if (other !== replica && other.ejectedUntil <= now) standing++;
    if (standing === 0) return false;
    const policy = this.#policy;
    replica.ejections++;
    replica.failures = 0;
    replica.ejectedUntil = now + Math.min(policy.baseEjectionMs * replica.ejections, policy.maxEjectionMs);
    if (replica.ejectedUntil > this.#ejectedUntil) this.#ejectedUntil = replica.ejectedUntil;
    return true;
  }
}

/** How long one call may keep looking for a replica that answers, and the wait between rounds. */
export class RetryWindow {
  /** When the call's own time runs out. */
  readonly deadline: number;
  readonly #giveUpAt: number;
  readonly #maxWait: number;
  #wait: number;

  constructor(timeoutMs: number, policy: RetryPolicy, start = Date.now()) {
    this.deadline = start + timeoutMs;
    this.#giveUpAt = Math.min(this.deadline, start + policy.retryWindowMs);
    this.#wait = policy.retryBackoffMs;
    this.#maxWait = policy.retryBackoffMaxMs;
  }

  /** Waits before the next round (every ready replica failed, or none is ready); false once the window has closed. */
  async pause(): Promise<boolean> {
    const now = Date.now();
    if (now >= this.#giveUpAt) return false;
    await sleep(Math.min(this.#wait, this.#giveUpAt - now));
    this.#wait = Math.min(this.#wait * 2, this.#maxWait);
    return true;
  }
}

/** The failure of a call whose retry window closed: no replica was ready, or none answered. */
export function noReplicaAnswered(label: string, lastFailure: { readonly message: string; readonly cause: unknown } | undefined): TrantorError {
  if (lastFailure === undefined) return new TrantorError('UNAVAILABLE', `no ready replica of ${label}`);
  return new TrantorError('UNAVAILABLE', `no replica of ${label} answered (last failure: ${lastFailure.message})`, { cause: lastFailure.cause });
}
