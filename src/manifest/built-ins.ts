/**
 * The implementations Trantor serves itself, in one list that spec validation, the executor and
 * the local runtime all read: what node type each implies, and who serves it — the executor, in
 * its own process (Seldon's executor runs these too), or a host process the runtime starts.
 */
import type { UnitImplementation, UnitType } from './types.ts';

export type BuiltInServer = 'executor' | 'host';

export interface BuiltInImplementation {
  readonly type: Extract<UnitType, 'MODEL' | 'ROUTER' | 'COMBINER'>;
  readonly servedBy: BuiltInServer;
}

export const BUILT_IN_IMPLEMENTATIONS = Object.freeze({
  SIMPLE_MODEL: Object.freeze({ type: 'MODEL', servedBy: 'executor' }),
  SIMPLE_ROUTER: Object.freeze({ type: 'ROUTER', servedBy: 'executor' }),
  RANDOM_ABTEST: Object.freeze({ type: 'ROUTER', servedBy: 'executor' }),
  AVERAGE_COMBINER: Object.freeze({ type: 'COMBINER', servedBy: 'executor' }),
  SKLEARN_SERVER: Object.freeze({ type: 'MODEL', servedBy: 'host' }),
  XGBOOST_SERVER: Object.freeze({ type: 'MODEL', servedBy: 'host' }),
  MLFLOW_SERVER: Object.freeze({ type: 'MODEL', servedBy: 'host' }),
  TRITON_SERVER: Object.freeze({ type: 'MODEL', servedBy: 'host' }),
} as const satisfies Partial<Record<UnitImplementation, BuiltInImplementation>>);

/** An implementation Trantor serves. */
export type BuiltInName = keyof typeof BUILT_IN_IMPLEMENTATIONS;
/** An implementation the executor answers itself; no process runs for it. */
export type ExecutorBuiltIn = { [K in BuiltInName]: (typeof BUILT_IN_IMPLEMENTATIONS)[K]['servedBy'] extends 'executor' ? K : never }[BuiltInName];

/** The built-in entry of an implementation, or undefined when Trantor does not serve it. */
export function builtInOf(implementation: UnitImplementation | undefined): BuiltInImplementation | undefined {
  if (implementation === undefined || !Object.hasOwn(BUILT_IN_IMPLEMENTATIONS, implementation)) return undefined;
  return BUILT_IN_IMPLEMENTATIONS[implementation as BuiltInName];
}

/** True when the executor answers `implementation` itself. */
export function isExecutorBuiltIn(implementation: UnitImplementation | undefined): implementation is ExecutorBuiltIn {
  return builtInOf(implementation)?.servedBy === 'executor';
}

/** Every implementation Trantor serves, in the list's order (for messages naming what is supported). */
export const SERVED_IMPLEMENTATIONS: readonly BuiltInName[] = Object.freeze(Object.keys(BUILT_IN_IMPLEMENTATIONS) as BuiltInName[]);
/** The implementations a host process serves (prepackaged model servers). */
export const HOST_IMPLEMENTATIONS: readonly BuiltInName[] = Object.freeze(SERVED_IMPLEMENTATIONS.filter((n) => BUILT_IN_IMPLEMENTATIONS[n].servedBy === 'host'));
