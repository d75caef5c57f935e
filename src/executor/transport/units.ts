/**
 * What every network transport keeps per graph node: its state, found by the UnitKey object the
 * walk hands over (a WeakMap hit on the hot path) or, for an equal key made elsewhere, by name; and
 * the `host:port` a replica is reached at.
 */
import type { ExecutorOptions } from '../options.ts';
import type { EndpointSource, ReplicaAddress, UnitKey } from './endpoints.ts';
import type { EjectionPolicy, RetryPolicy } from './rotation.ts';

export class UnitTable<S> {
  private readonly byObject = new WeakMap<UnitKey, S>();
  private readonly byName = new Map<string, S>();

  constructor(private readonly create: (unit: UnitKey) => S) {}

  of(unit: UnitKey): S {
    let state = this.byObject.get(unit);
    if (state !== undefined) return state;
    const name = `${unit.namespace}\u0000${unit.deployment}\u0000${unit.predictor}\u0000${unit.node}`;
    state = this.byName.get(name);
    if (state === undefined) {
      state = this.create(unit);
      this.byName.set(name, state);
    }
    this.byObject.set(unit, state);
    return state;
  }

  values(): IterableIterator<S> {
    return this.byName.values();
  }

  clear(): void {
    this.byName.clear();
  }
}

/** `host:port`, an IPv6 host in brackets. */
export function hostPort(replica: ReplicaAddress): string {
  const host = replica.host.includes(':') && !replica.host.startsWith('[') ? `[${replica.host}]` : replica.host;
  return `${host}:${replica.port}`;
}

/** What every network transport is given: where the replicas are, how long to look for one that answers, and when to eject one. */
export interface ReplicaPolicyOptions {
  endpoints: EndpointSource;
  /** How long a call keeps looking for a replica that answers, when none does. */
  retryWindowMs?: number;
  /** The first wait before looking again; it doubles each time, up to `retryBackoffMaxMs`. */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /** Failed connections or timeouts in a row that eject a replica. */
  consecutiveFailures?: number;
  /** Ejection time the first time; the n-th ejection in a row lasts n times as long. */
  baseEjectionMs?: number;
  /** Cap on the ejection time. */
  maxEjectionMs?: number;
}

/** The retry and ejection settings from the executor's compiled options (docs/configuration.md). */
export function replicaPolicyOptions(endpoints: EndpointSource, options: ExecutorOptions): Required<ReplicaPolicyOptions> {
  return {
    endpoints,
    retryWindowMs: options.retryWindow,
    retryBackoffMs: options.retryBackoff,
    retryBackoffMaxMs: options.retryBackoffMax,
    consecutiveFailures: options.ejectAfterFailures,
    baseEjectionMs: options.baseEjection,
    maxEjectionMs: options.maxEjection,
  };
}

/** The retry and ejection settings a transport was given, each defaulted from `defaults`. */
export function policyOf(options: ReplicaPolicyOptions, defaults: Required<ReplicaPolicyOptions>): EjectionPolicy & RetryPolicy {
  return {
    retryWindowMs: options.retryWindowMs ?? defaults.retryWindowMs,
    retryBackoffMs: options.retryBackoffMs ?? defaults.retryBackoffMs,
    retryBackoffMaxMs: options.retryBackoffMaxMs ?? defaults.retryBackoffMaxMs,
    consecutiveFailures: options.consecutiveFailures ?? defaults.consecutiveFailures,
    baseEjectionMs: options.baseEjectionMs ?? defaults.baseEjectionMs,
    maxEjectionMs: options.maxEjectionMs ?? defaults.maxEjectionMs,
  };
}
