/** The executor: walking a predictor's graph over a transport, with Seldon's meta and feedback. */
export { PredictorExecutor } from './executor.ts';
export type { CallLimits, GraphMetadata, PredictorExecutorOptions } from './executor.ts';
export { MetaTrail } from './meta.ts';
export { Metrics, PredictorMetrics, NodeMetrics, MeteredTransport, CLIENT_REQUESTS, SERVER_REQUESTS } from './metrics.ts';
export type { MetricsLogger, MetricsOptions } from './metrics.ts';
export { planGraph } from './plan.ts';
export type { BuiltIn, GraphPlan, NodePlan } from './plan.ts';
export { HttpTransport, WRAPPER_ROUTES } from './transport/http.ts';
export type { HttpCallOptions, HttpTransportOptions, WrapperRoute } from './transport/http.ts';
export { InProcessTransport } from './transport/in-process.ts';
export type { LocalComponent, LocalComponents } from './transport/in-process.ts';
export { describeUnit, invoke, MethodTransport, responseOf } from './transport/transport.ts';
export type { CallOptions, ComponentMethod, MethodPayload, Transport, TransportResponse } from './transport/transport.ts';
export type { EndpointSource, ReplicaAddress, UnitKey } from './transport/endpoints.ts';
