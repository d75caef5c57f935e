/**
 * Seldon's gRPC schema, parsed from our .proto text by protobufjs the first time it is asked for
 * and kept for the life of the process. The google/protobuf imports (Any, Empty, Struct) resolve
 * to the copies protobufjs ships; field names keep their .proto spelling (`tensor_shape`).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { TrantorError } from '../errors.ts';

const SELDON_PROTO = fileURLToPath(new URL('./seldon.proto', import.meta.url));
const load = createRequire(import.meta.url);

let library: typeof protobuf | undefined;
let root: protobuf.Root | undefined;

/**
 * protobufjs, loaded on first use: importing it costs ~20 ms, which every process that imports
 * the protocol module (the CLI, component hosts) would pay for a gRPC it may never speak.
 */
export function protobufjs(): typeof protobuf {
  library ??= load('protobufjs') as typeof protobuf;
  return library;
}

/** The loaded root holding `seldon.protos.*`, `tensorflow.*` and the google well-known types. */
export function seldonProtoRoot(): protobuf.Root {
  if (root === undefined) {
    const loaded = new (protobufjs().Root)();
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
