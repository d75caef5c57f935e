export * from './types.ts';
export * from './load.ts';
export * from './runtime.ts';
export * from './home.ts';
export * from './api.ts';
export * from './object-events.ts';
export { BUILT_IN_IMPLEMENTATIONS, HOST_IMPLEMENTATIONS, SERVED_IMPLEMENTATIONS, builtInOf, isExecutorBuiltIn, type BuiltInImplementation, type BuiltInName, type BuiltInServer, type ExecutorBuiltIn } from './built-ins.ts';
export { BATCH_MAX_SIZE, BATCH_MAX_WAIT_MS, RATIO_A, containerFor, graphNodes, impliedUnitType, isPrepackagedServer, nodeSettings, settingsOf, type BatchSettings, type NodeSettings } from './graph.ts';
export { ManifestError } from './problems.ts';
export {
  BASE_DIR_ANNOTATION,
  manifestOf,
  type BrokerManifest,
  type DeliveryManifest,
  type DeploymentManifest,
  type SeldonDeploymentManifest,
  type TriggerManifest,
} from './manifest-of.ts';
export { dns1123LabelProblem, dns1123SubdomainProblem } from './names.ts';
export {
  DEFAULT_MAX_REPLICAS,
  PARAMETER_TYPES,
  SELDON_API_VERSIONS,
  UNIT_IMPLEMENTATIONS,
  UNIT_METHODS,
  UNIT_TYPES,
  deploymentKey,
} from './seldon-deployment.ts';
export * from './knative.ts';
export { BROKER_API_VERSIONS, BROKER_DEFAULTS_CONFIG_MAP, BUILT_IN_DELIVERY, DEFAULT_BACKOFF_DELAY_MS, brokerDefaultsOf, defaultDeliveryFor, DEFAULT_BROKER, TRIGGER_API_VERSIONS } from './eventing.ts';
export { DEPLOYMENT_API_VERSIONS, SERVICE_API_VERSIONS } from './kubernetes.ts';
export { durationProblemMessage, isoDurationMs, type DurationProblem } from './duration.ts';
export { KNOWN_FIELDS, closest, unknownFieldMessage, unknownFields, unknownFieldWarnings, type UnknownField } from './known-fields.ts';
export { packageVersion } from './package-version.ts';
