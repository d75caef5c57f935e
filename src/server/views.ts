/**
 * Objects as `trantor get` reads them back: the manifest in its API's own shape (manifestOf) with
 * `metadata.creationTimestamp`, and for eventing objects a status in Knative's shape — the Ready
 * condition and the sub-conditions Knative's Trigger and Broker lifecycles set (knative.dev/eventing
 * `pkg/apis/eventing/v1/*_lifecycle.go`), built from what the control plane resolved. Pure, so the
 * shapes are tested against literal objects.
 */
import type { Condition, KnativeStatus, ObjectMeta, ViewMeta } from '../manifest/index.ts';

/** What one destination (a subscriber, a dead-letter sink) resolved to: a URI, or why not. */
export interface DestinationResolution {
  uri?: string;
  reason?: string;
}

export interface TriggerFacts {
  metadata: ObjectMeta;
  broker: string;
  brokerExists: boolean;
  subscriber: DestinationResolution;
  /** Undefined when neither the trigger nor its broker names a dead-letter sink. */
  deadLetter: DestinationResolution | undefined;
  /**
   * Why the trigger is not ready, `Reason: message` (undefined when it is): the control plane's
   * verdict, which the Ready condition carries as is.
   */
  notReady: string | undefined;
}

export interface BrokerFacts {
  metadata: ObjectMeta;
  /** Undefined when the broker names no dead-letter sink. */
  deadLetter: DestinationResolution | undefined;
}

type Status = Condition['status'];

function condition(type: string, status: Status, reason?: string, message?: string): Condition {
  const c: Condition = { type, status };
  if (reason !== undefined && reason !== '') c.reason = reason;
  if (message !== undefined && message !== '') c.message = message;
  return c;
}

/** `BrokerDoesNotExist: default` → reason BrokerDoesNotExist, message default. */
function verdict(type: string, notReady: string | undefined): Condition {
  if (notReady === undefined) return condition(type, 'True');
  const colon = notReady.indexOf(': ');
  return colon < 0 ? condition(type, 'False', notReady) : condition(type, 'False', notReady.slice(0, colon), notReady.slice(colon + 2));
}

function deadLetterCondition(deadLetter: DestinationResolution | undefined): Condition {
  if (deadLetter === undefined) return condition('DeadLetterSinkResolved', 'True', 'DeadLetterSinkNotConfigured', 'No dead letter sink is configured.');
  if (deadLetter.uri !== undefined) return condition('DeadLetterSinkResolved', 'True');
  return condition('DeadLetterSinkResolved', 'False', 'DeadLetterSinkNotResolved', deadLetter.reason);
}

/** Knative keeps conditions sorted by type. */
function sorted(conditions: Condition[]): Condition[] {
  return conditions.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

function observedGeneration(metadata: ObjectMeta): number {
  return metadata.generation ?? 1;
}

export function triggerStatus(facts: TriggerFacts): KnativeStatus & { subscriberUri?: string; deadLetterSinkUri?: string } {
  const { subscriber, deadLetter } = facts;
  const bound = facts.brokerExists && subscriber.uri !== undefined;
  const conditions = sorted([
    facts.brokerExists ? condition('BrokerReady', 'True') : condition('BrokerReady', 'False', 'BrokerDoesNotExist', `Broker "${facts.broker}" does not exist`),
    subscriber.uri !== undefined ? condition('SubscriberResolved', 'True') : condition('SubscriberResolved', 'False', 'SubscriberNotResolved', subscriber.reason),
    deadLetterCondition(deadLetter),
    // Knative waits on a source named by the knative.dev/dependency annotation; there is none to wait on here.
    condition('DependencyReady', 'True'),
    bound ? condition('SubscriptionReady', 'True') : condition('SubscriptionReady', 'Unknown', 'SubscriptionNotConfigured', 'Subscription has not yet been reconciled.'),
    verdict('Ready', facts.notReady),
  ]);
  const status: KnativeStatus & { subscriberUri?: string; deadLetterSinkUri?: string } = { observedGeneration: observedGeneration(facts.metadata), conditions };
  if (subscriber.uri !== undefined) status.subscriberUri = subscriber.uri;
  if (deadLetter?.uri !== undefined) status.deadLetterSinkUri = deadLetter.uri;
  return status;
}

/**
 * A broker here is its ingress path on the gateway, so ingress, filter and trigger channel are
 * ready once it exists; it is Ready unless its dead-letter sink does not resolve.
 */
export function brokerStatus(facts: BrokerFacts): KnativeStatus & { deadLetterSinkUri?: string; ready: boolean; reason?: string } {
  const deadLetter = deadLetterCondition(facts.deadLetter);
  const ready = deadLetter.status === 'True';
  const notReady = ready ? undefined : `${deadLetter.reason ?? 'DeadLetterSinkNotResolved'}: ${deadLetter.message ?? ''}`;
  const conditions = sorted([
    condition('Addressable', 'True'),
    condition('FilterReady', 'True'),
    condition('IngressReady', 'True'),
    condition('TriggerChannelReady', 'True'),
    deadLetter,
    verdict('Ready', notReady),
  ]);
  const status: KnativeStatus & { deadLetterSinkUri?: string; ready: boolean; reason?: string } = { observedGeneration: observedGeneration(facts.metadata), conditions, ready };
  if (notReady !== undefined) status.reason = notReady;
  if (facts.deadLetter?.uri !== undefined) status.deadLetterSinkUri = facts.deadLetter.uri;
  return status;
}

/** A manifest as read back: its metadata gains the time it was first applied, to the second as Kubernetes writes it. */
export function viewOf<T extends { metadata: ObjectMeta }>(manifest: T, createdAt: string): T & { metadata: ViewMeta } {
  return { ...manifest, metadata: { ...manifest.metadata, creationTimestamp: createdAt.replace(/\.\d+Z$/, 'Z') } };
}
