/** The executor: walking a predictor's graph over a transport, with Seldon's meta and feedback. */
export { PredictorExecutor } from './executor.ts';
export type { CallLimits, GraphMetadata, PredictorExecutorOptions } from './executor.ts';
export { MetaTrail } from './meta.ts';
export { Metrics, PredictorMetrics, NodeMetrics, MeteredTransport, CLIENT_REQUESTS, SERVER_REQUESTS } from './metrics.ts';
export type { MetricsLogger, MetricsOptions } from './metrics.ts';
export { planGraph } from './plan.ts';
export type { BuiltIn, GraphPlan, NodePlan } from './plan.ts';
export { HttpTransport, WRAPPER_ROUTES, httpTransportOptions } from './transport/http.ts';
export type { HttpCallOptions, HttpTransportOptions, RawResponse, WrapperRoute } from './transport/http.ts';
export { InProcessTransport } from './transport/in-process.ts';
export type { LocalComponent, LocalComponents } from './transport/in-process.ts';
export { answerOf, answerOfText, describeUnit, failureOf, invoke, MethodTransport, replyOfText, seldonFailure } from './transport/transport.ts';
export type { Answer, CallOptions, ComponentMethod, Failure, MessageMethod, MethodPayload, Reply, Transport } from './transport/transport.ts';
export type { EndpointSource, ReplicaAddress, UnitKey } from './transport/endpoints.ts';
export { EXECUTOR_DEFAULTS, executorOptions } from './options.ts';
export type { ExecutorOptions } from './options.ts';
export { RequestLogger, requestLoggerOptions } from './request-logger.ts';
export type { RequestLoggerOptions } from './request-logger.ts';
