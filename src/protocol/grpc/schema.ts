/**
 * Seldon's gRPC schema, parsed from our .proto text by protobufjs the first time it is asked for
 * and kept for the life of the process. The google/protobuf imports (Any, Empty, Struct) resolve
 * to the copies protobufjs ships; field names keep their .proto spelling (`tensor_shape`).
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { TrantorError } from '../errors.ts';

const SELDON_PROTO = fileURLToPath(new URL('./seldon.proto', import.meta.url));

let root: protobuf.Root | undefined;

/** The loaded root holding `seldon.protos.*`, `tensorflow.*` and the google well-known types. */
export function seldonProtoRoot(): protobuf.Root {
  if (root === undefined) {
    const loaded = new protobuf.Root();
    try {
      loaded.loadSync(SELDON_PROTO, { keepCase: true });
      loaded.resolveAll();
    } catch (err) {
      // The .proto files are data beside this module: a build must copy them along with the code.
      throw new TrantorError('INTERNAL', `Seldon's gRPC schema could not be loaded from ${SELDON_PROTO}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
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
