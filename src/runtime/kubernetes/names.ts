/**
 * The names and labels of what a SeldonDeployment becomes on Kubernetes, exactly as Seldon Core's
 * operator names them, so that dashboards, scripts and Services written for Seldon find Trantor's
 * objects. A name longer than 63 characters (a DNS label) becomes `seldon-<md5 of the name>`.
 */
import { createHash } from 'node:crypto';
import type { Predictor, SeldonDeployment } from '../../manifest/index.ts';

export const LABELS = Object.freeze({
  deploymentId: 'seldon-deployment-id',
  /** On the pods that hold the executor; the predictor's Service selects it. */
  app: 'seldon-app',
  /** Prefix of the label a graph node's Service selects: `seldon-app-svc-<container>`. */
  nodeServicePrefix: 'seldon-app-svc-',
  containsExecutor: 'seldon-deployment-contains-svcorch',
  managedBy: 'app.kubernetes.io/managed-by',
  shadow: 'seldon.io/shadow',
} as const);

export const MANAGED_BY = 'trantor';

/** Annotations Seldon's users set on a predictor or a deployment to steer what is made. */
export const ANNOTATIONS = Object.freeze({
  serviceName: 'seldon.io/svc-name',
  headlessService: 'seldon.io/headless-svc',
  noEngine: 'seldon.io/no-engine',
  istioHost: 'seldon.io/istio-host',
  istioGateway: 'seldon.io/istio-gateway',
  istioRetries: 'seldon.io/istio-retries',
  istioRetriesTimeout: 'seldon.io/istio-retries-timeout',
  restTimeout: 'seldon.io/rest-timeout',
  grpcTimeout: 'seldon.io/grpc-timeout',
  /** `seldon.io/engine-foo-bar: x` on the spec becomes env `FOO_BAR=x` in the executor. */
  executorEnvPrefix: 'seldon.io/engine-',
} as const);

/** A deployment-wide annotation: on `spec.annotations`, else on `metadata.annotations` (Seldon reads both, in that order). */
export function deploymentAnnotation(sdep: Pick<SeldonDeployment, 'metadata' | 'spec'>, key: string): string | undefined {
  return sdep.spec.annotations[key] ?? sdep.metadata.annotations[key];
}

/** Longest DNS label, and so the longest object name Seldon keeps as it is. */
const MAX_NAME = 63;

/** `name`, or `seldon-<md5(name)>` when it is longer than 63 characters. */
export function kubernetesName(name: string): string {
  return name.length > MAX_NAME ? `seldon-${md5(name)}` : name;
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** The predictor's Service (its entry point, in front of the executor): `<sdep>-<predictor>`, or `seldon.io/svc-name`. */
export function predictorServiceName(sdep: Pick<SeldonDeployment, 'metadata'>, predictor: Pick<Predictor, 'name' | 'annotations'>): string {
  return predictor.annotations[ANNOTATIONS.serviceName] ?? kubernetesName(`${sdep.metadata.name}-${predictor.name}`);
}

/** A graph node's Service, in front of its container: `<sdep>-<predictor>-<container>`. */
export function nodeServiceName(sdep: Pick<SeldonDeployment, 'metadata'>, predictor: Pick<Predictor, 'name'>, container: string): string {
  return kubernetesName(`${sdep.metadata.name}-${predictor.name}-${container}`);
}

/**
 * The Deployment of componentSpecs[index]: `<sdep>-<predictor>-<index>-<componentSpec metadata.name>`,
 * or with the names of its containers joined by `-` when it has no name.
 */
export function componentDeploymentName(
  sdep: Pick<SeldonDeployment, 'metadata'>,
  predictor: Pick<Predictor, 'name'>,
  index: number,
  componentName: string | undefined,
  containers: readonly string[],
): string {
  const suffix = componentName !== undefined && componentName !== '' ? componentName : containers.join('-');
  return kubernetesName(`${sdep.metadata.name}-${predictor.name}-${index}-${suffix}`);
}

/** The Deployment of a predictor with no component containers, whose pod holds the executor alone. */
export function executorDeploymentName(sdep: Pick<SeldonDeployment, 'metadata'>, predictor: Pick<Predictor, 'name'>): string {
  return kubernetesName(`${sdep.metadata.name}-${predictor.name}-svc-orch`);
}

/** Trantor's gateway for one SeldonDeployment (Deployment and Service): `<sdep>-gateway`. */
export function gatewayName(sdep: Pick<SeldonDeployment, 'metadata'>): string {
  return kubernetesName(`${sdep.metadata.name}-gateway`);
}

/** Istio's VirtualService, an Ingress or an HTTPRoute of the deployment: `<sdep>`. */
export function routeName(sdep: Pick<SeldonDeployment, 'metadata'>): string {
  return kubernetesName(sdep.metadata.name);
}

/** The label every object of a SeldonDeployment carries, and by which it is found again (a label value is at most 63 characters too). */
export function deploymentIdLabel(sdep: Pick<SeldonDeployment, 'metadata'>): Record<string, string> {
  return { [LABELS.deploymentId]: kubernetesName(sdep.metadata.name) };
}

/**
 * The label a graph node's Service selects: `seldon-app-svc-<container>: <its Service name>`. A
 * label key's name is at most 63 characters too: past that, the container's part is its md5.
 */
export function nodeServiceLabel(container: string, serviceName: string): Record<string, string> {
  const key = `${LABELS.nodeServicePrefix}${container}`;
  return { [key.length > MAX_NAME ? `${LABELS.nodeServicePrefix}${md5(container)}` : key]: serviceName };
}

/** The path every route of a deployment serves under, at the gateway and at an ingress. */
export function ingressPrefix(sdep: Pick<SeldonDeployment, 'metadata'>): string {
  return `/seldon/${sdep.metadata.namespace}/${sdep.metadata.name}/`;
}

/** In-cluster host of a Service. */
export function serviceHost(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.cluster.local`;
}

/** The path of a prediction at the executor, by protocol (Seldon's `GetPredictionPath`). */
export function predictionPath(sdep: Pick<SeldonDeployment, 'spec'>, predictor: Pick<Predictor, 'graph'>): string {
  return sdep.spec.protocol === 'v2' ? `/v2/models/${predictor.graph.name}/infer` : '/api/v1.0/predictions';
}
