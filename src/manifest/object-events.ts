/**
 * Kubernetes-style Events: what the control plane records about the objects it runs (created,
 * updated, a replica that crashed, a delivery that failed), as `kubectl get events` and
 * `kubectl describe` show them. Modules below `server` (the local supervisor, the eventing
 * dispatcher) are handed an `ObjectEventRecorder` when they are built; the server keeps the log.
 *
 * Not CloudEvents: those are the broker's payloads (protocol/cloudevents).
 */

/** `Normal`, or `Warning` for what a user should look at. */
export type ObjectEventType = 'Normal' | 'Warning';

/** The object an event is about; `replica` names the replica process (a pod, to kubectl) when there is one. */
export interface InvolvedObject {
  kind: string;
  namespace: string;
  name: string;
  /** `<deployment>-<predictor>-<node>-<index>`, as `trantor get pods` names it. */
  replica?: string;
  /** Where in the object: `spec.predictors{default}.graph{classifier}`. */
  fieldPath?: string;
}

/** What a module records: the rest (count, timestamps) the recorder adds. */
export interface ObjectEventRecord {
  type: ObjectEventType;
  /** CamelCase, as Kubernetes words them: `Created`, `BackOff`, `DeliveryFailed`. */
  reason: string;
  message: string;
  involvedObject: InvolvedObject;
  /** What recorded it: `supervisor`, `control-plane`, `broker`. */
  source: string;
}

export interface ObjectEventRecorder {
  record(event: ObjectEventRecord): void;
}

/** An event as the API returns it (`GET /v1/events`): repeats folded into one, counted. */
export interface ObjectEvent extends ObjectEventRecord {
  /** How many times it happened between the two timestamps. */
  count: number;
  /** RFC 3339. */
  firstTimestamp: string;
  lastTimestamp: string;
}

export interface ObjectEventList {
  items: ObjectEvent[];
}

/** Which events to list; every field narrows. */
export interface ObjectEventFilter {
  namespace?: string;
  kind?: string;
  name?: string;
}

/** A recorder that keeps nothing, for parts built without one (tests, tools). */
export const NO_OBJECT_EVENTS: ObjectEventRecorder = Object.freeze({ record: () => undefined });

/** The pod-like name of a replica: `iris-default-classifier-0`. */
export function replicaName(deployment: string, predictor: string, node: string, index: number): string {
  return `${deployment}-${predictor}-${node}-${index}`;
}
