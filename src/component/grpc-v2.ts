/**
 * `inference.GRPCInferenceService` in the Node host: the Open Inference Protocol's gRPC face of a
 * component in a `protocol: v2` graph, calling what the V2 REST face calls (v2.ts), so a gRPC
 * answer is the REST answer for the same input and a failure carries REST's message under the
 * matching gRPC status. The answer's tensors go in the raw contents when the request's did (as
 * Triton answers), in typed contents otherwise.
 *
 * The host serves one model: a request naming none is INVALID_ARGUMENT; one naming another than
 * the host's node (its predictive unit id, when it has one) is NOT_FOUND.
 */
import protobuf from 'protobufjs';
import {
  TrantorError,
  V2_GRPC_SERVICE,
  decodeModelInferRequest,
  encodeModelInferResponse,
  encodeModelMetadataResponse,
  encodeServerMetadataResponse,
  decodeV2Message,
  encodeV2Message,
} from '../protocol/index.ts';
import type { ServiceType } from './contract.ts';
import type { Dispatcher } from './dispatch.ts';
import { V2_SERVER_METADATA, inferV2, typedOutputs, v2InferenceMethod, v2ModelMetadata, v2ModelReady } from './v2.ts';

/** One method: the request's bytes in, the answer's bytes out; a thrown TrantorError is the failure. */
export type V2GrpcMethod = (request: Buffer) => Promise<Uint8Array>;

/** ModelInferRequest's `raw_input_contents` field number (v2.proto). */
const RAW_INPUT_CONTENTS = 7;

/** A request's `version` field: proto3's empty string is "none". */
function versionOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Whether a ModelInferRequest (already decoded once, so well formed) has raw input contents. */
function usesRawContents(bytes: Uint8Array): boolean {
  const reader = protobuf.Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === RAW_INPUT_CONTENTS) return true;
    reader.skipType(tag & 7);
  }
  return false;
}

/**
 * The six methods by full path (`/inference.GRPCInferenceService/ModelInfer` …) for the model
 * behind `dispatcher`; `node` is the one model name answered (any, when empty).
 */
export function v2GrpcMethods(dispatcher: Dispatcher, serviceType: ServiceType, node: string): ReadonlyMap<string, V2GrpcMethod> {
  /** The model a request names, checked against this host's. */
  const modelOf = (name: unknown, field: string): string => {
    if (typeof name !== 'string' || name === '') throw new TrantorError('BAD_PAYLOAD', `${field}: expected the model's name (the graph node this host serves)`);
    // A V2-native component decides which model names it answers.
    if (node !== '' && name !== node && dispatcher.v2Native === undefined) throw new TrantorError('NOT_FOUND', `model "${name}" is not served here; this host serves "${node}"`);
    return name;
  };
  const methods: Record<string, V2GrpcMethod> = {
    ServerLive: () => Promise.resolve(encodeV2Message('ServerLiveResponse', { live: true })),
    ServerReady: () => Promise.resolve(encodeV2Message('ServerReadyResponse', { ready: true })),
    async ModelReady(request) {
      const asked = decodeV2Message('ModelReadyRequest', request);
      const name = modelOf(asked['name'], 'name');
      const ready = await v2ModelReady(dispatcher, name, versionOf(asked['version'])).then(
        () => true,
        (err: unknown) => {
          // Not ready is an answer; no such model is a failure.
          if (err instanceof TrantorError && err.code === 'UNAVAILABLE') return false;
          throw err;
        },
      );
      return encodeV2Message('ModelReadyResponse', { ready });
    },
    ServerMetadata: () => Promise.resolve(encodeServerMetadataResponse({ ...V2_SERVER_METADATA, extensions: [...V2_SERVER_METADATA.extensions] })),
    async ModelMetadata(request) {
      const asked = decodeV2Message('ModelMetadataRequest', request);
      const name = modelOf(asked['name'], 'name');
      const metadata = await v2ModelMetadata(dispatcher, name, versionOf(asked['version']));
      try {
        return encodeModelMetadataResponse(metadata);
      } catch (err) {
        throw new TrantorError('MODEL_ERROR', `metadata answered what V2's ModelMetadataResponse cannot carry: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    },
    async ModelInfer(request) {
      const which = dispatcher.v2Native !== undefined ? 'predict' : v2InferenceMethod(serviceType);
      const decoded = decodeModelInferRequest(request);
      const model = modelOf(decoded.modelName, 'model_name');
      const answer = await inferV2(dispatcher, which, { message: decoded.message, tensors: decoded.tensors }, model, versionOf(decoded.modelVersion));
      return encodeModelInferResponse(answer.fields, typedOutputs(answer), { raw: usesRawContents(request) });
    },
  };
  return new Map(Object.entries(methods).map(([name, method]) => [`/${V2_GRPC_SERVICE}/${name}`, method]));
}
