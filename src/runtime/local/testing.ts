/**
 * Builders for the runtime's tests: a normalised SeldonDeployment with one predictor, written
 * the way `manifest` would hand it over after parsing and defaulting.
 */
import assert from 'node:assert/strict';
import { TrantorError } from '../../protocol/index.ts';
import type { ComponentSpec, Container, GraphNode, Parameter, SeldonDeployment, UnitImplementation } from '../../manifest/index.ts';

export interface NodeOptions {
  name?: string;
  implementation?: UnitImplementation;
  modelUri?: string;
  parameters?: Parameter[];
  children?: GraphNode[];
}

export function graphNode(options: NodeOptions = {}): GraphNode {
  const node: GraphNode = {
    name: options.name ?? 'model',
    endpoint: { type: 'REST' },
    parameters: options.parameters ?? [],
    children: options.children ?? [],
  };
  if (options.implementation !== undefined) node.implementation = options.implementation;
  if (options.modelUri !== undefined) node.modelUri = options.modelUri;
  return node;
}

export function container(fields: Partial<Container> & { name: string }): Container {
  return { env: [], ...fields };
}

export interface DeploymentOptions {
  name?: string;
  namespace?: string;
  predictor?: string;
  replicas?: number;
  graph?: GraphNode;
  componentSpecs?: ComponentSpec[];
  baseDir?: string;
}

export function seldonDeployment(options: DeploymentOptions = {}): SeldonDeployment {
  const name = options.name ?? 'sample';
  const deployment: SeldonDeployment = {
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name, namespace: options.namespace ?? 'seldon', labels: {}, annotations: {} },
    spec: {
      name,
      protocol: 'seldon',
      transport: 'rest',
      annotations: {},
      predictors: [
        {
          name: options.predictor ?? 'default',
          graph: options.graph ?? graphNode(),
          componentSpecs: options.componentSpecs ?? [],
          replicas: options.replicas ?? 1,
          traffic: 100,
          shadow: false,
          labels: {},
          annotations: {},
        },
      ],
    },
  };
  if (options.baseDir !== undefined) deployment.baseDir = options.baseDir;
  return deployment;
}

/** The TrantorError `fn` throws; fails the test when it throws something else or nothing. */
export function failure(fn: () => unknown): TrantorError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TrantorError, `expected a TrantorError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the plan to fail');
}
