/**
 * What KubernetesRuntime reports, read from the cluster's objects (pure): a deployment's status from
 * the SeldonDeployment's `status` the operator wrote and from its pods, and a graph node's ready
 * replicas from the EndpointSlices of the node's Service.
 */
import { graphNodes, ManifestError, type DeploymentStatus, type ReplicaAddress, type ReplicaState, type ReplicaStatus } from '../../manifest/index.ts';
import type { LiveObject } from './client.ts';
import { nodeServiceLabel, nodeServiceName } from './names.ts';
import { DEFAULT_RENDER_CONFIG } from './config.ts';
import { isRecord, records, type KubeObject } from './objects.ts';
import { readLive } from './reconcile.ts';
import { render } from './render.ts';

/** The label the EndpointSlice controller puts on each slice: the name of its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const AWAITING_OPERATOR = 'waiting for the operator to reconcile it';

/**
 * The status of one SeldonDeployment: the state and description the operator wrote (Creating while
 * the operator has not yet seen its latest generation, so a status written for an older spec is not
 * reported as this one's), a replica per pod of each graph node, and why each crashing replica stops
 * (its last exit and termination message: with `terminationMessagePolicy: FallbackToLogsOnError`,
 * the tail of its output). With pods `unreadable` (credentials without the right), the replicas are
 * counted from the `deploymentStatus` the operator wrote: so many Ready, the rest Starting.
 */
export function deploymentStatusOf(live: LiveObject, pods: readonly LiveObject[] | 'unreadable'): DeploymentStatus {
  const written = isRecord(live.status) ? live.status : {};
  const generation = live.metadata.generation;
  const observed = typeof written['observedGeneration'] === 'number' ? written['observedGeneration'] : undefined;
  const replicas = pods === 'unreadable' ? countedReplicas(live, written) : replicasOf(live, pods);
  const state = written['state'];
  if ((state !== 'Creating' && state !== 'Available' && state !== 'Failed') || (generation !== undefined && observed !== undefined && observed < generation)) {
    return { state: 'Creating', description: AWAITING_OPERATOR, replicas };
  }
  const status: DeploymentStatus = { state, replicas };
  if (state === 'Available') return status;
  const why = [typeof written['description'] === 'string' ? written['description'] : '', ...replicas.filter((r) => r.state === 'Crashed').map((r) => `${r.id}: ${r.message ?? 'crashed'}`)];
  const description = why.filter((line) => line !== '').join('; ');
  if (description !== '') status.description = description;
  return status;
}

/** A graph node's container in one of its pods: `<predictor>/<node>/<index>`, pods in name order. */
export interface NodeContainer {
  readonly replica: string;
  readonly predictor: string;
  readonly node: string;
  readonly index: number;
  readonly pod: LiveObject;
  /** The container's name: the node's. */
  readonly container: string;
}

/** Each graph node's container in each of the SeldonDeployment's pods (none when its spec cannot be read). */
export function nodeContainers(live: LiveObject, pods: readonly LiveObject[]): NodeContainer[] {
  const sdep = readLive(live);
  if (sdep instanceof ManifestError) return [];
  const found: NodeContainer[] = [];
  const sorted = [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const predictor of sdep.spec.predictors) {
    for (const node of graphNodes(predictor)) {
      const [[key, value]] = Object.entries(nodeServiceLabel(node.name, nodeServiceName(sdep, predictor, node.name))) as [[string, string]];
      const mine = sorted.filter((pod) => pod.metadata.labels?.[key] === value);
      for (const [index, pod] of mine.entries()) found.push({ replica: `${predictor.name}/${node.name}/${index}`, predictor: predictor.name, node: node.name, index, pod, container: node.name });
    }
  }
  return found;
}

function replicasOf(live: LiveObject, pods: readonly LiveObject[]): ReplicaStatus[] {
  return nodeContainers(live, pods).map(({ replica, predictor, node, index, pod, container }) => ({ id: replica, predictor, node, index, ...containerState(pod, container) }));
}

/** The replicas of each node from its Deployment's counts in `deploymentStatus`: the first `availableReplicas` Ready. */
function countedReplicas(live: LiveObject, written: Record<string, unknown>): ReplicaStatus[] {
  const sdep = readLive(live);
  if (sdep instanceof ManifestError) return [];
  let deployments: KubeObject[];
  try {
    // The names do not depend on the configuration: the defaults find the same Deployments.
    deployments = render(sdep, DEFAULT_RENDER_CONFIG).objects.filter((o) => o.kind === 'Deployment');
  } catch {
    return [];
  }
  const counts = isRecord(written['deploymentStatus']) ? written['deploymentStatus'] : {};
  const replicas: ReplicaStatus[] = [];
  for (const predictor of sdep.spec.predictors) {
    for (const node of graphNodes(predictor)) {
      const [[key, value]] = Object.entries(nodeServiceLabel(node.name, nodeServiceName(sdep, predictor, node.name))) as [[string, string]];
      const deployment = deployments.find((d) => (d.spec['template'] as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels?.[key] === value);
      const count = deployment === undefined ? undefined : counts[deployment.metadata.name];
      if (!isRecord(count)) continue;
      const total = typeof count['replicas'] === 'number' ? count['replicas'] : 0;
      const available = typeof count['availableReplicas'] === 'number' ? count['availableReplicas'] : 0;
      for (let index = 0; index < total; index++) {
        const base = { id: `${predictor.name}/${node.name}/${index}`, predictor: predictor.name, node: node.name, index, restarts: 0 };
        replicas.push(index < available ? { ...base, state: 'Ready' } : { ...base, state: 'Starting', message: 'not available yet (its pod cannot be read with these credentials)' });
      }
    }
  }
  return replicas;
}

type ContainerReport = Pick<ReplicaStatus, 'state' | 'restarts' | 'message'>;

/** A node's replica state from its container's status in the pod. */
function containerState(pod: LiveObject, container: string): ContainerReport {
  const podStatus = isRecord(pod.status) ? pod.status : {};
  const status = records(podStatus['containerStatuses']).find((c) => c['name'] === container);
  const restarts = typeof status?.['restartCount'] === 'number' ? status['restartCount'] : 0;
  const report = (state: ReplicaState, message?: string): ContainerReport => (message === undefined || message === '' ? { state, restarts } : { state, restarts, message });
  if (pod.metadata.deletionTimestamp !== undefined) return report('Stopped', 'the pod is being deleted');
  // An init container that keeps failing (the model-initializer: a modelUri that cannot be fetched) stops every container of the pod.
  for (const init of records(podStatus['initContainerStatuses'])) {
    const crash = crashOf(init);
    if (crash !== undefined) return report('Crashed', `init container ${String(init['name'])}: ${crash}`);
  }
  if (status === undefined) return report('Starting', typeof podStatus['phase'] === 'string' ? `pod ${podStatus['phase']}` : 'pod not scheduled yet');
  const crash = crashOf(status);
  if (crash !== undefined) return report('Crashed', crash);
  const now = isRecord(status['state']) ? status['state'] : {};
  const waiting = isRecord(now['waiting']) ? now['waiting'] : undefined;
  if (isRecord(now['terminated'])) return report('Stopped', 'exited with 0');
  if (status['ready'] === true) return report('Ready');
  if (isRecord(now['running'])) return report('Unready', 'running, failing its readiness probe');
  return report('Starting', waiting === undefined ? undefined : [waiting['reason'], waiting['message']].filter((s) => typeof s === 'string').join(': '));
}

/**
 * Why a container status says it crashed — `CrashLoopBackOff, last exit 3: <termination message>` —
 * or undefined when it did not (waiting to be restarted, or ended with a failure; an init container
 * that ended with 0 succeeded).
 */
function crashOf(status: Record<string, unknown>): string | undefined {
  const now = isRecord(status['state']) ? status['state'] : {};
  const waiting = isRecord(now['waiting']) ? now['waiting'] : undefined;
  const lastState = isRecord(status['lastState']) ? status['lastState'] : {};
  const ended = isRecord(now['terminated']) ? now['terminated'] : undefined;
  if (waiting?.['reason'] !== 'CrashLoopBackOff' && (ended === undefined || ended['exitCode'] === 0)) return undefined;
  const terminated = ended ?? (isRecord(lastState['terminated']) ? lastState['terminated'] : undefined);
  return exitOf(typeof waiting?.['reason'] === 'string' ? waiting['reason'] : 'Terminated', terminated);
}

function exitOf(reason: string, terminated: Record<string, unknown> | undefined): string {
  if (terminated === undefined) return reason;
  const code = typeof terminated['exitCode'] === 'number' ? `, last exit ${terminated['exitCode']}` : '';
  const message = typeof terminated['message'] === 'string' ? terminated['message'].trim() : '';
  return `${reason}${code}${message === '' ? '' : `: ${message}`}`;
}

/**
 * The ready endpoints of Service `service` from its EndpointSlices, at the slice's `http` port: the
 * pod addresses a client that reaches pod IPs (in the cluster, or routed into it) calls. An endpoint
 * without a `ready` condition is ready, as the API defines it; one id per pod (an address may
 * appear in two slices while the controller moves it).
 */
export function readyAddresses(slices: readonly LiveObject[], service: string): ReplicaAddress[] {
  const found = new Map<string, ReplicaAddress>();
  for (const slice of slices) {
    if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== service) continue;
    const port = records(slice['ports']).find((p) => p['name'] === 'http')?.['port'];
    if (typeof port !== 'number') continue;
    for (const endpoint of records(slice['endpoints'])) {
      const conditions = isRecord(endpoint['conditions']) ? endpoint['conditions'] : {};
      const host: unknown = Array.isArray(endpoint['addresses']) ? endpoint['addresses'][0] : undefined;
      if (conditions['ready'] === false || conditions['terminating'] === true || typeof host !== 'string') continue;
      const target = isRecord(endpoint['targetRef']) && typeof endpoint['targetRef']['name'] === 'string' ? endpoint['targetRef']['name'] : host;
      found.set(target, { id: target, host, port });
    }
  }
  return [...found.values()];
}
