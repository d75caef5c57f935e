/**
 * The inference graph of a predictor: walking its nodes, finding the container that runs a
 * node, and what a node's implementation implies.
 */
import { builtInOf } from './built-ins.ts';
import type { Container, GraphNode, Predictor, UnitImplementation, UnitType } from './types.ts';

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
