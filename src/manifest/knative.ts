/**
 * Knative Eventing objects (and the two core Kubernetes kinds an event sink is declared with),
 * after parsing, validation and defaulting.
 */
import type { Container, ObjectMeta } from './types.ts';

/** A reference to an Addressable object (Knative's KReference). */
export interface KReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/** Where events go: an object's address, a URI, or the URI taken relative to the object's address. */
export interface Destination {
  ref?: KReference;
  uri?: string;
}

export interface DeliverySpec {
  /** Retries after the first attempt; 0 when not set. */
  retry: number;
  backoffPolicy: 'exponential' | 'linear';
  /** `backoffDelay` (ISO-8601 duration, e.g. PT0.2S) in milliseconds. */
  backoffDelayMs: number;
  /** `timeout` (ISO-8601 duration) in milliseconds, per attempt. */
  timeoutMs?: number;
  deadLetterSink?: Destination;
  /** `format`: binary (default) or json (structured mode). */
  format: 'binary' | 'json';
}

/** One of Knative's `filters` dialect expressions (exactly one key is set). */
export type FilterExpression =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: FilterExpression[] }
  | { any: FilterExpression[] }
  | { not: FilterExpression };

export interface Broker {
  apiVersion: 'eventing.knative.dev/v1';
  kind: 'Broker';
  metadata: ObjectMeta;
  spec: { delivery?: DeliverySpec };
}

export interface Trigger {
  apiVersion: 'eventing.knative.dev/v1' | 'eventing.knative.dev/v1beta1' | 'eventing.knative.dev/v1alpha1';
  kind: 'Trigger';
  metadata: ObjectMeta;
  spec: {
    /** The broker's name, in the trigger's namespace; `default` when not set. */
    broker: string;
    /** `filter.attributes`: exact match; an empty value means the attribute must be present. */
    attributes: Record<string, string>;
    filters: FilterExpression[];
    subscriber: Destination;
    delivery?: DeliverySpec;
  };
}

/** One level of Knative's broker defaults (`clusterDefault`, or one namespace's entry). */
export interface BrokerClassDefaults {
  /** Kept as given: locally there is one broker class. */
  brokerClass?: string;
  /** Absent: brokers made with these defaults have no delivery spec (no retries). */
  delivery?: DeliverySpec;
}

/** The `default-br-config` of Knative's `config-br-defaults` ConfigMap, read. */
export interface BrokerDefaults {
  clusterDefault?: BrokerClassDefaults;
  namespaceDefaults: Record<string, BrokerClassDefaults>;
}

/**
 * A core/v1 ConfigMap. Only Knative's broker defaults (`knative-eventing/config-br-defaults`)
 * are taken; `data` is kept as given, and read with `brokerDefaultsOf`.
 */
export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
}

export interface ServicePort {
  port: number;
  targetPort: number;
  protocol: string;
  name?: string;
}

/** A core/v1 Service: locally, a name that resolves to the pods its selector picks. */
export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec: { selector: Record<string, string>; ports: ServicePort[] };
}

/** An apps/v1 Deployment: locally, its containers run as processes, like a component's. */
export interface Deployment {
  apiVersion: 'apps/v1';
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } };
  };
  baseDir?: string;
}
