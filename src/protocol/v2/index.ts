/** The Open Inference Protocol (V2): REST JSON, the REST binary extension, typed tensors, gRPC. */
export * from './types.ts';
export {
  binaryDataSize,
  elementCount as v2ElementCount,
  elementProblem as v2ElementProblem,
  flattenV2Data,
  parseV2Error,
  parseV2InferenceRequest,
  parseV2InferenceResponse,
  parseV2ModelMetadata,
  parseV2ServerMetadata,
  v2ErrorBody,
  type V2ParseOptions,
} from './parse.ts';
export {
  checkValues as checkV2TensorValues,
  dataFromValues as v2DataFromValues,
  decodeRaw as decodeV2RawTensor,
  encodeRaw as encodeV2RawTensor,
  tensorFromJson as v2TensorFromJson,
  tensorToJson as v2TensorToJson,
  valuesFromData as v2ValuesFromData,
  type V2JsonTensor,
  type V2Tensor,
  type V2TensorValues,
} from './tensors.ts';
export {
  binaryOutputsWanted,
  decodeV2Request,
  decodeV2Response,
  encodeV2Request,
  encodeV2Response,
  INFERENCE_HEADER_CONTENT_LENGTH,
  parseHeaderLength as parseInferenceHeaderLength,
  type V2DecodedBody,
  type V2EncodedBody,
} from './binary.ts';
export { fromHalfBits, roundToHalf, toHalfBits } from './float16.ts';
export {
  decodeModelInferRequest,
  decodeModelInferResponse,
  encodeModelInferRequest,
  encodeModelInferResponse,
  v2MessageType,
  v2ProtoRoot,
  V2_GRPC_SERVICE,
  decodeModelMetadataResponse,
  decodeV2Message,
  encodeV2Message,
  decodeServerMetadataResponse,
  encodeModelMetadataResponse,
  encodeServerMetadataResponse,
  type V2GrpcEncodeOptions,
  type V2GrpcInferRequest,
} from './grpc.ts';
