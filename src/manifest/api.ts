/**
 * The shapes the control-plane HTTP API speaks (docs/api.md), shared by the server and the CLI.
 */
import type { ConfigMap, Service } from './knative.ts';
import type { BrokerManifest, DeploymentManifest, SeldonDeploymentManifest, TriggerManifest } from './manifest-of.ts';
import type { DeploymentStatus } from './runtime.ts';
import type { ObjectMeta } from './types.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  kind: string;
  namespace: string;
  name: string;
  action: ApplyAction;
}

export interface ApplyResponse {
  applied: AppliedObject[];
  /** Set on a dry run (`?dryRun=All`): the actions are what applying would do; nothing was stored. */
  dryRun?: true;
  /** Fields no table knows (`SeldonDeployment iris: spec.predictors[0].replica: unknown field; did you mean replicas?`). */
  warnings?: string[];
}

/** How `POST /v1/apply` treats a manifest: `dryRun` stores and starts nothing; unknown fields are refused, warned about (the default) or ignored. */
export interface ApplyMode {
  dryRun?: boolean;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

/** An object's metadata as read back: when it was first applied, in Kubernetes' RFC 3339 form. */
export interface ViewMeta extends ObjectMeta {
  creationTimestamp: string;
}

/** One of Knative's status conditions (`type` Ready, or a sub-condition such as BrokerReady). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** A CamelCase word saying why (`BrokerDoesNotExist`); absent when there is nothing to say. */
  reason?: string;
  message?: string;
}

/** The status every Knative object has: conditions sorted by type, as Knative sorts them. */
export interface KnativeStatus {
  /** The manifest's `metadata.generation`, or 1: locally, generations are not counted. */
  observedGeneration: number;
  conditions: Condition[];
}

/**
 * A deployment as `trantor get` shows it: the manifest in its own API's shape plus its live status.
 * Applying it again (the status is ignored) changes nothing.
 */
export interface DeploymentView extends Omit<SeldonDeploymentManifest, 'metadata'> {
  metadata: ViewMeta;
  status: DeploymentStatus & {
    address: { url: string };
    createdAt: string;
  };
}

export interface DeploymentList {
  items: DeploymentView[];
}

export interface LogLine {
  /** `<predictor>/<node>/<index>`. */
  replica: string;
  line: string;
  /** When the line was read, in milliseconds since the epoch (a fraction allowed); absent when the runtime does not know. */
  time?: number;
}

/**
 * A Trigger as `trantor get triggers` shows it: the manifest in Knative's shape plus a status in
 * Knative's shape (conditions, subscriberUri, deadLetterSinkUri) and the fields the table reads.
 */
export interface TriggerView extends Omit<TriggerManifest, 'metadata'> {
  metadata: ViewMeta;
  status: KnativeStatus & {
    /** The Ready condition as a boolean: true once its broker exists and its subscriber and dead-letter sink (if any) resolve to URIs. */
    ready: boolean;
    /** Why it is not ready (`BrokerDoesNotExist`, `SubscriberResolveFailed`, `DeadLetterSinkResolveFailed`); absent when ready. */
    reason?: string;
    /** The details of `reason`. */
    message?: string;
    /** Where events that pass the filter are sent, once resolved. */
    subscriberUri?: string;
    /** Where failed events go, once resolved (the dead-letter sink of the delivery spec in force). */
    deadLetterSinkUri?: string;
    /** What became of its events since the control plane started. */
    deliveries?: { delivered: number; retried: number; deadLettered: number; dropped: number };
    createdAt: string;
  };
}

export interface TriggerList {
  items: TriggerView[];
}

/** A Broker as `trantor get brokers` shows it: the manifest plus a status in Knative's shape. */
export interface BrokerView extends Omit<BrokerManifest, 'metadata'> {
  metadata: ViewMeta;
  status: KnativeStatus & {
    ready: boolean;
    reason?: string;
    /** The ingress URL producers post events to: `<gateway>/<namespace>/<name>`. */
    address: { url: string };
    /** Where its triggers' undeliverable events go when they name no sink of their own, once resolved. */
    deadLetterSinkUri?: string;
    createdAt: string;
  };
}

export interface BrokerList {
  items: BrokerView[];
}

/** A Service as `trantor get all` shows it. */
export interface ServiceView extends Omit<Service, 'metadata'> {
  metadata: ViewMeta;
  status: {
    /** The local process registered for it (`trantor event-display`), if any. */
    sinkUrl?: string;
    createdAt: string;
  };
}

export interface ServiceList {
  items: ServiceView[];
}

/** Knative's broker defaults ConfigMap as `trantor get configmaps` shows it. */
export interface ConfigMapView extends ConfigMap {
  status: { createdAt: string };
}

/** An apps/v1 Deployment as `trantor get all` shows it. */
export interface KubeDeploymentView extends Omit<DeploymentManifest, 'metadata'> {
  metadata: ViewMeta;
  status: { readyReplicas: number; createdAt: string };
}

export interface KubeDeploymentList {
  items: KubeDeploymentView[];
}

/** The body of `PUT /v1/sinks/<ns>/<name>`: a local process that receives events for Service `<name>`. */
export interface SinkRegistration {
  url: string;
}
