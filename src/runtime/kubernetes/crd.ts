/**
 * The SeldonDeployment CustomResourceDefinition Trantor installs: the same group, kind and
 * versions as Seldon's (v1 stored, v1alpha2 and v1alpha3 served, no conversion needed as their
 * shapes agree), with status and scale subresources and `kubectl get sdep` columns. It is kept
 * small on purpose — Seldon's is 1.85 MB, too big for `kubectl apply`'s last-applied annotation
 * (262144 bytes) — by leaving the PodSpecs and the recursive graph to the admission webhook and
 * the reconcile, which validate them with field paths (`x-kubernetes-preserve-unknown-fields`).
 * `crd.yaml` beside this file is this object written out; a test keeps the two in step.
 */
export const CRD_GROUP = 'machinelearning.seldon.io';
export const CRD_NAME = `seldondeployments.${CRD_GROUP}`;

type Schema = Record<string, unknown>;

const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer', format: 'int32' };
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const preserved = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });

const predictor: Schema = {
  type: 'object',
  required: ['name', 'graph'],
  properties: {
    name: string,
    graph: preserved('The inference graph (a PredictiveUnit and its children), validated by the webhook.'),
    componentSpecs: {
      type: 'array',
      items: preserved('metadata, spec (a PodSpec), replicas, hpaSpec, kedaSpec and pdbSpec of one Deployment.'),
    },
    replicas: { ...integer, minimum: 0 },
    traffic: { ...integer, minimum: 0, maximum: 100 },
    shadow: { type: 'boolean' },
    labels: stringMap,
    annotations: stringMap,
    svcOrchSpec: preserved("The executor container's resources and env."),
    explainer: preserved('An explainer for this predictor (passed on; not run yet).'),
    engineResources: preserved('Deprecated: the executor container resources.'),
    ssl: { type: 'object', properties: { certSecretName: string } },
    progressDeadlineSeconds: integer,
  },
};

/** A Knative Addressable: what a Trigger's subscriber.ref resolves to. */
const addressable: Schema = { type: 'object', properties: { name: string, url: string, CACerts: string, audience: string } };

const status: Schema = {
  type: 'object',
  properties: {
    state: string,
    description: string,
    deploymentStatus: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: { name: string, status: string, description: string, explainerFor: string, replicas: integer, availableReplicas: integer },
      },
    },
    serviceStatus: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { svcName: string, httpEndpoint: string, grpcEndpoint: string, explainerFor: string } },
    },
    replicas: integer,
    address: addressable,
    addresses: { type: 'array', items: addressable },
    conditions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'status'],
        properties: { type: string, status: string, severity: string, lastTransitionTime: string, reason: string, message: string },
      },
    },
    observedGeneration: { type: 'integer', format: 'int64' },
    annotations: stringMap,
  },
};

/** The schema of one version (they are the same for all three). */
export const SELDON_DEPLOYMENT_SCHEMA: Schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: string,
    kind: string,
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['predictors'],
      properties: {
        name: string,
        predictors: { type: 'array', items: predictor },
        annotations: stringMap,
        protocol: string,
        transport: string,
        serverType: string,
        replicas: { ...integer, minimum: 0 },
        oauth_key: string,
        oauth_secret: string,
      },
    },
    status,
  },
};

const PRINTER_COLUMNS = [
  { name: 'State', type: 'string', jsonPath: '.status.state' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'URL', type: 'string', jsonPath: '.status.address.url' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The CRD object, for `kubectl apply --server-side -f crd.yaml` and the chart. */
export function seldonDeploymentCrd(): Schema {
  const version = (name: string, storage: boolean): Schema => ({
    name,
    served: true,
    storage,
    schema: { openAPIV3Schema: SELDON_DEPLOYMENT_SCHEMA },
    subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
    additionalPrinterColumns: PRINTER_COLUMNS,
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/managed-by': 'trantor' } },
    spec: {
      group: CRD_GROUP,
      names: { kind: 'SeldonDeployment', listKind: 'SeldonDeploymentList', plural: 'seldondeployments', singular: 'seldondeployment', shortNames: ['sdep'] },
      scope: 'Namespaced',
      versions: [version('v1', true), version('v1alpha2', false), version('v1alpha3', false)],
    },
  };
}
