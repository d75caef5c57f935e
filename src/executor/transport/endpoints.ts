/**
 * The seam between the executor and whatever runs components (the local supervisor, or
 * Kubernetes Services). The executor asks where a graph node's ready replicas listen; the
 * runtime answers from its own live view, so a replica that dies stops being offered.
 */

export interface ReplicaAddress {
  /** Stable id of the replica, for logs and for not retrying on the same one. */
  id: string;
  host: string;
  port: number;
}

/** Identifies a graph node of one predictor of one deployment. */
export interface UnitKey {
  namespace: string;
  deployment: string;
  predictor: string;
  node: string;
}

export interface EndpointSource {
  /** The replicas of `unit` that are ready now; empty when none is. */
  replicasOf(unit: UnitKey): readonly ReplicaAddress[];
}
