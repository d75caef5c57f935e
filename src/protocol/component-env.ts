/**
 * Seldon's environment contract for a component replica: the variables a runtime sets (the local
 * supervisor, the Kubernetes renderer) and a host reads (the Node host here; the Python host reads
 * the same names in `python/trantor_runtime`).
 */
export const COMPONENT_ENV = Object.freeze({
  unitId: 'PREDICTIVE_UNIT_ID',
  predictorId: 'PREDICTOR_ID',
  deploymentId: 'SELDON_DEPLOYMENT_ID',
  predictorLabels: 'PREDICTOR_LABELS',
  /** The node's parameters as a JSON list of `{name, value, type}`. */
  parameters: 'PREDICTIVE_UNIT_PARAMETERS',
  image: 'PREDICTIVE_UNIT_IMAGE',
  httpPort: 'PREDICTIVE_UNIT_HTTP_SERVICE_PORT',
  /** Older wrappers read this one for the HTTP port. */
  servicePort: 'PREDICTIVE_UNIT_SERVICE_PORT',
  grpcPort: 'PREDICTIVE_UNIT_GRPC_SERVICE_PORT',
  metricsPort: 'PREDICTIVE_UNIT_METRICS_SERVICE_PORT',
  /** Trantor's own: the address a host binds (127.0.0.1 unless set). */
  bindHost: 'TRANTOR_BIND_HOST',
  /** Trantor's own: the supervisor's pid; a host exits when it is gone. */
  parentPid: 'TRANTOR_PARENT_PID',
} as const);

export interface ComponentIdentity {
  readonly unit: string;
  readonly predictor: string;
  readonly deployment: string;
  readonly predictorLabels: Readonly<Record<string, string>>;
}

/** Who a replica is: its node, predictor and deployment, as Seldon's operator sets them. */
export function identityEnv(identity: ComponentIdentity): Record<string, string> {
  return {
    [COMPONENT_ENV.unitId]: identity.unit,
    [COMPONENT_ENV.predictorId]: identity.predictor,
    [COMPONENT_ENV.deploymentId]: identity.deployment,
    [COMPONENT_ENV.predictorLabels]: JSON.stringify(identity.predictorLabels),
  };
}

/** Where a replica listens: HTTP (under both of Seldon's names), gRPC and metrics. */
export function portEnv(ports: { readonly http: number; readonly grpc: number; readonly metrics: number }): Record<string, string> {
  return {
    [COMPONENT_ENV.httpPort]: String(ports.http),
    [COMPONENT_ENV.servicePort]: String(ports.http),
    [COMPONENT_ENV.grpcPort]: String(ports.grpc),
    [COMPONENT_ENV.metricsPort]: String(ports.metrics),
  };
}
