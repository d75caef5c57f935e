/**
 * A component's gRPC server: Seldon's component services (Model, Router, Transformer,
 * OutputTransformer, Combiner and the all-in-one Generic, from our seldon.proto), the Open
 * Inference Protocol's inference.GRPCInferenceService (grpc-v2.ts), grpc.health.v1.Health and server reflection, over plain HTTP/2. Every method calls the same
 * dispatcher the REST server calls, so a gRPC answer is the REST answer for the same input;
 * a failure carries the message REST gives, under the gRPC status matching REST's HTTP status.
 *
 * The component methods, all unary, are served straight on node:http2 (grpc/unary-server.ts), as
 * the gateway serves its own: grpc-js's per-call machinery cost about as much as the rest of a
 * small call. Health and reflection, which stream, stay with a grpc-js server that the same
 * HTTP/2 sessions hand their streams to. Requests are converted in the handler, so a payload that
 * cannot convert answers INVALID_ARGUMENT naming the field.
 */
import * as grpc from '@grpc/grpc-js';
import { componentRpcNamed, fromProto, seldonProtoRoot, v2ProtoRoot, V2_GRPC_SERVICE, seldonService, toProto, TrantorError, asTrantorError, type ComponentRpc } from '../protocol/index.ts';
import type { SeldonComponent, ServiceType } from './contract.ts';
import { v2GrpcMethods, type V2GrpcMethod } from './grpc-v2.ts';
import type { ComponentMethod, Dispatcher, Reply } from './dispatch.ts';
import { DEFAULT_MAX_BODY_BYTES } from './server.ts';
import { grpcStatusOf, serviceDefinition, healthImplementation, healthService, healthProtoRoot, addReflection, createUnaryServer, type UnaryHandler } from '../grpc/index.ts';

export interface GrpcServeOptions {
  host?: string;
  /** 0 (the default) picks a free port; the handle says which. */
  port?: number;
  /** Larger messages, either way, are refused with RESOURCE_EXHAUSTED (default: REST's body limit). */
  maxMessageBytes?: number;
  /** Which user method a V2 inference calls (v2.ts; default MODEL: `predict`). */
  serviceType?: ServiceType;
  /** The graph node this host serves, the one model name V2 answers for (any name, when absent). */
  node?: string;
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

function seldonHandler(dispatcher: Dispatcher, model: SeldonComponent, spec: ComponentRpc, limit: number): UnaryHandler {
  const required = REQUIRED[spec.method];
  const lacking = required !== undefined && required.every((name) => typeof (model as Record<string, unknown>)[name] !== 'function');
  return (call, reply) => {
    let input: unknown;
    try {
      // Model.Metadata takes google.protobuf.Empty: nothing to read.
      input = spec.request === 'Empty' ? undefined : fromProto(spec.request, call.request);
    } catch (err) {
      const failure = asTrantorError(err);
      reply.fail(grpcStatusOf(failure.status), failure.message);
      return;
    }
    dispatcher.handle(spec.method, input).then(
      (answer) => {
        if (answer.status !== 200) {
          const code = lacking && answer.status === 400 ? grpc.status.UNIMPLEMENTED : grpcStatusOf(answer.status);
          reply.fail(code, failureMessage(answer));
          return;
        }
        let bytes: Uint8Array;
        try {
          bytes = toProto(spec.answer, answer.body as never);
        } catch (err) {
          // The model's answer has no protobuf form (REST would have sent it as JSON): its failure.
          const message = err instanceof Error ? err.message : String(err);
          reply.fail(grpc.status.INTERNAL, `${dispatcher.name}.${spec.method} answered what gRPC cannot carry: ${message}`);
          return;
        }
        // grpc-js refused an answer over its send limit so; the option promises it either way.
        if (bytes.byteLength > limit) reply.fail(grpc.status.RESOURCE_EXHAUSTED, `Sent message larger than max (${bytes.byteLength} vs. ${limit})`);
        else reply.ok(bytes);
      },
      (err: unknown) => reply.fail(grpc.status.INTERNAL, asTrantorError(err).message),
    );
  };
}

/** A V2 method as a unary handler: a thrown failure answers with its message under REST's status as gRPC's. */
function v2Handler(method: V2GrpcMethod, limit: number): UnaryHandler {
  return (call, reply) => {
    // Through a promise, so a method that throws before it awaits still answers.
    Promise.resolve(call.request).then(method).then(
      (bytes) => {
        if (bytes.byteLength > limit) reply.fail(grpc.status.RESOURCE_EXHAUSTED, `Sent message larger than max (${bytes.byteLength} vs. ${limit})`);
        else reply.ok(bytes);
      },
      (err: unknown) => {
        const failure = asTrantorError(err);
        reply.fail(grpcStatusOf(failure.status), failure.message);
      },
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
  // Health and reflection (streams), and the answer to unknown methods.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': limit, 'grpc.max_send_message_length': limit });
  const served = new Set<string>(['']);
  const unary = new Map<string, UnaryHandler>();
  for (const name of SERVICES) {
    const service = seldonService(name);
    const fullName = service.fullName.slice(1);
    for (const method of service.methodsArray) {
      // The same table the executor's gRPC transport calls by, read from seldon.proto.
      const spec = componentRpcNamed(method.name);
      if (spec === undefined) throw new TrantorError('INTERNAL', `seldon.proto's ${name}.${method.name} has no handler`);
      unary.set(`/${fullName}/${method.name}`, seldonHandler(dispatcher, model, spec, limit));
    }
    served.add(fullName);
  }
  for (const [path, method] of v2GrpcMethods(dispatcher, options.serviceType ?? 'MODEL', options.node ?? '')) unary.set(path, v2Handler(method, limit));
  served.add(V2_GRPC_SERVICE);
  const health = healthImplementation(served);
  const healthDef = healthService();
  server.addService(serviceDefinition(healthDef), health.implementation);
  served.add(healthDef.fullName.slice(1));
  addReflection(server, [...served].filter((name) => name !== ''), [seldonProtoRoot(), v2ProtoRoot(), healthProtoRoot()]);
  const http2 = createUnaryServer({ unary, others: server, maxMessageBytes: limit });

  const port = await http2.listen(host, options.port ?? 0);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (() => {
      // Watchers hear NOT_SERVING before their sessions close.
      health.stop();
      return http2.close(5_000).then(() => {
        server.forceShutdown();
      });
    })();
    return closing;
  };
  return { host, port, close };
}
