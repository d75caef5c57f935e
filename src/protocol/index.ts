export * from './errors.ts';
export * from './seldon.ts';
export * from './body.ts';
export * from './json-depth.ts';
export * from './json-lossless.ts';
export * from './multipart.ts';
export * from './cloudevents/index.ts';
export * from './puid.ts';
export * from './component-env.ts';
// Seldon's v1 protocol over protobuf (gRPC): the schema and the JSON ⇄ bytes codec.
export { seldonProtoRoot, seldonService } from './grpc/schema.ts';
export { fromProto, toProto, type SeldonMessageList, type SeldonProtoKind, type SeldonProtoMessages } from './grpc/seldon-codec.ts';
// The Open Inference Protocol (V2): REST, binary extension, typed tensors, gRPC codec.
export * from './v2/index.ts';
// The RPCs of Seldon's component services, with their kinds read from seldon.proto: client and server share it.
export { GRPC_STATUS_NAMES, HTTP_STATUS_OF_GRPC, grpcCodeLabel, grpcStatusName, grpcStatusOfHttp } from './grpc/status.ts';
export { COMPONENT_RPC_METHODS, componentRpc, componentRpcNamed, type ComponentRpc, type ComponentRpcMethod, type ComponentServiceName } from './grpc/component-rpcs.ts';
// TensorFlow's TensorProto as Seldon's data.tftensor: read into typed values, written back.
export { TF_DTYPES, readTfTensor, tfTensorElements, tfTensorOf, writeTfTensor, type TfDtype, type TfTensor, type TfTensorJson } from './tftensor.ts';
