/**
 * A component's gRPC server: Seldon's component services (Model, Router, Transformer,
 * OutputTransformer, Combiner and the all-in-one Generic, from our seldon.proto) and
 * grpc.health.v1.Health, on @grpc/grpc-js over plain HTTP/2. Every method calls the same
 * dispatcher the REST server calls, so a gRPC answer is the REST answer for the same input;
 * a failure carries the message REST gives, under the gRPC status matching REST's HTTP status.
 *
 * Requests and replies cross grpc-js as raw bytes and are converted in the handler, so a payload
 * that cannot convert answers INVALID_ARGUMENT naming the field, not grpc-js's generic INTERNAL.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import { componentRpcNamed, fromProto, seldonService, toProto, TrantorError, asTrantorError, type ComponentRpc } from '../protocol/index.ts';
import type { SeldonComponent } from './contract.ts';
import type { ComponentMethod, Dispatcher, Reply } from './dispatch.ts';
import { DEFAULT_MAX_BODY_BYTES } from './server.ts';

export interface GrpcServeOptions {
  host?: string;
  /** 0 (the default) picks a free port; the handle says which. */
  port?: number;
  /** Larger messages, either way, are refused with RESOURCE_EXHAUSTED (default: REST's body limit). */
  maxMessageBytes?: number;
}

export interface ComponentGrpcServer {
  readonly host: string;
  readonly port: number;
  /** Tells health watchers NOT_SERVING, lets calls in flight finish (forcing them after 5 s), then resolves. */
  close(): Promise<void>;
}

type ServiceName = 'Generic' | 'Model' | 'Router' | 'Transformer' | 'OutputTransformer' | 'Combiner';

const SERVICES: readonly ServiceName[] = ['Generic', 'Model', 'Router', 'Transformer', 'OutputTransformer', 'Combiner'];

/**
 * The methods a class must have for a dispatcher method to be more than Seldon's default; without
 * them REST answers 400 (as Seldon's wrapper does), gRPC UNIMPLEMENTED with the same message.
 */
const REQUIRED: Partial<Record<ComponentMethod, readonly string[]>> = {
  predict: ['predict', 'predictRaw', 'predict_raw'],
  route: ['route', 'routeRaw', 'route_raw'],
  aggregate: ['aggregate', 'aggregateRaw', 'aggregate_raw'],
};

/** REST's HTTP status as the gRPC status a gRPC client expects for the same failure. */
export function grpcStatusOf(httpStatus: number): grpc.status {
  switch (httpStatus) {
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 408:
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
    case 413:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 501:
      return grpc.status.UNIMPLEMENTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    default:
      return httpStatus >= 400 && httpStatus < 500 ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL;
  }
}

function failureMessage(reply: Reply): string {
  const status = (reply.body as { status?: { info?: unknown } } | undefined)?.status;
  return typeof status?.info === 'string' ? status.info : `failed with HTTP status ${reply.status}`;
}

function errorOf(code: grpc.status, details: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

const passBytes = (value: Buffer): Buffer => value;

function seldonHandler(dispatcher: Dispatcher, model: SeldonComponent, spec: ComponentRpc): grpc.handleUnaryCall<Buffer, Buffer> {
  const required = REQUIRED[spec.method];
  const lacking = required !== undefined && required.every((name) => typeof (model as Record<string, unknown>)[name] !== 'function');
  return (call, callback) => {
    let input: unknown;
    try {
      // Model.Metadata takes google.protobuf.Empty: nothing to read.
      input = spec.request === 'Empty' ? undefined : fromProto(spec.request, call.request);
    } catch (err) {
      const failure = asTrantorError(err);
      callback(errorOf(grpcStatusOf(failure.status), failure.message));
      return;
    }
    dispatcher.handle(spec.method, input).then(
      (reply) => {
        if (reply.status !== 200) {
          const code = lacking && reply.status === 400 ? grpc.status.UNIMPLEMENTED : grpcStatusOf(reply.status);
          callback(errorOf(code, failureMessage(reply)));
          return;
        }
        let bytes: Buffer;
        try {
          bytes = Buffer.from(toProto(spec.answer, reply.body as never));
        } catch (err) {
          // The model's answer has no protobuf form (REST would have sent it as JSON): its failure.
          const message = err instanceof Error ? err.message : String(err);
          callback(errorOf(grpc.status.INTERNAL, `${dispatcher.name}.${spec.method} answered what gRPC cannot carry: ${message}`));
          return;
        }
        callback(null, bytes);
      },
      (err: unknown) => callback(errorOf(grpc.status.INTERNAL, asTrantorError(err).message)),
    );
  };
}

function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of service.methodsArray) {
    definition[method.name] = {
      path: `/${service.fullName.slice(1)}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: passBytes,
      requestDeserialize: passBytes,
      responseSerialize: passBytes,
      responseDeserialize: passBytes,
    };
  }
  return definition;
}

// ---- grpc.health.v1 ----

const HEALTH_PROTO = fileURLToPath(new URL('./health.proto', import.meta.url));
let healthRoot: protobuf.Root | undefined;

/** The health service's schema, parsed on first use. */
export function healthService(): protobuf.Service {
  if (healthRoot === undefined) {
    try {
      healthRoot = protobuf.loadSync(HEALTH_PROTO);
      healthRoot.resolveAll();
    } catch (err) {
      throw new TrantorError('INTERNAL', `the gRPC health schema could not be loaded from ${HEALTH_PROTO}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return healthRoot.lookupService('grpc.health.v1.Health');
}

const SERVING = 1;
const NOT_SERVING = 2;
const SERVICE_UNKNOWN = 3;

interface Health {
  implementation: grpc.UntypedServiceImplementation;
  /** Ends every Watch with NOT_SERVING. */
  stop(): void;
}

/** SERVING for the server as a whole ('') and each service it serves: the model is loaded before it starts. */
function healthImplementation(names: ReadonlySet<string>): Health {
  const service = healthService();
  const request = service.lookupType('HealthCheckRequest');
  const response = service.lookupType('HealthCheckResponse');
  const encode = (status: number): Buffer => Buffer.from(response.encode({ status }).finish());
  const watchers = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  let serving = true;
  const askedAbout = (bytes: Buffer): string | Error => {
    try {
      return (request.decode(bytes) as unknown as { service: string }).service;
    } catch (err) {
      return new Error(`not a protobuf HealthCheckRequest: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const check: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    const name = askedAbout(call.request);
    if (name instanceof Error) callback(errorOf(grpc.status.INVALID_ARGUMENT, name.message));
    else if (!names.has(name)) callback(errorOf(grpc.status.NOT_FOUND, `service: this server does not serve ${JSON.stringify(name)}`));
    else callback(null, encode(serving ? SERVING : NOT_SERVING));
  };
  const watch: grpc.handleServerStreamingCall<Buffer, Buffer> = (call) => {
    const name = askedAbout(call.request);
    if (name instanceof Error) {
      call.destroy(errorOf(grpc.status.INVALID_ARGUMENT, name.message));
      return;
    }
    // The stream stays open: a later change (stopping) is sent on it.
    call.write(encode(!names.has(name) ? SERVICE_UNKNOWN : serving ? SERVING : NOT_SERVING));
    if (!serving) {
      call.end();
      return;
    }
    watchers.add(call);
    call.on('cancelled', () => watchers.delete(call));
  };
  return {
    implementation: { Check: check as grpc.UntypedHandleCall, Watch: watch as grpc.UntypedHandleCall },
    stop() {
      serving = false;
      for (const call of watchers) {
        call.write(encode(NOT_SERVING));
        call.end();
      }
      watchers.clear();
    },
  };
}

/**
 * Serves a model instance (already loaded, with its dispatcher) over gRPC on `host:port` until
 * `close()`. Resolves once the server is listening.
 */
export async function serveComponentGrpc(model: SeldonComponent, dispatcher: Dispatcher, options: GrpcServeOptions = {}): Promise<ComponentGrpcServer> {
  const host = options.host ?? '127.0.0.1';
  const limit = options.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': limit, 'grpc.max_send_message_length': limit });
  const served = new Set<string>(['']);
  for (const name of SERVICES) {
    const service = seldonService(name);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of service.methodsArray) {
      // The same table the executor's gRPC transport calls by, read from seldon.proto.
      const spec = componentRpcNamed(method.name);
      if (spec === undefined) throw new TrantorError('INTERNAL', `seldon.proto's ${name}.${method.name} has no handler`);
      implementation[method.name] = seldonHandler(dispatcher, model, spec) as grpc.UntypedHandleCall;
    }
    server.addService(serviceDefinition(service), implementation);
    served.add(service.fullName.slice(1));
  }
  const health = healthImplementation(served);
  const healthDef = healthService();
  server.addService(serviceDefinition(healthDef), health.implementation);
  served.add(healthDef.fullName.slice(1));

  const address = host.includes(':') ? `[${host}]:${options.port ?? 0}` : `${host}:${options.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err === null ? resolve(bound) : reject(err)));
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((done) => {
      health.stop();
      const force = setTimeout(() => server.forceShutdown(), 5_000);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        done();
      });
    });
    return closing;
  };
  return { host, port, close };
}
