/**
 * A SeldonDeployment document: checked the way Seldon's CRD schema and admission webhook check
 * it, and defaulted the way its defaulting webhook does, into the normalised shape of types.ts.
 */
import { readComponentPassthrough, readPredictorPassthrough } from './component-spec.ts';
import { BATCH_MAX_SIZE, BATCH_MAX_WAIT_MS, RATIO_A, containerFor, impliedUnitType, isPrepackagedServer, nodeSettings } from './graph.ts';
import { Fields, isMapping } from './fields.ts';
import { dns1123, readMetadata } from './metadata.ts';
import { describe, field, item, type FieldPath, type Problems } from './problems.ts';
import type {
  ComponentSpec,
  Container,
  Endpoint,
  EnvVar,
  GraphNode,
  LoggerSpec,
  Parameter,
  ParameterType,
  Probe,
  Predictor,
  SeldonDeployment,
  UnitImplementation,
  UnitMethod,
  UnitType,
} from './types.ts';

export const SELDON_API_VERSIONS = [
  'machinelearning.seldon.io/v1',
  'machinelearning.seldon.io/v1alpha2',
  'machinelearning.seldon.io/v1alpha3',
] as const satisfies readonly SeldonDeployment['apiVersion'][];

export const UNIT_TYPES = [
  'MODEL',
  'TRANSFORMER',
  'OUTPUT_TRANSFORMER',
  'ROUTER',
  'COMBINER',
  'UNKNOWN_TYPE',
] as const satisfies readonly UnitType[];

export const UNIT_METHODS = [
  'TRANSFORM_INPUT',
  'TRANSFORM_OUTPUT',
  'ROUTE',
  'AGGREGATE',
  'SEND_FEEDBACK',
] as const satisfies readonly UnitMethod[];

export const UNIT_IMPLEMENTATIONS = [
  'UNKNOWN_IMPLEMENTATION',
  'SIMPLE_MODEL',
  'SIMPLE_ROUTER',
  'RANDOM_ABTEST',
  'AVERAGE_COMBINER',
  'SKLEARN_SERVER',
  'XGBOOST_SERVER',
  'TENSORFLOW_SERVER',
  'MLFLOW_SERVER',
  'TRITON_SERVER',
  'HUGGINGFACE_SERVER',
] as const satisfies readonly UnitImplementation[];

export const PARAMETER_TYPES = ['INT', 'FLOAT', 'DOUBLE', 'STRING', 'BOOL', 'JSON'] as const satisfies readonly ParameterType[];

const ENDPOINT_TYPES = ['REST', 'GRPC'] as const satisfies readonly Endpoint['type'][];
const LOGGER_MODES = ['request', 'response', 'all'] as const satisfies readonly LoggerSpec['mode'][];
const TRANSPORTS = ['rest', 'grpc'] as const;
/** `kfserving` is Seldon's older name for the V2 protocol. */
const PROTOCOLS = ['seldon', 'v2', 'kfserving'] as const;

/**
 * The most replicas one predictor or componentSpec may ask for, unless the control plane is told
 * otherwise (`trantor up --max-replicas`): each replica is a process, and a typo such as
 * `replicas: 1000000000` must be refused, not tried.
 */
export const DEFAULT_MAX_REPLICAS = 64;

/** `namespace/name`, the key a deployment is stored and routed under. */
export function deploymentKey(d: { metadata: { namespace: string; name: string } }): string {
  return `${d.metadata.namespace}/${d.metadata.name}`;
}

/**
 * Checks and defaults one SeldonDeployment document. Returns undefined when it added problems;
 * the deployment is only usable when the document has none.
 */
export function readSeldonDeployment(
  raw: Record<string, unknown>,
  apiVersion: SeldonDeployment['apiVersion'],
  problems: Problems,
  baseDir?: string,
  maxReplicas = DEFAULT_MAX_REPLICAS,
): SeldonDeployment | undefined {
  const before = problems.size;
  const doc = new Fields(raw, '', problems);
  const metadata = readMetadata(doc);
  const specFields = doc.required('spec') ? doc.mapping('spec') : undefined;
  const spec = specFields === undefined ? undefined : readSpec(specFields, metadata?.name, maxReplicas);
  if (problems.size > before || metadata === undefined || spec === undefined) return undefined;
  const deployment: SeldonDeployment = { apiVersion, kind: 'SeldonDeployment', metadata, spec };
  if (baseDir !== undefined) deployment.baseDir = baseDir;
  return deployment;
}

function readSpec(s: Fields, deploymentName: string | undefined, maxReplicas: number): SeldonDeployment['spec'] | undefined {
  const name = s.string('name');
  const protocol = s.oneOf('protocol', PROTOCOLS);
  const transport = s.oneOf('transport', TRANSPORTS) ?? 'rest';
  const annotations = s.stringMap('annotations');
  const predictors = readPredictors(s, transport, maxReplicas);
  if (protocol === 'v2' || protocol === 'kfserving') {
    predictors.forEach((predictor, i) => checkV2Node(predictor.graph, field(item(s.at('predictors'), i), 'graph'), s.problems));
  }
  return {
    name: name === undefined || name === '' ? (deploymentName ?? '') : name,
    protocol: protocol === 'kfserving' || protocol === 'v2' ? 'v2' : 'seldon',
    transport,
    predictors,
    annotations,
  };
}

/**
 * A V2 graph is a chain, as Seldon's executor walks it for the Open Inference Protocol: each node
 * a V2 model (a model, an input or an output transformer) with at most one child. V2 has no
 * routing or combining call, so routers and combiners are refused here, not at the first request.
 */
function checkV2Node(node: GraphNode, path: FieldPath, problems: Problems): void {
  const implementation = node.implementation ?? 'UNKNOWN_IMPLEMENTATION';
  const routes = node.type === 'ROUTER' || node.methods?.includes('ROUTE') === true || implementation === 'RANDOM_ABTEST' || implementation === 'SIMPLE_ROUTER';
  const combines = node.type === 'COMBINER' || node.methods?.includes('AGGREGATE') === true || implementation === 'AVERAGE_COMBINER';
  if (routes || combines) {
    const what = routes ? 'a router' : 'a combiner';
    problems.add(
      path,
      `node ${JSON.stringify(node.name)} is ${what}, but a protocol: v2 graph chains models and transformers only (MODEL, TRANSFORMER, OUTPUT_TRANSFORMER); ` +
        'split traffic with predictors\' traffic or shadow instead, or use protocol: seldon for routers and combiners',
    );
  }
  if (node.children.length > 1) {
    problems.add(
      field(path, 'children'),
      `node ${JSON.stringify(node.name)} has ${node.children.length} children, but a protocol: v2 graph is a chain: give each node at most one child (input transformer → model → output transformer)`,
    );
  }
  node.children.forEach((child, i) => checkV2Node(child, item(field(path, 'children'), i), problems));
}

function readPredictors(s: Fields, transport: 'rest' | 'grpc', maxReplicas: number): Predictor[] {
  const path = s.at('predictors');
  if (!s.required('predictors')) return [];
  const list = s.list('predictors');
  if (list === undefined) return [];
  if (list.length === 0) {
    s.problems.add(path, 'expected at least one predictor');
    return [];
  }
  const predictors: Predictor[] = [];
  const names = new Map<string, FieldPath>();
  const trafficGiven: boolean[] = [];
  s.mappings('predictors').forEach((p) => {
    const predictor = readPredictor(p, transport, maxReplicas);
    const previous = names.get(predictor.name);
    if (predictor.name !== '' && previous !== undefined) {
      s.problems.add(p.at('name'), `duplicate predictor name ${JSON.stringify(predictor.name)} (also at ${previous})`);
    }
    names.set(predictor.name, p.path);
    trafficGiven.push(p.has('traffic'));
    predictors.push(predictor);
  });
  if (predictors.length === list.length) checkTraffic(predictors, trafficGiven, path, s.problems);
  return predictors;
}

/** Shadows take a copy of the traffic; the others split it, and their shares add up to 100. */
function checkTraffic(predictors: Predictor[], trafficGiven: boolean[], path: FieldPath, problems: Problems): void {
  const shadows = predictors.filter((p) => p.shadow);
  if (shadows.length > 1) {
    problems.add(path, `at most one predictor may be a shadow, got ${shadows.length} (${shadows.map((p) => p.name).join(', ')})`);
  }
  const live = predictors.filter((p) => !p.shadow);
  if (live.length === 0) {
    problems.add(path, 'at least one predictor must not be a shadow: a shadow only receives a copy of the traffic another predictor serves');
    return;
  }
  if (live.length === 1) {
    const only = live[0];
    if (only === undefined) return;
    const index = predictors.indexOf(only);
    if (!(trafficGiven[index] ?? false) || only.traffic === 0) only.traffic = 100;
    else if (only.traffic !== 100) {
      problems.add(
        field(item(path, index), 'traffic'),
        `the only predictor that is not a shadow takes all the traffic: set 100 or leave it out, got ${only.traffic}`,
      );
    }
    return;
  }
  const sum = live.reduce((total, p) => total + p.traffic, 0);
  if (sum !== 100) {
    const shares = live.map((p) => `${p.name}: ${p.traffic}`).join(', ');
    problems.add(path, `traffic of the predictors that are not shadows must sum to 100, got ${sum} (${shares})`);
  }
}

function readPredictor(p: Fields, transport: 'rest' | 'grpc', maxReplicas: number): Predictor {
  const name = p.name('name');
  if (name !== undefined) dns1123(p, 'name', name);
  const componentSpecs = readComponentSpecs(p, maxReplicas);
  const predictor: Predictor = {
    name: name ?? '',
    graph: placeholderNode(),
    componentSpecs,
    replicas: readReplicas(p, maxReplicas) ?? 1,
    traffic: p.integer('traffic', 0, 100) ?? 0,
    shadow: p.boolean('shadow') ?? false,
    labels: p.stringMap('labels'),
    annotations: p.stringMap('annotations'),
  };
  readPredictorPassthrough(p, predictor);
  if (p.required('graph')) {
    const graph = p.mapping('graph');
    if (graph !== undefined) {
      const nodeNames = new Map<string, FieldPath>();
      predictor.graph = readNode(graph, predictor, transport, nodeNames);
    }
  }
  return predictor;
}

function placeholderNode(): GraphNode {
  return { name: '', endpoint: { type: 'REST' }, parameters: [], children: [] };
}

/** `replicas`: a non-negative integer up to the limit, which the message names with how to raise it. */
function readReplicas(f: Fields, maxReplicas: number): number | undefined {
  const value = f.raw['replicas'];
  if (typeof value === 'number' && Number.isInteger(value) && value > maxReplicas) {
    f.problems.add(
      f.at('replicas'),
      `${value} is more than the ${maxReplicas} replicas allowed (each is a process on this machine); ask for at most ${maxReplicas}, or raise the limit with trantor up --max-replicas N`,
    );
    return undefined;
  }
  return f.integer('replicas', 0);
}

function readComponentSpecs(p: Fields, maxReplicas: number): ComponentSpec[] {
  const seen = new Map<string, FieldPath>();
  return p.mappings('componentSpecs').map((c) => {
    const podSpec = c.mapping('spec');
    const containers = podSpec === undefined ? [] : podSpec.mappings('containers').map((f) => readContainer(f, seen));
    const componentSpec: ComponentSpec = { containers };
    const replicas = readReplicas(c, maxReplicas);
    if (replicas !== undefined) componentSpec.replicas = replicas;
    readComponentPassthrough(c, componentSpec);
    return componentSpec;
  });
}

/** One container of a pod spec; `seen` holds the names taken so far, to report duplicates. */
export function readContainer(c: Fields, seen: Map<string, FieldPath>, scope = 'this predictor'): Container {
  const name = c.name('name');
  if (name !== undefined) {
    dns1123(c, 'name', name);
    const previous = seen.get(name);
    if (previous !== undefined) c.problems.add(c.at('name'), `duplicate container name ${JSON.stringify(name)} in ${scope} (also at ${previous})`);
    seen.set(name, c.path);
  }
  const container: Container = { name: name ?? '', env: readEnv(c) };
  const image = c.string('image');
  if (image !== undefined) container.image = image;
  const command = c.strings('command');
  if (command !== undefined) container.command = command;
  const args = c.strings('args');
  if (args !== undefined) container.args = args;
  const workingDir = c.string('workingDir');
  if (workingDir !== undefined) container.workingDir = workingDir;
  for (const key of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const) {
    const probe = c.mapping(key);
    if (probe !== undefined) container[key] = readProbe(probe);
  }
  return container;
}

function readProbe(p: Fields): Probe {
  const probe: Probe = {};
  const httpGet = p.mapping('httpGet');
  if (httpGet !== undefined) {
    const path = httpGet.string('path');
    probe.httpGet = path === undefined ? {} : { path };
  }
  if (p.has('tcpSocket')) probe.tcpSocket = {};
  for (const [key, min] of [['initialDelaySeconds', 0], ['periodSeconds', 1], ['timeoutSeconds', 1], ['failureThreshold', 1], ['successThreshold', 1]] as const) {
    const value = p.integer(key, min);
    if (value !== undefined) probe[key] = value;
  }
  return probe;
}

function readEnv(c: Fields): EnvVar[] {
  return c.mappings('env').map((e) => {
    const env: EnvVar = { name: e.name('name') ?? '' };
    const value = e.string('value');
    if (value !== undefined) env.value = value;
    return env;
  });
}

function readNode(n: Fields, predictor: Predictor, transport: 'rest' | 'grpc', names: Map<string, FieldPath>): GraphNode {
  const name = n.name('name');
  if (name !== undefined) {
    // A node's name names its container, its Kubernetes Service and, locally, its log folder.
    dns1123(n, 'name', name);
    const previous = names.get(name);
    if (previous !== undefined) n.problems.add(n.at('name'), `duplicate node name ${JSON.stringify(name)} in this predictor (also at ${previous})`);
    else names.set(name, n.path);
  }
  const type = n.oneOf('type', UNIT_TYPES);
  const implementation = n.oneOf('implementation', UNIT_IMPLEMENTATIONS);
  const node: GraphNode = {
    name: name ?? '',
    endpoint: readEndpoint(n, transport),
    parameters: readParameters(n),
    children: [],
  };
  if (implementation !== undefined) node.implementation = implementation;
  const methods = readMethods(n);
  if (methods !== undefined) node.methods = methods;
  for (const key of ['modelUri', 'storageInitializerImage', 'serviceAccountName', 'envSecretRefName'] as const) {
    const value = n.string(key);
    if (value !== undefined) node[key] = value;
  }
  const logger = readLogger(n);
  if (logger !== undefined) node.logger = logger;

  const hasImplementation = implementation !== undefined && implementation !== 'UNKNOWN_IMPLEMENTATION';
  const hasContainer = name !== undefined && containerFor(predictor, name) !== undefined;
  // An implementation that is written but not known is reported by itself; do not report it twice.
  const unknownImplementation = implementation === undefined && n.has('implementation');
  if (name !== undefined && !hasImplementation && !hasContainer && !unknownImplementation) {
    n.problems.add(n.path, `node ${JSON.stringify(name)} has no implementation and no container named ${JSON.stringify(name)} in componentSpecs`);
  }
  const modelUri = n.raw['modelUri'];
  if (isPrepackagedServer(implementation) && (modelUri === undefined || modelUri === null || modelUri === '')) {
    n.problems.add(n.at('modelUri'), `required for implementation ${implementation ?? ''}: where the saved model is`);
  }
  const defaultType = type ?? impliedUnitType(implementation) ?? (hasContainer ? 'MODEL' : undefined);
  if (defaultType !== undefined) node.type = defaultType;

  const children = n.mappings('children');
  node.children = children.map((child) => readNode(child, predictor, transport, names));
  if (implementation === 'RANDOM_ABTEST') checkRandomAbTest(n, node);
  checkBatching(n, node);
  // Typed once, here: the executor reads these, not the parameters.
  nodeSettings(node);
  return node;
}

function readEndpoint(n: Fields, transport: 'rest' | 'grpc'): Endpoint {
  const fallback: Endpoint['type'] = transport === 'grpc' ? 'GRPC' : 'REST';
  const e = n.mapping('endpoint');
  return { type: e?.oneOf('type', ENDPOINT_TYPES) ?? fallback };
}

function readMethods(n: Fields): UnitMethod[] | undefined {
  const list = n.list('methods');
  if (list === undefined) return undefined;
  const methods: UnitMethod[] = [];
  list.forEach((value, i) => {
    if (typeof value === 'string' && (UNIT_METHODS as readonly string[]).includes(value)) methods.push(value as UnitMethod);
    else n.problems.add(item(n.at('methods'), i), `must be one of ${UNIT_METHODS.join(', ')}, got ${describe(value)}`);
  });
  return methods;
}

function readLogger(n: Fields): LoggerSpec | undefined {
  const l = n.mapping('logger');
  if (l === undefined) return undefined;
  const logger: LoggerSpec = { mode: l.oneOf('mode', LOGGER_MODES) ?? 'all' };
  const url = l.string('url');
  if (url !== undefined) logger.url = url;
  return logger;
}

function readParameters(n: Fields): Parameter[] {
  const seen = new Set<string>();
  const parameters: Parameter[] = [];
  for (const p of n.mappings('parameters')) {
    const name = p.name('name');
    const type = p.required('type') ? p.oneOf('type', PARAMETER_TYPES) : undefined;
    const value = p.required('value') ? parameterValue(p, type) : undefined;
    if (name !== undefined) {
      if (seen.has(name)) p.problems.add(p.at('name'), `duplicate parameter name ${JSON.stringify(name)}`);
      seen.add(name);
    }
    if (name !== undefined && type !== undefined && value !== undefined) parameters.push({ name, value, type });
  }
  return parameters;
}

/** The value as the string Seldon passes on, coercing a YAML number or boolean; checked against the type. */
function parameterValue(p: Fields, type: ParameterType | undefined): string | undefined {
  const raw = p.raw['value'];
  let value: string;
  if (typeof raw === 'string') value = raw;
  else if (typeof raw === 'number' || typeof raw === 'boolean') value = String(raw);
  else if (type === 'JSON') value = JSON.stringify(raw);
  else {
    p.problems.add(p.at('value'), `expected a string, number or boolean, got ${describe(raw)}`);
    return undefined;
  }
  if (type === undefined) return value;
  const problem = parameterValueProblem(value, type);
  if (problem !== undefined) {
    p.problems.add(p.at('value'), problem);
    return undefined;
  }
  return value;
}

function parameterValueProblem(value: string, type: ParameterType): string | undefined {
  const shown = describe(value);
  switch (type) {
    case 'INT':
      return /^\s*[+-]?\d+\s*$/.test(value) ? undefined : `${shown} is not an INT`;
    case 'FLOAT':
    case 'DOUBLE':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : `${shown} is not a ${type}`;
    case 'BOOL':
      return /^(true|false)$/i.test(value.trim()) ? undefined : `${shown} is not a BOOL (use true or false)`;
    case 'JSON':
      try {
        JSON.parse(value);
        return undefined;
      } catch (err) {
        return `${shown} is not JSON (${err instanceof Error ? err.message : String(err)})`;
      }
    case 'STRING':
      return undefined;
  }
}

/** The executor's adaptive batching, opted into with batch_max_size (rows, 2 or more) and batch_max_wait_ms. */
function checkBatching(n: Fields, node: GraphNode): void {
  const size = node.parameters.find((p) => p.name === BATCH_MAX_SIZE);
  const wait = node.parameters.find((p) => p.name === BATCH_MAX_WAIT_MS);
  if (size !== undefined && (size.type !== 'INT' || !(Number(size.value) >= 2))) {
    n.problems.add(n.at('parameters'), `batch_max_size must have type INT and be 2 or more, got ${JSON.stringify(size.value)} (${size.type})`);
  }
  if (wait !== undefined && ((wait.type !== 'INT' && wait.type !== 'FLOAT' && wait.type !== 'DOUBLE') || !(Number(wait.value) >= 0))) {
    n.problems.add(n.at('parameters'), `batch_max_wait_ms must be a number of milliseconds (INT or FLOAT, 0 or more), got ${JSON.stringify(wait.value)} (${wait.type})`);
  }
  if (wait !== undefined && size === undefined) {
    n.problems.add(n.at('parameters'), 'batch_max_wait_ms has no effect without batch_max_size; add batch_max_size (INT, 2 or more) to turn batching on');
  }
}

/** Seldon's RANDOM_ABTEST router sends each request to one of exactly two children, A with probability ratioA. */
function checkRandomAbTest(n: Fields, node: GraphNode): void {
  const children = n.raw['children'];
  const count = Array.isArray(children) ? children.length : 0;
  if (count !== 2) n.problems.add(n.at('children'), `RANDOM_ABTEST needs exactly 2 children, got ${count}`);
  const parameters = n.raw['parameters'];
  const named = Array.isArray(parameters) && parameters.some((p) => isMapping(p) && p['name'] === RATIO_A);
  const ratio = node.parameters.find((p) => p.name === RATIO_A);
  if (!named) {
    n.problems.add(n.at('parameters'), 'RANDOM_ABTEST needs a parameter ratioA (type FLOAT, from 0 to 1): the share of requests sent to the first child');
    return;
  }
  if (ratio === undefined) return; // its own problem is already reported
  const share = Number(ratio.value);
  if (ratio.type !== 'FLOAT' && ratio.type !== 'DOUBLE') {
    n.problems.add(n.at('parameters'), `ratioA must have type FLOAT, got ${ratio.type}`);
  } else if (!(share >= 0 && share <= 1)) {
    n.problems.add(n.at('parameters'), `ratioA must be from 0 to 1, got ${ratio.value}`);
  }
}
