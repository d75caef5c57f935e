/**
 * gRPC server reflection (`grpc.reflection.v1.ServerReflection` and the older `v1alpha` that
 * grpcurl and most tools still ask first): the services a server serves and the schema of each,
 * as serialized FileDescriptorProtos built from our protobufjs roots (`protobufjs/ext/descriptor`),
 * so `grpcurl -plaintext localhost:8000 list` and `describe` work without .proto files at hand.
 *
 * protobufjs keeps no file boundaries: one file per package, except the google/protobuf
 * well-known types, which go back to their canonical files so a tool's own copies match.
 * Each file's imports are worked out from the types its fields and methods name.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type * as Descriptor from 'protobufjs/ext/descriptor.js';
import type { IDescriptorProto, IFileDescriptorProto } from 'protobufjs/ext/descriptor.js';
import { TrantorError } from '../protocol/index.ts';
import { grpcError } from './status.ts';
import { serviceDefinition } from './definition.ts';

const REFLECTION_PROTO = new URL('./reflection.proto', import.meta.url);
const load = createRequire(import.meta.url);

/** protobufjs with its descriptor extension, loaded on first use: most processes never reflect. */
function library(): { protobuf: typeof protobuf; descriptor: typeof Descriptor } {
  return { protobuf: load('protobufjs') as typeof protobuf, descriptor: load('protobufjs/ext/descriptor') as typeof Descriptor };
}
export const REFLECTION_VERSIONS = ['v1', 'v1alpha'] as const;

/** Our files' names by package; any other package is `<package with / for .>.proto`. */
const FILE_OF_PACKAGE: Readonly<Record<string, string>> = {
  'seldon.protos': 'seldon.proto',
  tensorflow: 'tensorflow.proto',
  inference: 'v2.proto',
  'grpc.health.v1': 'grpc/health/v1/health.proto',
  'grpc.reflection.v1': 'grpc/reflection/v1/reflection.proto',
  'grpc.reflection.v1alpha': 'grpc/reflection/v1alpha/reflection.proto',
};

/** The well-known types' own files (each top-level message or enum of google.protobuf). */
const WELL_KNOWN_FILE: Readonly<Record<string, string>> = {
  Any: 'any', Empty: 'empty', Struct: 'struct', Value: 'struct', ListValue: 'struct', NullValue: 'struct',
  Timestamp: 'timestamp', Duration: 'duration', FieldMask: 'field_mask',
  DoubleValue: 'wrappers', FloatValue: 'wrappers', Int64Value: 'wrappers', UInt64Value: 'wrappers', Int32Value: 'wrappers',
  UInt32Value: 'wrappers', BoolValue: 'wrappers', StringValue: 'wrappers', BytesValue: 'wrappers',
};

let reflectionRoots: Map<string, protobuf.Root> | undefined;

/** The reflection service's schema under `grpc.reflection.<version>`. */
export function reflectionProtoRoot(version: (typeof REFLECTION_VERSIONS)[number]): protobuf.Root {
  if (reflectionRoots === undefined) {
    let text: string;
    try {
      text = readFileSync(REFLECTION_PROTO, 'utf8');
    } catch (err) {
      throw new TrantorError('INTERNAL', `cannot read ${REFLECTION_PROTO.pathname}: the build must copy the .proto files beside the compiled code`, { cause: err });
    }
    const { protobuf } = library();
    reflectionRoots = new Map(REFLECTION_VERSIONS.map((v) => {
      const root = protobuf.parse(text.replace('PACKAGE_VERSION', v), { keepCase: true }).root;
      root.resolveAll();
      return [v, root];
    }));
  }
  return reflectionRoots.get(version)!;
}

/** The files a reflection service answers with, compiled once from its roots. */
export interface DescriptorFiles {
  /** Serialized FileDescriptorProto by file name. */
  readonly bytes: ReadonlyMap<string, Uint8Array>;
  /** Each file's imports. */
  readonly imports: ReadonlyMap<string, readonly string[]>;
  /** The file declaring each full symbol name (messages, enums, services, methods; no leading dot). */
  readonly fileOfSymbol: ReadonlyMap<string, string>;
}

function fileNameOf(pkg: string, topLevel: string): string {
  if (pkg === 'google.protobuf') return `google/protobuf/${WELL_KNOWN_FILE[topLevel] ?? topLevel.toLowerCase()}.proto`;
  return FILE_OF_PACKAGE[pkg] ?? `${pkg.replace(/\./g, '/')}.proto`;
}

function fileFor(files: Map<string, IFileDescriptorProto>, name: string, pkg: string): IFileDescriptorProto {
  let file = files.get(name);
  if (file === undefined) {
    file = { name, package: pkg, syntax: 'proto3', dependency: [], messageType: [], enumType: [], service: [] };
    files.set(name, file);
  }
  return file;
}

/** Type names (leading dot) a message's fields use, nested messages included. */
/**
 * protobufjs names a map field's entry type after the field (`Fields`); protoc, and every
 * descriptor pool that checks it (Python's, C++'s), wants `<CamelCaseField>Entry` (`FieldsEntry`).
 */
function nameMapEntries(message: IDescriptorProto): void {
  for (const nested of message.nestedType ?? []) nameMapEntries(nested);
  for (const field of message.field ?? []) {
    const typeName = field.typeName;
    if (typeName === undefined || typeName === null) continue;
    const last = typeName.slice(typeName.lastIndexOf('.') + 1);
    const entry = (message.nestedType ?? []).find((nested) => nested.name === last && nested.options?.mapEntry === true);
    if (entry === undefined) continue;
    const wanted = `${field.name!.replace(/(?:^|_)([a-z0-9])/g, (_m, c: string) => c.toUpperCase())}Entry`;
    entry.name = wanted;
    field.typeName = typeName.slice(0, typeName.length - last.length) + wanted;
  }
}

function typesUsed(message: IDescriptorProto, into: Set<string>): void {
  for (const field of message.field ?? []) if (field.typeName) into.add(field.typeName);
  for (const nested of message.nestedType ?? []) typesUsed(nested, into);
}

function indexMessage(message: IDescriptorProto, prefix: string, file: string, index: Map<string, string>): void {
  const name = `${prefix}.${message.name}`;
  index.set(name, file);
  for (const nested of message.nestedType ?? []) indexMessage(nested, name, file, index);
  for (const nested of message.enumType ?? []) index.set(`${name}.${nested.name}`, file);
}

/** Our roots as descriptor files: one per package (well-known types per canonical file), with imports. */
export function descriptorFiles(roots: readonly protobuf.Root[]): DescriptorFiles {
  // Loading the extension adds `toDescriptor` to protobufjs's reflection objects.
  const { descriptor } = library();
  const files = new Map<string, IFileDescriptorProto>();
  for (const root of roots) {
    root.resolveAll();
    for (const generated of root.toDescriptor('proto3').file) {
      const pkg = generated.package ?? '';
      for (const message of generated.messageType ?? []) {
        nameMapEntries(message);
        const file = fileFor(files, fileNameOf(pkg, message.name!), pkg);
        if (!file.messageType!.some((m) => m.name === message.name)) file.messageType!.push(message);
      }
      for (const enumType of generated.enumType ?? []) {
        const file = fileFor(files, fileNameOf(pkg, enumType.name!), pkg);
        if (!file.enumType!.some((e) => e.name === enumType.name)) file.enumType!.push(enumType);
      }
      for (const service of generated.service ?? []) {
        const file = fileFor(files, fileNameOf(pkg, service.name!), pkg);
        if (!file.service!.some((s) => s.name === service.name)) file.service!.push(service);
      }
    }
  }
  const fileOfSymbol = new Map<string, string>();
  for (const [name, file] of files) {
    const prefix = file.package ?? '';
    for (const message of file.messageType!) indexMessage(message, prefix, name, fileOfSymbol);
    for (const enumType of file.enumType!) fileOfSymbol.set(`${prefix}.${enumType.name}`, name);
    for (const service of file.service!) {
      fileOfSymbol.set(`${prefix}.${service.name}`, name);
      for (const method of service.method ?? []) fileOfSymbol.set(`${prefix}.${service.name}.${method.name}`, name);
    }
  }
  const bytes = new Map<string, Uint8Array>();
  const imports = new Map<string, readonly string[]>();
  for (const [name, file] of files) {
    const used = new Set<string>();
    for (const message of file.messageType!) typesUsed(message, used);
    for (const service of file.service!) {
      for (const method of service.method ?? []) {
        if (method.inputType) used.add(method.inputType);
        if (method.outputType) used.add(method.outputType);
      }
    }
    const deps = new Set<string>();
    for (const type of used) {
      const home = fileOfSymbol.get(type.replace(/^\./, ''));
      if (home !== undefined && home !== name) deps.add(home);
    }
    const dependency = [...deps].sort();
    file.dependency = dependency;
    imports.set(name, dependency);
    bytes.set(name, descriptor.FileDescriptorProto.encode(descriptor.FileDescriptorProto.fromObject(file)).finish());
  }
  return { bytes, imports, fileOfSymbol };
}

/** `name` and every file it imports, directly or not, `name` first. */
function withImports(files: DescriptorFiles, name: string): Uint8Array[] {
  const order: string[] = [];
  const visit = (file: string): void => {
    if (order.includes(file)) return;
    order.push(file);
    for (const dep of files.imports.get(file) ?? []) visit(dep);
  };
  visit(name);
  return order.map((file) => files.bytes.get(file)!);
}

interface ReflectionRequest {
  host?: string;
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

/** One question's answer: the response's `message_response` part. */
function answer(files: DescriptorFiles, services: readonly string[], request: ReflectionRequest): Record<string, unknown> {
  const notFound = (message: string): Record<string, unknown> => ({ error_response: { error_code: grpc.status.NOT_FOUND, error_message: message } });
  if (request.list_services !== undefined) return { list_services_response: { service: services.map((name) => ({ name })) } };
  if (request.file_by_filename !== undefined) {
    const name = request.file_by_filename;
    return files.bytes.has(name) ? { file_descriptor_response: { file_descriptor_proto: withImports(files, name) } } : notFound(`file_by_filename: no file named ${JSON.stringify(name)}`);
  }
  if (request.file_containing_symbol !== undefined) {
    const symbol = request.file_containing_symbol.replace(/^\./, '');
    const file = files.fileOfSymbol.get(symbol);
    return file !== undefined ? { file_descriptor_response: { file_descriptor_proto: withImports(files, file) } } : notFound(`file_containing_symbol: no symbol named ${JSON.stringify(symbol)}`);
  }
  if (request.all_extension_numbers_of_type !== undefined) {
    const type = request.all_extension_numbers_of_type.replace(/^\./, '');
    // Our schemas declare no extensions: a known type has none.
    return files.fileOfSymbol.has(type) ? { all_extension_numbers_response: { base_type_name: type, extension_number: [] } } : notFound(`all_extension_numbers_of_type: no type named ${JSON.stringify(type)}`);
  }
  if (request.file_containing_extension !== undefined) {
    const { containing_type: type = '', extension_number: number = 0 } = request.file_containing_extension;
    return notFound(`file_containing_extension: ${type} has no extension ${number}`);
  }
  return { error_response: { error_code: grpc.status.INVALID_ARGUMENT, error_message: 'message_request: expected one of file_by_filename, file_containing_symbol, file_containing_extension, all_extension_numbers_of_type, list_services' } };
}

/**
 * Adds both reflection services to `server`, describing `services` (the full names it serves;
 * the reflection services are added to the list) from the schemas in `roots`.
 */
export function addReflection(server: grpc.Server, services: readonly string[], roots: readonly protobuf.Root[]): void {
  const listed = [...services, ...REFLECTION_VERSIONS.map((v) => `grpc.reflection.${v}.ServerReflection`)];
  let files: DescriptorFiles | undefined;
  for (const version of REFLECTION_VERSIONS) {
    const root = reflectionProtoRoot(version);
    const requestType = root.lookupType(`grpc.reflection.${version}.ServerReflectionRequest`);
    const responseType = root.lookupType(`grpc.reflection.${version}.ServerReflectionResponse`);
    const info: grpc.handleBidiStreamingCall<Buffer, Buffer> = (call) => {
      call.on('data', (bytes: Buffer) => {
        let request: ReflectionRequest;
        try {
          request = requestType.toObject(requestType.decode(bytes), { oneofs: false });
        } catch (err) {
          call.destroy(grpcError(grpc.status.INVALID_ARGUMENT, `not a protobuf ServerReflectionRequest: ${err instanceof Error ? err.message : String(err)}`));
          return;
        }
        // Compiled on the first question: most servers are never asked.
        files ??= descriptorFiles([...roots, ...REFLECTION_VERSIONS.map(reflectionProtoRoot)]);
        const response = { valid_host: request.host ?? '', original_request: request, ...answer(files, listed, request) };
        call.write(Buffer.from(responseType.encode(responseType.fromObject(response)).finish()));
      });
      call.on('end', () => call.end());
    };
    server.addService(serviceDefinition(root.lookupService(`grpc.reflection.${version}.ServerReflection`)), { ServerReflectionInfo: info as grpc.UntypedHandleCall });
  }
}
