/**
 * TensorFlow's TensorProto as Seldon carries it in `data.tftensor`, in its proto3 JSON form:
 * `{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"2"}]},"floatVal":[1,2]}`. Seldon's wrapper
 * writes it with protobuf's MessageToJson (camelCase) and reads it with ParseDict, which also takes
 * the proto's own names (`tensor_shape`, `float_val`): we read both and write camelCase.
 *
 * Values come from the `*_val` field of the dtype or from `tensor_content` (base64 of the
 * little-endian elements). As TensorFlow's make_ndarray does, no values give zeros and fewer values
 * than the shape holds are padded with the last one (so one value fills the tensor). The typed
 * values are V2's (`V2TensorValues`): int64 and uint64 in BigInt arrays, exact; strings as bytes.
 */
import { TrantorError } from './errors.ts';
import { isJsonNumber, type JsonNumber } from './json-lossless.ts';
import { fromHalfBits, toHalfBits } from './v2/float16.ts';
import { exactNumber } from './v2/parse.ts';
import { decodeRaw, encodeRaw, valuesFromData, type V2TensorValues } from './v2/tensors.ts';
import type { V2Datatype } from './v2/types.ts';

/** The value field of each dtype we take, and the V2 datatype of the same elements. */
const DTYPES = {
  DT_FLOAT: { number: 1, field: 'floatVal', v2: 'FP32' },
  DT_DOUBLE: { number: 2, field: 'doubleVal', v2: 'FP64' },
  DT_INT32: { number: 3, field: 'intVal', v2: 'INT32' },
  DT_UINT8: { number: 4, field: 'intVal', v2: 'UINT8' },
  DT_INT16: { number: 5, field: 'intVal', v2: 'INT16' },
  DT_INT8: { number: 6, field: 'intVal', v2: 'INT8' },
  DT_STRING: { number: 7, field: 'stringVal', v2: 'BYTES' },
  DT_INT64: { number: 9, field: 'int64Val', v2: 'INT64' },
  DT_BOOL: { number: 10, field: 'boolVal', v2: 'BOOL' },
  DT_UINT16: { number: 17, field: 'intVal', v2: 'UINT16' },
  DT_HALF: { number: 19, field: 'halfVal', v2: 'FP16' },
  DT_UINT32: { number: 22, field: 'uint32Val', v2: 'UINT32' },
  DT_UINT64: { number: 23, field: 'uint64Val', v2: 'UINT64' },
} as const satisfies Record<string, { number: number; field: string; v2: V2Datatype }>;

export type TfDtype = keyof typeof DTYPES;
export const TF_DTYPES = Object.keys(DTYPES) as TfDtype[];

/** A checked TensorProto: its dtype, its shape, and exactly as many values as the shape holds. */
export interface TfTensor {
  dtype: TfDtype;
  shape: number[];
  values: V2TensorValues;
}

/** The proto3 JSON form we write (MessageToJson's): int64 as strings, bytes as base64. */
export interface TfTensorJson {
  dtype: TfDtype;
  tensorShape: { dim?: { size?: string }[] };
  tensorContent?: string;
  [valField: string]: unknown;
}

const VALUE_FIELDS = ['halfVal', 'floatVal', 'doubleVal', 'intVal', 'stringVal', 'int64Val', 'boolVal', 'uint32Val', 'uint64Val', 'scomplexVal', 'dcomplexVal', 'resourceHandleVal', 'variantVal', 'float8Val'];
const OTHER_FIELDS = ['dtype', 'tensorShape', 'versionNumber', 'tensorContent'];
/** camelCase → the proto's own name, for reading either and naming the one given in errors. */
const PROTO_NAMES = new Map([...VALUE_FIELDS, ...OTHER_FIELDS].map((name) => [name, name.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)]));

const INT_RANGES: Partial<Record<V2Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
};
const BIG_RANGES = { INT64: [-(2n ** 63n), 2n ** 63n - 1n], UINT64: [0n, 2n ** 64n - 1n] } as const;
/** A few values repeated to fill a shape must not build an unbounded array (the body's size limit does not see it). */
const MAX_PADDED = 1 << 22;
const FLOAT32_MAX = 3.4028234663852886e38;
const BASE64 = /^(?:[A-Za-z0-9+/\-_]{4})*(?:[A-Za-z0-9+/\-_]{2}(?:==)?|[A-Za-z0-9+/\-_]{3}=?)?$/;
/** The dtypes TensorFlow's make_tensor_proto writes as tensor_content when there are two or more values (not DT_UINT16, nor DT_BOOL and DT_STRING). */
const CONTENT_DTYPES = new Set<TfDtype>(['DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_UINT8', 'DT_INT16', 'DT_INT8', 'DT_INT64', 'DT_HALF', 'DT_UINT32', 'DT_UINT64']);

function bad(where: string, what: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', `${where}: ${what}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (isJsonNumber(value)) return value.text;
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value) ?? String(value);
}

/** A field given in either spelling, with the spelling the sender used (for error paths). */
function field(object: Record<string, unknown>, camel: string, where: string): { value: unknown; at: string } {
  const proto = PROTO_NAMES.get(camel) ?? camel;
  const a = object[camel];
  const b = proto === camel ? undefined : object[proto];
  if (a !== undefined && b !== undefined) throw bad(where, `${camel} and ${proto} are the same field; give one`);
  return a !== undefined ? { value: a, at: `${where}.${camel}` } : { value: b, at: `${where}.${proto}` };
}

function dtypeOf(value: unknown, at: string): TfDtype {
  if (value === undefined) throw bad(at, `is required (one of ${TF_DTYPES.join(', ')})`);
  const name = typeof value === 'number' ? TF_DTYPES.find((d) => DTYPES[d].number === value) : TF_DTYPES.find((d) => d === value);
  if (name === undefined) throw bad(at, `${describe(value)} is not a dtype Trantor reads; use one of ${TF_DTYPES.join(', ')}`);
  return name;
}

/** An integer field's value (proto3 JSON: a number, or a string as int64 is written) as an exact integer. */
function integerOf(value: unknown, at: string): bigint {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  const text = typeof value === 'string' ? value : isJsonNumber(value) ? value.text : undefined;
  if (text === undefined || !/^-?\d+$/.test(text)) throw bad(at, `expected an integer, got ${describe(value)}`);
  return BigInt(text);
}

function shapeOf(value: unknown, at: string): number[] {
  if (value === undefined) return [];
  if (!isRecord(value)) throw bad(at, 'expected an object with dim');
  if (value['unknownRank'] === true || value['unknown_rank'] === true) throw bad(at, 'a tensor value needs a known rank, got unknown_rank');
  const dims = value['dim'];
  if (dims === undefined) return [];
  if (!Array.isArray(dims)) throw bad(`${at}.dim`, 'expected an array of {"size": …}');
  return dims.map((dim, i) => {
    const where = `${at}.dim[${i}]`;
    if (!isRecord(dim)) throw bad(where, 'expected an object with size');
    if (dim['size'] === undefined) return 0;
    const size = integerOf(dim['size'], `${where}.size`);
    if (size < 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${where}.size`, `expected a size from 0 to 2^53-1, got ${size}`);
    return Number(size);
  });
}

const SPECIAL_FLOATS = new Map([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]]);

function floatOf(value: unknown, at: string): number {
  if (typeof value === 'number') return value;
  if (isJsonNumber(value)) return value.valueOf();
  // proto3 JSON writes the special values as strings, and takes a number given as a string.
  if (typeof value === 'string') {
    const special = SPECIAL_FLOATS.get(value);
    if (special !== undefined) return special;
    if (/^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(value)) return Number(value);
  }
  throw bad(at, `expected a number, got ${describe(value)}`);
}

/** One element of a `*_val` field, checked and converted to what V2's valuesFromData takes. */
function elementOf(v2: V2Datatype, value: unknown, at: string): number | boolean | string | JsonNumber {
  switch (v2) {
    case 'BOOL':
      if (typeof value !== 'boolean') throw bad(at, `expected true or false, got ${describe(value)}`);
      return value;
    case 'BYTES':
      if (typeof value !== 'string' || !BASE64.test(value)) throw bad(at, `expected base64 bytes, got ${describe(value)}`);
      return value;
    case 'FP32': {
      const number = floatOf(value, at);
      if (Number.isFinite(number) && Math.abs(number) > FLOAT32_MAX) throw bad(at, `${describe(value)} is beyond the range of a DT_FLOAT`);
      return number;
    }
    case 'FP64':
      return floatOf(value, at);
    case 'INT64':
    case 'UINT64': {
      const integer = integerOf(value, at);
      const [low, high] = BIG_RANGES[v2];
      if (integer < low || integer > high) throw bad(at, `${integer} is out of range for ${v2 === 'INT64' ? 'DT_INT64' : 'DT_UINT64'}`);
      return exactNumber(integer);
    }
    default: {
      // FP16's half_val holds the half's 16 bits in an int32.
      const [low, high] = v2 === 'FP16' ? [0, 65535] : (INT_RANGES[v2] ?? [0, 0]);
      const integer = integerOf(value, at);
      if (integer < BigInt(low) || integer > BigInt(high)) throw bad(at, `${integer} is out of range (${low} to ${high})`);
      return Number(integer);
    }
  }
}

/**
 * Reads a TensorProto's JSON form into a checked TfTensor. Errors are BAD_PAYLOAD (PAYLOAD_SHAPE
 * when tensor_content does not fit the shape), naming the field as the sender spelt it:
 * `data.tftensor.tensor_shape.dim[1].size: expected an integer, got "x"`.
 */
export function readTfTensor(value: unknown, where = 'data.tftensor'): TfTensor {
  if (!isRecord(value)) throw bad(where, 'expected a TensorProto object with dtype, tensorShape and values');
  for (const key of Object.keys(value)) {
    const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (!PROTO_NAMES.has(camel)) throw bad(`${where}.${key}`, 'is not a field of TensorProto');
  }
  const dtypeField = field(value, 'dtype', where);
  const dtype = dtypeOf(dtypeField.value, dtypeField.at);
  const shapeField = field(value, 'tensorShape', where);
  const shape = shapeOf(shapeField.value, shapeField.at);
  const count = shape.reduce((a, b) => a * b, 1);
  const { field: valueField, v2 } = DTYPES[dtype];
  for (const name of VALUE_FIELDS) {
    if (name === valueField) continue;
    const other = field(value, name, where);
    if (other.value !== undefined && !(Array.isArray(other.value) && other.value.length === 0)) {
      throw bad(other.at, `a ${dtype} tensor's values go in ${PROTO_NAMES.get(valueField)} (or tensor_content)`);
    }
  }
  const content = field(value, 'tensorContent', where);
  const vals = field(value, valueField, where);
  if (vals.value !== undefined && !Array.isArray(vals.value)) throw bad(vals.at, 'expected an array');
  const given = (vals.value as unknown[] | undefined) ?? [];
  if (content.value !== undefined && content.value !== '') {
    if (given.length > 0) throw bad(where, `give the values in one of ${content.at.slice(where.length + 1)} or ${vals.at.slice(where.length + 1)}, not both`);
    if (v2 === 'BYTES') throw bad(content.at, `a DT_STRING tensor's values go in string_val`);
    if (typeof content.value !== 'string' || !BASE64.test(content.value)) throw bad(content.at, 'expected base64 bytes');
    return { dtype, shape, values: decodeRaw(v2, Buffer.from(content.value, 'base64'), count, content.at) };
  }
  if (given.length > count) throw new TrantorError('PAYLOAD_SHAPE', `${vals.at}: ${given.length} values, but shape [${shape.join(',')}] holds ${count}`);
  const elements = given.map((element, i) => elementOf(v2, element, `${vals.at}[${i}]`));
  if (elements.length < count) {
    // TensorFlow's rule for a short `*_val`: none gives zeros, else the last value repeats.
    if (count > MAX_PADDED) throw new TrantorError('PAYLOAD_SHAPE', `${vals.at}: ${given.length} values would fill shape [${shape.join(',')}] of ${count} elements, more than the ${MAX_PADDED} Trantor repeats a value to; send them all, or in tensor_content`);
    const fill = elements.at(-1) ?? (v2 === 'BOOL' ? false : v2 === 'BYTES' ? '' : 0);
    while (elements.length < count) elements.push(fill);
  }
  if (v2 === 'BYTES') return { dtype, shape, values: elements.map((s) => new Uint8Array(Buffer.from(s as string, 'base64'))) };
  if (v2 === 'FP16') return { dtype, shape, values: Float32Array.from(elements as number[], fromHalfBits) };
  return { dtype, shape, values: valuesFromData(v2, elements) };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The values as a model's features: numbers; int64/uint64 beyond 2^53 as JsonNumbers (exact);
 * booleans; DT_STRING as UTF-8 text, or a Buffer when its bytes are not UTF-8.
 */
export function tfTensorElements(tensor: TfTensor): unknown[] {
  const { values, dtype } = tensor;
  if (Array.isArray(values)) {
    return values.map((bytes) => {
      try {
        return STRICT_UTF8.decode(bytes);
      } catch {
        return Buffer.from(bytes);
      }
    });
  }
  if (dtype === 'DT_BOOL') return Array.from(values as Uint8Array, (v) => v !== 0);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return Array.from(values as ArrayLike<bigint>, exactNumber);
  return Array.from(values as ArrayLike<number>);
}

function int64Of(element: unknown): bigint | undefined {
  const integer = typeof element === 'bigint' ? element : typeof element === 'number' && Number.isInteger(element) ? BigInt(element) : isJsonNumber(element) && /^-?\d+$/.test(element.text) ? BigInt(element.text) : undefined;
  return integer !== undefined && integer >= BIG_RANGES.INT64[0] && integer <= BIG_RANGES.INT64[1] ? integer : undefined;
}

/**
 * A TfTensor for a model's flat output of the given shape, or null when the values are not all of
 * one kind: booleans DT_BOOL, strings and Buffers DT_STRING, bigints and JsonNumbers DT_INT64
 * (exact), numbers DT_DOUBLE (a JavaScript number is a double, as numpy's default float64 is).
 */
export function tfTensorOf(shape: number[], elements: readonly unknown[]): TfTensor | null {
  if (elements.every((e) => typeof e === 'number')) return { dtype: 'DT_DOUBLE', shape, values: Float64Array.from(elements as number[]) };
  if (elements.every((e) => typeof e === 'boolean')) return { dtype: 'DT_BOOL', shape, values: Uint8Array.from(elements as boolean[], Number) };
  if (elements.every((e) => typeof e === 'string' || e instanceof Uint8Array)) {
    return { dtype: 'DT_STRING', shape, values: elements.map((e) => (typeof e === 'string' ? new Uint8Array(Buffer.from(e, 'utf8')) : new Uint8Array(e))) };
  }
  const integers = elements.map(int64Of);
  if (integers.every((i) => i !== undefined)) return { dtype: 'DT_INT64', shape, values: BigInt64Array.from(integers) };
  return null;
}

/**
 * The proto3 JSON form of a tensor, as TensorFlow's make_tensor_proto and protobuf's MessageToJson
 * write it: two or more numeric values as tensor_content, else the dtype's `*_val` field.
 */
export function writeTfTensor(tensor: TfTensor): TfTensorJson {
  const { dtype, shape, values } = tensor;
  const { field: valueField, v2 } = DTYPES[dtype];
  // MessageToJson leaves out a default (zero) size.
  const out: TfTensorJson = { dtype, tensorShape: shape.length === 0 ? {} : { dim: shape.map((size) => (size === 0 ? {} : { size: String(size) })) } };
  if (values.length === 0) return out;
  if (CONTENT_DTYPES.has(dtype) && values.length > 1) {
    out.tensorContent = Buffer.from(encodeRaw(v2, values)).toString('base64');
    return out;
  }
  if (Array.isArray(values)) out[valueField] = values.map((bytes) => Buffer.from(bytes).toString('base64'));
  else if (v2 === 'FP16') out[valueField] = Array.from(values as Float32Array, toHalfBits);
  else if (v2 === 'BOOL') out[valueField] = Array.from(values as Uint8Array, (v) => v !== 0);
  else if (values instanceof BigInt64Array || values instanceof BigUint64Array) out[valueField] = Array.from(values as ArrayLike<bigint>, (v) => v.toString());
  else out[valueField] = Array.from(values as ArrayLike<number>, (v) => (Number.isFinite(v) ? v : String(v)));
  return out;
}
