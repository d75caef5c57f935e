/**
 * What the gateway needs from the control plane: the executors serving a deployment now. The
 * control plane implements DeploymentTable from its own state; the gateway only reads it.
 */
import type { GatewayPredictor } from './predictor.ts';
import type { EventNaming } from './cloudevents.ts';

export interface DeploymentEntry {
  readonly namespace: string;
  readonly name: string;
  /**
   * One executor per predictor, with its `traffic` weight and `shadow` flag. The gateway
   * compiles its traffic split once per array it sees, so hand out a new array (and a new
   * entry) when the deployment changes, not a mutated one.
   */
  readonly executors: readonly GatewayPredictor[];
  /** How its reply CloudEvents are named (eventNamingOf its manifest); `seldon` when absent. */
  readonly eventNaming?: EventNaming;
}

export interface DeploymentTable {
  /** The deployment `name` in `namespace`, or undefined when there is none. Called on every request: keep it a map lookup. */
  lookup(namespace: string, name: string): DeploymentEntry | undefined;
}
