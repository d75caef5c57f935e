/**
 * A SeldonDeployment after parsing, validation and defaulting: every field the rest of
 * Trantor reads is present, so nothing below `manifest` re-checks or re-defaults.
 */

export type UnitType = 'MODEL' | 'TRANSFORMER' | 'OUTPUT_TRANSFORMER' | 'ROUTER' | 'COMBINER' | 'UNKNOWN_TYPE';
export type UnitMethod = 'TRANSFORM_INPUT' | 'TRANSFORM_OUTPUT' | 'ROUTE' | 'AGGREGATE' | 'SEND_FEEDBACK';
export type UnitImplementation =
  | 'UNKNOWN_IMPLEMENTATION'
  | 'SIMPLE_MODEL'
  | 'SIMPLE_ROUTER'
  | 'RANDOM_ABTEST'
  | 'AVERAGE_COMBINER'
  | 'SKLEARN_SERVER'
  | 'XGBOOST_SERVER'
  | 'TENSORFLOW_SERVER'
  | 'MLFLOW_SERVER'
  | 'TRITON_SERVER'
  | 'HUGGINGFACE_SERVER';

export type ParameterType = 'INT' | 'FLOAT' | 'DOUBLE' | 'STRING' | 'BOOL' | 'JSON';

export interface Parameter {
  name: string;
  value: string;
  type: ParameterType;
}

export interface Endpoint {
  type: 'REST' | 'GRPC';
  /** Set by the runtime when it knows where the unit listens; absent in a manifest. */
  serviceHost?: string;
  servicePort?: number;
}

export interface LoggerSpec {
  url?: string;
  mode: 'request' | 'response' | 'all';
}

/** A node of the inference graph ("PredictiveUnit" in Seldon's CRD). */
export interface GraphNode {
  name: string;
  type?: UnitType;
  implementation?: UnitImplementation;
  methods?: UnitMethod[];
  modelUri?: string;
  /** The image that fetches `modelUri` into the pod on Kubernetes (Seldon's field); the operator's default when absent. */
  storageInitializerImage?: string;
  serviceAccountName?: string;
  envSecretRefName?: string;
  endpoint: Endpoint;
  parameters: Parameter[];
  logger?: LoggerSpec;
  children: GraphNode[];
}

export interface EnvVar {
  name: string;
  value?: string;
}

/** The fields of a Kubernetes container that Trantor reads to run a component locally. */
/** A container's readiness or liveness probe (Kubernetes' fields; locally `exec` is not run, and ports are the replica's). */
export interface Probe {
  httpGet?: { path?: string };
  tcpSocket?: Record<string, never>;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env: EnvVar[];
  workingDir?: string;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  /** Locally only its timings count: how long the replica may take to answer its first health check. */
  startupProbe?: Probe;
}

/**
 * Fields of a Kubernetes object kept exactly as written (a PodSpec, an HPA spec…): Trantor checks
 * what it reads and passes the rest on whole, so what the local runtime does not model still
 * reaches Kubernetes.
 */
export type Verbatim = Record<string, unknown>;

export interface ComponentSpec {
  /** Trantor's typed view of `spec.containers`, what the local runtime runs. */
  containers: Container[];
  replicas?: number;
  /** `metadata` as written: `name` names its Deployment; `labels` and `annotations` go on its pods. */
  metadata?: Verbatim;
  /** The PodSpec as written, whole (resources, volumes, tolerations, GPUs, imagePullSecrets…). */
  spec?: Verbatim;
  /** A HorizontalPodAutoscaler for this componentSpec's Deployment: minReplicas, maxReplicas, metrics (v2beta1) or metricsv2. */
  hpaSpec?: Verbatim;
  /** A KEDA ScaledObject for it: triggers, pollingInterval, cooldownPeriod, idle/min/maxReplicaCount, advanced, fallback. */
  kedaSpec?: Verbatim;
  /** A PodDisruptionBudget for its pods: minAvailable or maxUnavailable. */
  pdbSpec?: Verbatim;
}

export interface Predictor {
  name: string;
  graph: GraphNode;
  componentSpecs: ComponentSpec[];
  replicas: number;
  traffic: number;
  shadow: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The executor's own container on Kubernetes: `resources` and `env`, as written. */
  svcOrchSpec?: Verbatim;
  /** `{certSecretName}`: the executor serves HTTPS with this Secret's certificate (Kubernetes only). */
  ssl?: Verbatim;
  /** The Deployments' `progressDeadlineSeconds` on Kubernetes. */
  progressDeadlineSeconds?: number;
  /** Kept as written and passed on; Trantor does not run explainers yet. */
  explainer?: Verbatim;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generation?: number;
}

export type DeploymentState = 'Creating' | 'Available' | 'Failed';

export interface SeldonDeployment {
  apiVersion: 'machinelearning.seldon.io/v1' | 'machinelearning.seldon.io/v1alpha2' | 'machinelearning.seldon.io/v1alpha3';
  kind: 'SeldonDeployment';
  metadata: ObjectMeta;
  spec: {
    name: string;
    protocol: 'seldon' | 'v2';
    transport: 'rest' | 'grpc';
    predictors: Predictor[];
    annotations: Record<string, string>;
  };
  /** The folder of the manifest file, against which relative paths (modelUri, workingDir) resolve. */
  baseDir?: string;
}

/**
 * Annotation (on metadata or spec) asking that TypeScript/JavaScript components be served inside
 * the control plane instead of as processes: no HTTP hop, at the cost of isolation.
 */
export const IN_PROCESS_ANNOTATION = 'trantor.io/in-process';

export function servesInProcess(deployment: Pick<SeldonDeployment, 'metadata' | 'spec'>): boolean {
  return (deployment.metadata.annotations[IN_PROCESS_ANNOTATION] ?? deployment.spec.annotations[IN_PROCESS_ANNOTATION]) === 'true';
}

/**
 * Annotation (on a predictor, metadata or spec) asking that the deployment's SKLEARN_SERVER nodes
 * be served as ONNX by the Node host (the model converted by skl2onnx at load, or the
 * `model.onnx` beside `model.joblib`) instead of by the Python host; with
 * `trantor.io/in-process` as well, inside the control plane.
 */
export const SKLEARN_ONNX_ANNOTATION = 'trantor.io/sklearn-onnx';

export function servesSklearnAsOnnx(deployment: Pick<SeldonDeployment, 'metadata' | 'spec'>, predictor: Pick<Predictor, 'annotations'>): boolean {
  const value = predictor.annotations[SKLEARN_ONNX_ANNOTATION] ?? deployment.metadata.annotations[SKLEARN_ONNX_ANNOTATION] ?? deployment.spec.annotations[SKLEARN_ONNX_ANNOTATION];
  return value === 'true';
}
