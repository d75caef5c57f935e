/**
 * Checks the V2 REST JSON messages and returns them typed. Every problem is found before one
 * error is thrown, each naming its field path (`inputs[0].shape: …`), so a client fixes its
 * request in one round. Input is what `parseJsonLossless` gave: numbers a double would change
 * arrive as JsonNumbers and are kept, so INT64/UINT64 stay exact end to end.
 */
import { TrantorError } from '../errors.ts';
import { isJsonNumber, JsonNumber } from '../json-lossless.ts';
import {
  isV2Datatype,
  V2_DATATYPES,
  type V2Data,
  type V2Datatype,
  type V2Element,
  type V2ErrorBody,
  type V2InferenceRequest,
  type V2InferenceResponse,
  type V2ModelMetadata,
  type V2Parameters,
  type V2RequestedOutput,
  type V2RequestInput,
  type V2ResponseOutput,
  type V2ServerMetadata,
  type V2TensorMetadata,
} from './types.ts';

export interface V2ParseOptions {
  /**
   * Whether tensors may carry `parameters.binary_data_size` instead of `data`: true for the JSON
   * header of a binary body, whose tensors `binary.ts` then reads from the bytes after it.
   */
  binary?: boolean;
}

/** Problems found in one message; thrown together. A body whose only fault is counts is PAYLOAD_SHAPE. */
class Problems {
  readonly list: string[] = [];
  private onlyShape = true;

  add(where: string, what: string, shape = false): void {
    this.list.push(`${where}: ${what}`);
    if (!shape) this.onlyShape = false;
  }

  throwIfAny(message: string): void {
    if (this.list.length === 0) return;
    const code = this.onlyShape ? 'PAYLOAD_SHAPE' : 'BAD_PAYLOAD';
    throw new TrantorError(code, `${message}: ${this.list.join('; ')}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const INTEGER_TEXT = /^-?\d+$/;

/** Inclusive integer range of each integer datatype, as bigints (INT64/UINT64 need them). */
const INTEGER_RANGE: Partial<Record<V2Datatype, readonly [bigint, bigint]>> = {
  UINT8: [0n, 255n],
  UINT16: [0n, 65535n],
  UINT32: [0n, 4294967295n],
  UINT64: [0n, 18446744073709551615n],
  INT8: [-128n, 127n],
  INT16: [-32768n, 32767n],
  INT32: [-2147483648n, 2147483647n],
  INT64: [-9223372036854775808n, 9223372036854775807n],
};

/** What is wrong with one element of a tensor of `datatype`, or undefined when it fits. */
export function elementProblem(datatype: V2Datatype, value: unknown): string | undefined {
  switch (datatype) {
    case 'BOOL':
      return typeof value === 'boolean' ? undefined : `expected true or false for BOOL, got ${describe(value)}`;
    case 'BYTES':
      return typeof value === 'string' ? undefined : `expected a string for BYTES, got ${describe(value)}`;
    case 'FP16':
    case 'FP32':
    case 'FP64':
      return typeof value === 'number' || isJsonNumber(value) ? undefined : `expected a number for ${datatype}, got ${describe(value)}`;
    default: {
      const range = INTEGER_RANGE[datatype];
      if (range === undefined) return `unknown datatype ${datatype}`;
      let integer: bigint;
      if (typeof value === 'number' && Number.isSafeInteger(value)) {
        // The common case, without a bigint per element; every 64-bit bound is past 2^53.
        if (value >= Number(range[0]) && value <= Number(range[1])) return undefined;
        integer = BigInt(value);
      } else if (typeof value === 'number' && Number.isInteger(value)) integer = BigInt(value);
      else if (isJsonNumber(value) && INTEGER_TEXT.test(value.text)) integer = BigInt(value.text);
      else return `expected an integer for ${datatype}, got ${describe(value)}`;
      if (integer < range[0] || integer > range[1]) return `${integer} is out of range for ${datatype} (${range[0]}..${range[1]})`;
      return undefined;
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isJsonNumber(value)) return value.text;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

/** Number of elements a shape holds; shapes are checked first, so each dimension is a safe integer ≥ 0. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dimension of shape) count *= dimension;
  return count;
}

/** `data`'s elements in row-major order (nested arrays flattened). */
export function flattenV2Data(data: V2Data): V2Element[] {
  if (!data.some(Array.isArray)) return data as V2Element[];
  const out: V2Element[] = [];
  const walk = (items: V2Data): void => {
    for (const item of items) {
      if (Array.isArray(item)) walk(item);
      else out.push(item);
    }
  };
  walk(data);
  return out;
}

function checkShape(value: unknown, where: string, problems: Problems, allowVariable: boolean): number[] | undefined {
  if (!Array.isArray(value)) {
    problems.add(where, 'expected an array of dimensions');
    return undefined;
  }
  let ok = true;
  let count = 1;
  value.forEach((dimension, i) => {
    const min = allowVariable ? -1 : 0;
    if (typeof dimension !== 'number' || !Number.isSafeInteger(dimension) || dimension < min) {
      problems.add(`${where}[${i}]`, `expected an integer ≥ ${min}, got ${describe(dimension)}`);
      ok = false;
    } else if (dimension > 0) {
      count *= dimension;
    }
  });
  if (ok && !Number.isSafeInteger(count)) {
    problems.add(where, `holds ${count} elements, more than can be addressed`);
    ok = false;
  }
  return ok ? (value as number[]) : undefined;
}

/** Checks `data` against the datatype and, when the shape is good, its element count. Problems name each bad element. */
function checkData(value: unknown, datatype: V2Datatype | undefined, shape: number[] | undefined, where: string, problems: Problems): void {
  if (!Array.isArray(value)) {
    // A single scalar is allowed by neither KServe nor Triton: data is always an array.
    problems.add(where, 'expected an array (flat or nested, row-major)');
    return;
  }
  let count = 0;
  let reported = 0;
  const walk = (items: unknown[], path: string): void => {
    items.forEach((item, i) => {
      if (Array.isArray(item)) {
        walk(item, `${path}[${i}]`);
        return;
      }
      count++;
      if (datatype === undefined) return;
      const problem = elementProblem(datatype, item);
      // One bad element usually means many: name the first few, not a million.
      if (problem !== undefined && reported++ < 5) problems.add(`${path}[${i}]`, problem);
    });
  };
  walk(value, where);
  if (reported > 5) problems.add(where, `${reported - 5} more elements are not ${datatype ?? ''}`.trimEnd());
  if (shape !== undefined) {
    const expected = elementCount(shape);
    if (count !== expected) problems.add(where, `holds ${count} elements but shape [${shape.join(', ')}] needs ${expected}`, true);
  }
}

function checkString(value: unknown, where: string, problems: Problems, required: boolean): value is string {
  if (typeof value === 'string') return true;
  if (value !== undefined || required) problems.add(where, value === undefined ? 'is required' : `expected a string, got ${describe(value)}`);
  return false;
}

function checkDatatype(value: unknown, where: string, problems: Problems): V2Datatype | undefined {
  if (isV2Datatype(value)) return value;
  problems.add(where, value === undefined ? 'is required' : `expected one of ${V2_DATATYPES.join(', ')}, got ${describe(value)}`);
  return undefined;
}

/** Parameters the protocol gives a meaning to, checked for their type; others pass as they are. */
const KNOWN_PARAMETERS: Record<string, 'boolean' | 'size' | 'string'> = {
  binary_data_size: 'size',
  binary_data: 'boolean',
  binary_data_output: 'boolean',
  content_type: 'string',
};

function checkParameters(value: unknown, where: string, problems: Problems): V2Parameters | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) {
    problems.add(where, 'expected an object');
    return undefined;
  }
  for (const [name, kind] of Object.entries(KNOWN_PARAMETERS)) {
    const parameter = value[name];
    if (parameter === undefined) continue;
    const ok = kind === 'size' ? typeof parameter === 'number' && Number.isSafeInteger(parameter) && parameter >= 0 : typeof parameter === kind;
    if (!ok) problems.add(`${where}.${name}`, `expected ${kind === 'size' ? 'a byte count (an integer ≥ 0)' : `a ${kind}`}, got ${describe(parameter)}`);
  }
  return value;
}

/** The size of a binary tensor, when its parameters give one. */
export function binaryDataSize(parameters: V2Parameters | undefined): number | undefined {
  const size = parameters?.['binary_data_size'];
  return typeof size === 'number' ? size : undefined;
}

/** A tensor with data (input or output): name, shape, datatype, parameters, data. */
function checkTensor(
  value: unknown,
  where: string,
  problems: Problems,
  options: V2ParseOptions,
): V2RequestInput | undefined {
  if (!isRecord(value)) {
    problems.add(where, 'expected an object with name, shape, datatype and data');
    return undefined;
  }
  const before = problems.list.length;
  checkString(value['name'], `${where}.name`, problems, true);
  const shape = checkShape(value['shape'], `${where}.shape`, problems, false);
  const datatype = checkDatatype(value['datatype'], `${where}.datatype`, problems);
  const parameters = checkParameters(value['parameters'], `${where}.parameters`, problems);
  const binarySize = binaryDataSize(parameters);
  if (binarySize !== undefined) {
    if (options.binary !== true) problems.add(`${where}.parameters.binary_data_size`, 'binary data needs the Inference-Header-Content-Length header');
    else if (value['data'] !== undefined) problems.add(`${where}.data`, 'must be absent when parameters.binary_data_size is given');
  } else if (value['data'] === undefined) {
    problems.add(`${where}.data`, 'is required');
  } else {
    checkData(value['data'], datatype, shape, `${where}.data`, problems);
  }
  return problems.list.length === before ? (value as unknown as V2RequestInput) : undefined;
}

function checkList<T>(value: unknown, where: string, problems: Problems, each: (item: unknown, where: string) => T | undefined, required: boolean): T[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) {
    problems.add(where, value === undefined ? 'is required' : 'expected an array');
    return [];
  }
  const out: T[] = [];
  value.forEach((item, i) => {
    const checked = each(item, `${where}[${i}]`);
    if (checked !== undefined) out.push(checked);
  });
  return out;
}

/** An inference request body (`POST /v2/models/<m>/infer`), typed; a TrantorError lists every problem. */
export function parseV2InferenceRequest(value: unknown, options: V2ParseOptions = {}): V2InferenceRequest {
  const problems = new Problems();
  if (!isRecord(value)) {
    problems.add('body', 'expected a JSON object with inputs');
    problems.throwIfAny('not a V2 inference request');
  }
  const body = value as Record<string, unknown>;
  checkString(body['id'], 'id', problems, false);
  checkParameters(body['parameters'], 'parameters', problems);
  const inputs = checkList(body['inputs'], 'inputs', problems, (item, where) => checkTensor(item, where, problems, options), true);
  if (Array.isArray(body['inputs']) && body['inputs'].length === 0) problems.add('inputs', 'needs at least one input');
  checkList(body['outputs'], 'outputs', problems, (item, where) => checkRequestedOutput(item, where, problems), false);
  checkUniqueNames(inputs, 'inputs', problems);
  problems.throwIfAny('not a V2 inference request');
  return body as unknown as V2InferenceRequest;
}

function checkRequestedOutput(value: unknown, where: string, problems: Problems): V2RequestedOutput | undefined {
  if (!isRecord(value)) {
    problems.add(where, 'expected an object with a name');
    return undefined;
  }
  checkString(value['name'], `${where}.name`, problems, true);
  checkParameters(value['parameters'], `${where}.parameters`, problems);
  return value as unknown as V2RequestedOutput;
}

function checkUniqueNames(tensors: { name: string }[], where: string, problems: Problems): void {
  const seen = new Set<string>();
  tensors.forEach((tensor, i) => {
    if (seen.has(tensor.name)) problems.add(`${where}[${i}].name`, `${JSON.stringify(tensor.name)} is given twice`);
    seen.add(tensor.name);
  });
}

/** An inference response body, typed (what a model server answers, or what a client reads). */
export function parseV2InferenceResponse(value: unknown, options: V2ParseOptions = {}): V2InferenceResponse {
  const problems = new Problems();
  if (!isRecord(value)) {
    problems.add('body', 'expected a JSON object with model_name and outputs');
    problems.throwIfAny('not a V2 inference response');
  }
  const body = value as Record<string, unknown>;
  checkString(body['model_name'], 'model_name', problems, true);
  checkString(body['model_version'], 'model_version', problems, false);
  checkString(body['id'], 'id', problems, false);
  checkParameters(body['parameters'], 'parameters', problems);
  const outputs: V2ResponseOutput[] = checkList(body['outputs'], 'outputs', problems, (item, where) => checkTensor(item, where, problems, options), true);
  checkUniqueNames(outputs, 'outputs', problems);
  problems.throwIfAny('not a V2 inference response');
  return body as unknown as V2InferenceResponse;
}

/** Server metadata (`GET /v2`). */
export function parseV2ServerMetadata(value: unknown): V2ServerMetadata {
  const problems = new Problems();
  if (!isRecord(value)) problems.add('body', 'expected a JSON object with name, version and extensions');
  else {
    checkString(value['name'], 'name', problems, true);
    checkString(value['version'], 'version', problems, true);
    checkStrings(value['extensions'], 'extensions', problems, true);
  }
  problems.throwIfAny('not V2 server metadata');
  return value as V2ServerMetadata;
}

function checkStrings(value: unknown, where: string, problems: Problems, required: boolean): void {
  checkList(value, where, problems, (item, at) => (checkString(item, at, problems, true) ? item : undefined), required);
}

function checkTensorMetadata(value: unknown, where: string, problems: Problems): V2TensorMetadata | undefined {
  if (!isRecord(value)) {
    problems.add(where, 'expected an object with name, datatype and shape');
    return undefined;
  }
  checkString(value['name'], `${where}.name`, problems, true);
  checkDatatype(value['datatype'], `${where}.datatype`, problems);
  checkShape(value['shape'], `${where}.shape`, problems, true);
  checkParameters(value['parameters'], `${where}.parameters`, problems);
  return value as unknown as V2TensorMetadata;
}

/** Model metadata (`GET /v2/models/<m>[/versions/<v>]`). */
export function parseV2ModelMetadata(value: unknown): V2ModelMetadata {
  const problems = new Problems();
  if (!isRecord(value)) problems.add('body', 'expected a JSON object with name, platform, inputs and outputs');
  else {
    checkString(value['name'], 'name', problems, true);
    checkStrings(value['versions'], 'versions', problems, false);
    checkString(value['platform'], 'platform', problems, true);
    checkList(value['inputs'], 'inputs', problems, (item, where) => checkTensorMetadata(item, where, problems), true);
    checkList(value['outputs'], 'outputs', problems, (item, where) => checkTensorMetadata(item, where, problems), true);
    checkParameters(value['parameters'], 'parameters', problems);
  }
  problems.throwIfAny('not V2 model metadata');
  return value as V2ModelMetadata;
}

/** The error body the protocol answers with: `{"error": "<message>"}`. */
export function v2ErrorBody(err: Error | string): V2ErrorBody {
  return { error: typeof err === 'string' ? err : err.message };
}

/** Reads a V2 error body; undefined when `value` is not one. */
export function parseV2Error(value: unknown): V2ErrorBody | undefined {
  return isRecord(value) && typeof value['error'] === 'string' ? { error: value['error'] } : undefined;
}

/** Writes an INT64/UINT64/FP64 value for JSON: a number when a double keeps it, else its exact text. */
export function exactNumber(value: bigint | number): number | JsonNumber {
  if (typeof value === 'number') return value;
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : new JsonNumber(value.toString());
}

/** What is wrong with a tensor's name, shape and datatype (for forms other than JSON, such as gRPC). */
export function tensorHeaderProblems(name: unknown, shape: unknown, datatype: unknown, where: string): string[] {
  const problems = new Problems();
  if (checkString(name, `${where}.name`, problems, true) && name === '') problems.add(`${where}.name`, 'is empty');
  checkShape(shape, `${where}.shape`, problems, false);
  checkDatatype(datatype, `${where}.datatype`, problems);
  return problems.list;
}
