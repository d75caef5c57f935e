/**
 * The V2 gRPC messages (`inference.GRPCInferenceService`, v2.proto) and a codec between
 * ModelInferRequest/ModelInferResponse and the forms REST uses: the checked JSON message and a
 * typed tensor per input or output. Tensors arrive either in `contents` (one repeated field per
 * datatype family) or, all of them, in raw_input_contents/raw_output_contents as little-endian
 * bytes — the same bytes as REST's binary extension. int64/uint64 values and parameters stay
 * exact (bigints, or JsonNumbers in JSON).
 */
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { TrantorError } from '../errors.ts';
import { isJsonNumber } from '../json-lossless.ts';
import type { V2DecodedBody } from './binary.ts';
import { elementCount, exactNumber, tensorHeaderProblems } from './parse.ts';
import { checkValues, decodeRaw, encodeRaw, type V2Tensor, type V2TensorValues } from './tensors.ts';
import type {
  V2Datatype,
  V2InferenceRequest,
  V2InferenceResponse,
  V2ModelMetadata,
  V2Parameters,
  V2RequestedOutput,
  V2RequestInput,
  V2ServerMetadata,
  V2TensorMetadata,
} from './types.ts';

export const V2_GRPC_SERVICE = 'inference.GRPCInferenceService';

let root: protobuf.Root | undefined;

/** The parsed v2.proto, loaded once (field names as written: snake_case). */
export function v2ProtoRoot(): protobuf.Root {
  root ??= protobuf.parse(readProto(new URL('./v2.proto', import.meta.url)), { keepCase: true }).root;
  return root;
}

function readProto(url: URL): string {
  try {
    return readFileSync(url, 'utf8');
  } catch (err) {
    // tsc copies no .proto files: a build that forgets to leaves compiled code without it.
    throw new TrantorError('INTERNAL', `cannot read ${url.pathname}: the build must copy the .proto files beside the compiled code`, { cause: err });
  }
}

const v2Types = new Map<string, protobuf.Type>();
/** A message type of package `inference`, e.g. `ModelInferRequest`. */
export function v2MessageType(name: string): protobuf.Type {
  // Looked up once: a lookup walks the schema's namespaces, and every call asks.
  let type = v2Types.get(name);
  if (type === undefined) v2Types.set(name, (type = v2ProtoRoot().lookupType(`inference.${name}`)));
  return type;
}

/** Plain objects as protobufjs's toObject gives them, with longs as decimal strings. */
interface ParameterObject {
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

interface ContentsObject {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: string[];
  uint_contents?: number[];
  uint64_contents?: string[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

interface TensorObject {
  name?: string;
  datatype?: string;
  shape?: string[];
  parameters?: Record<string, ParameterObject>;
  contents?: ContentsObject;
}

interface InferObject {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, ParameterObject>;
  inputs?: TensorObject[];
  outputs?: TensorObject[];
  raw_input_contents?: Uint8Array[];
  raw_output_contents?: Uint8Array[];
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, oneofs: false };

function bad(message: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', message);
}

/** A parameters map as JSON values: int64/uint64 exact. */
function parametersFromGrpc(map: Record<string, ParameterObject> | undefined): V2Parameters | undefined {
  if (map === undefined || Object.keys(map).length === 0) return undefined;
  const out: V2Parameters = {};
  for (const [name, parameter] of Object.entries(map)) {
    if (parameter.bool_param !== undefined) out[name] = parameter.bool_param;
    else if (parameter.int64_param !== undefined) out[name] = exactNumber(BigInt(parameter.int64_param));
    else if (parameter.uint64_param !== undefined) out[name] = exactNumber(BigInt(parameter.uint64_param));
    else if (parameter.double_param !== undefined) out[name] = parameter.double_param;
    else if (parameter.string_param !== undefined) out[name] = parameter.string_param;
    // A parameter with no choice set carries nothing; it is left out.
  }
  return out;
}

const INT64_MAX = 9223372036854775807n;

/** A parameters map for gRPC: each value a bool, an integer (int64, or uint64 above int64's range), a double or a string. */
function parametersToGrpc(parameters: V2Parameters | undefined, where: string): Record<string, ParameterObject> {
  const out: Record<string, ParameterObject> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (typeof value === 'boolean') out[name] = { bool_param: value };
    else if (typeof value === 'string') out[name] = { string_param: value };
    else if (typeof value === 'number') out[name] = Number.isSafeInteger(value) ? { int64_param: String(value) } : { double_param: value };
    else if (isJsonNumber(value) && /^-?\d+$/.test(value.text)) {
      out[name] = BigInt(value.text) > INT64_MAX ? { uint64_param: value.text } : { int64_param: value.text };
    } else if (isJsonNumber(value)) out[name] = { double_param: Number(value) };
    else throw bad(`${where}.${name}: a gRPC parameter is a boolean, a number or a string`);
  }
  return out;
}

/** Which contents field carries a datatype's elements (FP16 has none). */
const CONTENTS_FIELD: Record<V2Datatype, keyof ContentsObject | undefined> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

type Narrow = [min: number, max: number, typed: (values: number[]) => V2TensorValues];
const NARROW: Partial<Record<V2Datatype, Narrow>> = {
  INT8: [-128, 127, (values) => Int8Array.from(values)],
  INT16: [-32768, 32767, (values) => Int16Array.from(values)],
  UINT8: [0, 255, (values) => Uint8Array.from(values)],
  UINT16: [0, 65535, (values) => Uint16Array.from(values)],
};

function contentsElementCount(contents: ContentsObject): number {
  let count = 0;
  for (const field of Object.values(contents) as unknown[][]) count += field.length;
  return count;
}

/** Typed values from a tensor's `contents`, checked against its datatype and shape. */
function valuesFromContents(datatype: V2Datatype, contents: ContentsObject, count: number, where: string): V2TensorValues {
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined) throw bad(`${where}.contents: FP16 has no contents field; it travels in the raw contents`);
  const elements = (contents[field] ?? []) as unknown[];
  if (contentsElementCount(contents) !== elements.length) throw bad(`${where}.contents: elements given outside ${field}, the field for ${datatype}`);
  if (elements.length !== count) {
    throw new TrantorError('PAYLOAD_SHAPE', `${where}.contents.${field}: holds ${elements.length} elements but the shape needs ${count}`);
  }
  switch (datatype) {
    case 'BOOL':
      return Uint8Array.from(elements as boolean[], (value) => (value ? 1 : 0));
    case 'INT32':
      return Int32Array.from(elements as number[]);
    case 'UINT32':
      return Uint32Array.from(elements as number[]);
    case 'INT64':
      return BigInt64Array.from(elements as string[], (value) => BigInt(value));
    case 'UINT64':
      return BigUint64Array.from(elements as string[], (value) => BigInt(value));
    case 'FP32':
      return Float32Array.from(elements as number[]);
    case 'FP64':
      return Float64Array.from(elements as number[]);
    case 'BYTES':
      // protobufjs gives Buffers; a plain view over the same bytes is what every other path gives.
      return (elements as Uint8Array[]).map((bytes) => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    default: {
      // INT8/INT16/UINT8/UINT16 ride in 32-bit fields: a value outside the narrow range is an error, not a wrap.
      const [min, max, typed] = NARROW[datatype] as Narrow;
      const numbers = elements as number[];
      const at = numbers.findIndex((value) => value < min || value > max);
      if (at >= 0) throw bad(`${where}.contents.${field}[${at}]: ${numbers[at]} is out of range for ${datatype} (${min}..${max})`);
      return typed(numbers);
    }
  }
}

/** The contents object for typed values (not FP16, which goes raw). */
function contentsFromValues(datatype: V2Datatype, values: V2TensorValues): ContentsObject {
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined) throw new TrantorError('INTERNAL', 'FP16 is sent raw');
  if (Array.isArray(values)) return { bytes_contents: values };
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return { [field]: Array.from(values, String) };
  if (datatype === 'BOOL') return { bool_contents: Array.from(values as Uint8Array, (value) => value !== 0) };
  return { [field]: Array.from(values as ArrayLike<number>) };
}

/** The message fields and typed tensors of a decoded ModelInferRequest or ModelInferResponse. */
function readTensors(tensors: TensorObject[], raw: Uint8Array[], key: 'inputs' | 'outputs', rawKey: string): { listed: V2RequestInput[]; typed: V2Tensor[] } {
  const problems: string[] = [];
  tensors.forEach((tensor, i) => {
    const shape = (tensor.shape ?? []).map(Number);
    problems.push(...tensorHeaderProblems(tensor.name ?? '', shape, tensor.datatype ?? '', `${key}[${i}]`));
  });
  if (problems.length > 0) throw bad(`not a V2 inference message: ${problems.join('; ')}`);
  if (raw.length > 0 && raw.length !== tensors.length) {
    throw bad(`${rawKey}: ${raw.length} entries for ${tensors.length} ${key}; when used, it holds one per tensor`);
  }
  const listed: V2RequestInput[] = [];
  const typed = tensors.map((tensor, i): V2Tensor => {
    const where = `${key}[${i}]`;
    const datatype = tensor.datatype as V2Datatype;
    const shape = (tensor.shape ?? []).map(Number);
    const count = elementCount(shape);
    const bytes = raw[i];
    let values: V2TensorValues;
    if (bytes !== undefined) {
      if (tensor.contents !== undefined && contentsElementCount(tensor.contents) > 0) throw bad(`${where}.contents: must be empty when ${rawKey} is used`);
      values = decodeRaw(datatype, bytes, count, where);
    } else {
      values = valuesFromContents(datatype, tensor.contents ?? {}, count, where);
    }
    const header: V2RequestInput = { name: tensor.name ?? '', shape, datatype };
    const parameters = parametersFromGrpc(tensor.parameters);
    if (parameters !== undefined) header.parameters = parameters;
    listed.push(header);
    const out: V2Tensor = { name: header.name, shape, datatype, values };
    if (parameters !== undefined) out.parameters = parameters;
    return out;
  });
  return { listed, typed };
}

/** A V2 message's fields (names as in v2.proto, int64s as text) from its bytes; BAD_PAYLOAD naming the type when they are not one. */
export function decodeV2Message(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = v2MessageType(typeName);
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT);
  } catch (err) {
    throw new TrantorError('BAD_PAYLOAD', `not a protobuf ${typeName}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function decode(typeName: string, bytes: Uint8Array): InferObject {
  return decodeV2Message(typeName, bytes);
}

export interface V2GrpcInferRequest extends V2DecodedBody<V2InferenceRequest> {
  modelName: string;
  modelVersion: string;
}

/**
 * A ModelInferRequest's bytes as the REST form (inputs without `data`: their elements are in
 * `tensors`) plus the model it names.
 */
export function decodeModelInferRequest(bytes: Uint8Array): V2GrpcInferRequest {
  const object = decode('ModelInferRequest', bytes);
  const { listed, typed } = readTensors(object.inputs ?? [], object.raw_input_contents ?? [], 'inputs', 'raw_input_contents');
  if (listed.length === 0) throw bad('not a V2 inference message: inputs: needs at least one input');
  const message: V2InferenceRequest = { inputs: listed };
  if (object.id) message.id = object.id;
  const parameters = parametersFromGrpc(object.parameters);
  if (parameters !== undefined) message.parameters = parameters;
  const outputs = (object.outputs ?? []).map((output): V2RequestedOutput => {
    const requested: V2RequestedOutput = { name: output.name ?? '' };
    const own = parametersFromGrpc(output.parameters);
    if (own !== undefined) requested.parameters = own;
    return requested;
  });
  if (outputs.length > 0) message.outputs = outputs;
  return { modelName: object.model_name ?? '', modelVersion: object.model_version ?? '', message, tensors: typed };
}

/** A ModelInferResponse's bytes as the REST form (outputs without `data`) plus typed outputs. */
export function decodeModelInferResponse(bytes: Uint8Array): V2DecodedBody<V2InferenceResponse> {
  const object = decode('ModelInferResponse', bytes);
  const { listed, typed } = readTensors(object.outputs ?? [], object.raw_output_contents ?? [], 'outputs', 'raw_output_contents');
  const message: V2InferenceResponse = { model_name: object.model_name ?? '', outputs: listed };
  if (object.model_version) message.model_version = object.model_version;
  if (object.id) message.id = object.id;
  const parameters = parametersFromGrpc(object.parameters);
  if (parameters !== undefined) message.parameters = parameters;
  return { message, tensors: typed };
}

export interface V2GrpcEncodeOptions {
  /**
   * Send every tensor in the raw contents (the default, as Triton and its clients do); false puts
   * them in `contents`, except that any FP16 tensor (which has no contents field) makes all raw.
   */
  raw?: boolean;
}

function writeTensors(tensors: V2Tensor[], key: string, options: V2GrpcEncodeOptions): { listed: Record<string, unknown>[]; raw: Uint8Array[] } {
  const useRaw = options.raw !== false || tensors.some((tensor) => tensor.datatype === 'FP16');
  const raw: Uint8Array[] = [];
  const listed = tensors.map((tensor, i) => {
    const where = `${key}[${i}]`;
    checkValues(tensor, where);
    const out: Record<string, unknown> = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, parameters: parametersToGrpc(tensor.parameters, `${where}.parameters`) };
    if (useRaw) raw.push(encodeRaw(tensor.datatype, tensor.values));
    else out.contents = contentsFromValues(tensor.datatype, tensor.values);
    return out;
  });
  return { listed, raw };
}

/** Encodes a plain object; empty strings are left out, as proto3 writers leave defaults out. */
/** A V2 message's bytes from its fields (names as in v2.proto); empty strings are left out, as proto3 writes them. */
export function encodeV2Message(typeName: string, fields: Readonly<Record<string, unknown>>): Uint8Array {
  const object: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== '') object[name] = value;
  const type = v2MessageType(typeName);
  return type.encode(type.fromObject(object)).finish();
}

/** A ModelInferRequest's bytes from the request's fields (its `inputs` are ignored) and typed inputs. */
export function encodeModelInferRequest(
  model: { name: string; version?: string },
  request: Omit<V2InferenceRequest, 'inputs'>,
  inputs: V2Tensor[],
  options: V2GrpcEncodeOptions = {},
): Uint8Array {
  const { listed, raw } = writeTensors(inputs, 'inputs', options);
  return encodeV2Message('ModelInferRequest', {
    model_name: model.name,
    model_version: model.version ?? '',
    id: request.id ?? '',
    parameters: parametersToGrpc(request.parameters, 'parameters'),
    inputs: listed,
    outputs: (request.outputs ?? []).map((output, i) => ({ name: output.name, parameters: parametersToGrpc(output.parameters, `outputs[${i}].parameters`) })),
    raw_input_contents: raw,
  });
}

/** A ModelInferResponse's bytes from the response's fields (its `outputs` are ignored) and typed outputs. */
export function encodeModelInferResponse(
  response: Omit<V2InferenceResponse, 'outputs'>,
  outputs: V2Tensor[],
  options: V2GrpcEncodeOptions = {},
): Uint8Array {
  const { listed, raw } = writeTensors(outputs, 'outputs', options);
  return encodeV2Message('ModelInferResponse', {
    model_name: response.model_name,
    model_version: response.model_version ?? '',
    id: response.id ?? '',
    parameters: parametersToGrpc(response.parameters, 'parameters'),
    outputs: listed,
    raw_output_contents: raw,
  });
}

/** ServerMetadataResponse bytes for the REST server metadata. */
export function encodeServerMetadataResponse(metadata: V2ServerMetadata): Uint8Array {
  return encodeV2Message('ServerMetadataResponse', { name: metadata.name, version: metadata.version, extensions: metadata.extensions });
}

export function decodeServerMetadataResponse(bytes: Uint8Array): V2ServerMetadata {
  const object = decodeV2Message('ServerMetadataResponse', bytes) as { name?: string; version?: string; extensions?: string[] };
  return { name: object.name ?? '', version: object.version ?? '', extensions: object.extensions ?? [] };
}

/**
 * ModelMetadataResponse bytes for the REST model metadata. The protocol's gRPC form has no
 * parameters here (MLServer's extension does), so parameters are not sent.
 */
export function encodeModelMetadataResponse(metadata: V2ModelMetadata): Uint8Array {
  const tensor = (t: V2TensorMetadata): Record<string, unknown> => ({ name: t.name, datatype: t.datatype, shape: t.shape });
  return encodeV2Message('ModelMetadataResponse', {
    name: metadata.name,
    versions: metadata.versions ?? [],
    platform: metadata.platform,
    inputs: metadata.inputs.map(tensor),
    outputs: metadata.outputs.map(tensor),
  });
}

export function decodeModelMetadataResponse(bytes: Uint8Array): V2ModelMetadata {
  interface TensorMetadataObject {
    name?: string;
    datatype?: string;
    shape?: string[];
  }
  const object = decodeV2Message('ModelMetadataResponse', bytes) as { name?: string; versions?: string[]; platform?: string; inputs?: TensorMetadataObject[]; outputs?: TensorMetadataObject[] };
  const tensor = (t: TensorMetadataObject): V2TensorMetadata => ({ name: t.name ?? '', datatype: t.datatype as V2Datatype, shape: (t.shape ?? []).map(Number) });
  const out: V2ModelMetadata = { name: object.name ?? '', platform: object.platform ?? '', inputs: (object.inputs ?? []).map(tensor), outputs: (object.outputs ?? []).map(tensor) };
  if (object.versions !== undefined && object.versions.length > 0) out.versions = object.versions;
  return out;
}
