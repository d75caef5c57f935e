/**
 * Eventing: the broker ingress, trigger matching, delivery with retry and dead letter, and the
 * stores behind them. The server builds one `Eventing` and mounts its ingress.
 */
export { ARRIVAL_TIME_EXTENSION, DEFAULT_BROKER, Eventing } from './eventing.ts';
export type { EventingOptions, PublishResult, TriggerBinding } from './eventing.ts';
export { BROKER_HOST, brokerFromHost, brokerFromPath, ingressResponse, serveIngress } from './ingress.ts';
export type { IngressRequest, IngressResponse, IngressTarget } from './ingress.ts';
export { DEFAULT_TTL, TTL_EXTENSION, backoffMs, errorExtensions, isRetryableStatus, ttlOf } from './delivery-policy.ts';
export { ATTEMPT_ANSWER_BYTES } from './dispatcher.ts';
export type { AttemptOutcome, DeliveryAttempt, DeliveryCounters, DeliveryFailure, DeliveryOutcome } from './dispatcher.ts';
export { eventingOptions } from './options.ts';
export type { EventingLimits } from './options.ts';
export { failureLine, failureNotices } from './failure-notice.ts';
export type { FailureNoticeOptions } from './failure-notice.ts';
export { compileTriggerFilter } from './filter.ts';
export type { EventPredicate } from './filter.ts';
export * from './store/index.ts';
