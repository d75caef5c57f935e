/**
 * What a deployment's status says: its state, the description of why it is not Available yet
 * (waiting for replicas, rolling, restarting, failed) and each replica's line.
 */
import type { DeploymentStatus, ReplicaStatus } from '../../manifest/index.ts';
import type { Replica, ReplicaSet } from './replica.ts';
import type { DeploymentRecord } from './rollout.ts';

export function replicaStatus(replica: Replica): ReplicaStatus {
  const status: ReplicaStatus = {
    id: replica.id,
    predictor: replica.set.launch.predictor,
    node: replica.set.launch.node,
    index: replica.index,
    state: replica.state,
    restarts: replica.restarts,
    name: replica.podName,
    createdAt: new Date(replica.createdAt).toISOString(),
  };
  if (replica.startedAt !== undefined) status.startedAt = new Date(replica.startedAt).toISOString();
  const ended = replica.lastTermination;
  if (replica.lastExit !== undefined && ended !== undefined) {
    status.lastExit = { reason: replica.lastExit, finishedAt: new Date(ended.at).toISOString() };
    if (ended.exitCode !== undefined) status.lastExit.exitCode = ended.exitCode;
    if (ended.signal !== undefined) status.lastExit.signal = ended.signal;
  }
  const running = replica.running;
  if (running !== undefined) {
    if (running.pid !== undefined) status.pid = running.pid;
    status.port = running.port;
  }
  if (replica.message !== undefined) status.message = replica.message;
  if (replica.state !== 'Ready') {
    const printed = replica.attempt?.output.tail().at(-1)?.trim();
    if (printed !== undefined && printed !== '') status.lastLine = printed.length > 200 ? `${printed.slice(0, 199)}…` : printed;
  }
  return status;
}

/** The sets whose replicas the status shows: rolling in, else serving, else those of a failed rollout. */
function displaySets(record: DeploymentRecord): ReplicaSet[] {
  const out: ReplicaSet[] = [];
  const ids = new Set([...record.unitOrder, ...record.serving.keys()]);
  for (const id of ids) {
    const set = record.rollout?.sets.get(id) ?? record.serving.get(id) ?? record.failedSets?.get(id);
    if (set !== undefined) out.push(set);
  }
  return out;
}

export function statusOf(record: DeploymentRecord): DeploymentStatus {
  const sets = displaySets(record);
  const replicas = sets.flatMap((set) => set.replicas.map(replicaStatus));
  if (record.failure !== undefined) return { state: 'Failed', description: record.failure, replicas };
  if (record.loading !== undefined) {
    const serving = record.servingRevision === undefined ? '' : '; the previous version keeps serving';
    return { state: 'Creating', description: `${record.loading}${serving}`, replicas };
  }
  const rollout = record.rollout;
  if (rollout !== undefined) {
    const incoming = [...rollout.sets.values()].flatMap((set) => set.replicas);
    const ready = incoming.filter((r) => r.state === 'Ready').length;
    const waiting = incoming.filter((r) => r.state !== 'Ready').map((r) => `${r.id} ${r.state.toLowerCase()}`);
    const head =
      record.servingRevision === undefined
        ? `waiting for replicas: ${ready} of ${incoming.length} ready`
        : `rolling update: ${ready} of ${incoming.length} new replicas ready; the previous version keeps serving`;
    return { state: 'Creating', description: waiting.length === 0 ? head : `${head} (${waiting.join(', ')})`, replicas };
  }
  const down = [...record.serving.values()].filter((set) => set.replicas.length > 0 && set.ready.length === 0);
  if (down.length > 0) {
    const what = down.flatMap((set) =>
      set.replicas.filter((r) => r.state !== 'Ready').map((r) => (r.message === undefined ? `${r.id} (${r.state.toLowerCase()})` : `${r.id} (${r.message})`)),
    );
    return { state: 'Creating', description: `restarting ${what.join(', ')}`, replicas };
  }
  return { state: 'Available', replicas };
}
