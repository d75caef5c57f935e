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
import { componentRpcNamed, fromProto, seldonProtoRoot, seldonService, toProto, TrantorError, asTrantorError, type ComponentRpc } from '../protocol/index.ts';
import type { SeldonComponent } from './contract.ts';
import type { ComponentMethod, Dispatcher, Reply } from './dispatch.ts';
import { DEFAULT_MAX_BODY_BYTES } from './server.ts';
import { grpcError, grpcStatusOf, serviceDefinition, healthImplementation, healthService, healthProtoRoot, addReflection } from '../grpc/index.ts';

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

function failureMessage(reply: Reply): string {
  const status = (reply.body as { status?: { info?: unknown } } | undefined)?.status;
  return typeof status?.info === 'string' ? status.info : `failed with HTTP status ${reply.status}`;
}

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
      callback(grpcError(grpcStatusOf(failure.status), failure.message));
      return;
    }
    dispatcher.handle(spec.method, input).then(
      (reply) => {
        if (reply.status !== 200) {
          const code = lacking && reply.status === 400 ? grpc.status.UNIMPLEMENTED : grpcStatusOf(reply.status);
          callback(grpcError(code, failureMessage(reply)));
          return;
        }
        let bytes: Buffer;
        try {
          bytes = Buffer.from(toProto(spec.answer, reply.body as never));
        } catch (err) {
          // The model's answer has no protobuf form (REST would have sent it as JSON): its failure.
          const message = err instanceof Error ? err.message : String(err);
          callback(grpcError(grpc.status.INTERNAL, `${dispatcher.name}.${spec.method} answered what gRPC cannot carry: ${message}`));
          return;
        }
        callback(null, bytes);
      },
      (err: unknown) => callback(grpcError(grpc.status.INTERNAL, asTrantorError(err).message)),
    );
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
  addReflection(server, [...served].filter((name) => name !== ''), [seldonProtoRoot(), healthProtoRoot()]);

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
