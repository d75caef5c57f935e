/**
 * The gRPC transport, for nodes whose `endpoint.type` is GRPC: one grpc-js channel per replica,
 * round-robin over the ready replicas the EndpointSource offers, Seldon's component services
 * called as Seldon's Go executor calls them (Predict and SendFeedback on `Model`, TransformInput
 * on `Transformer`, TransformOutput on `OutputTransformer`, Route on `Router`, Aggregate on
 * `Combiner`, Metadata on `Model`). Seldon's components have no gRPC health method (the Go
 * executor answers "Not implemented"), so `health` answers NOT_IMPLEMENTED without a call.
 *
 * Messages cross as protobuf through our codec (`toProto`/`fromProto`), encoded before the call
 * and decoded after it, so a message that does not convert is named with its node. gRPC status
 * codes come back as the failures the HTTP transport gives for the equivalent HTTP status:
 * DEADLINE_EXCEEDED is UPSTREAM_TIMEOUT, UNAVAILABLE is a replica that did not answer (retried on
 * another one within the retry window when the call is idempotent), every other code a
 * COMPONENT_FAILURE with its HTTP status and the component's details.
 *
 * Calls go straight on node:http2 (grpc/unary-client.ts), not through a grpc-js client, which
 * cost more than twice the CPU per call.
 *
 * Replica choice, retries and outlier ejection follow the rule both transports share
 * (rotation.ts). The stall watch (taking calls back from a frozen replica) is not here: a call on
 * a frozen replica waits for its deadline.
 */
import * as grpc from '@grpc/grpc-js';
import { TrantorError, componentRpc, fromProto, toProto } from '../../protocol/index.ts';
import { HTTP_STATUS_OF_GRPC, UnaryChannel, type UnaryFailure, type UnaryOutcome } from '../../grpc/index.ts';
import type { Feedback, SeldonMessage, SeldonProtoKind } from '../../protocol/index.ts';
import type { EndpointSource, ReplicaAddress, UnitKey } from './endpoints.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import type { ExecutorOptions } from '../options.ts';
import { hostPort, policyOf, replicaPolicyOptions, UnitTable } from './units.ts';
import { FRESH, noReplicaAnswered, RetryWindow, Rotation } from './rotation.ts';
import type { EjectionPolicy, RetryPolicy, RotatingReplica } from './rotation.ts';
import type { ReplicaPolicyOptions } from './units.ts';
import { answerOf, describeUnit, MethodTransport, seldonFailure } from './transport.ts';
import type { CallOptions, ComponentMethod, Failure, MethodPayload, Reply } from './transport.ts';


/** Seldon's executor lifts gRPC's message limits (math.MaxInt32 both ways); so do we unless told. */
export const SELDON_MAX_MESSAGE_BYTES = 2_147_483_647;

export interface GrpcTransportOptions extends ReplicaPolicyOptions {
  /** The largest message sent or received, in bytes. */
  maxMessageBytes?: number;
}

/** The transport's settings from the executor's compiled options, as `httpTransportOptions` reads them. */
export function grpcTransportOptions(endpoints: EndpointSource, options: ExecutorOptions = EXECUTOR_DEFAULTS, maxMessageBytes = SELDON_MAX_MESSAGE_BYTES): GrpcTransportOptions {
  return { ...replicaPolicyOptions(endpoints, options), maxMessageBytes };
}

const DEFAULTS = grpcTransportOptions({ replicasOf: () => [] }) as Required<GrpcTransportOptions>;

interface ReplicaChannel extends RotatingReplica {
  readonly address: string;
  readonly client: UnaryChannel;
}

interface UnitState {
  readonly unit: UnitKey;
  readonly label: string;
  seen: readonly ReplicaAddress[] | undefined;
  readonly rotation: Rotation<ReplicaChannel>;
}

/** grpc-js's details for a call failed before it was sent: no connection to the replica. */
const NOT_SENT = /^No connection established/;

const EMPTY = Buffer.alloc(0);

/** The request's puid, for the `seldon-puid` metadata Seldon's executor sends along. */
function puidOf(method: ComponentMethod, payload: MethodPayload): string | undefined {
  if (payload === undefined) return undefined;
  if (method === 'aggregate') return (payload as readonly SeldonMessage[])[0]?.meta?.puid;
  if (method === 'sendFeedback') return (payload as Feedback).request?.meta?.puid;
  return (payload as SeldonMessage).meta?.puid;
}

export class GrpcTransport extends MethodTransport {
  private readonly endpoints: EndpointSource;
  private readonly maxMessageBytes: number;
  /** The retry window and ejection rule (rotation.ts), shared with the HTTP transport. */
  private readonly policy: EjectionPolicy & RetryPolicy;
  private readonly units = new UnitTable<UnitState>((unit) => ({ unit, label: describeUnit(unit), seen: undefined, rotation: new Rotation<ReplicaChannel>(this.policy) }));
  private closed = false;

  constructor(options: GrpcTransportOptions) {
    super();
    const d = DEFAULTS;
    this.endpoints = options.endpoints;
    this.maxMessageBytes = options.maxMessageBytes ?? d.maxMessageBytes;
    this.policy = policyOf(options, d);
  }

  protected async send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
    const state = this.stateOf(unit);
    if (method === 'health') {
      const failure = new TrantorError('NOT_IMPLEMENTED', `${state.label} is reached over gRPC, where Seldon's components have no health method`);
      return { status: 501, failure, body: undefined };
    }
    // Which service each method is called on, and its kinds: seldon.proto's, shared with the component hosts.
    const route = componentRpc(method);
    let request: Buffer;
    try {
      request = encode(route.request, method, payload);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { status: 400, failure: new TrantorError('BAD_PAYLOAD', `the message for ${state.label} cannot travel as protobuf: ${why}`, { cause: err }), body: undefined };
    }
    const puid = puidOf(method, payload);
    const metadata: Record<string, string> = puid !== undefined && puid !== '' ? { 'seldon-puid': puid } : {};
    const answer = await this.call(state, route.path, request, metadata, options);
    if ('error' in answer) return failureOfStatus(state, answer.error);
    let value: unknown;
    try {
      value = fromProto(route.answer, answer.bytes);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return { status: 200, failure: new TrantorError('BAD_UPSTREAM', `node "${unit.node}" answered with something that is not a ${route.answer}: ${why}`), body: undefined };
    }
    return answerOf(unit, method, 200, value);
  }

  /**
   * A raw unary call to a ready replica of `unit` (another protocol's RPC, such as V2's), with the
   * replica choice, retries and ejection of Seldon's calls; a failure status is thrown as
   * COMPONENT_FAILURE with its HTTP status and the component's details.
   */
  async unaryCall(unit: UnitKey, path: string, request: Uint8Array, puid: string | undefined, options: CallOptions): Promise<Buffer> {
    const state = this.stateOf(unit);
    const metadata: Record<string, string> = puid !== undefined && puid !== '' ? { 'seldon-puid': puid } : {};
    const bytes = Buffer.isBuffer(request) ? request : Buffer.from(request.buffer, request.byteOffset, request.byteLength);
    const answer = await this.call(state, path, bytes, metadata, options);
    if ('error' in answer) throw failureOfStatus(state, answer.error).failure;
    return answer.bytes;
  }

  /** Sends to a replica, retrying UNAVAILABLE elsewhere as the module comment says: the answer's bytes, or its failure status. */
  private async call(state: UnitState, path: string, request: Buffer, metadata: Record<string, string>, options: CallOptions): Promise<UnaryOutcome> {
    const window = new RetryWindow(options.timeoutMs, this.policy);
    let tried: Set<string> | undefined;
    let lastFailure: UnaryFailure | undefined;
    for (;;) {
      if (this.closed) throw new TrantorError('UNAVAILABLE', `${state.label}: the transport is closed`);
      const replica = this.pick(state, tried);
      if (replica !== undefined) {
        if (Date.now() >= window.deadline) throw this.timeout(state, options.timeoutMs);
        const outcome = await replica.client.call(path, request, metadata, window.deadline);
        if ('bytes' in outcome) {
          state.rotation.answered(replica, Date.now());
          return outcome;
        }
        const failure = outcome.error;
        if (failure.code === grpc.status.DEADLINE_EXCEEDED) {
          state.rotation.failed(replica);
          throw this.timeout(state, options.timeoutMs);
        }
        if (failure.code !== grpc.status.UNAVAILABLE) {
          state.rotation.answered(replica, Date.now());
          return outcome;
        }
        state.rotation.failed(replica);
        // UNAVAILABLE alone does not say whether the call reached the component: only idempotent
        // calls go again, and any call the channel never sent (grpc-js says so only in its details).
        if (!options.idempotent && !NOT_SENT.test(failure.details)) throw new TrantorError('UNAVAILABLE', `${state.label} did not answer: ${failure.details}`, { cause: failure });
        (tried ??= new Set()).add(replica.id);
        lastFailure = failure;
        continue;
      }
      if (!(await window.pause())) throw noReplicaAnswered(state.label, lastFailure === undefined ? undefined : { message: lastFailure.details, cause: lastFailure });
      tried?.clear();
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const state of this.units.values()) {
      for (const replica of state.rotation.order) replica.client.close();
      state.rotation.order = [];
      state.seen = undefined;
    }
    this.units.clear();
    return Promise.resolve();
  }

  private timeout(state: UnitState, timeoutMs: number): TrantorError {
    return new TrantorError('UPSTREAM_TIMEOUT', `${state.label} did not answer within ${timeoutMs} ms`);
  }

  private stateOf(unit: UnitKey): UnitState {
    return this.units.of(unit);
  }

  /** The next replica (see Rotation.pick), after bringing the channels in line with the replicas now ready. */
  private pick(state: UnitState, tried: Set<string> | undefined): ReplicaChannel | undefined {
    const replicas = this.endpoints.replicasOf(state.unit);
    if (replicas !== state.seen) this.sync(state, replicas);
    return state.rotation.pick(tried);
  }

  /** Brings the channels in line with the replicas now ready: new ones get a channel, gone ones are closed. */
  private sync(state: UnitState, replicas: readonly ReplicaAddress[]): void {
    state.seen = replicas;
    const previous = new Map(state.rotation.order.map((channel) => [channel.id, channel]));
    const next: ReplicaChannel[] = [];
    for (const replica of replicas) {
      const address = hostPort(replica);
      let channel = previous.get(replica.id);
      if (channel !== undefined && channel.address !== address) channel = undefined;
      else previous.delete(replica.id);
      channel ??= { id: replica.id, address, client: new UnaryChannel(address, { maxMessageBytes: this.maxMessageBytes }), ...FRESH };
      next.push(channel);
    }
    // Calls in flight on a closed channel finish.
    for (const gone of previous.values()) gone.client.close();
    state.rotation.order = next;
  }
}

function encode(kind: SeldonProtoKind | 'Empty', method: ComponentMethod, payload: MethodPayload): Buffer {
  if (kind === 'Empty') return EMPTY;
  if (method === 'aggregate') return Buffer.from(toProto('SeldonMessageList', { seldonMessages: [...(payload as readonly SeldonMessage[])] }));
  if (kind === 'Feedback') return Buffer.from(toProto('Feedback', payload as Feedback));
  return Buffer.from(toProto('SeldonMessage', payload as SeldonMessage));
}

/** A component's failure status as the Reply the HTTP transport gives for the equivalent HTTP status. */
function failureOfStatus(state: UnitState, err: UnaryFailure): Failure {
  const status = HTTP_STATUS_OF_GRPC[err.code] ?? 500;
  const info = err.details === '' ? `${state.label} answered gRPC status ${grpc.status[err.code] ?? err.code}` : err.details;
  const body = { status: { status: 'FAILURE' as const, code: status, info, reason: '' } };
  return { status, failure: seldonFailure(state.unit.node, status, body.status), body };
}
