/**
 * A predictor's graph compiled once, when the executor is built: each node's resolved type, the
 * methods it is called with, its label in `meta.requestPath` and its transport key. The walk
 * reads only this, so nothing about the graph is worked out per request.
 */
import { impliedUnitType, isExecutorBuiltIn, nodeSettings } from '../manifest/index.ts';
import type { BatchSettings, ExecutorBuiltIn, GraphNode, Predictor, UnitMethod, UnitType } from '../manifest/index.ts';
import type { UnitKey } from './transport/endpoints.ts';
import type { ComponentMethod } from './transport/transport.ts';

/** A model, router or combiner the executor runs itself, as Seldon's does; no component is called. */
export type BuiltIn = ExecutorBuiltIn;

export interface NodePlan {
  readonly name: string;
  readonly unit: UnitKey;
  readonly type: Exclude<UnitType, 'UNKNOWN_TYPE'> | 'METHODS';
  /** What `meta.requestPath` shows for the node: its image, else its implementation, else its command. */
  readonly label: string;
  /** Set when the executor runs the node itself. */
  readonly builtIn: BuiltIn | undefined;
  /** `predict` for a model, `transformInput` for a transformer; undefined when the node does not transform input. */
  readonly inputMethod: Extract<ComponentMethod, 'predict' | 'transformInput'> | undefined;
  readonly transformsOutput: boolean;
  readonly routes: boolean;
  readonly aggregates: boolean;
  readonly takesFeedback: boolean;
  /** RANDOM_ABTEST's chance of route 0. */
  readonly ratioA: number;
  /** Set when the node's predictions are batched (a component node with `batch_max_size`). */
  readonly batch: BatchSettings | undefined;
  readonly children: readonly NodePlan[];
}

export interface GraphPlan {
  readonly root: NodePlan;
  readonly nodes: ReadonlyMap<string, NodePlan>;
  /** Every node, root first (depth-first, children in order). */
  readonly order: readonly NodePlan[];
  /**
   * When no node routes, every walk visits every node and `requestPath` is the same for every
   * request: built once here. Undefined when a router decides the path.
   */
  readonly fixedRequestPath: Readonly<Record<string, string>> | undefined;
}

function typeOf(node: GraphNode): NodePlan['type'] {
  if (node.type !== undefined && node.type !== 'UNKNOWN_TYPE') return node.type;
  const impl = node.implementation;
  if (impl !== undefined && impl !== 'UNKNOWN_IMPLEMENTATION') {
    const implied = impliedUnitType(impl);
    return implied === undefined || implied === 'UNKNOWN_TYPE' ? 'MODEL' : implied;
  }
  if (node.methods !== undefined && node.methods.length > 0) return 'METHODS';
  return 'MODEL';
}

const METHODS_OF_TYPE: Record<NodePlan['type'], readonly UnitMethod[]> = {
  MODEL: ['TRANSFORM_INPUT', 'SEND_FEEDBACK'],
  TRANSFORMER: ['TRANSFORM_INPUT'],
  OUTPUT_TRANSFORMER: ['TRANSFORM_OUTPUT'],
  ROUTER: ['ROUTE', 'SEND_FEEDBACK'],
  COMBINER: ['AGGREGATE'],
  METHODS: [],
};

function labelOf(node: GraphNode, predictor: Predictor): string {
  let container;
  for (const spec of predictor.componentSpecs) {
    container = spec.containers.find((c) => c.name === node.name);
    if (container !== undefined) break;
  }
  if (container?.image !== undefined && container.image !== '') return container.image;
  if (node.implementation !== undefined && node.implementation !== 'UNKNOWN_IMPLEMENTATION') return node.implementation;
  const command = [...(container?.command ?? []), ...(container?.args ?? [])];
  return command.join(' ');
}

function builtInOf(node: GraphNode): BuiltIn | undefined {
  const implementation = node.implementation;
  return isExecutorBuiltIn(implementation) ? implementation : undefined;
}

export function planGraph(namespace: string, deployment: string, predictor: Predictor): GraphPlan {
  const nodes = new Map<string, NodePlan>();
  let anyRouter = false;
  const compile = (node: GraphNode): NodePlan => {
    const type = typeOf(node);
    const methods = node.methods !== undefined && node.methods.length > 0 ? node.methods : METHODS_OF_TYPE[type];
    const builtIn = builtInOf(node);
    const transformsInput = builtIn === undefined && methods.includes('TRANSFORM_INPUT');
    const settings = nodeSettings(node);
    const plan: NodePlan = {
      name: node.name,
      unit: Object.freeze({ namespace, deployment, predictor: predictor.name, node: node.name }),
      type,
      label: labelOf(node, predictor),
      builtIn,
      inputMethod: transformsInput ? (type === 'MODEL' ? 'predict' : 'transformInput') : undefined,
      transformsOutput: builtIn === undefined && methods.includes('TRANSFORM_OUTPUT'),
      routes: builtIn === 'RANDOM_ABTEST' || builtIn === 'SIMPLE_ROUTER' || (builtIn === undefined && methods.includes('ROUTE')),
      aggregates: builtIn === 'AVERAGE_COMBINER' || (builtIn === undefined && methods.includes('AGGREGATE')),
      takesFeedback: builtIn === undefined && methods.includes('SEND_FEEDBACK'),
      ratioA: settings.ratioA,
      batch: builtIn === undefined ? settings.batch : undefined,
      children: node.children.map(compile),
    };
    if (plan.routes) anyRouter = true;
    nodes.set(node.name, plan);
    return plan;
  };
  const root = compile(predictor.graph);
  const order: NodePlan[] = [];
  const visit = (node: NodePlan): void => {
    order.push(node);
    node.children.forEach(visit);
  };
  visit(root);
  let fixedRequestPath: Record<string, string> | undefined;
  if (!anyRouter) {
    fixedRequestPath = {};
    for (const node of order) fixedRequestPath[node.name] = node.label;
  }
  return { root, nodes, order, fixedRequestPath: fixedRequestPath === undefined ? undefined : Object.freeze(fixedRequestPath) };
}

/** Every node the executor reaches over the transport (not the built-ins it runs itself). */
export function remoteNodes(plan: GraphPlan): NodePlan[] {
  return plan.order.filter((n) => n.builtIn === undefined);
}
