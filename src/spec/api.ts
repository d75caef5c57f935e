/**
 * The shapes the control-plane HTTP API speaks (docs/api.md), shared by the server and the CLI.
 */
import type { Broker, ConfigMap, Deployment, Service, Trigger } from './knative.ts';
import type { DeploymentStatus } from './runtime.ts';
import type { SeldonDeployment } from './types.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  kind: string;
  namespace: string;
  name: string;
  action: ApplyAction;
}

export interface ApplyResponse {
  applied: AppliedObject[];
}

/** A deployment as `trantor get` shows it: the stored object plus its live status. */
export interface DeploymentView extends Omit<SeldonDeployment, 'baseDir'> {
  status: DeploymentStatus & {
    address: { url: string };
    createdAt: string;
  };
}

export interface DeploymentList {
  items: DeploymentView[];
}

export interface LogLine {
  replica: string;
  line: string;
}

/** A Trigger as `trantor get triggers` shows it: the stored object plus its live status. */
export interface TriggerView extends Trigger {
  status: {
    /** True once its broker exists and its subscriber and dead-letter sink (if any) resolve to URIs. */
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

/** A Broker as `trantor get brokers` shows it: the stored object plus its ingress address. */
export interface BrokerView extends Broker {
  status: {
    ready: boolean;
    reason?: string;
    /** The ingress URL producers post events to: `<gateway>/<namespace>/<name>`. */
    address: { url: string };
    createdAt: string;
  };
}

export interface BrokerList {
  items: BrokerView[];
}

/** A Service as `trantor get all` shows it. */
export interface ServiceView extends Service {
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
export interface KubeDeploymentView extends Omit<Deployment, 'baseDir'> {
  status: { readyReplicas: number; createdAt: string };
}

export interface KubeDeploymentList {
  items: KubeDeploymentView[];
}

/** The body of `PUT /v1/sinks/<ns>/<name>`: a local process that receives events for Service `<name>`. */
export interface SinkRegistration {
  url: string;
}
