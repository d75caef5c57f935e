export { DEFAULT_RENDER_CONFIG, IMAGE_TAG, renderConfig, type PredictorServers, type RenderConfig, type Resources, type ServerImage } from './config.ts';
export { decodeEnginePredictor, ENGINE_PREDICTOR_ENV, EXECUTOR_CONTAINER } from './executor.ts';
export {
  ANNOTATIONS,
  componentDeploymentName,
  executorDeploymentName,
  gatewayName,
  kubernetesName,
  LABELS,
  MANAGED_BY,
  nodeServiceName,
  predictorServiceName,
} from './names.ts';
export { RenderError, type KubeObject, type ObjectMetadata, type OwnerReference } from './objects.ts';
export { MODEL_PATH, PVC_PATH } from './prepack.ts';
export { addressOf, render, type Owner, type Rendered } from './render.ts';
export { GATEWAY_PREDICTORS_ENV } from './routes.ts';
export { NOT_PROGRESSING, observedOf, seldonStatus, type Condition, type Observed, type ObservedDeployment, type SeldonStatus, type StatusInput } from './status.ts';
export { CRD_GROUP, CRD_NAME, SELDON_DEPLOYMENT_SCHEMA, seldonDeploymentCrd } from './crd.ts';
export { FIELD_MANAGER, KubeClient, KubeError, resourceOf, resourcePath, type LiveObject, type Resource, type WatchEvent } from './client.ts';
export { Informer, keyOf, type InformerHandlers, type InformerOptions } from './informers.ts';
export { WorkQueue, type QueueOptions } from './queue.ts';
export { APPLIED_ANNOTATION, childKinds, childResources, covers, readLive, Reconciler, SELDON_DEPLOYMENTS, type ReconcilerSettings } from './reconcile.ts';
export { CONTROLLER_ID_LABEL, isOurs, LabelledNamespaces, NAMESPACES, readsNamespaceLabels, takes, type Scope } from './scope.ts';
export { ChildInformers, controllerUids, type ChildCache, type ChildKind } from './children.ts';
export { Controller, type ControllerSettings } from './controller.ts';
export { operatorOptions, type OperatorOptions } from './options.ts';
export { LeaderElector, LEASES, type LeaseSettings } from './lease.ts';
export { admissionHandler, admissionReview, WEBHOOK_PATH, type AdmissionHandlerSettings, type AdmissionResult, type AdmissionVerdict } from './webhook.ts';
export { certDirectory, WebhookServer, type CertSource, type ServingCert, type WebhookServerSettings } from './webhook-server.ts';
export { assess, certsOfSecret, pemCertificates, renew, SECRETS, SelfManagedCerts, serviceNames, VALIDATING_WEBHOOK_CONFIGURATIONS, type Renewal, type SelfManagedSettings, type WebhookCerts } from './certs.ts';
export { operatorEndpoints, OperatorMetrics, type EndpointSettings, type OperatorGauges, type ReadinessCheck } from './metrics.ts';
export { KubernetesRuntime, RBAC_NEEDED, RUNTIME_FIELD_MANAGER, type KubernetesRuntimeSettings } from './runtime.ts';
export { kubernetesRuntimeOptions, type KubernetesRuntimeOptions } from './runtime-options.ts';
export { AWAITING_OPERATOR, deploymentStatusOf, readyAddresses, SERVICE_NAME_LABEL } from './runtime-status.ts';
