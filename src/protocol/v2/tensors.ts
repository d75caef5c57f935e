/**
 * A typed view of a V2 tensor, so a model server takes numbers without walking JSON again, and
 * the raw little-endian bytes that both the REST binary extension and gRPC's raw_*_contents carry.
 *
 * Values by datatype: BOOL a Uint8Array of 0/1; UINT8..UINT32 and INT8..INT32 the typed array of
 * that width; UINT64/INT64 BigUint64Array/BigInt64Array (exact); FP16 and FP32 a Float32Array
 * (every half is exact in a float); FP64 a Float64Array; BYTES one Uint8Array per element, since
 * BYTES may hold any bytes (JSON gives strings, sent as UTF-8).
 */
import { TrantorError } from '../errors.ts';
import { isJsonNumber, type JsonNumber } from '../json-lossless.ts';
import { fromHalfBits, roundToHalf, toHalfBits } from './float16.ts';
import { elementCount, exactNumber, flattenV2Data } from './parse.ts';
import { V2_ELEMENT_SIZE, type V2Data, type V2Datatype, type V2Element, type V2Parameters } from './types.ts';

export type V2TensorValues =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | Uint8Array[];

export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: V2Datatype;
  values: V2TensorValues;
  parameters?: V2Parameters;
}

/** A tensor in its JSON form: what a V2 request input or response output holds. */
export interface V2JsonTensor {
  name: string;
  shape: number[];
  datatype: V2Datatype;
  parameters?: V2Parameters;
  data?: V2Data;
}

// Typed arrays are read and written in the host's byte order; the wire's is little-endian.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bad(where: string, what: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', `${where}: ${what}`);
}

type NumericDatatype = Exclude<V2Datatype, 'BYTES' | 'BOOL' | 'FP16' | 'INT64' | 'UINT64'>;
const NUMERIC_ARRAYS: Record<NumericDatatype, { from(values: number[]): Exclude<V2TensorValues, Uint8Array[]>; new (buffer: ArrayBuffer): Exclude<V2TensorValues, Uint8Array[]> }> = {
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function toBigInt(element: V2Element): bigint {
  return isJsonNumber(element) ? BigInt(element.text) : BigInt(element);
}

/** The typed values of checked `data` (see parse.ts) for `datatype`. */
export function valuesFromData(datatype: V2Datatype, data: V2Data): V2TensorValues {
  const elements = flattenV2Data(data);
  switch (datatype) {
    case 'BOOL':
      return Uint8Array.from(elements, (element) => (element === true ? 1 : 0));
    case 'BYTES':
      return elements.map((element) => UTF8.encode(element as string));
    case 'INT64':
      return BigInt64Array.from(elements, toBigInt);
    case 'UINT64':
      return BigUint64Array.from(elements, toBigInt);
    case 'FP16':
      return Float32Array.from(elements, (element) => roundToHalf(Number(element)));
    default:
      return NUMERIC_ARRAYS[datatype].from(elements.map(Number));
  }
}

/**
 * Flat JSON `data` for typed values: INT64/UINT64 beyond 2^53 as JsonNumbers (exact), BYTES as
 * strings — a BYTES element that is not UTF-8 cannot be a JSON string, and is an error naming it.
 */
export function dataFromValues(datatype: V2Datatype, values: V2TensorValues, where = 'data'): V2Data {
  if (Array.isArray(values)) {
    return values.map((bytes, i) => {
      try {
        return STRICT_UTF8.decode(bytes);
      } catch {
        throw bad(`${where}[${i}]`, 'BYTES element is not UTF-8 text, so JSON cannot carry it: ask for it as binary data');
      }
    });
  }
  if (datatype === 'BOOL') return Array.from(values as Uint8Array, (value) => value !== 0);
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    const out: (number | JsonNumber)[] = new Array<number | JsonNumber>(values.length);
    for (let i = 0; i < values.length; i++) out[i] = exactNumber(values[i] as bigint);
    return out;
  }
  return Array.from(values as ArrayLike<number>);
}

/** The typed view of a JSON tensor whose `data` is present and checked. */
export function tensorFromJson(tensor: V2JsonTensor, where = 'tensor'): V2Tensor {
  if (tensor.data === undefined) throw bad(`${where}.data`, 'is required for a typed view');
  const out: V2Tensor = { name: tensor.name, shape: tensor.shape, datatype: tensor.datatype, values: valuesFromData(tensor.datatype, tensor.data) };
  if (tensor.parameters !== undefined) out.parameters = tensor.parameters;
  return out;
}

/** The JSON form of a typed tensor (flat data), after checking its values fill its shape. */
export function tensorToJson(tensor: V2Tensor, where = 'tensor'): V2JsonTensor {
  checkValues(tensor, where);
  const out: V2JsonTensor = { name: tensor.name, shape: tensor.shape, datatype: tensor.datatype, data: dataFromValues(tensor.datatype, tensor.values, `${where}.data`) };
  if (tensor.parameters !== undefined) out.parameters = tensor.parameters;
  return out;
}

/** Throws when the values are not the array `datatype` needs, or do not fill the shape. */
export function checkValues(tensor: V2Tensor, where: string): void {
  const { datatype, values } = tensor;
  const fits =
    datatype === 'BYTES'
      ? Array.isArray(values)
      : datatype === 'BOOL'
        ? values instanceof Uint8Array
        : datatype === 'INT64'
          ? values instanceof BigInt64Array
          : datatype === 'UINT64'
            ? values instanceof BigUint64Array
            : datatype === 'FP16'
              ? values instanceof Float32Array
              : values instanceof NUMERIC_ARRAYS[datatype];
  if (!fits) throw bad(`${where}.values`, `not the array a ${datatype} tensor holds`);
  const expected = elementCount(tensor.shape);
  if (values.length !== expected) {
    throw new TrantorError('PAYLOAD_SHAPE', `${where}: holds ${values.length} elements but shape [${tensor.shape.join(', ')}] needs ${expected}`);
  }
}

/** The raw little-endian bytes of typed values (BYTES: each element as a 4-byte length, then its bytes). */
export function encodeRaw(datatype: V2Datatype, values: V2TensorValues): Uint8Array {
  if (Array.isArray(values)) {
    let size = 0;
    for (const element of values) size += 4 + element.length;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const element of values) {
      view.setUint32(at, element.length, true);
      out.set(element, at + 4);
      at += 4 + element.length;
    }
    return out;
  }
  requireLittleEndianHost();
  if (datatype === 'FP16') {
    const bits = Uint16Array.from(values as Float32Array, toHalfBits);
    return new Uint8Array(bits.buffer);
  }
  if (datatype === 'BOOL') return Uint8Array.from(values as Uint8Array, (value) => (value === 0 ? 0 : 1));
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/**
 * Typed values from raw bytes holding `count` elements of `datatype`. The size must be exactly
 * what the shape and datatype need; BYTES lengths must stay within the bytes. `where` names the
 * tensor in errors.
 */
export function decodeRaw(datatype: V2Datatype, bytes: Uint8Array, count: number, where: string): V2TensorValues {
  if (datatype === 'BYTES') return decodeRawBytes(bytes, count, where);
  const expected = count * V2_ELEMENT_SIZE[datatype];
  if (bytes.length !== expected) {
    throw new TrantorError('PAYLOAD_SHAPE', `${where}: ${bytes.length} bytes of data, but ${count} ${datatype} elements take ${expected}`);
  }
  requireLittleEndianHost();
  // A copy: aligned for the typed array, and not sharing the body's memory (a Buffer's slice
  // would be a view into Node's shared pool).
  const buffer = new Uint8Array(bytes).buffer;
  switch (datatype) {
    case 'BOOL':
      return new Uint8Array(buffer);
    case 'INT64':
      return new BigInt64Array(buffer);
    case 'UINT64':
      return new BigUint64Array(buffer);
    case 'FP16':
      return Float32Array.from(new Uint16Array(buffer), fromHalfBits);
    default:
      return new NUMERIC_ARRAYS[datatype](buffer);
  }
}

function decodeRawBytes(bytes: Uint8Array, count: number, where: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw new TrantorError('PAYLOAD_SHAPE', `${where}: BYTES element ${i} of ${count} starts past the end of its ${bytes.length} bytes`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.length) throw bad(where, `BYTES element ${i} claims ${length} bytes, but only ${bytes.length - at} remain`);
    out.push(new Uint8Array(bytes.subarray(at, at + length)));
    at += length;
  }
  if (at !== bytes.length) throw new TrantorError('PAYLOAD_SHAPE', `${where}: ${bytes.length - at} bytes left over after ${count} BYTES elements`);
  return out;
}

function requireLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new TrantorError('NOT_SUPPORTED', 'raw tensor data needs a little-endian host');
}
