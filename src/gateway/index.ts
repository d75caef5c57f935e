/** The gateway: ingress paths, traffic split and shadows, doc pages. */
export { createGateway } from './server.ts';
export type { Gateway, GatewayOptions } from './server.ts';
export type { RequestTap, TappedRequest } from './request-tap.ts';
export type { DeploymentEntry, DeploymentTable } from './deployments.ts';
export { EVENTING_ANNOTATION, eventNamingOf } from './cloudevents.ts';
export type { EventNaming } from './cloudevents.ts';
export { matchPath } from './routes.ts';
export type { Route, RouteKind, RouteMatch } from './routes.ts';
export { splitTraffic, trafficOf } from './traffic.ts';
export type { TrafficSplit } from './traffic.ts';
export { docPage, openApiDocument } from './docs.ts';
export { gatewayOptions } from './options.ts';
export type { GatewayLimits } from './options.ts';
export type { GatewayPredictor } from './predictor.ts';
export { RemotePredictor, remoteDeployment } from './remote-predictor.ts';
export type { RemoteDeployment, RemoteDeploymentOptions, RemotePredictorSpec } from './remote-predictor.ts';
