/**
 * render(): a SeldonDeployment to the objects Seldon Core's operator would make for it, name for
 * name — a Deployment per componentSpec (the executor in the first), Services per predictor and
 * per graph node, HPA / KEDA ScaledObject / PDB from their specs — plus the routes in front
 * (routes.ts). Pure: the same manifest and config give the same objects, so the operator can
 * apply them on every pass and golden files can pin them.
 */
import { graphNodes, isExecutorBuiltIn, isPrepackagedServer, type ComponentSpec, type GraphNode, type Predictor, type SeldonDeployment, type Verbatim } from '../../manifest/index.ts';
import type { RenderConfig } from './config.ts';
import { enginePredictor, executorContainer, PODINFO_VOLUME, type NodeAddress } from './executor.ts';
import {
  ANNOTATIONS,
  componentDeploymentName,
  deploymentAnnotation,
  deploymentIdLabel,
  executorDeploymentName,
  LABELS,
  MANAGED_BY,
  nodeServiceLabel,
  nodeServiceName,
  predictionPath,
  predictorServiceName,
  serviceHost,
} from './names.ts';
import { isRecord, records, RenderError, withEntries, type ContainerObject, type KubeObject, type ObjectMetadata, type OwnerReference } from './objects.ts';
import { componentContainer, modelMount, writtenPort, type NodePorts } from './prepack.ts';
import { routeObjects } from './routes.ts';

export interface Rendered {
  /** Every object, in the order Seldon creates them: Services, HPAs, ScaledObjects, PDBs, Deployments, then routes. */
  readonly objects: readonly KubeObject[];
  /** `status.address.url`: the first predictor's prediction URL inside the cluster. */
  readonly address: string;
}

/** The SeldonDeployment that owns what is rendered (its uid comes from the API server). */
export interface Owner {
  readonly uid: string;
}

const NODE_TYPE_LABELS: Readonly<Record<string, string>> = {
  MODEL: 'seldon.io/model',
  ROUTER: 'seldon.io/router',
  COMBINER: 'seldon.io/combiner',
  TRANSFORMER: 'seldon.io/transformer',
  OUTPUT_TRANSFORMER: 'seldon.io/output-transformer',
};

/** One Deployment of a predictor, before it becomes an object. */
interface PodPlan {
  readonly name: string;
  readonly component: ComponentSpec | undefined;
  readonly index: number;
  readonly podSpec: Verbatim;
  /** The graph nodes whose containers run in this pod. */
  readonly nodes: GraphNode[];
  executor: boolean;
}

export function render(sdep: SeldonDeployment, config: RenderConfig, owner?: Owner): Rendered {
  const ports = portPlan(sdep, config);
  const services: KubeObject[] = [];
  const scalers: KubeObject[] = [];
  const budgets: KubeObject[] = [];
  const deployments: KubeObject[] = [];
  for (const original of sdep.spec.predictors) {
    const predictor = withDefaultLabels(original);
    const pods = podPlans(sdep, predictor);
    const noEngine = (predictor.annotations[ANNOTATIONS.noEngine] ?? deploymentAnnotation(sdep, ANNOTATIONS.noEngine)) === 'true';
    if (noEngine && (graphNodes(predictor).length !== 1 || pods.length !== 1)) {
      throw new RenderError(`predictor ${predictor.name}: ${ANNOTATIONS.noEngine} needs a graph of one node that runs in a container (the Service points at it directly, with no executor to walk a graph)`);
    }
    const first = pods[0];
    if (!noEngine && first !== undefined) first.executor = true;
    if (!noEngine && first === undefined) {
      // Only executor built-ins (SIMPLE_MODEL, RANDOM_ABTEST…): the executor's pod holds nothing else.
      pods.push({ name: executorDeploymentName(sdep, predictor), component: undefined, index: 0, podSpec: { containers: [] }, nodes: [], executor: true });
    }
    const addresses = nodeAddresses(sdep, predictor, pods, ports);
    const engine = enginePredictor(predictor, addresses, pods.filter((p) => p.nodes.length > 0 || p.component !== undefined).map(componentOfEngine));
    services.push(predictorService(sdep, predictor, config, noEngine ? pods[0]?.nodes[0] : undefined, ports));
    for (const pod of pods) {
      for (const node of pod.nodes) services.push(nodeService(sdep, predictor, node.name, portsOf(ports, node.name)));
      const deployment = deploymentOf(sdep, predictor, pod, ports, engine, config);
      const scaling = scalingObjects(deployment, pod.component, config);
      scalers.push(...scaling.scalers);
      budgets.push(...scaling.budgets);
      if (scaling.scalers.length > 0) delete deployment.spec['replicas'];
      deployments.push(deployment);
    }
  }
  const objects = [...services, ...scalers.filter((o) => o.kind === 'HorizontalPodAutoscaler'), ...scalers.filter((o) => o.kind === 'ScaledObject'), ...budgets, ...deployments, ...routeObjects(sdep, config)];
  if (owner !== undefined) for (const object of objects) object.metadata.ownerReferences = [ownerReference(sdep, owner)];
  return { objects, address: addressOf(sdep, config) };
}

/** `status.address.url`, as Seldon sets it: the first predictor's Service and prediction path. */
export function addressOf(sdep: SeldonDeployment, config: RenderConfig): string {
  const predictor = sdep.spec.predictors[0];
  if (predictor === undefined) return '';
  const host = serviceHost(predictorServiceName(sdep, predictor), sdep.metadata.namespace);
  return `http://${host}:${config.executor.port}${predictionPath(sdep, predictor)}`;
}

function ownerReference(sdep: SeldonDeployment, owner: Owner): OwnerReference {
  return { apiVersion: sdep.apiVersion, kind: 'SeldonDeployment', name: sdep.metadata.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
}

/** Seldon's defaulting: every predictor carries a `version` label, its name unless set. */
function withDefaultLabels(predictor: Predictor): Predictor {
  return predictor.labels['version'] === undefined ? { ...predictor, labels: { ...predictor.labels, version: predictor.name } } : predictor;
}

/** A node runs in a container of its own: it has one in componentSpecs, or it is a prepackaged server. */
function runsInContainer(predictor: Predictor, node: GraphNode): boolean {
  if (isExecutorBuiltIn(node.implementation)) return false;
  return isPrepackagedServer(node.implementation) || predictor.componentSpecs.some((c) => c.containers.some((k) => k.name === node.name));
}

/**
 * The ports of every node container, keyed by container name and shared across predictors as
 * Seldon's defaulting does: HTTP from 9000, gRPC from 9500, metrics from 6000, unless the
 * container names its own.
 */
function portPlan(sdep: SeldonDeployment, config: RenderConfig): Map<string, NodePorts> {
  const plan = new Map<string, NodePorts>();
  const start = config.predictiveUnit;
  for (const predictor of sdep.spec.predictors) {
    for (const node of graphNodes(predictor)) {
      if (plan.has(node.name) || !runsInContainer(predictor, node)) continue;
      const written = writtenContainer(predictor, node.name);
      const next = plan.size;
      plan.set(node.name, {
        http: writtenPort(written, 'http') ?? start.httpPort + next,
        grpc: writtenPort(written, 'grpc') ?? start.grpcPort + next,
        metrics: writtenPort(written, 'metrics') ?? start.metricsPort + next,
      });
    }
  }
  return plan;
}

function portsOf(plan: ReadonlyMap<string, NodePorts>, name: string): NodePorts {
  const ports = plan.get(name);
  if (ports === undefined) throw new Error(`no ports planned for ${name}`);
  return ports;
}

/** The container as written in componentSpecs, if there is one. */
function writtenContainer(predictor: Predictor, name: string): Verbatim | undefined {
  for (const component of predictor.componentSpecs) {
    const found = records(component.spec?.['containers']).find((c) => c['name'] === name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The pods of a predictor, one per componentSpec with containers. A prepackaged node with no
 * container gets one, added to the first componentSpec (or to a new one), as Seldon does.
 */
function podPlans(sdep: SeldonDeployment, predictor: Predictor): PodPlan[] {
  const specs = predictor.componentSpecs.map((c) => structuredClone(c.spec ?? { containers: c.containers }));
  const components: (ComponentSpec | undefined)[] = [...predictor.componentSpecs];
  for (const node of graphNodes(predictor)) {
    if (!isPrepackagedServer(node.implementation) || writtenContainer(predictor, node.name) !== undefined) continue;
    if (specs.length === 0) {
      specs.push({ containers: [] });
      components.push(undefined);
    }
    const first = specs[0]!;
    first['containers'] = [...records(first['containers']), { name: node.name }];
  }
  const nodesByName = new Map(graphNodes(predictor).filter((n) => runsInContainer(predictor, n)).map((n) => [n.name, n]));
  const pods: PodPlan[] = [];
  specs.forEach((podSpec, index) => {
    const containers = records(podSpec['containers']).map((c) => String(c['name']));
    if (containers.length === 0) return;
    const component = components[index];
    const metadataName = component?.metadata?.['name'];
    pods.push({
      name: componentDeploymentName(sdep, predictor, index, typeof metadataName === 'string' ? metadataName : undefined, containers),
      component,
      index,
      podSpec,
      nodes: containers.flatMap((c) => nodesByName.get(c) ?? []),
      executor: false,
    });
  });
  return pods;
}

/** Where the executor finds each node: `localhost` in its own pod, the node's Service elsewhere. */
function nodeAddresses(sdep: SeldonDeployment, predictor: Predictor, pods: readonly PodPlan[], ports: ReadonlyMap<string, NodePorts>): Map<string, NodeAddress> {
  const addresses = new Map<string, NodeAddress>();
  for (const pod of pods) {
    for (const node of pod.nodes) {
      const { http, grpc } = portsOf(ports, node.name);
      const host = pod.executor ? 'localhost' : serviceHost(nodeServiceName(sdep, predictor, node.name), sdep.metadata.namespace);
      addresses.set(node.name, { host, httpPort: http, grpcPort: grpc });
    }
  }
  return addresses;
}

/** A componentSpec as ENGINE_PREDICTOR carries it: as written, with the containers Seldon's defaulting adds. */
function componentOfEngine(pod: PodPlan): Verbatim {
  const out: Verbatim = { spec: pod.podSpec };
  if (pod.component?.metadata !== undefined) out['metadata'] = pod.component.metadata;
  return out;
}

function metadataOf(sdep: SeldonDeployment, name: string, labels: Record<string, string>, annotations?: Record<string, string>): ObjectMetadata {
  const metadata: ObjectMetadata = { name, namespace: sdep.metadata.namespace, labels: { ...labels, ...deploymentIdLabel(sdep), [LABELS.managedBy]: MANAGED_BY } };
  if (annotations !== undefined && Object.keys(annotations).length > 0) metadata.annotations = annotations;
  return metadata;
}

function predictorService(sdep: SeldonDeployment, predictor: Predictor, config: RenderConfig, direct: GraphNode | undefined, ports: ReadonlyMap<string, NodePorts>): KubeObject {
  const name = predictorServiceName(sdep, predictor);
  // With `seldon.io/no-engine` the Service points at the single model's own ports.
  const target = direct === undefined ? { http: config.executor.port, grpc: config.executor.grpcPort } : portsOf(ports, direct.name);
  const selector = direct === undefined ? { [LABELS.app]: name } : nodeServiceLabel(direct.name, nodeServiceName(sdep, predictor, direct.name));
  const spec: Verbatim = {
    selector,
    ports: [
      { name: 'http', port: config.executor.port, targetPort: target.http, protocol: 'TCP' },
      { name: 'grpc', port: config.executor.grpcPort, targetPort: target.grpc, protocol: 'TCP' },
    ],
    type: 'ClusterIP',
  };
  if (predictor.annotations[ANNOTATIONS.headlessService] === 'true') spec['clusterIP'] = 'None';
  return { apiVersion: 'v1', kind: 'Service', metadata: metadataOf(sdep, name, { [LABELS.app]: name }, predictor.annotations), spec };
}

function nodeService(sdep: SeldonDeployment, predictor: Predictor, container: string, ports: NodePorts): KubeObject {
  const name = nodeServiceName(sdep, predictor, container);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(sdep, name, nodeServiceLabel(container, name)),
    spec: {
      selector: nodeServiceLabel(container, name),
      ports: [
        { name: 'http', port: ports.http, targetPort: ports.http, protocol: 'TCP' },
        { name: 'grpc', port: ports.grpc, targetPort: ports.grpc, protocol: 'TCP' },
      ],
      type: 'ClusterIP',
    },
  };
}

function stringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function deploymentOf(sdep: SeldonDeployment, predictor: Predictor, pod: PodPlan, ports: ReadonlyMap<string, NodePorts>, engine: Verbatim, config: RenderConfig): KubeObject {
  const selector: Record<string, string> = { ...deploymentIdLabel(sdep) };
  const labels: Record<string, string> = { ...predictor.labels, ...stringMap(pod.component?.metadata?.['labels']), app: pod.name, fluentd: 'true' };
  for (const node of pod.nodes) {
    const nodeLabel = nodeServiceLabel(node.name, nodeServiceName(sdep, predictor, node.name));
    Object.assign(selector, nodeLabel);
    Object.assign(labels, nodeLabel);
    const typeLabel = NODE_TYPE_LABELS[node.type ?? ''];
    if (typeLabel !== undefined) labels[typeLabel] = 'true';
  }
  if (pod.executor) {
    selector[LABELS.app] = predictorServiceName(sdep, predictor);
    labels[LABELS.containsExecutor] = 'true';
  }
  // A pod with neither a graph node nor the executor would be selected by its SeldonDeployment's label alone.
  if (Object.keys(selector).length === 1) selector['app'] = pod.name;
  if (predictor.shadow) labels[LABELS.shadow] = 'true';
  Object.assign(labels, selector);

  const podSpec: Verbatim = structuredClone(pod.podSpec);
  const volumes: Verbatim[] = [{ name: PODINFO_VOLUME, downwardAPI: { items: [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }] } }];
  const initContainers: ContainerObject[] = [];
  const byName = new Map(pod.nodes.map((n) => [n.name, n]));
  const containers: Verbatim[] = records(podSpec['containers']).map((written) => {
    const node = byName.get(String(written['name']));
    if (node === undefined) return written;
    const model = modelMount(node, node.name, config);
    if (model !== undefined) {
      volumes.push(...model.volumes);
      initContainers.push(...model.initContainers);
    }
    return componentContainer(written, node, portsOf(ports, node.name), model, sdep, predictor, config);
  });
  if (pod.executor) containers.push(executorContainer(sdep, predictor, engine, config));
  podSpec['containers'] = containers;
  if (initContainers.length > 0) podSpec['initContainers'] = withEntries(podSpec['initContainers'], initContainers);
  podSpec['volumes'] = withEntries(podSpec['volumes'], volumes);
  const account = pod.nodes.find((n) => n.serviceAccountName !== undefined)?.serviceAccountName;
  if (podSpec['serviceAccountName'] === undefined && account !== undefined) podSpec['serviceAccountName'] = account;
  if (podSpec['terminationGracePeriodSeconds'] === undefined) podSpec['terminationGracePeriodSeconds'] = 20;
  const security = isRecord(podSpec['securityContext']) ? podSpec['securityContext'] : {};
  podSpec['securityContext'] = { runAsUser: config.defaultUserId, ...security };

  const annotations = {
    'prometheus.io/path': config.executor.prometheusPath,
    'prometheus.io/scrape': 'true',
    ...sdep.spec.annotations,
    ...predictor.annotations,
    ...stringMap(pod.component?.metadata?.['annotations']),
  };
  const spec: Verbatim = {
    replicas: pod.component?.replicas ?? predictor.replicas,
    selector: { matchLabels: selector },
    template: { metadata: { labels, annotations }, spec: podSpec },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
  };
  if (predictor.progressDeadlineSeconds !== undefined) spec['progressDeadlineSeconds'] = predictor.progressDeadlineSeconds;
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: metadataOf(sdep, pod.name, labels), spec };
}

/** HPA and KEDA ScaledObject (which own the Deployment's replicas) and PDB of one componentSpec, named as its Deployment. */
function scalingObjects(deployment: KubeObject, component: ComponentSpec | undefined, config: RenderConfig): { scalers: KubeObject[]; budgets: KubeObject[] } {
  const scalers: KubeObject[] = [];
  const budgets: KubeObject[] = [];
  const { name, namespace, labels } = deployment.metadata;
  const metadata = (): ObjectMetadata => ({ name, namespace, labels: { ...ownLabels(labels) } });
  const target = { apiVersion: 'apps/v1', kind: 'Deployment', name };
  const hpa = component?.hpaSpec;
  if (hpa !== undefined) {
    const spec: Verbatim = { scaleTargetRef: target, maxReplicas: hpa['maxReplicas'] };
    if (hpa['minReplicas'] !== undefined) spec['minReplicas'] = hpa['minReplicas'];
    const metrics = Array.isArray(hpa['metricsv2']) ? records(hpa['metricsv2']) : records(hpa['metrics']).map(metricV2);
    if (metrics.length > 0) spec['metrics'] = metrics;
    scalers.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: metadata(), spec });
  }
  const keda = component?.kedaSpec;
  if (keda !== undefined && config.keda.enabled) {
    const spec: Verbatim = { scaleTargetRef: target };
    for (const key of ['pollingInterval', 'cooldownPeriod', 'idleReplicaCount', 'minReplicaCount', 'maxReplicaCount', 'fallback', 'advanced', 'triggers']) {
      if (keda[key] !== undefined) spec[key] = keda[key];
    }
    scalers.push({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: metadata(), spec });
  }
  const pdb = component?.pdbSpec;
  if (pdb !== undefined) {
    // Only this componentSpec's pods (Seldon selects every pod of the SeldonDeployment).
    const spec: Verbatim = { selector: structuredClone(deployment.spec['selector']) };
    for (const key of ['minAvailable', 'maxUnavailable']) if (pdb[key] !== undefined) spec[key] = pdb[key];
    budgets.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: metadata(), spec });
  }
  return { scalers, budgets };
}

/** The labels every object of the SeldonDeployment carries (not the pod's own). */
function ownLabels(labels: Record<string, string>): Record<string, string> {
  return { [LABELS.deploymentId]: labels[LABELS.deploymentId] ?? '', [LABELS.managedBy]: MANAGED_BY };
}

/** A `metrics` entry in autoscaling/v2beta1's shape, in v2's (Seldon converts them the same way). */
function metricV2(metric: Verbatim): Verbatim {
  const type = metric['type'];
  const source = (key: string): Verbatim => (isRecord(metric[key]) ? metric[key] : {});
  const target = (m: Verbatim): Verbatim => {
    if (m['targetAverageUtilization'] !== undefined) return { type: 'Utilization', averageUtilization: m['targetAverageUtilization'] };
    if (m['targetAverageValue'] !== undefined) return { type: 'AverageValue', averageValue: m['targetAverageValue'] };
    return { type: 'Value', value: m['targetValue'] };
  };
  const metricId = (m: Verbatim): Verbatim => {
    const id: Verbatim = { name: m['metricName'] };
    if (m['selector'] !== undefined) id['selector'] = m['selector'];
    if (m['metricSelector'] !== undefined) id['selector'] = m['metricSelector'];
    return id;
  };
  switch (type) {
    case 'Resource': {
      const r = source('resource');
      return { type, resource: { name: r['name'], target: target(r) } };
    }
    case 'Pods': {
      const p = source('pods');
      return { type, pods: { metric: metricId(p), target: target(p) } };
    }
    case 'Object': {
      const o = source('object');
      return { type, object: { metric: metricId(o), describedObject: o['target'], target: target(o) } };
    }
    case 'External': {
      const e = source('external');
      return { type, external: { metric: metricId(e), target: target(e) } };
    }
    default:
      return metric;
  }
}
