/**
 * The endpoint index the executor reads through `EndpointSource`: for each graph node of each
 * deployment, the addresses of its serving replicas that are ready now. A node's list is replaced,
 * never mutated, so a reader holding one sees a consistent snapshot; a lookup is four map reads.
 */
import type { ReplicaAddress, UnitKey } from '../../manifest/index.ts';

export const NO_REPLICAS: readonly ReplicaAddress[] = Object.freeze([]);

type ByNode = Map<string, readonly ReplicaAddress[]>;

export class EndpointIndex {
  readonly #byNamespace = new Map<string, Map<string, Map<string, ByNode>>>();

  /** The ready replicas of `unit`; empty when none is (or the unit is not served). */
  replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
    return this.#byNamespace.get(unit.namespace)?.get(unit.deployment)?.get(unit.predictor)?.get(unit.node) ?? NO_REPLICAS;
  }

  /** Offers `ready` as `unit`'s replicas from now on. */
  publish(unit: UnitKey, ready: readonly ReplicaAddress[]): void {
    const { namespace, deployment, predictor, node } = unit;
    let byDeployment = this.#byNamespace.get(namespace);
    if (byDeployment === undefined) this.#byNamespace.set(namespace, (byDeployment = new Map<string, Map<string, ByNode>>()));
    let byPredictor = byDeployment.get(deployment);
    if (byPredictor === undefined) byDeployment.set(deployment, (byPredictor = new Map<string, ByNode>()));
    let byNode = byPredictor.get(predictor);
    if (byNode === undefined) byPredictor.set(predictor, (byNode = new Map<string, readonly ReplicaAddress[]>()));
    byNode.set(node, ready);
  }

  /** `unit` is no longer served. */
  unpublish(unit: UnitKey): void {
    this.#byNamespace.get(unit.namespace)?.get(unit.deployment)?.get(unit.predictor)?.delete(unit.node);
  }

  /** Every node of a removed deployment leaves at once. */
  removeDeployment(namespace: string, name: string): void {
    const byDeployment = this.#byNamespace.get(namespace);
    byDeployment?.delete(name);
    if (byDeployment?.size === 0) this.#byNamespace.delete(namespace);
  }
}
