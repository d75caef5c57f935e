/**
 * V2 over gRPC, for the nodes of a `protocol: v2` graph whose `endpoint.type` is GRPC: the
 * Open Inference Protocol's `inference.GRPCInferenceService` (ModelInfer, ModelReady,
 * ModelMetadata) on the node's own model name, with our codec (`src/protocol/v2/grpc.ts`).
 * The calls ride the gRPC transport's `unaryCall`, so a V2 node gets Seldon's nodes' channels,
 * replica choice, retries and ejection. Tensors go in the raw contents, as Triton's clients send
 * them; a component's status comes back as COMPONENT_FAILURE with the matching HTTP status and
 * its own message.
 */
import {
  TrantorError,
  V2_GRPC_SERVICE,
  decodeModelInferResponse,
  decodeModelMetadataResponse,
  encodeModelInferRequest,
  v2MessageType,
  encodeV2Message,
  type V2DecodedBody,
  type V2InferenceRequest,
  type V2InferenceResponse,
  type V2ModelMetadata,
} from '../../protocol/index.ts';
import type { UnitKey } from '../transport/endpoints.ts';
import type { CallOptions } from '../transport/transport.ts';
import { requestFields } from './messages.ts';
import type { V2CallOptions, V2Transport } from './transport.ts';

/** What the V2 gRPC transport needs of the gRPC transport: its raw unary call (GrpcTransport has it). */
export interface RawGrpcCaller {
  unaryCall(unit: UnitKey, path: string, request: Uint8Array, puid: string | undefined, options: CallOptions): Promise<Buffer>;
}

const INFER = `/${V2_GRPC_SERVICE}/ModelInfer`;
const READY = `/${V2_GRPC_SERVICE}/ModelReady`;
const METADATA = `/${V2_GRPC_SERVICE}/ModelMetadata`;

function why(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class GrpcV2Transport implements V2Transport {
  private readonly grpc: RawGrpcCaller;

  constructor(grpc: RawGrpcCaller) {
    this.grpc = grpc;
  }

  async infer(unit: UnitKey, request: V2DecodedBody<V2InferenceRequest>, options: V2CallOptions): Promise<V2DecodedBody<V2InferenceResponse>> {
    let bytes: Uint8Array;
    try {
      bytes = encodeModelInferRequest({ name: unit.node }, requestFields(request.message), request.tensors);
    } catch (err) {
      if (err instanceof TrantorError) throw err;
      throw new TrantorError('BAD_PAYLOAD', `the request for node "${unit.node}" cannot travel as a ModelInferRequest: ${why(err)}`, { cause: err });
    }
    const answer = await this.grpc.unaryCall(unit, INFER, bytes, options.puid, options);
    try {
      return decodeModelInferResponse(answer);
    } catch (err) {
      throw new TrantorError('BAD_UPSTREAM', `node "${unit.node}" answered with something that is not a ModelInferResponse: ${why(err)}`, { cause: err });
    }
  }

  async modelReady(unit: UnitKey, options: V2CallOptions): Promise<boolean> {
    const answer = await this.grpc.unaryCall(unit, READY, encodeV2Message('ModelReadyRequest', { name: unit.node }), options.puid, options);
    try {
      return (v2MessageType('ModelReadyResponse').decode(answer) as unknown as { ready?: boolean }).ready === true;
    } catch {
      return false;
    }
  }

  async modelMetadata(unit: UnitKey, options: V2CallOptions): Promise<V2ModelMetadata> {
    const answer = await this.grpc.unaryCall(unit, METADATA, encodeV2Message('ModelMetadataRequest', { name: unit.node }), options.puid, options);
    try {
      return decodeModelMetadataResponse(answer);
    } catch (err) {
      throw new TrantorError('BAD_UPSTREAM', `node "${unit.node}" answered with something that is not a ModelMetadataResponse: ${why(err)}`, { cause: err });
    }
  }

  /** The gRPC transport is the executor's, shared with Seldon's calls: whoever built it closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
