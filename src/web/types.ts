/**
 * The shapes the dashboard reads from the control plane: the parts of the API's views it shows
 * (docs/api.md has them whole) and the dashboard's own feed (docs/dashboard.md).
 */

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  creationTimestamp?: string;
}

export interface Parameter {
  name: string;
  value: string;
  type?: string;
}

export interface GraphNode {
  name: string;
  type?: string;
  implementation?: string;
  modelUri?: string;
  endpoint?: { type?: string; service_host?: string; service_port?: number; httpPort?: number; grpcPort?: number };
  parameters?: Parameter[];
  children?: GraphNode[];
  logger?: { mode?: string; url?: string };
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
}

export interface PredictorSpec {
  name: string;
  graph: GraphNode;
  replicas?: number;
  traffic?: number;
  shadow?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  componentSpecs?: { spec?: { containers?: Container[] }; replicas?: number }[];
}

export type ReplicaState = 'Starting' | 'Ready' | 'Unready' | 'Crashed' | 'Stopped';
export type DeploymentState = 'Creating' | 'Available' | 'Failed';

export interface ReplicaStatus {
  id: string;
  predictor: string;
  node: string;
  index: number;
  state: ReplicaState;
  pid?: number;
  port?: number;
  restarts: number;
  message?: string;
  name?: string;
  createdAt?: string;
  startedAt?: string;
  lastExit?: { reason?: string; exitCode?: number; signal?: string; message?: string; finishedAt?: string };
  lastLine?: string;
}

export interface DeploymentStatus {
  state: DeploymentState;
  description?: string;
  replicas?: ReplicaStatus[];
  address: { url: string };
  createdAt: string;
}

export interface DeploymentView {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: { name?: string; protocol?: string; transport?: string; predictors: PredictorSpec[]; annotations?: Record<string, string> };
  status: DeploymentStatus;
}

export interface KnativeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface BrokerView {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: object;
  status: { ready?: boolean; reason?: string; message?: string; address?: { url?: string }; conditions?: KnativeCondition[] };
}

export interface TriggerView {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: { broker: string; filter?: { attributes?: Record<string, string> }; subscriber?: { ref?: { kind?: string; name?: string; namespace?: string }; uri?: string }; delivery?: object };
  status: {
    ready: boolean;
    reason?: string;
    message?: string;
    subscriberUri?: string;
    deadLetterSinkUri?: string;
    deliveries?: { delivered: number; retried: number; deadLettered: number; dropped: number };
    createdAt: string;
  };
}

export interface ServiceView {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  status: {
    /** The local process registered for it (`trantor event-display`), if any. */
    sinkUrl?: string;
    createdAt: string;
  };
}

/** A Kubernetes-style Event (`trantor get events`). */
export interface ObjectEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  involvedObject: { kind: string; namespace: string; name: string };
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

/** Everything the overview shows, sent whole on every change (`event: overview`). */
export interface Overview {
  deployments: DeploymentView[];
  brokers: BrokerView[];
  triggers: TriggerView[];
  services: ServiceView[];
  events: ObjectEvent[];
  /** The gateway's URL, for the curl lines the dashboard offers. */
  gatewayUrl: string;
}

/** One second's traffic of one predictor or graph node. */
export interface TrafficStat {
  /** Requests per second answered (all codes). */
  rps: number;
  /** Answers with a status of 400 or more (gRPC: not OK), per second. */
  errors: number;
  /** Latency percentiles of the second's requests, milliseconds; null when there were none. */
  p50: number | null;
  p99: number | null;
}

export interface PredictorTraffic extends TrafficStat {
  namespace: string;
  deployment: string;
  predictor: string;
}

export interface NodeTraffic extends TrafficStat {
  namespace: string;
  deployment: string;
  predictor: string;
  node: string;
}

/** A router's choices and the rewards sent back as feedback, since the control plane started. */
export interface RouterTraffic {
  namespace: string;
  deployment: string;
  predictor: string;
  node: string;
  /** Per branch (child index): times chosen, feedback count and reward sum. */
  branches: { branch: number; chosen: number; feedback: number; reward: number }[];
}

/** One second of traffic (`event: traffic`), sent every second while the dashboard is open. */
export interface TrafficSample {
  /** The second's end, milliseconds since the epoch. */
  t: number;
  predictors: PredictorTraffic[];
  nodes: NodeTraffic[];
  routers: RouterTraffic[];
}

/** One request the gateway answered (`event: request`; `GET /dashboard/api/requests`). */
export interface RequestRecord {
  puid: string;
  /** When it arrived, milliseconds since the epoch. */
  time: number;
  namespace: string;
  deployment: string;
  predictor?: string;
  /** The HTTP method; `gRPC` for a gRPC call. */
  method: string;
  /** The URL's path; a gRPC call's full method (`/seldon.protos.Seldon/Predict`). */
  path: string;
  /** The HTTP status; for a gRPC call, REST's status for the same outcome. */
  status: number;
  /** A gRPC call's status code by name (`OK`, `INVALID_ARGUMENT`). */
  grpcStatus?: string;
  latencyMs: number;
  /** The bodies as sent, cut at a limit (`truncated` says so); a gRPC call's messages as JSON. */
  request: string;
  response: string;
  truncated?: boolean;
  /** The answer's `meta.requestPath`: node → what served it, the path the request took. */
  requestPath?: Record<string, string>;
}

export type DeliveryOutcome = 'delivered' | 'retrying' | 'dead-lettered' | 'dropped';

/** One delivery attempt of one event to one trigger's subscriber (`event: delivery`; `GET /dashboard/api/deliveries`). */
export interface DeliveryRecord {
  time: number;
  namespace: string;
  broker: string;
  trigger: string;
  seq: number;
  eventId: string;
  eventType: string;
  eventSource: string;
  /** 1 for the first attempt. */
  attempt: number;
  target: string;
  /** The subscriber's HTTP status; absent when none came (refused, timed out). */
  status?: number;
  outcome: DeliveryOutcome;
  durationMs: number;
  /** The start of the subscriber's answer, or what went wrong. */
  answer?: string;
  error?: string;
  /** An attempt to send the failed event to the trigger's dead-letter sink (`target`), numbered from 1 on its own. */
  deadLetterSink?: true;
}
