/**
 * The tensors an ONNX model takes and gives, as plain values that cross a worker boundary by
 * structured clone: the element type ONNX Runtime names, the shape, and the elements in the typed
 * array ONNX Runtime uses for that type (64-bit integers as BigInt64Array, strings as an array).
 */

export type OnnxElementType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export type OnnxTensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | readonly string[];

export interface OnnxTensor {
  readonly type: OnnxElementType;
  readonly dims: readonly number[];
  readonly data: OnnxTensorData;
}

/** An input or output the model declares: a tensor's element type and shape (a symbolic or unknown dimension is a string), or a non-tensor value (a sequence or map). */
export type OnnxValueInfo =
  | { readonly name: string; readonly isTensor: true; readonly type: OnnxElementType; readonly shape: readonly (number | string)[] }
  | { readonly name: string; readonly isTensor: false };

/** The number of elements a shape holds. */
export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return count;
}
