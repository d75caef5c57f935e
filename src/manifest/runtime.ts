/**
 * The contract every runtime keeps — the local supervisor and the Kubernetes operator alike:
 * take a deployment, report its status, remove it; and say where a graph node's ready replicas
 * listen, which is what the executor reads.
 */
import type { LogLine } from './api.ts';
import type { DeploymentState, SeldonDeployment } from './types.ts';

/** `Unready`: running, but failing its readiness probe, so it gets no traffic. */
export type ReplicaState = 'Starting' | 'Ready' | 'Unready' | 'Crashed' | 'Stopped';

export interface ReplicaStatus {
  /** `<predictor>/<node>/<index>` */
  id: string;
  predictor: string;
  node: string;
  index: number;
  state: ReplicaState;
  pid?: number;
  port?: number;
  restarts: number;
  /** Why the replica is not Ready, when it is not. */
  message?: string;
  /** `iris-default-classifier-0`: the name `trantor get pods` lists it by. */
  name?: string;
  /** When the replica was made (RFC 3339); restarts do not change it. */
  createdAt?: string;
  /** When its current process started (RFC 3339). */
  startedAt?: string;
  /** How its last process ended, when one crashed: kubectl's `lastState.terminated`. */
  lastExit?: ReplicaExitStatus;
  /** While it is not Ready: the last line its current process printed (a model loading says what it does). */
  lastLine?: string;
}

export interface ReplicaExitStatus {
  /** `exited with code 3`, `was killed by SIGKILL`, or why the supervisor killed it. */
  reason: string;
  exitCode?: number;
  signal?: string;
  /** When it ended (RFC 3339). */
  finishedAt: string;
}

export interface DeploymentStatus {
  state: DeploymentState;
  /** Why the deployment is Creating or Failed; absent when Available. */
  description?: string;
  replicas: ReplicaStatus[];
}

/** What a runtime reports as it happens; `watch` delivers these. */
export type RuntimeEvent =
  /** A deployment's status changed (a replica started, became ready, crashed; the state moved). */
  | { type: 'status'; namespace: string; name: string; status: DeploymentStatus }
  /** A replica printed a line. */
  | { type: 'log'; namespace: string; name: string; replica: string; line: string; time?: number }
  /** A deployment was removed. */
  | { type: 'removed'; namespace: string; name: string };

export interface Runtime {
  /** Starts or updates `deployment`; resolves once the work is under way, not when it is Available. */
  apply(deployment: SeldonDeployment): Promise<void>;
  status(namespace: string, name: string): DeploymentStatus | undefined;
  remove(namespace: string, name: string): Promise<void>;
  /**
   * The buffered output of a deployment's replicas, oldest first: the last `tail` lines of each
   * replica when given; with `previous`, what each restarted replica printed in its run before the
   * current one (none from a runtime that does not keep it).
   */
  logs(namespace: string, name: string, options?: { tail?: number; previous?: boolean }): readonly LogLine[];
  /** Calls `listener` with every event from now on, until the returned function is called. */
  watch(listener: (event: RuntimeEvent) => void): () => void;
  /** Stops everything this runtime started; `apply` rejects afterwards. Closing twice is harmless. */
  close(): Promise<void>;
}

/** Identifies a graph node of one predictor of one deployment. */
export interface UnitKey {
  namespace: string;
  deployment: string;
  predictor: string;
  node: string;
}

export interface ReplicaAddress {
  /** Stable id of the replica, for logs and for not retrying on the same one. */
  id: string;
  host: string;
  /** Where it serves REST. */
  port: number;
  /** Where it serves Seldon's gRPC services, when it was given a gRPC port (a node with `endpoint.type: GRPC` is called there). */
  grpcPort?: number;
}

/**
 * The seam between the executor and whatever runs components. The executor asks where a graph
 * node's ready replicas listen; the runtime answers from its own live view, so a replica that
 * dies stops being offered.
 */
export interface EndpointSource {
  /** The replicas of `unit` that are ready now; empty when none is. */
  replicasOf(unit: UnitKey): readonly ReplicaAddress[];
}
