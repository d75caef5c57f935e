/**
 * Seldon's gRPC schema, parsed from our .proto text by protobufjs the first time it is asked for
 * and kept for the life of the process. The google/protobuf imports (Any, Empty, Struct) resolve
 * to the copies protobufjs ships; field names keep their .proto spelling (`tensor_shape`).
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const SELDON_PROTO = fileURLToPath(new URL('./seldon.proto', import.meta.url));

let root: protobuf.Root | undefined;

/** The loaded root holding `seldon.protos.*`, `tensorflow.*` and the google well-known types. */
export function seldonProtoRoot(): protobuf.Root {
  if (root === undefined) {
    const loaded = new protobuf.Root();
    loaded.loadSync(SELDON_PROTO, { keepCase: true });
    loaded.resolveAll();
    root = loaded;
  }
  return root;
}

/** A message type by its full name (`seldon.protos.SeldonMessage`). */
export function protoType(fullName: string): protobuf.Type {
  return seldonProtoRoot().lookupType(fullName);
}

/** One of Seldon's services (`Model`, `Seldon`, …) with its methods, for a gRPC server or client. */
export function seldonService(name: 'Generic' | 'Model' | 'Router' | 'Transformer' | 'OutputTransformer' | 'Combiner' | 'Seldon'): protobuf.Service {
  return seldonProtoRoot().lookupService(`seldon.protos.${name}`);
}
