/**
 * A SeldonDeployment's status from what its children report, as Seldon's operator writes it
 * (`state`, `description`, `deploymentStatus`, `serviceStatus`, `replicas`, `address.url`), plus
 * what GitOps tools and Knative read: `conditions` with a `Ready` that sums them up,
 * `observedGeneration`, and `addresses` whose first entry is `address`. Pure: the operator
 * passes in what its caches hold and the time, and patches the result only when it changed.
 */
import type { DeploymentState } from '../../manifest/index.ts';
import { isRecord, records } from './objects.ts';
import type { Rendered } from './render.ts';

/** What a child Deployment reports (from `.spec.replicas` and `.status`). */
export interface ObservedDeployment {
  /** `.spec.replicas` as the cluster holds it (an autoscaler may have changed it). */
  readonly specReplicas: number;
  readonly replicas?: number;
  readonly availableReplicas?: number;
  readonly conditions?: readonly { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }[];
}

export interface Observed {
  /** The children found, by kind then name. */
  readonly deployments: ReadonlyMap<string, ObservedDeployment>;
  /** Names of every other kind of child found, as `Kind/name`. */
  readonly others: ReadonlySet<string>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export interface SeldonStatus {
  state: DeploymentState;
  description?: string;
  deploymentStatus: Record<string, { replicas: number; availableReplicas: number }>;
  serviceStatus: Record<string, { svcName: string; httpEndpoint: string; grpcEndpoint?: string }>;
  replicas?: number;
  address?: { url: string };
  addresses?: { url: string }[];
  conditions: Condition[];
  observedGeneration?: number;
}

export interface StatusInput {
  readonly namespace: string;
  readonly generation?: number;
  readonly rendered: Rendered;
  readonly observed: Observed;
  /** A reconcile error (a manifest problem, an apply refused): the deployment is Failed with its text. */
  readonly error?: string;
  /** The status written last, whose conditions keep their transition times while unchanged. */
  readonly previous?: Pick<SeldonStatus, 'conditions'>;
  /** RFC 3339 time of this pass. */
  readonly now: string;
}

/**
 * What the children report, from the objects as the API server returns them (a list or an informer
 * cache): each Deployment's `spec.replicas` and `status`, and the kind and name of the others.
 */
export function observedOf(objects: readonly unknown[]): Observed {
  const deployments = new Map<string, ObservedDeployment>();
  const others = new Set<string>();
  for (const object of objects) {
    if (!isRecord(object) || !isRecord(object['metadata']) || typeof object['metadata']['name'] !== 'string') continue;
    const name = object['metadata']['name'];
    if (object['kind'] !== 'Deployment') {
      others.add(`${String(object['kind'])}/${name}`);
      continue;
    }
    const spec = isRecord(object['spec']) ? object['spec'] : {};
    const status = isRecord(object['status']) ? object['status'] : {};
    const count = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
    const seen: { -readonly [K in keyof ObservedDeployment]: ObservedDeployment[K] } = { specReplicas: count(spec['replicas']) ?? 1 };
    const replicas = count(status['replicas']);
    if (replicas !== undefined) seen.replicas = replicas;
    const available = count(status['availableReplicas']);
    if (available !== undefined) seen.availableReplicas = available;
    seen.conditions = records(status['conditions']).map((c) => {
      const condition: { type: string; status: string; reason?: string; message?: string } = { type: String(c['type']), status: String(c['status']) };
      if (typeof c['reason'] === 'string') condition.reason = c['reason'];
      if (typeof c['message'] === 'string') condition.message = c['message'];
      return condition;
    });
    deployments.set(name, seen);
  }
  return { deployments, others };
}

export const NOT_PROGRESSING = 'Deployment is no longer progressing and not available.';

/** The condition type each kind of child makes ready, in Seldon's names. */
const CONDITION_OF_KIND: Readonly<Record<string, string>> = {
  Deployment: 'DeploymentsReady',
  Service: 'ServicesReady',
  HorizontalPodAutoscaler: 'HpasReady',
  ScaledObject: 'KedaReady',
  PodDisruptionBudget: 'PdbsReady',
  VirtualService: 'istioVirtualServicesReady',
  DestinationRule: 'istioVirtualServicesReady',
  Mapping: 'AmbassadorMappingsReady',
};

export function seldonStatus(input: StatusInput): SeldonStatus {
  const { rendered, observed, namespace } = input;
  const deploymentStatus: SeldonStatus['deploymentStatus'] = {};
  const serviceStatus: SeldonStatus['serviceStatus'] = {};
  const missing = new Map<string, string[]>();
  const unavailable: string[] = [];
  let failed = false;
  let firstReplicas: number | undefined;
  for (const object of rendered.objects) {
    const { kind } = object;
    const { name } = object.metadata;
    const condition = CONDITION_OF_KIND[kind] ?? `${kind}sReady`;
    if (kind === 'Deployment') {
      const seen = observed.deployments.get(name);
      if (seen === undefined) {
        missing.set(condition, [...(missing.get(condition) ?? []), name]);
        continue;
      }
      const available = seen.availableReplicas ?? 0;
      deploymentStatus[name] = { replicas: seen.replicas ?? 0, availableReplicas: available };
      firstReplicas ??= seen.replicas ?? 0;
      const stalled = seen.conditions?.some((c) => c.type === 'Progressing' && c.status === 'False') ?? false;
      const availableCondition = seen.conditions?.find((c) => c.type === 'Available');
      if (available < seen.specReplicas) unavailable.push(name);
      if (stalled && availableCondition?.status !== 'True') failed = true;
      continue;
    }
    if (!observed.others.has(`${kind}/${name}`)) {
      missing.set(condition, [...(missing.get(condition) ?? []), name]);
      continue;
    }
    if (kind === 'Service') {
      const ports = (object.spec['ports'] as { name?: string; port?: number }[] | undefined) ?? [];
      const http = ports.find((p) => p.name === 'http')?.port;
      const grpc = ports.find((p) => p.name === 'grpc')?.port;
      const entry: SeldonStatus['serviceStatus'][string] = { svcName: name, httpEndpoint: `${name}.${namespace}:${http ?? ''}` };
      if (grpc !== undefined) entry.grpcEndpoint = `${name}.${namespace}:${grpc}`;
      serviceStatus[name] = entry;
    }
  }

  const kinds = [...new Set(rendered.objects.map((o) => CONDITION_OF_KIND[o.kind] ?? `${o.kind}sReady`))].sort();
  const conditions: Condition[] = [];
  const previous = new Map((input.previous?.conditions ?? []).map((c) => [c.type, c]));
  const condition = (type: string, status: Condition['status'], reason?: string, message?: string): Condition => {
    const before = previous.get(type);
    const c: Condition = { type, status, lastTransitionTime: before?.status === status ? before.lastTransitionTime : input.now };
    if (reason !== undefined) c.reason = reason;
    if (message !== undefined) c.message = message;
    return c;
  };
  for (const type of kinds) {
    const absent = missing.get(type);
    if (absent !== undefined) conditions.push(condition(type, 'False', 'NotFound', `not created yet: ${absent.join(', ')}`));
    else if (type === 'DeploymentsReady' && unavailable.length > 0) conditions.push(condition(type, 'False', 'NotAvailable', `waiting for available replicas: ${unavailable.join(', ')}`));
    else conditions.push(condition(type, 'True'));
  }

  let state: DeploymentState;
  let description: string | undefined;
  if (input.error !== undefined) {
    state = 'Failed';
    description = input.error;
  } else if (failed) {
    state = 'Failed';
    description = NOT_PROGRESSING;
  } else {
    state = conditions.every((c) => c.status === 'True') ? 'Available' : 'Creating';
  }
  const notReady = conditions.filter((c) => c.status !== 'True').map((c) => c.type);
  conditions.push(
    state === 'Available'
      ? condition('Ready', 'True')
      : condition('Ready', 'False', state === 'Failed' ? 'Failed' : 'Creating', description ?? `not ready: ${notReady.join(', ')}`),
  );
  conditions.sort((a, b) => a.type.localeCompare(b.type));

  const status: SeldonStatus = { state, deploymentStatus, serviceStatus, conditions };
  if (description !== undefined) status.description = description;
  if (firstReplicas !== undefined) status.replicas = firstReplicas;
  // Seldon sets the address once the Services exist: Knative resolves a Trigger's subscriber from it.
  if (!missing.has('ServicesReady') && rendered.address !== '') {
    status.address = { url: rendered.address };
    status.addresses = [{ url: rendered.address }];
  }
  if (input.generation !== undefined) status.observedGeneration = input.generation;
  return status;
}
