/**
 * The fields each kind we load knows, one table per kind, so a misspelt field (`replica: 2`) is
 * named instead of silently ignored: `spec.predictors[0].replica: unknown field; did you mean
 * replicas?`. The loader reads only the fields it needs; these tables list every field a user of
 * Seldon Core, Knative and Kubernetes writes, including ones Trantor keeps but does not act on.
 *
 * Opaque blocks (`OPAQUE`) are not looked into: anything below them is accepted. They are the
 * free-form maps (labels, annotations, ConfigMap data, resource quantities) and the large
 * Kubernetes structures users rarely write for a model (affinity, tolerations, security contexts,
 * volume sources, lifecycle hooks, HPA/KEDA/PDB specs, status). docs/cli-apply.md lists them.
 */
import { parseAllDocuments } from 'yaml';
import { closest as nearest } from '../options/index.ts';
import { isMapping, type Mapping } from './fields.ts';
import { MAX_ALIASES } from './load.ts';
import { field, item } from './problems.ts';

/** What a field may hold: any value (not looked into), a mapping of known fields, or a list of one shape. */
export type Shape = typeof OPAQUE | { readonly fields: Readonly<Record<string, Shape>> } | { readonly items: Shape };

export const OPAQUE = 'opaque' as const;

function fields(known: Record<string, Shape>): Shape {
  return { fields: known };
}

function listOf(shape: Shape): Shape {
  return { items: shape };
}

/** Fields that hold a scalar (or anything): named so the tables read as lists of names. */
function scalars(...names: string[]): Record<string, Shape> {
  return Object.fromEntries(names.map((n) => [n, OPAQUE]));
}

const OBJECT_META = fields({
  ...scalars('name', 'namespace', 'labels', 'annotations', 'generation', 'generateName', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'),
  ...scalars('deletionGracePeriodSeconds', 'finalizers', 'ownerReferences', 'managedFields', 'selfLink'),
});

const PROBE = fields({
  httpGet: fields(scalars('path', 'port', 'host', 'scheme', 'httpHeaders')),
  tcpSocket: fields(scalars('port', 'host')),
  exec: fields(scalars('command')),
  grpc: fields(scalars('port', 'service')),
  ...scalars('initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold', 'terminationGracePeriodSeconds'),
});

const CONTAINER = fields({
  ...scalars('name', 'image', 'command', 'args', 'workingDir', 'imagePullPolicy', 'terminationMessagePath', 'terminationMessagePolicy'),
  ...scalars('stdin', 'stdinOnce', 'tty', 'restartPolicy', 'resizePolicy', 'securityContext', 'lifecycle', 'envFrom', 'volumeDevices'),
  env: listOf(fields(scalars('name', 'value', 'valueFrom'))),
  ports: listOf(fields(scalars('name', 'containerPort', 'protocol', 'hostPort', 'hostIP'))),
  resources: fields(scalars('limits', 'requests', 'claims')),
  volumeMounts: listOf(fields(scalars('name', 'mountPath', 'readOnly', 'subPath', 'subPathExpr', 'mountPropagation', 'recursiveReadOnly'))),
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  startupProbe: PROBE,
});

const POD_SPEC_FIELDS: Record<string, Shape> = {
  containers: listOf(CONTAINER),
  initContainers: listOf(CONTAINER),
  ...scalars('volumes', 'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken', 'nodeSelector', 'nodeName', 'tolerations', 'affinity'),
  ...scalars('imagePullSecrets', 'securityContext', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'restartPolicy', 'dnsPolicy', 'dnsConfig'),
  ...scalars('hostNetwork', 'hostPID', 'hostIPC', 'hostUsers', 'hostname', 'subdomain', 'hostAliases', 'setHostnameAsFQDN', 'shareProcessNamespace'),
  ...scalars('priority', 'priorityClassName', 'preemptionPolicy', 'schedulerName', 'runtimeClassName', 'topologySpreadConstraints', 'enableServiceLinks'),
  ...scalars('overhead', 'readinessGates', 'ephemeralContainers', 'os', 'schedulingGates', 'resourceClaims'),
};

const POD_SPEC = fields(POD_SPEC_FIELDS);

const POD_TEMPLATE = fields({ metadata: OBJECT_META, spec: POD_SPEC });

/** Seldon's PredictiveUnit (a graph node); children are graph nodes again, checked by recursion below. */
const GRAPH_NODE_FIELDS: Record<string, Shape> = {
  ...scalars('name', 'type', 'implementation', 'methods', 'modelUri', 'serviceAccountName', 'envSecretRefName', 'storageInitializerImage'),
  endpoint: fields(scalars('type', 'service_host', 'service_port', 'httpPort', 'grpcPort')),
  parameters: listOf(fields(scalars('name', 'value', 'type'))),
  logger: fields(scalars('url', 'mode')),
};
const GRAPH_NODE: { fields: Record<string, Shape> } = { fields: GRAPH_NODE_FIELDS };
GRAPH_NODE_FIELDS['children'] = listOf(GRAPH_NODE);

const PREDICTOR = fields({
  ...scalars('name', 'replicas', 'traffic', 'shadow', 'labels', 'annotations', 'progressDeadlineSeconds', 'engineResources', 'ssl'),
  graph: GRAPH_NODE,
  componentSpecs: listOf(fields({ metadata: OBJECT_META, spec: POD_SPEC, ...scalars('replicas', 'hpaSpec', 'kedaSpec', 'pdbSpec') })),
  svcOrchSpec: fields({ resources: fields(scalars('limits', 'requests', 'claims')), env: listOf(fields(scalars('name', 'value', 'valueFrom'))), replicas: OPAQUE }),
  explainer: fields({
    ...scalars('type', 'modelUri', 'serviceAccountName', 'envSecretRefName', 'storageInitializerImage', 'config', 'replicas', 'initParameters', 'endpoint'),
    containerSpec: CONTAINER,
  }),
});

const DESTINATION = fields({
  ref: fields(scalars('apiVersion', 'kind', 'name', 'namespace', 'group', 'address')),
  ...scalars('uri', 'CACerts', 'audience'),
});

const DELIVERY = fields({
  ...scalars('retry', 'backoffPolicy', 'backoffDelay', 'timeout', 'format', 'retryAfterMax'),
  deadLetterSink: DESTINATION,
});

function kindShape(spec: Record<string, Shape>): Shape {
  return fields({ ...scalars('apiVersion', 'kind', 'status'), metadata: OBJECT_META, spec: fields(spec) });
}

/** One table per kind the loader takes (load.ts's KINDS). */
export const KNOWN_FIELDS: Readonly<Record<string, Shape>> = {
  SeldonDeployment: kindShape({
    ...scalars('name', 'annotations', 'protocol', 'transport', 'replicas', 'serverType', 'oauth_key', 'oauth_secret'),
    predictors: listOf(PREDICTOR),
  }),
  Broker: kindShape({ config: fields(scalars('apiVersion', 'kind', 'name', 'namespace')), delivery: DELIVERY }),
  Trigger: kindShape({
    broker: OPAQUE,
    // filter.attributes is a free map of CloudEvents attributes; filters holds Knative's expression dialect.
    filter: fields(scalars('attributes')),
    filters: OPAQUE,
    subscriber: DESTINATION,
    delivery: DELIVERY,
  }),
  Service: kindShape({
    ...scalars('selector', 'type', 'clusterIP', 'clusterIPs', 'externalName', 'externalIPs', 'sessionAffinity', 'sessionAffinityConfig'),
    ...scalars('externalTrafficPolicy', 'internalTrafficPolicy', 'ipFamilies', 'ipFamilyPolicy', 'loadBalancerIP', 'loadBalancerSourceRanges'),
    ...scalars('loadBalancerClass', 'publishNotReadyAddresses', 'healthCheckNodePort', 'allocateLoadBalancerNodePorts', 'trafficDistribution'),
    ports: listOf(fields(scalars('name', 'port', 'targetPort', 'protocol', 'nodePort', 'appProtocol'))),
  }),
  Deployment: kindShape({
    ...scalars('replicas', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'),
    selector: fields(scalars('matchLabels', 'matchExpressions')),
    template: POD_TEMPLATE,
  }),
  // status: what `get -o yaml` prints back, never looked into.
  ConfigMap: fields({ ...scalars('apiVersion', 'kind', 'data', 'binaryData', 'immutable', 'status'), metadata: OBJECT_META }),
};

/** A field no table knows, and the known field it most likely meant. */
export interface UnknownField {
  /** `spec.predictors[0].replica` */
  path: string;
  suggestion?: string;
}

/** The unknown fields of one object, by the table of its `kind` (none for a kind without one). */
export function unknownFields(raw: Mapping): UnknownField[] {
  const kind = raw['kind'];
  const shape = typeof kind === 'string' && Object.hasOwn(KNOWN_FIELDS, kind) ? KNOWN_FIELDS[kind] : undefined;
  const found: UnknownField[] = [];
  if (shape !== undefined) walk(raw, shape, '', found);
  return found;
}

function walk(value: unknown, shape: Shape, path: string, found: UnknownField[]): void {
  if (shape === OPAQUE) return;
  if ('items' in shape) {
    if (Array.isArray(value)) value.forEach((v: unknown, i) => walk(v, shape.items, item(path, i), found));
    return;
  }
  if (!isMapping(value)) return;
  const known = Object.keys(shape.fields);
  for (const [key, child] of Object.entries(value)) {
    const childShape = Object.hasOwn(shape.fields, key) ? shape.fields[key] : undefined;
    if (childShape === undefined) {
      const suggestion = closest(key, known);
      found.push({ path: field(path, key), ...(suggestion === undefined ? {} : { suggestion }) });
    } else walk(child, childShape, field(path, key), found);
  }
}

/** `spec.predictors[0].replica: unknown field; did you mean replicas?` */
export function unknownFieldMessage(unknown: UnknownField): string {
  return `${unknown.path}: unknown field${unknown.suggestion === undefined ? '' : `; did you mean ${unknown.suggestion}?`}`;
}

/**
 * The known name a misspelling most likely meant: the same letters in another case or with `_`
 * for camelCase (`model_uri` → modelUri), else the nearest by edit distance when it is close
 * (the options tables' rule). Undefined when nothing is that close.
 */
export function closest(name: string, known: readonly string[]): string | undefined {
  const squash = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  return known.find((k) => squash(k) === squash(name)) ?? nearest(name, known);
}

/**
 * Every unknown field of every object in a manifest text, one line each, starting with the object
 * (`SeldonDeployment iris: spec.predictors[0].replica: unknown field; did you mean replicas?`).
 * Call it on text loadManifests has accepted: that bounds what its aliases expand to.
 */
export function unknownFieldWarnings(text: string): string[] {
  const warnings: string[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) continue;
    const raw: unknown = doc.toJS({ maxAliasCount: MAX_ALIASES });
    const objects = isMapping(raw) && raw['kind'] === 'List' && Array.isArray(raw['items']) ? (raw['items'] as unknown[]) : [raw];
    for (const object of objects) {
      if (!isMapping(object)) continue;
      for (const unknown of unknownFields(object)) warnings.push(`${labelOf(object)}: ${unknownFieldMessage(unknown)}`);
    }
  }
  return warnings;
}

function labelOf(raw: Mapping): string {
  const metadata = raw['metadata'];
  const name = isMapping(metadata) && typeof metadata['name'] === 'string' ? ` ${metadata['name']}` : '';
  return `${String(raw['kind'])}${name}`;
}
