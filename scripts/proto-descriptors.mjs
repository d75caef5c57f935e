#!/usr/bin/env node
// Writes python/trantor_runtime/grpc_descriptors.bin: a serialized google.protobuf.FileDescriptorSet
// of our gRPC schemas (seldon.proto with tensorflow.proto and the google/protobuf files it imports,
// v2.proto, the health service, and the reflection service below), so the Python host builds its
// message classes without protoc. Files come dependencies first, each named as its importers name it.
//
//   node scripts/proto-descriptors.mjs           write the file
//   node scripts/proto-descriptors.mjs --check   exit 1 when the committed file is stale
//   node scripts/proto-descriptors.mjs --stdout  write the bytes to stdout
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, 'python/trantor_runtime/grpc_descriptors.bin');
const SOURCES = ['src/protocol/grpc/seldon.proto', 'src/protocol/v2/v2.proto', 'src/grpc/health.proto'];

// Server reflection, written from its wire facts: v1alpha, and v1 (the same messages), which newer
// grpcurl asks first.
const REFLECTION_PACKAGES = { 'reflection_v1alpha.proto': 'grpc.reflection.v1alpha', 'reflection_v1.proto': 'grpc.reflection.v1' };
const REFLECTION_PROTO = `
syntax = "proto3";
package PACKAGE;

service ServerReflection {
  rpc ServerReflectionInfo (stream ServerReflectionRequest) returns (stream ServerReflectionResponse);
}

message ServerReflectionRequest {
  string host = 1;
  oneof message_request {
    string file_by_filename = 3;
    string file_containing_symbol = 4;
    ExtensionRequest file_containing_extension = 5;
    string all_extension_numbers_of_type = 6;
    string list_services = 7;
  }
}

message ExtensionRequest {
  string containing_type = 1;
  int32 extension_number = 2;
}

message ServerReflectionResponse {
  string valid_host = 1;
  ServerReflectionRequest original_request = 2;
  oneof message_response {
    FileDescriptorResponse file_descriptor_response = 4;
    ExtensionNumberResponse all_extension_numbers_response = 5;
    ListServiceResponse list_services_response = 6;
    ErrorResponse error_response = 7;
  }
}

message FileDescriptorResponse {
  repeated bytes file_descriptor_proto = 1;
}

message ExtensionNumberResponse {
  string base_type_name = 1;
  repeated int32 extension_number = 2;
}

message ListServiceResponse {
  repeated ServiceResponse service = 1;
}

message ServiceResponse {
  string name = 1;
}

message ErrorResponse {
  int32 error_code = 1;
  string error_message = 2;
}
`;

const SCALARS = {
  double: 'TYPE_DOUBLE', float: 'TYPE_FLOAT', int64: 'TYPE_INT64', uint64: 'TYPE_UINT64', int32: 'TYPE_INT32',
  fixed64: 'TYPE_FIXED64', fixed32: 'TYPE_FIXED32', bool: 'TYPE_BOOL', string: 'TYPE_STRING', bytes: 'TYPE_BYTES',
  uint32: 'TYPE_UINT32', sfixed32: 'TYPE_SFIXED32', sfixed64: 'TYPE_SFIXED64', sint32: 'TYPE_SINT32', sint64: 'TYPE_SINT64',
};

// protobufjs ships these types without the name of their file.
const WELL_KNOWN = {
  '.google.protobuf.Any': 'google/protobuf/any.proto',
  '.google.protobuf.Empty': 'google/protobuf/empty.proto',
  '.google.protobuf.Struct': 'google/protobuf/struct.proto',
  '.google.protobuf.Value': 'google/protobuf/struct.proto',
  '.google.protobuf.ListValue': 'google/protobuf/struct.proto',
  '.google.protobuf.NullValue': 'google/protobuf/struct.proto',
};

/** The name a file is imported by: google's keep their folder, ours are imported by base name. */
function fileName(object) {
  const wellKnown = WELL_KNOWN[object.fullName.split('.').slice(0, 4).join('.')];
  if (wellKnown) return wellKnown;
  let at = object;
  while (at && !at.filename) at = at.parent;
  const filename = at?.filename;
  if (!filename) throw new Error(`${object.fullName}: no file`);
  const google = /google\/protobuf\/[a-z_]+\.proto$/.exec(filename);
  return google ? google[0] : basename(filename);
}

// protobufjs spells the well-known types' fields in camelCase; the real files use snake_case.
const snake = (name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
// protoc's json_name: underscores dropped, the letter after each upper-cased.
const jsonName = (name) => name.replace(/_+([a-zA-Z0-9])/g, (_, c) => c.toUpperCase()).replace(/_+$/, '');
const entryName = (field) => `${field[0].toUpperCase()}${jsonName(field).slice(1)}Entry`;

function messageProto(type, file) {
  const fieldName = file.name.startsWith('google/') ? snake : (n) => n;
  const oneofs = type.oneofsArray;
  const proto = { name: type.name, field: [], nestedType: [], enumType: [], oneofDecl: oneofs.map((o) => ({ name: fieldName(o.name) })) };
  const refer = (resolved) => {
    file.uses.add(fileName(resolved));
    return resolved.fullName;
  };
  for (const field of type.fieldsArray) {
    const name = fieldName(field.name);
    const out = { name, number: field.id, jsonName: jsonName(name) };
    if (field.map) {
      const entry = entryName(name);
      const value = { name: 'value', number: 2, jsonName: 'value', label: 'LABEL_OPTIONAL' };
      if (field.resolvedType) {
        value.type = field.resolvedType instanceof protobuf.Enum ? 'TYPE_ENUM' : 'TYPE_MESSAGE';
        value.typeName = refer(field.resolvedType);
      } else {
        value.type = SCALARS[field.type];
      }
      proto.nestedType.push({
        name: entry,
        field: [{ name: 'key', number: 1, jsonName: 'key', label: 'LABEL_OPTIONAL', type: SCALARS[field.keyType] }, value],
        options: { mapEntry: true },
      });
      Object.assign(out, { label: 'LABEL_REPEATED', type: 'TYPE_MESSAGE', typeName: `${type.fullName}.${entry}` });
    } else {
      out.label = field.repeated ? 'LABEL_REPEATED' : 'LABEL_OPTIONAL';
      if (field.resolvedType) {
        out.type = field.resolvedType instanceof protobuf.Enum ? 'TYPE_ENUM' : 'TYPE_MESSAGE';
        out.typeName = refer(field.resolvedType);
      } else {
        out.type = SCALARS[field.type];
        if (out.type === undefined) throw new Error(`${type.fullName}.${field.name}: unknown type ${field.type}`);
      }
      if (field.partOf) out.oneofIndex = oneofs.indexOf(field.partOf);
      if (field.repeated && field.options?.packed === true) out.options = { packed: true };
    }
    proto.field.push(out);
  }
  for (const nested of type.nestedArray) {
    if (nested instanceof protobuf.Type) proto.nestedType.push(messageProto(nested, file));
    else if (nested instanceof protobuf.Enum) proto.enumType.push(enumProto(nested));
  }
  return proto;
}

function enumProto(enumeration) {
  return { name: enumeration.name, value: Object.entries(enumeration.values).map(([name, number]) => ({ name, number })) };
}

function serviceProto(service, file) {
  return {
    name: service.name,
    method: service.methodsArray.map((m) => {
      file.uses.add(fileName(m.resolvedRequestType));
      file.uses.add(fileName(m.resolvedResponseType));
      return {
        name: m.name,
        inputType: m.resolvedRequestType.fullName,
        outputType: m.resolvedResponseType.fullName,
        ...(m.requestStream ? { clientStreaming: true } : {}),
        ...(m.responseStream ? { serverStreaming: true } : {}),
      };
    }),
  };
}

/** The FileDescriptorSet, files in dependency order. */
export function descriptorSet() {
  const root = new protobuf.Root();
  root.loadSync(SOURCES.map((s) => join(REPO, s)), { keepCase: true });
  for (const [file, pkg] of Object.entries(REFLECTION_PACKAGES)) {
    protobuf.parse(REFLECTION_PROTO.replace('PACKAGE', pkg), root, { keepCase: true });
    // parse() leaves text it is given without a file name.
    for (const nested of root.lookup(pkg).nestedArray) nested.filename = file;
  }
  root.resolveAll();
  const files = new Map();
  const fileFor = (object) => {
    const name = fileName(object);
    if (!files.has(name)) {
      const pkg = object.parent.fullName.slice(1);
      files.set(name, { name, package: pkg, messageType: [], enumType: [], service: [], syntax: 'proto3', uses: new Set() });
    }
    return files.get(name);
  };
  const walk = (namespace) => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const file = fileFor(nested);
        file.messageType.push(messageProto(nested, file));
      } else if (nested instanceof protobuf.Enum) {
        fileFor(nested).enumType.push(enumProto(nested));
      } else if (nested instanceof protobuf.Service) {
        const file = fileFor(nested);
        file.service.push(serviceProto(nested, file));
      } else if (nested instanceof protobuf.Namespace) {
        walk(nested);
      }
    }
  };
  walk(root);
  const ordered = [];
  const visit = (name) => {
    const file = files.get(name);
    if (file === undefined || ordered.includes(file)) return;
    file.uses.delete(name);
    for (const dep of [...file.uses].sort()) visit(dep);
    ordered.push(file);
  };
  for (const name of [...files.keys()].sort()) visit(name);
  const set = {
    file: ordered.map(({ uses, ...file }) => ({ ...file, dependency: [...uses].sort() })),
  };
  return descriptor.FileDescriptorSet.encode(descriptor.FileDescriptorSet.fromObject(set)).finish();
}

const bytes = Buffer.from(descriptorSet());
const mode = process.argv[2];
if (mode === '--stdout') {
  process.stdout.write(bytes);
} else if (mode === '--check') {
  let committed;
  try {
    committed = readFileSync(OUT);
  } catch {
    committed = Buffer.alloc(0);
  }
  if (!committed.equals(bytes)) {
    console.error(`${OUT} is stale: run node scripts/proto-descriptors.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, bytes);
  console.log(`wrote ${OUT} (${bytes.length} bytes)`);
}
