// Writes python/trantor_runtime/grpc_descriptors.bin: a serialized google.protobuf.FileDescriptorSet
// of every schema our gRPC servers serve (Seldon's services with tensorflow's TensorProto and the
// google/protobuf types, V2, health, reflection v1 and v1alpha), so the Python host builds its
// message classes from the same .proto files the Node side loads, without protoc. The files are the
// ones the Node servers' reflection answers with (src/grpc/reflection.ts), in dependency order.
//
//   node --import tsx scripts/proto-descriptors.ts           write the file
//   node --import tsx scripts/proto-descriptors.ts --check   exit 1 when the committed file is stale
//   node --import tsx scripts/proto-descriptors.ts --stdout  write the bytes to stdout
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descriptorFiles, healthProtoRoot, reflectionProtoRoot, REFLECTION_VERSIONS } from '../src/grpc/index.ts';
import { seldonProtoRoot, v2ProtoRoot } from '../src/protocol/index.ts';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'python', 'trantor_runtime', 'grpc_descriptors.bin');

/** FileDescriptorSet's one field, `repeated FileDescriptorProto file = 1`, written around each file's bytes. */
function descriptorSet(): Buffer {
  const { bytes, imports } = descriptorFiles([seldonProtoRoot(), v2ProtoRoot(), healthProtoRoot(), ...REFLECTION_VERSIONS.map(reflectionProtoRoot)]);
  const ordered: string[] = [];
  const visit = (name: string): void => {
    if (ordered.includes(name) || !bytes.has(name)) return;
    for (const dependency of imports.get(name) ?? []) visit(dependency);
    ordered.push(name);
  };
  for (const name of [...bytes.keys()].sort()) visit(name);
  const parts: Buffer[] = [];
  for (const name of ordered) {
    const file = bytes.get(name)!;
    parts.push(Buffer.from([0x0a]), varint(file.length), Buffer.from(file));
  }
  return Buffer.concat(parts);
}

function varint(value: number): Buffer {
  const out: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}

const bytes = descriptorSet();
const mode = process.argv[2];
if (mode === '--stdout') {
  process.stdout.write(bytes);
} else if (mode === '--check') {
  let committed = Buffer.alloc(0);
  try {
    committed = readFileSync(OUT);
  } catch {
    // Missing: stale.
  }
  if (!committed.equals(bytes)) {
    console.error(`${OUT} is stale: run node --import tsx scripts/proto-descriptors.ts`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, bytes);
  console.log(`wrote ${OUT} (${bytes.length} bytes)`);
}
