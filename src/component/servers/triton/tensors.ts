/**
 * V2 tensors ⇄ ONNX Runtime tensors. The datatypes pair as Triton's ONNX Runtime backend pairs
 * them: FP32 float32, FP64 float64, FP16 float16, INT8…INT64 int8…int64, UINT8…UINT64
 * uint8…uint64, BOOL bool, BYTES string (UTF-8 text: ONNX strings are text).
 */
import { TrantorError, fromHalfBits, toHalfBits, type V2Datatype, type V2Tensor, type V2TensorValues } from '../../../protocol/index.ts';
import type { OnnxElementType, OnnxTensor, OnnxTensorData } from '../../onnx/index.ts';

export const ONNX_TYPE_OF_V2: Readonly<Record<V2Datatype, OnnxElementType>> = Object.freeze({
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
});

export const V2_TYPE_OF_ONNX: Readonly<Record<OnnxElementType, V2Datatype>> = Object.freeze(
  Object.fromEntries(Object.entries(ONNX_TYPE_OF_V2).map(([v2, onnx]) => [onnx, v2])) as Record<OnnxElementType, V2Datatype>,
);

const UTF8 = new TextEncoder();
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The ONNX Runtime tensor of a V2 tensor, in `dims` (the shape the model takes). */
export function onnxTensorOf(tensor: V2Tensor, dims: readonly number[]): OnnxTensor {
  const type = ONNX_TYPE_OF_V2[tensor.datatype];
  const values = tensor.values;
  let data: OnnxTensorData;
  if (Array.isArray(values)) {
    data = values.map((bytes, i) => {
      try {
        return STRICT_UTF8.decode(bytes);
      } catch {
        throw new TrantorError('BAD_PAYLOAD', `input '${tensor.name}': BYTES element ${i} is not UTF-8 text, and an ONNX string tensor holds text`);
      }
    });
  } else if (tensor.datatype === 'FP16') {
    data = Uint16Array.from(values as Float32Array, toHalfBits);
  } else {
    data = values;
  }
  return { type, dims, data };
}

/** The V2 tensor of an ONNX Runtime output, named `name`, in `shape` (the model's own by default). */
export function v2TensorOf(name: string, tensor: OnnxTensor, shape: readonly number[] = tensor.dims): V2Tensor {
  const datatype = V2_TYPE_OF_ONNX[tensor.type];
  if (datatype === undefined) throw new TrantorError('MODEL_ERROR', `output '${name}': the model gave ${String(tensor.type)} elements, which V2 has no datatype for`);
  const data = tensor.data;
  let values: V2TensorValues;
  if (Array.isArray(data)) values = (data as readonly string[]).map((text) => UTF8.encode(text));
  else if (datatype === 'FP16') values = Float32Array.from(data as Uint16Array, fromHalfBits);
  else if (datatype === 'BOOL' && !(data instanceof Uint8Array)) values = Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0));
  else values = data as Exclude<V2TensorValues, Uint8Array[]>;
  return { name, shape: [...shape], datatype, values };
}
