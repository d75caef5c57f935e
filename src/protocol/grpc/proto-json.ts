/**
 * The proto3 JSON mapping, walked over protobufjs's reflection: what Seldon's Python wrapper does
 * with `json_format.ParseDict` and `MessageToDict` between a REST body and a gRPC message. So a
 * SeldonMessage's JSON here is the JSON Seldon's REST API speaks: field names in lowerCamelCase,
 * int64 written as strings, bytes as base64, enums by name, fields at their default left out
 * (a member of a oneof is always written), google.protobuf.Value/ListValue/Struct as plain JSON.
 *
 * Where this differs from protobuf's Python mapping, it is to lose nothing: a number kept exact by
 * json-lossless (a JsonNumber) that a double field cannot hold is an error naming the field, not a
 * silent rounding; NaN and ±Infinity in a double or a Value come out as numbers (our JSON writes
 * them as Python's json does) where MessageToDict writes the strings "NaN" and "Infinity".
 */
import type protobuf from 'protobufjs';
import { TrantorError } from '../errors.ts';
import { JsonNumber } from '../json-lossless.ts';
import { protobufjs, protoType } from './schema.ts';

type Json = unknown;
/** A message as protobufjs encodes and decodes it: field name (as in the .proto) → value. */
export type WireMessage = Record<string, unknown>;

const VALUE = 'google.protobuf.Value';
const LIST_VALUE = 'google.protobuf.ListValue';
const STRUCT = 'google.protobuf.Struct';
const ANY = 'google.protobuf.Any';
/** Well-known types whose JSON is not an object of fields: inside an Any they sit under "value". */
const PLAIN_JSON_TYPES = new Set([VALUE, LIST_VALUE, STRUCT]);

/**
 * The field names protobufjs gives Value's kinds and Any's parts, found by field number: its
 * bundled well-known types spell some in camelCase (`numberValue`) and some not (`type_url`).
 */
interface WellKnownNames {
  null: string;
  number: string;
  string: string;
  bool: string;
  struct: string;
  list: string;
  typeUrl: string;
  anyValue: string;
}
let names: WellKnownNames | undefined;
function wellKnown(): WellKnownNames {
  if (names === undefined) {
    const value = protoType(VALUE);
    const any = protoType(ANY);
    const byId = (type: protobuf.Type, id: number): string => {
      const field = type.fieldsById[id];
      if (field === undefined) throw new TrantorError('INTERNAL', `${type.name} has no field ${id}`);
      return field.name;
    };
    names = {
      null: byId(value, 1),
      number: byId(value, 2),
      string: byId(value, 3),
      bool: byId(value, 4),
      struct: byId(value, 5),
      list: byId(value, 6),
      typeUrl: byId(any, 1),
      anyValue: byId(any, 2),
    };
  }
  return names;
}

const INT32 = new Set(['int32', 'sint32', 'sfixed32']);
const UINT32 = new Set(['uint32', 'fixed32']);
const INT64 = new Set(['int64', 'sint64', 'sfixed64']);
const UINT64 = new Set(['uint64', 'fixed64']);
const FLOAT32_MAX = 3.4028234663852886e38;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$|^[A-Za-z0-9_-]*={0,2}$/;
const INTEGER_TEXT = /^-?\d+$/;
const NUMBER_TEXT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function bad(path: string, message: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', `${path || 'message'}: ${message}`);
}

function at(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

function describe(value: unknown): string {
  if (value instanceof JsonNumber) return value.text;
  if (value === undefined) return 'undefined';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** protobuf's json_name: the field name with each `_x` written `X`. */
const jsonNames = new WeakMap<protobuf.Field, string>();
function jsonName(field: protobuf.Field): string {
  let name = jsonNames.get(field);
  if (name === undefined) {
    name = field.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    jsonNames.set(field, name);
  }
  return name;
}

/** A type's fields by field number, as protobuf's Python mapping lists them. */
const fieldLists = new WeakMap<protobuf.Type, protobuf.Field[]>();
function fieldsOf(type: protobuf.Type): protobuf.Field[] {
  let fields = fieldLists.get(type);
  if (fields === undefined) {
    fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
    for (const field of fields) field.resolve();
    fieldLists.set(type, fields);
  }
  return fields;
}

/**
 * A type's full name without the leading dot. protobufjs builds `fullName` anew on each read (a
 * walk up its parents and a join): kept here, since every message converted asks it.
 */
const typeNames = new WeakMap<protobuf.Type, string>();
function nameOf(type: protobuf.Type): string {
  let name = typeNames.get(type);
  if (name === undefined) typeNames.set(type, (name = type.fullName.slice(1)));
  return name;
}

// ---------------------------------------------------------------------------------------------
// JSON → message

/** Converts the proto3 JSON `json` into a message of `type` that protobufjs can encode. */
export function messageFromJson(type: protobuf.Type, json: Json, path: string): WireMessage {
  const name = nameOf(type);
  if (name === VALUE) return valueFromJson(json, path);
  if (name === LIST_VALUE) return listFromJson(json, path);
  if (name === STRUCT) return structFromJson(json, path);
  if (name === ANY) return anyFromJson(type.root, json, path);
  if (!isRecord(json)) throw bad(path, `expected an object (${type.name}), got ${describe(json)}`);
  const out: WireMessage = {};
  const oneofsSeen = new Map<string, string>();
  for (const key of Object.keys(json)) {
    const field = fieldByJsonKey(type, key);
    const fieldPath = at(path, key);
    if (field === undefined) {
      throw bad(fieldPath, `${type.name} has no such field (it has ${fieldsOf(type).map(jsonName).join(', ')})`);
    }
    if (out[field.name] !== undefined) throw bad(fieldPath, `${field.name} is given twice`);
    const value = json[key];
    if (field.partOf !== null && value !== null && value !== undefined) {
      const other = oneofsSeen.get(field.partOf.name);
      if (other !== undefined) throw bad(path, `only one of ${field.partOf.oneof.join(', ')} may be given, got ${other} and ${key}`);
      oneofsSeen.set(field.partOf.name, key);
    }
    const converted = fieldFromJson(field, value, fieldPath);
    if (converted !== undefined) out[field.name] = converted;
  }
  return out;
}

function fieldByJsonKey(type: protobuf.Type, key: string): protobuf.Field | undefined {
  if (Object.hasOwn(type.fields, key)) return type.fields[key];
  return fieldsOf(type).find((f) => jsonName(f) === key);
}

function isValueField(field: protobuf.Field): boolean {
  return field.resolvedType instanceof protobufjs().Type && nameOf(field.resolvedType) === VALUE;
}

function fieldFromJson(field: protobuf.Field, value: Json, path: string): unknown {
  if (value === undefined) return undefined;
  // null clears a field, except a Value, where it is the JSON null.
  if (value === null && !(isValueField(field) && !field.repeated && !field.map)) return undefined;
  if (field.map) {
    if (!isRecord(value)) throw bad(path, `expected an object (a map), got ${describe(value)}`);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (field instanceof protobufjs().MapField) mapKeyFromJson(field, key, `${path}.${key}`);
      if (item === null && !isValueField(field)) throw bad(`${path}.${key}`, 'null is not a value this map holds');
      out[key] = singleFromJson(field, item, `${path}.${key}`);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw bad(path, `expected an array, got ${describe(value)}`);
    // A tensor's values: plain numbers pass as they are; each element's path is made only for an error.
    if (field.type === 'double' && field.resolvedType === null) return doublesFromJson(value, path);
    return value.map((item, i) => {
      if (item === null && !isValueField(field)) throw bad(`${path}[${i}]`, 'null is not allowed in a repeated field');
      return singleFromJson(field, item, `${path}[${i}]`);
    });
  }
  return singleFromJson(field, value, path);
}

function doublesFromJson(items: readonly Json[], path: string): number[] {
  const out = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (typeof item === 'number') out[i] = item;
    else if (item === null) throw bad(`${path}[${i}]`, 'null is not allowed in a repeated field');
    else out[i] = doubleFromJson(item, `${path}[${i}]`, 'a double');
  }
  return out;
}

function mapKeyFromJson(field: protobuf.MapField, key: string, path: string): void {
  const keyType = field.keyType;
  if (keyType === 'string') return;
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') throw bad(path, 'a map key here is "true" or "false"');
    return;
  }
  if (!INTEGER_TEXT.test(key)) throw bad(path, `a map key here is an integer (${keyType})`);
}

function singleFromJson(field: protobuf.Field, value: Json, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobufjs().Type) return messageFromJson(resolved, value, path);
  if (resolved instanceof protobufjs().Enum) return enumFromJson(resolved, value, path);
  return scalarFromJson(field.type, value, path);
}

function enumFromJson(type: protobuf.Enum, value: Json, path: string): number {
  if (typeof value === 'string') {
    const number = type.values[value];
    if (number !== undefined) return number;
    throw bad(path, `${describe(value)} is not a ${type.name} (one of ${Object.keys(type.values).slice(0, 12).join(', ')}…)`);
  }
  // proto3 enums are open: an unknown number passes through.
  if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return value;
  throw bad(path, `expected a ${type.name} name or number, got ${describe(value)}`);
}

function scalarFromJson(kind: string, value: Json, path: string): unknown {
  if (kind === 'double') return doubleFromJson(value, path, 'a double');
  if (kind === 'float') return floatFromJson(value, path);
  if (INT32.has(kind)) return Number(integerFromJson(value, path, kind, -(2n ** 31n), 2n ** 31n - 1n));
  if (UINT32.has(kind)) return Number(integerFromJson(value, path, kind, 0n, 2n ** 32n - 1n));
  if (INT64.has(kind)) return longOf(integerFromJson(value, path, kind, -(2n ** 63n), 2n ** 63n - 1n), false);
  if (UINT64.has(kind)) return longOf(integerFromJson(value, path, kind, 0n, 2n ** 64n - 1n), true);
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw bad(path, `expected true or false, got ${describe(value)}`);
    return value;
  }
  if (kind === 'string') {
    if (typeof value !== 'string') throw bad(path, `expected a string, got ${describe(value)}`);
    return value;
  }
  if (kind === 'bytes') return bytesFromBase64(value, path);
  throw new TrantorError('INTERNAL', `${path}: no JSON mapping for the protobuf type ${kind}`);
}

/** A 64-bit integer as protobufjs's writer takes one: two 32-bit halves of its two's complement. */
function longOf(value: bigint, unsigned: boolean): { low: number; high: number; unsigned: boolean } {
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned };
}

/**
 * A number for a double field, exactly. A JsonNumber is one the parser kept because a double would
 * change it; if the double is still exact (2^60 is), it passes, otherwise the error says what it
 * would become.
 */
export function doubleFromJson(value: Json, path: string, what: string): number {
  if (typeof value === 'number') return value;
  if (value instanceof JsonNumber) return exactDouble(value.text, path, what);
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    if (NUMBER_TEXT.test(value)) return exactDouble(value, path, what);
  }
  throw bad(path, `expected a number, got ${describe(value)}`);
}

function exactDouble(text: string, path: string, what: string): number {
  const double = Number(text);
  if (!Number.isFinite(double)) throw bad(path, `${text} is beyond the range of ${what}`);
  if (INTEGER_TEXT.test(text)) {
    if (BigInt(text) === BigInt(double)) return double;
    throw bad(path, `${text} cannot be held exactly by ${what} (it would become ${BigInt(double).toString()}); send it as a string, or in a tftensor's int64_val`);
  }
  if (double === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) throw bad(path, `${text} is too small for ${what} (it would become 0)`);
  return double;
}

function floatFromJson(value: Json, path: string): number {
  const double = doubleFromJson(value, path, 'a float');
  // A float field rounds to 32 bits by its nature (Seldon's reward, a metric's value); only a
  // number beyond its range is refused, as protobuf's own parser refuses it.
  if (Number.isFinite(double) && Math.abs(double) > FLOAT32_MAX) throw bad(path, `${describe(value)} is beyond the range of a float`);
  return double;
}

function integerFromJson(value: Json, path: string, kind: string, min: bigint, max: bigint): bigint {
  let integer: bigint | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) integer = BigInt(value);
  else if ((value instanceof JsonNumber || typeof value === 'string') && INTEGER_TEXT.test(String(value))) integer = BigInt(String(value));
  if (integer === undefined) throw bad(path, `expected an integer (${kind}), got ${describe(value)}`);
  if (integer < min || integer > max) throw bad(path, `${integer.toString()} is out of range for ${kind}`);
  return integer;
}

function bytesFromBase64(value: Json, path: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value) || value.replace(/=+$/, '').length % 4 === 1) {
    throw bad(path, `expected base64 text, got ${describe(value)}`);
  }
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

function valueFromJson(json: Json, path: string): WireMessage {
  const kind = wellKnown();
  if (json === null) return { [kind.null]: 0 };
  if (typeof json === 'number' || json instanceof JsonNumber) return { [kind.number]: doubleFromJson(json, path, 'a protobuf Value (a double)') };
  if (typeof json === 'string') return { [kind.string]: json };
  if (typeof json === 'boolean') return { [kind.bool]: json };
  if (Array.isArray(json)) return { [kind.list]: listFromJson(json, path) };
  if (isRecord(json)) return { [kind.struct]: structFromJson(json, path) };
  throw bad(path, `${describe(json)} is not JSON`);
}

function listFromJson(json: Json, path: string): WireMessage {
  if (!Array.isArray(json)) throw bad(path, `expected an array, got ${describe(json)}`);
  const values: WireMessage[] = new Array<WireMessage>(json.length);
  for (let i = 0; i < json.length; i++) values[i] = valueFromJson(json[i], `${path}[${i}]`);
  return { values };
}

function structFromJson(json: Json, path: string): WireMessage {
  if (!isRecord(json)) throw bad(path, `expected an object, got ${describe(json)}`);
  const fields: Record<string, WireMessage> = {};
  for (const [key, item] of Object.entries(json)) fields[key] = valueFromJson(item, at(path, key));
  return { fields };
}

function anyTarget(root: protobuf.Root, typeUrl: string, path: string): protobuf.Type {
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const type = name === '' ? null : root.lookup(name);
  if (!(type instanceof protobufjs().Type)) {
    throw new TrantorError('NOT_SUPPORTED', `${path}: the Any's type ${JSON.stringify(typeUrl)} is not one Trantor knows (Seldon's and TensorFlow's messages, google.protobuf.Value/ListValue/Struct)`);
  }
  return type;
}

function anyFromJson(root: protobuf.Root, json: Json, path: string): WireMessage {
  if (!isRecord(json)) throw bad(path, `expected an object with "@type", got ${describe(json)}`);
  if (Object.keys(json).length === 0) return {};
  const typeUrl = json['@type'];
  if (typeof typeUrl !== 'string') throw bad(at(path, '@type'), 'expected the type URL of the packed message');
  const type = anyTarget(root, typeUrl, path);
  let inner: WireMessage;
  if (PLAIN_JSON_TYPES.has(nameOf(type))) {
    inner = messageFromJson(type, json['value'], at(path, 'value'));
  } else {
    const { '@type': _, ...fields } = json;
    inner = messageFromJson(type, fields, path);
  }
  return { [wellKnown().typeUrl]: typeUrl, [wellKnown().anyValue]: type.encode(inner).finish() };
}

// ---------------------------------------------------------------------------------------------
// message → JSON

function has(message: WireMessage, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, name) && message[name] !== null && message[name] !== undefined;
}

/** The proto3 JSON of a decoded message (or a plain object in protobufjs's shape) of `type`. */
export function messageToJson(type: protobuf.Type, message: WireMessage, path: string): Json {
  const name = nameOf(type);
  if (name === VALUE) return valueToJson(message);
  if (name === LIST_VALUE) return listToJson(message);
  if (name === STRUCT) return structToJson(message);
  if (name === ANY) return anyToJson(type.root, message, path);
  const out: Record<string, Json> = {};
  for (const field of fieldsOf(type)) {
    if (!has(message, field.name)) continue;
    const value = message[field.name];
    const key = jsonName(field);
    const fieldPath = at(path, key);
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      const map: Record<string, Json> = {};
      for (const [k, item] of entries) map[k] = singleToJson(field, item, `${fieldPath}.${k}`);
      out[key] = map;
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      // Scalars need no path (only messages can fail): a double array, decoded fresh, is ours to hand on.
      if (field.resolvedType instanceof protobufjs().Type) out[key] = items.map((item, i) => singleToJson(field, item, `${fieldPath}[${i}]`));
      else if (field.type === 'double' && field.resolvedType === null) out[key] = items;
      else out[key] = items.map((item) => singleToJson(field, item, fieldPath));
    } else if (field.resolvedType instanceof protobufjs().Type || field.partOf !== null || !isDefault(value)) {
      // A message field on the wire is written even when empty; so is a oneof's member.
      out[key] = singleToJson(field, value, fieldPath);
    }
  }
  return out;
}

function isDefault(value: unknown): boolean {
  if (value === 0 || value === '' || value === false) return true;
  if (value instanceof Uint8Array) return value.length === 0;
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const long = value as { low: number; high: number };
    return long.low === 0 && long.high === 0;
  }
  return false;
}

function singleToJson(field: protobuf.Field, value: unknown, path: string): Json {
  const resolved = field.resolvedType;
  if (resolved instanceof protobufjs().Type) return messageToJson(resolved, value as WireMessage, path);
  if (resolved instanceof protobufjs().Enum) return resolved.valuesById[value as number] ?? value;
  return scalarToJson(field.type, value);
}

function scalarToJson(kind: string, value: unknown): Json {
  if (kind === 'float') return shortestFloat32(value as number);
  if (INT64.has(kind) || UINT64.has(kind)) return longToString(value, UINT64.has(kind));
  if (kind === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  return value;
}

function longToString(value: unknown, unsigned: boolean): string {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return String(value);
  const { low, high } = value as { low: number; high: number };
  const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  return (unsigned ? bits : BigInt.asIntN(64, bits)).toString();
}

/**
 * The shortest decimal that reads back as the same 32-bit float: 0.1f is written 0.1, not
 * 0.10000000149011612 — as protobuf's Python mapping writes a float field.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let precision = 6; precision < 9; precision++) {
    const rounded = Number(value.toPrecision(precision));
    if (Math.fround(rounded) === value) return rounded;
  }
  return Number(value.toPrecision(9));
}

function valueToJson(message: WireMessage): Json {
  const kind = wellKnown();
  if (has(message, kind.number)) return message[kind.number];
  if (has(message, kind.string)) return message[kind.string];
  if (has(message, kind.bool)) return message[kind.bool];
  if (has(message, kind.struct)) return structToJson(message[kind.struct] as WireMessage);
  if (has(message, kind.list)) return listToJson(message[kind.list] as WireMessage);
  return null;
}

function listToJson(message: WireMessage): Json[] {
  const values = (message['values'] as WireMessage[] | undefined) ?? [];
  const out: Json[] = new Array<Json>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = valueToJson(values[i] as WireMessage);
  return out;
}

function structToJson(message: WireMessage): Record<string, Json> {
  const out: Record<string, Json> = {};
  const fields = (message['fields'] as Record<string, WireMessage> | undefined) ?? {};
  for (const [key, item] of Object.entries(fields)) out[key] = valueToJson(item);
  return out;
}

function anyToJson(root: protobuf.Root, message: WireMessage, path: string): Json {
  const { typeUrl: urlField, anyValue } = wellKnown();
  const typeUrl = has(message, urlField) ? String(message[urlField]) : '';
  if (typeUrl === '') return {};
  const type = anyTarget(root, typeUrl, path);
  const bytes = has(message, anyValue) ? (message[anyValue] as Uint8Array) : new Uint8Array(0);
  const inner = messageToJson(type, type.decode(bytes), path);
  if (PLAIN_JSON_TYPES.has(nameOf(type))) return { '@type': typeUrl, value: inner };
  return { '@type': typeUrl, ...(inner as Record<string, Json>) };
}
