/**
 * The gateway's gRPC side: Seldon's `seldon.protos.Seldon` service (grpc-seldon.ts), the Open
 * Inference Protocol's `inference.GRPCInferenceService` (grpc-v2.ts), `grpc.health.v1.Health` and
 * server reflection, on one grpc-js server. Through Seldon's Ambassador or Istio routes a client
 * reaches a deployment by the `seldon` (its name) and `namespace` metadata; so does it here.
 *
 * Connections reach the server two ways: handed over by the gateway's HTTP port, which sniffs the
 * HTTP/2 preface on each new connection (so `localhost:8000` answers REST and gRPC, as Seldon's
 * ingress does), and on a port of its own when one is asked for (`--grpc_port`).
 *
 * The Seldon and V2 methods, all unary, are served straight on node:http2 (grpc/unary-server.ts):
 * grpc-js's per-call machinery cost more than the rest of a call. Health and reflection, which
 * stream, stay with a grpc-js server, which the same HTTP/2 sessions hand their streams to.
 *
 * Every call gets what a REST request gets: the Host rule, a puid (`seldon-puid` metadata, sent
 * back as initial metadata on answers and failures alike), the request timeout (or the call's
 * deadline when sooner), the skip-logging wish, the predictor's request histogram (labelled as
 * Seldon's executor labels gRPC: the full method, `unary`), and failures with REST's message
 * under the gRPC status matching REST's HTTP status.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type protobuf from 'protobufjs';
import type { OriginHeaders } from '../http/index.ts';
import { TrantorError, asTrantorError, grpcCodeLabel, isPuid, newPuid, seldonProtoRoot, v2ProtoRoot } from '../protocol/index.ts';
import type { CallLimits, PredictorMetrics } from '../executor/index.ts';
import { grpcStatusOf, serviceDefinition, healthImplementation, healthProtoRoot, healthService, type Health, addReflection, createUnaryServer, type UnaryCall, type UnaryHandler, type UnaryReply, type UnaryServer } from '../grpc/index.ts';
import type { DeploymentEntry, DeploymentTable } from './deployments.ts';
import { trafficOf, type TrafficSplit } from './traffic.ts';
import { handToTap, type RequestTap, type TapState } from './request-tap.ts';
import { seldonServiceImplementation } from './grpc-seldon.ts';
import { v2ServiceImplementation } from './grpc-v2.ts';

export interface GatewayGrpcOptions {
  deployments: DeploymentTable;
  /** The request timeout (ms): a call's deadline shortens it, never lengthens it. */
  requestTimeoutMs: number;
  /** The largest request message taken (the gateway's body limit); RESOURCE_EXHAUSTED past it. */
  maxMessageBytes: number;
  /** A pod's executor: calls without `seldon` metadata go to the pod's deployment. */
  pod?: { readonly namespace: string; readonly name: string } | undefined;
  /** Admits a call by its `:authority` and any Origin/Sec-Fetch-* metadata, or throws (REST's Host rule). */
  admit?: ((headers: OriginHeaders) => void) | undefined;
  /** The dashboard's request inspector: predictions, feedback and inferences are handed to it while it is active. */
  requestTap?: RequestTap | undefined;
  /** The health service says NOT_SERVING while this gives a reason. */
  ready?: (() => Promise<string | undefined>) | undefined;
  logger?: Logger | undefined;
}

export interface GatewayGrpc {
  /** Serves an HTTP/2 connection accepted elsewhere (its preface unshifted back). */
  inject(connection: Duplex): void;
  /** Listens on a port of its own; resolves with the port (0 picks one). */
  listen(host: string, port: number): Promise<number>;
  /** Health turns NOT_SERVING, calls in flight finish for up to `graceMs`, then connections are cut. */
  close(graceMs: number): Promise<void>;
}

/** One call at the gateway: what its handler and the answer path need. */
export interface GrpcExchange {
  /** The full method, as Seldon's metrics name it (`/seldon.protos.Seldon/Predict`). */
  readonly method: string;
  /** The call's headers: its metadata (keys in lower case) and `:authority`. */
  readonly metadata: IncomingHttpHeaders;
  /** `Date.now()` when the call arrived. */
  readonly started: number;
  readonly t0: number;
  /** The call's deadline (ms since the epoch); Infinity when it has none. */
  readonly deadline: number;
  /** `seldon-puid` metadata's, or one generated; a message's `meta.puid` replaces a generated one. */
  puid: string;
  puidFromMetadata: boolean;
  /** The predictor the call is recorded under, once known. */
  meter: PredictorMetrics | undefined;
  /** What the request tap gets, while it is active, for the methods it sees (TAPPED_METHODS). */
  tap: TapState | undefined;
}

/** The methods whose calls the request tap sees, as REST's predictions, feedback and V2 infer. */
const TAPPED_METHODS: ReadonlySet<string> = new Set(['/seldon.protos.Seldon/Predict', '/seldon.protos.Seldon/SendFeedback', '/inference.GRPCInferenceService/ModelInfer']);

/** What the service implementations use of the gateway. */
export interface GrpcGateway {
  /** The deployment the call's metadata names (or the pod's); NOT_FOUND / INVALID_ARGUMENT otherwise. */
  entry(exchange: GrpcExchange): DeploymentEntry;
  /**
   * Its entry and traffic split; the call is metered under the primary predictor until one is
   * picked, and gets `exchange.tap` when the request tap wants it.
   */
  route(exchange: GrpcExchange): { entry: DeploymentEntry; split: TrafficSplit };
  /** The request timeout (or the time to the call's deadline, when sooner) and the skip-logging wish. */
  limits(exchange: GrpcExchange): CallLimits;
  readonly logger: Logger | undefined;
}

/** A unary method's work: the answer's bytes from the request's. */
export type UnaryWork = (exchange: GrpcExchange, request: Buffer) => Promise<Uint8Array>;

function firstText(metadata: IncomingHttpHeaders, key: string): string | undefined {
  const value = metadata[key];
  return Array.isArray(value) ? value[0] : value;
}

class GatewayGrpcServer implements GrpcGateway {
  /** Health and reflection (streams), and the answer to unknown methods. */
  readonly server: grpc.Server;
  readonly logger: Logger | undefined;
  private readonly options: GatewayGrpcOptions;
  private readonly health: Health;
  private readonly unary: UnaryServer;
  private closing: Promise<void> | undefined;

  constructor(options: GatewayGrpcOptions) {
    this.options = options;
    this.logger = options.logger;
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxMessageBytes });
    const served: string[] = [];
    const handlers = new Map<string, UnaryHandler>();
    const addUnary = (service: protobuf.Service, work: Readonly<Record<string, UnaryWork>>): void => {
      const name = service.fullName.slice(1);
      for (const method of service.methodsArray) {
        const run = work[method.name];
        if (run === undefined) throw new TrantorError('INTERNAL', `${name}.${method.name} has no handler`);
        const path = `/${name}/${method.name}`;
        handlers.set(path, (call, reply) => this.answer(path, run, call, reply));
      }
      served.push(name);
    };
    addUnary(seldonProtoRoot().lookupService('seldon.protos.Seldon'), seldonServiceImplementation(this));
    addUnary(v2ProtoRoot().lookupService('inference.GRPCInferenceService'), v2ServiceImplementation(this));
    this.health = healthImplementation(new Set(served), options.ready);
    const health = healthService();
    this.server.addService(serviceDefinition(health), this.health.implementation);
    served.push(health.fullName.slice(1));
    addReflection(this.server, served, [seldonProtoRoot(), v2ProtoRoot(), healthProtoRoot()]);
    this.unary = createUnaryServer({ unary: handlers, others: this.server, maxMessageBytes: options.maxMessageBytes });
  }

  private answer(method: string, run: UnaryWork, call: UnaryCall, reply: UnaryReply): void {
    const metadata = call.headers;
    const headerPuid = firstText(metadata, 'seldon-puid');
    const fromMetadata = headerPuid !== undefined && isPuid(headerPuid);
    const exchange: GrpcExchange = {
      method,
      metadata,
      started: Date.now(),
      t0: performance.now(),
      deadline: call.deadline,
      puid: fromMetadata ? headerPuid : newPuid(),
      puidFromMetadata: fromMetadata,
      meter: undefined,
      tap: undefined,
    };
    let work: Promise<Uint8Array>;
    try {
      this.options.admit?.({ host: firstText(metadata, ':authority') || undefined, origin: firstText(metadata, 'origin'), fetchSite: firstText(metadata, 'sec-fetch-site'), fetchMode: firstText(metadata, 'sec-fetch-mode') });
      if (headerPuid !== undefined && !fromMetadata) throw new TrantorError('BAD_PAYLOAD', 'seldon-puid metadata: expected 1-128 visible ASCII characters');
      work = run(exchange, call.request);
    } catch (err) {
      work = Promise.reject(asTrantorError(err));
    }
    work.then(
      (bytes) => {
        this.record(exchange, grpc.status.OK);
        reply.ok(bytes, { 'seldon-puid': exchange.puid });
        this.tapped(exchange, 200, grpc.status.OK);
      },
      (err: unknown) => {
        const error = asTrantorError(err);
        const code = grpcStatusOf(error.status);
        if (error.code === 'INTERNAL') this.logger?.error({ err, method, puid: exchange.puid }, 'unexpected error while answering a gRPC call');
        else if (error.status >= 500) this.logger?.warn({ code: error.code, message: error.message, method, puid: exchange.puid }, 'gRPC call failed');
        this.record(exchange, code);
        // The puid goes back as initial metadata on failures too.
        reply.fail(code, error.message, { 'seldon-puid': exchange.puid });
        if (exchange.tap !== undefined) exchange.tap.response = `${grpc.status[code]}: ${error.message}`;
        this.tapped(exchange, error.status, code);
      },
    );
  }

  /** Records the call in its predictor's histogram. */
  private record(exchange: GrpcExchange, code: grpc.status): void {
    const meter = exchange.meter;
    if (meter === undefined) return;
    exchange.meter = undefined;
    // Labelled as Seldon's executor labels a gRPC call: the full method, unary, the code's Go name.
    meter.observeServer(exchange.method, 'unary', grpcCodeLabel(code), (performance.now() - exchange.t0) / 1000);
  }

  /** Hands a tapped call to the request tap once answered. */
  private tapped(exchange: GrpcExchange, status: number, code: grpc.status): void {
    const tap = exchange.tap;
    if (tap === undefined) return;
    exchange.tap = undefined;
    const call = { puid: exchange.puid, started: exchange.started, t0: exchange.t0, method: 'gRPC', path: exchange.method, status, grpcStatus: grpc.status[code] };
    handToTap(this.options.requestTap, tap, call, this.logger);
  }

  entry(exchange: GrpcExchange): DeploymentEntry {
    const name = firstText(exchange.metadata, 'seldon');
    const pod = this.options.pod;
    if (name === undefined || name === '') {
      if (pod === undefined) throw new TrantorError('BAD_PAYLOAD', 'metadata: no `seldon` key; send the SeldonDeployment\'s name as `seldon` metadata (and its namespace as `namespace`, `default` when absent), as Seldon\'s Ambassador and Istio routes expect');
      return this.lookup(firstText(exchange.metadata, 'namespace') ?? pod.namespace, pod.name);
    }
    return this.lookup(firstText(exchange.metadata, 'namespace') || 'default', name);
  }

  route(exchange: GrpcExchange): { entry: DeploymentEntry; split: TrafficSplit } {
    const entry = this.entry(exchange);
    const split = trafficOf(entry);
    exchange.meter = split.primary?.metrics;
    const tap = this.options.requestTap;
    if (tap !== undefined && TAPPED_METHODS.has(exchange.method) && tap.active) {
      exchange.tap = { namespace: entry.namespace, deployment: entry.name, predictor: undefined, request: '', response: '', requestPath: undefined };
    }
    return { entry, split };
  }

  private lookup(namespace: string, name: string): DeploymentEntry {
    const entry = this.options.deployments.lookup(namespace, name);
    if (entry === undefined) throw new TrantorError('NOT_FOUND', `no SeldonDeployment named "${name}" in namespace "${namespace}"`);
    return entry;
  }

  limits(exchange: GrpcExchange): CallLimits {
    const timeoutMs = Math.max(0, Math.min(this.options.requestTimeoutMs, exchange.deadline - exchange.started));
    const limits: CallLimits = { timeoutMs, since: exchange.started };
    if (exchange.metadata['seldon-skip-logging'] !== undefined) limits.skipLogging = true;
    return limits;
  }

  inject(connection: Duplex): void {
    this.unary.inject(connection);
  }

  listen(host: string, port: number): Promise<number> {
    return this.unary.listen(host, port);
  }

  close(graceMs: number): Promise<void> {
    this.closing ??= (() => {
      // Watchers hear NOT_SERVING before their sessions close.
      this.health.stop();
      return this.unary.close(graceMs).then(() => {
        this.server.forceShutdown();
      });
    })();
    return this.closing;
  }
}

export function createGatewayGrpc(options: GatewayGrpcOptions): GatewayGrpc {
  return new GatewayGrpcServer(options);
}
