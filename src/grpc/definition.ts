/**
 * grpc-js service definitions from our protobufjs schemas, with messages crossing grpc-js as raw
 * bytes: each handler converts them with our codecs, so a message that does not convert is
 * answered with INVALID_ARGUMENT naming the field, not grpc-js's generic INTERNAL.
 */
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';

/** grpc-js's bytes-as-is (de)serializer. */
export const passBytes = (value: Buffer): Buffer => value;

/** A service's methods at their paths (`/<package>.<Service>/<Method>`), bytes in and out. */
export function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
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
