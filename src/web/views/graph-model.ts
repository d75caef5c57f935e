/**
 * The diagram's maths, free of any rendering: each node's kind (as the spec infers it), its label,
 * and a tree layout (children below their parent, siblings side by side, each parent centred over
 * its children).
 */
import type { GraphNode, PredictorSpec, ReplicaState } from '../types.ts';

export type NodeKind = 'MODEL' | 'ROUTER' | 'COMBINER' | 'TRANSFORMER' | 'OUTPUT_TRANSFORMER';

/** The kind the implementations Trantor serves imply, as the spec reads them. */
const IMPLIED: Readonly<Record<string, NodeKind>> = {
  SIMPLE_MODEL: 'MODEL',
  SIMPLE_ROUTER: 'ROUTER',
  RANDOM_ABTEST: 'ROUTER',
  AVERAGE_COMBINER: 'COMBINER',
  SKLEARN_SERVER: 'MODEL',
  XGBOOST_SERVER: 'MODEL',
  TENSORFLOW_SERVER: 'MODEL',
  MLFLOW_SERVER: 'MODEL',
  TRITON_SERVER: 'MODEL',
  HUGGINGFACE_SERVER: 'MODEL',
};

/** The implementations the executor answers itself: no process, so no replica, runs for them. */
export const EXECUTOR_BUILT_INS: ReadonlySet<string> = new Set(['SIMPLE_MODEL', 'SIMPLE_ROUTER', 'RANDOM_ABTEST', 'AVERAGE_COMBINER']);

/**
 * A node's kind: its `type`; else what its implementation implies; else what its `methods` do
 * (ROUTE a router, AGGREGATE a combiner, TRANSFORM_OUTPUT alone an output transformer,
 * TRANSFORM_INPUT alone a transformer); else a model, as the executor runs it.
 */
export function kindOf(node: GraphNode): NodeKind {
  const type = node.type;
  if (type === 'MODEL' || type === 'ROUTER' || type === 'COMBINER' || type === 'TRANSFORMER' || type === 'OUTPUT_TRANSFORMER') return type;
  if (type === 'INPUT_TRANSFORMER') return 'TRANSFORMER';
  const implied = node.implementation === undefined ? undefined : IMPLIED[node.implementation];
  if (implied !== undefined) return implied;
  const methods = (node as GraphNode & { methods?: string[] }).methods ?? [];
  if (methods.includes('ROUTE')) return 'ROUTER';
  if (methods.includes('AGGREGATE')) return 'COMBINER';
  if (methods.includes('TRANSFORM_OUTPUT') && !methods.includes('TRANSFORM_INPUT')) return 'OUTPUT_TRANSFORMER';
  return 'MODEL';
}

/** The shape each kind is drawn as (also its `data-shape`). */
export const SHAPE_OF: Readonly<Record<NodeKind, string>> = {
  MODEL: 'rect',
  ROUTER: 'diamond',
  COMBINER: 'hexagon',
  TRANSFORMER: 'parallelogram',
  OUTPUT_TRANSFORMER: 'trapezoid',
};

/** The container of a node in the predictor's componentSpecs (same name), if any. */
export function containerOf(node: GraphNode, predictor: PredictorSpec): { image?: string; command?: string[]; args?: string[] } | undefined {
  for (const spec of predictor.componentSpecs ?? []) {
    const container = spec.spec?.containers?.find((c) => c.name === node.name);
    if (container !== undefined) return container;
  }
  return undefined;
}

/** What runs a node: its implementation, or its container's image, or its command line. */
export function runsWhat(node: GraphNode, predictor: PredictorSpec): string {
  if (node.implementation !== undefined && node.implementation !== 'UNKNOWN_IMPLEMENTATION') return node.implementation;
  const container = containerOf(node, predictor);
  if (container?.image !== undefined && container.image !== '') return container.image;
  const command = [...(container?.command ?? []), ...(container?.args ?? [])];
  return command.join(' ');
}

/** Whether the executor answers the node itself (no replica of its own). */
export function servedByExecutor(node: GraphNode): boolean {
  return node.implementation !== undefined && EXECUTOR_BUILT_INS.has(node.implementation);
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 54;
/** Horizontal room per leaf, vertical room per level (the shape, its dots and its traffic line). */
export const COLUMN = 220;
export const ROW = 176;
export const MARGIN = 24;

export interface PlacedNode {
  node: GraphNode;
  kind: NodeKind;
  /** The centre of its shape. */
  x: number;
  y: number;
  depth: number;
  parent?: string;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: { from: string; to: string }[];
  width: number;
  height: number;
}

/** Lays the tree out: leaves one column each, left to right; a parent centred over its children. */
export function layoutGraph(root: GraphNode): Layout {
  const nodes: PlacedNode[] = [];
  const edges: { from: string; to: string }[] = [];
  let nextLeaf = 0;
  let deepest = 0;
  const place = (node: GraphNode, depth: number, parent: string | undefined): number => {
    deepest = Math.max(deepest, depth);
    const children = node.children ?? [];
    let column: number;
    const placed: PlacedNode = { node, kind: kindOf(node), x: 0, y: MARGIN + depth * ROW + NODE_HEIGHT / 2 + 14, depth, ...(parent === undefined ? {} : { parent }) };
    nodes.push(placed);
    if (children.length === 0) {
      column = nextLeaf++;
    } else {
      const columns = children.map((child) => {
        edges.push({ from: node.name, to: child.name });
        return place(child, depth + 1, node.name);
      });
      column = (columns[0]! + columns[columns.length - 1]!) / 2;
    }
    placed.x = MARGIN + column * COLUMN + NODE_WIDTH / 2;
    return column;
  };
  place(root, 0, undefined);
  return {
    nodes,
    edges,
    width: MARGIN * 2 + Math.max(1, nextLeaf) * COLUMN - (COLUMN - NODE_WIDTH),
    // The deepest shape's centre, then its dots and two lines of traffic.
    height: MARGIN + 14 + deepest * ROW + NODE_HEIGHT / 2 + 90,
  };
}

/** The points of a kind's outline around (x, y), for an SVG polygon; undefined for a plain rectangle. */
export function outline(kind: NodeKind, x: number, y: number, w = NODE_WIDTH, h = NODE_HEIGHT): string | undefined {
  const l = x - w / 2;
  const r = x + w / 2;
  const t = y - h / 2;
  const b = y + h / 2;
  const s = 16;
  const pts: [number, number][] =
    kind === 'ROUTER' ? [[l - 6, y], [x, t - 8], [r + 6, y], [x, b + 8]]
    : kind === 'COMBINER' ? [[l, y], [l + s, t], [r - s, t], [r, y], [r - s, b], [l + s, b]]
    : kind === 'TRANSFORMER' ? [[l + s, t], [r + s / 2, t], [r - s, b], [l - s / 2, b]]
    : kind === 'OUTPUT_TRANSFORMER' ? [[l - s / 2, t], [r + s / 2, t], [r - s, b], [l + s, b]]
    : [];
  return pts.length === 0 ? undefined : pts.map(([px, py]) => `${px},${py}`).join(' ');
}

/** The dot colour class of a replica state: green Ready, amber Starting/Unready, red Crashed/Stopped. */
export function dotClass(state: ReplicaState): 'ok' | 'warn' | 'bad' {
  if (state === 'Ready') return 'ok';
  if (state === 'Crashed' || state === 'Stopped') return 'bad';
  return 'warn';
}

/** A predictor's traffic share as shown: its `traffic`, or 100 for the only predictor that takes traffic. */
export function trafficShare(predictor: PredictorSpec, all: readonly PredictorSpec[]): number | undefined {
  if (predictor.traffic !== undefined) return predictor.traffic;
  if (predictor.shadow === true) return undefined;
  const serving = all.filter((p) => p.shadow !== true);
  return serving.length === 1 ? 100 : undefined;
}

/** `12.3`, `0.4`, `120` requests per second; `4 ms`, `0.8 ms`, `1.2 s` latencies. */
export function rate(n: number): string {
  return n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(1).replace(/\.0$/, '') : n.toFixed(1);
}
export function millis(ms: number | null): string {
  if (ms === null) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** An edge's stroke width for `rps` requests per second: 1.5 idle, thicker with load, at most 9. */
export function edgeWidth(rps: number): number {
  return rps <= 0 ? 1.5 : Math.min(9, 2 + Math.log2(1 + rps) * 1.4);
}
