/** What our gRPC servers and clients share: status mapping, service definitions, health, reflection. */
export { grpcError, grpcStatusOf, HTTP_STATUS_OF_GRPC } from './status.ts';
export { passBytes, serviceDefinition } from './definition.ts';
export { healthImplementation, healthProtoRoot, healthService, type Health } from './health.ts';
export { addReflection, descriptorFiles, reflectionProtoRoot, REFLECTION_VERSIONS, type DescriptorFiles } from './reflection.ts';
export { createUnaryServer, type UnaryCall, type UnaryHandler, type UnaryReply, type UnaryServer, type UnaryServerOptions } from './unary-server.ts';
export { UnaryChannel, type UnaryChannelOptions, type UnaryFailure, type UnaryOutcome } from './unary-client.ts';
