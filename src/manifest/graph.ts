/**
 * The inference graph of a predictor: walking its nodes, finding the container that runs a
 * node, and what a node's implementation implies.
 */
import { builtInOf } from './built-ins.ts';
import type { Container, GraphNode, Parameter, Predictor, UnitImplementation, UnitType } from './types.ts';

/** Every node of the predictor's graph, depth-first, parents before children. */
export function graphNodes(predictor: Pick<Predictor, 'graph'>): GraphNode[] {
  const out: GraphNode[] = [];
  const visit = (node: GraphNode): void => {
    out.push(node);
    for (const child of node.children) visit(child);
  };
  visit(predictor.graph);
  return out;
}

/** The container of the predictor's componentSpecs whose name is `nodeName`, as Seldon pairs them. */
export function containerFor(predictor: Pick<Predictor, 'componentSpecs'>, nodeName: string): Container | undefined {
  for (const componentSpec of predictor.componentSpecs) {
    const container = componentSpec.containers.find((c) => c.name === nodeName);
    if (container !== undefined) return container;
  }
  return undefined;
}

/** A prepackaged model server (`SKLEARN_SERVER` …), which loads a model from `modelUri`. */
export function isPrepackagedServer(implementation: UnitImplementation | undefined): boolean {
  return implementation !== undefined && implementation.endsWith('_SERVER');
}

/** The node type an implementation implies, as Seldon's defaulting sets it. */
export function impliedUnitType(implementation: UnitImplementation | undefined): UnitType | undefined {
  if (implementation === undefined || implementation === 'UNKNOWN_IMPLEMENTATION') return undefined;
  return builtInOf(implementation)?.type ?? (isPrepackagedServer(implementation) ? 'MODEL' : undefined);
}

/** The parameters the executor itself reads (the Kubernetes renderer passes them on to Seldon's). */
export const RATIO_A = 'ratioA';
export const BATCH_MAX_SIZE = 'batch_max_size';
export const BATCH_MAX_WAIT_MS = 'batch_max_wait_ms';

/** A node's adaptive batching: the most rows in one call, and how long an item may wait for others. */
export interface BatchSettings {
  readonly maxSize: number;
  /** Undefined when the node does not say: the executor's default applies. */
  readonly maxWaitMs: number | undefined;
}

/** What a node's parameters set for the executor, typed: checked once when the manifest is read. */
export interface NodeSettings {
  /** RANDOM_ABTEST's share of requests for its first child, 0 to 1 (0.5 when not given). */
  readonly ratioA: number;
  /** Set when the node opts into batching with `batch_max_size`. */
  readonly batch: BatchSettings | undefined;
}

const settingsByNode = new WeakMap<GraphNode, NodeSettings>();

/**
 * The node's settings, as the manifest reader typed them. A node that did not come through the
 * reader (one built in code) gets them from its parameters here, values that would not pass the
 * reader's checks leaving the setting at its default.
 */
export function nodeSettings(node: GraphNode): NodeSettings {
  let settings = settingsByNode.get(node);
  if (settings === undefined) {
    settings = settingsOf(node.parameters);
    settingsByNode.set(node, settings);
  }
  return settings;
}

/** Types the parameters the reader has checked (see `checkBatching`, `checkRandomAbTest`); the first of a name counts. */
export function settingsOf(parameters: readonly Parameter[]): NodeSettings {
  const valueOf = (name: string): number | undefined => {
    const parameter = parameters.find((p) => p.name === name);
    return parameter === undefined ? undefined : Number(parameter.value);
  };
  const ratio = valueOf(RATIO_A);
  const ratioA = ratio === undefined || !Number.isFinite(ratio) ? 0.5 : Math.min(1, Math.max(0, ratio));
  return Object.freeze({ ratioA, batch: batchOf(valueOf(BATCH_MAX_SIZE), valueOf(BATCH_MAX_WAIT_MS)) });
}

function batchOf(maxSize: number | undefined, maxWaitMs: number | undefined): BatchSettings | undefined {
  if (maxSize === undefined || !Number.isInteger(maxSize) || maxSize < 2) return undefined;
  if (maxWaitMs !== undefined && !(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) return undefined;
  return Object.freeze({ maxSize, maxWaitMs });
}
