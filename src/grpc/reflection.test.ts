import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequire } from 'node:module';
import type * as Descriptor from 'protobufjs/ext/descriptor.js';
import type { IDescriptorProto, IFileDescriptorProto } from 'protobufjs/ext/descriptor.js';
import { seldonProtoRoot, v2ProtoRoot } from '../protocol/index.ts';
import { descriptorFiles } from './reflection.ts';
import { healthProtoRoot } from './health.ts';

const descriptorExt = createRequire(import.meta.url)('protobufjs/ext/descriptor') as typeof Descriptor;

function file(bytes: ReadonlyMap<string, Uint8Array>, name: string): IFileDescriptorProto {
  const encoded = bytes.get(name);
  assert.ok(encoded !== undefined, `no descriptor file ${name}; files: ${[...bytes.keys()].join(', ')}`);
  return descriptorExt.FileDescriptorProto.toObject(descriptorExt.FileDescriptorProto.decode(encoded));
}

function message(f: IFileDescriptorProto, name: string): IDescriptorProto {
  const found = f.messageType?.find((m) => m.name === name);
  assert.ok(found !== undefined, `no message ${name} in ${f.name}`);
  return found;
}

test('map fields get the <Field>Entry types protoc writes, so checking descriptor pools accept them', () => {
  const { bytes } = descriptorFiles([seldonProtoRoot(), v2ProtoRoot(), healthProtoRoot()]);
  const struct = message(file(bytes, 'google/protobuf/struct.proto'), 'Struct');
  assert.deepEqual(struct.nestedType?.map((n) => n.name), ['FieldsEntry']);
  assert.equal(struct.field?.[0]?.typeName?.split('.').pop(), 'FieldsEntry');
  const meta = message(file(bytes, 'seldon.proto'), 'Meta');
  const entries = (meta.nestedType ?? []).filter((n) => n.options?.mapEntry === true).map((n) => n.name).sort();
  assert.deepEqual(entries, ['RequestPathEntry', 'RoutingEntry', 'TagsEntry']);
  for (const field of meta.field ?? []) {
    if (field.typeName?.endsWith('Entry')) assert.ok(entries.includes(field.typeName.split('.').pop()!), `${field.name} → ${field.typeName}`);
  }
});
