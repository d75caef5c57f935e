/**
 * Serving one component: the contract a user's model class follows, the message handling
 * that Seldon's wrapper does, and the HTTP server and host that run it.
 */
export type {
  Features,
  JsonValue,
  MaybePromise,
  ModelMetadata,
  ModelOutput,
  SeldonComponent,
  SeldonComponentClass,
  ServiceType,
  V2NativeRequest,
  V2NativeResponse,
} from './contract.ts';
export { SERVICE_TYPES, SeldonResponse } from './contract.ts';
export { createDispatcher, type ComponentMethod, type DispatchOptions, type Dispatcher, type Reply, type V2Native } from './dispatch.ts';
export { DEFAULT_MAX_BODY_BYTES, componentHandler, serveComponent, type ComponentServer, type ServeOptions } from './server.ts';
export { MicroserviceError, HostSetupError } from './errors.ts';
export { componentOptions, type ComponentOptions } from './options.ts';
export { parseParameters } from './parameters.ts';
export { componentOptionsEnv, resolveHostConfig, type HostConfig } from './host-config.ts';
export { loadComponent, type LoadedComponent } from './loader.ts';
export { main as nodeHostMain, startNodeHost, type NodeHost } from './node-host.ts';
