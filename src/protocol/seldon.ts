/**
 * The Seldon message (protocol "seldon", v1): types, validation, and the conversions every
 * layer needs — ndarray ⇄ tensor, default names `t:0…`, and building a reply in the
 * request's own encoding.
 */
import { TrantorError } from './errors.ts';
import { isNumeric } from './json-lossless.ts';
import { readTfTensor, tfTensorElements, tfTensorOf, writeTfTensor, type TfTensor } from './tftensor.ts';

export type NdArray = unknown[];

export interface Tensor {
  shape: number[];
  values: number[];
}

export interface DefaultData {
  names?: string[];
  ndarray?: NdArray;
  tensor?: Tensor;
  tftensor?: unknown;
}

export type MetricType = 'COUNTER' | 'GAUGE' | 'TIMER';

export interface Metric {
  key: string;
  type: MetricType;
  value: number;
  tags?: Record<string, string>;
}

export interface Meta {
  puid?: string;
  tags?: Record<string, unknown>;
  routing?: Record<string, number>;
  requestPath?: Record<string, string>;
  metrics?: Metric[];
}

export interface Status {
  code?: number;
  info?: string;
  reason?: string;
  status?: 'SUCCESS' | 'FAILURE';
}

export interface SeldonMessage {
  data?: DefaultData;
  binData?: string;
  strData?: string;
  jsonData?: unknown;
  meta?: Meta;
  status?: Status;
}

/** The feedback message: the request, the response it got, and a reward. */
export interface Feedback {
  request?: SeldonMessage;
  response?: SeldonMessage;
  reward?: number;
  truth?: SeldonMessage;
}

const PAYLOAD_KEYS = ['data', 'binData', 'strData', 'jsonData'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bad(message: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', message);
}

/**
 * Checks that `value` is a Seldon message and returns it typed. Each error names the field
 * that is wrong (`data.tensor.shape: …`). `where` prefixes the field path (for nested messages).
 */
export function parseSeldonMessage(value: unknown, where = ''): SeldonMessage {
  if (!isRecord(value)) throw bad(`${where || 'body'}: expected a JSON object with one of data, binData, strData or jsonData`);
  // Counted without building a list: this runs on every message, and fails on almost none.
  const { data, binData, strData, jsonData, meta } = value;
  if ((data !== undefined ? 1 : 0) + (binData !== undefined ? 1 : 0) + (strData !== undefined ? 1 : 0) + (jsonData !== undefined ? 1 : 0) > 1) {
    const present = PAYLOAD_KEYS.filter((k) => value[k] !== undefined);
    throw bad(`${where || 'body'}: only one of data, binData, strData, jsonData may be given, got ${present.join(', ')}`);
  }
  if (data !== undefined) checkData(data, where ? `${where}.data` : 'data');
  if (binData !== undefined && typeof binData !== 'string') throw bad(`${where ? `${where}.` : ''}binData: expected a base64 string`);
  if (strData !== undefined && typeof strData !== 'string') throw bad(`${where ? `${where}.` : ''}strData: expected a string`);
  if (meta !== undefined && !isRecord(meta)) throw bad(`${where ? `${where}.` : ''}meta: expected an object`);
  return value;
}

function checkData(data: unknown, at: string): void {
  if (!isRecord(data)) throw bad(`${at}: expected an object with ndarray, tensor or tftensor`);
  const names = data['names'];
  if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))) {
    throw bad(`${at}.names: expected an array of strings`);
  }
  const { ndarray, tensor, tftensor } = data;
  const kinds = (ndarray !== undefined ? 1 : 0) + (tensor !== undefined ? 1 : 0) + (tftensor !== undefined ? 1 : 0);
  if (kinds === 0) throw bad(`${at}: expected one of ndarray, tensor or tftensor`);
  if (kinds > 1) throw bad(`${at}: only one of ndarray, tensor, tftensor may be given, got ${['ndarray', 'tensor', 'tftensor'].filter((k) => data[k] !== undefined).join(', ')}`);
  if (data['ndarray'] !== undefined && !Array.isArray(data['ndarray'])) throw bad(`${at}.ndarray: expected an array`);
  if (data['tensor'] !== undefined) checkTensor(data['tensor'], `${at}.tensor`);
  // Checked here, and kept as given: the reply writes its own.
  if (tftensor !== undefined) readTfTensor(tftensor, `${at}.tftensor`);
}

function checkTensor(tensor: unknown, at: string): void {
  if (!isRecord(tensor)) throw bad(`${at}: expected an object with shape and values`);
  const { shape, values } = tensor;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
    throw bad(`${at}.shape: expected an array of non-negative integers`);
  }
  if (!Array.isArray(values) || values.some((v) => !isNumeric(v))) throw bad(`${at}.values: expected an array of numbers`);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (size !== values.length) {
    throw bad(`${at}: shape [${(shape as number[]).join(',')}] holds ${size} values, got ${values.length}`);
  }
}

/** Row-major reshape of a tensor's flat values into nested arrays. */
export function tensorToNdarray(tensor: { shape: readonly number[]; values: readonly unknown[] }): NdArray {
  const { shape, values } = tensor;
  if (shape.length === 0) return values.slice();
  const build = (dim: number, offset: number): unknown[] => {
    const n = shape[dim] ?? 0;
    if (dim === shape.length - 1) return values.slice(offset, offset + n);
    const stride = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * stride));
    return out;
  };
  return build(0, 0);
}

function shapeOf(array: NdArray): number[] {
  const shape: number[] = [];
  let level: unknown = array;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(node: unknown[], dim: number, shape: readonly number[], out: number[]): boolean {
  if (node.length !== shape[dim]) return false;
  if (dim === shape.length - 1) {
    for (const value of node) {
      if (typeof value !== 'number') return false;
      out.push(value);
    }
    return true;
  }
  for (const child of node) {
    if (!Array.isArray(child) || !flatten(child, dim + 1, shape, out)) return false;
  }
  return true;
}

/** Shape and values of a rectangular array of numbers, or null when it is not one. */
export function numericTensor(array: NdArray): Tensor | null {
  const shape = shapeOf(array);
  const values: number[] = [];
  return flatten(array, 0, shape, values) ? { shape, values } : null;
}

/** Shape and flat values of a rectangular numeric ndarray; throws BAD_PAYLOAD, naming the bad element, when ragged or not numeric. */
export function ndarrayToTensor(array: NdArray, where = 'data.ndarray'): Tensor {
  const tensor = numericTensor(array);
  if (tensor !== null) return tensor;
  const shape = shapeOf(array);
  const walk = (node: unknown, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof node !== 'number') throw bad(`${path}: expected a number, got ${JSON.stringify(node)}`);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[dim]) {
      throw bad(`${path}: rows must all have ${shape[dim]} elements (the array is ragged)`);
    }
    node.forEach((child, i) => walk(child, dim + 1, `${path}[${i}]`));
  };
  walk(array, 0, where);
  throw bad(`${where}: not a rectangular array of numbers`);
}
/** Seldon's default column names for a 2-D output with `columns` columns. */
export function defaultNames(columns: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < columns; i++) names.push(`t:${i}`);
  return names;
}

/** The features of a request's `data` as nested arrays, whatever its encoding. */
export function featuresOf(data: DefaultData): NdArray {
  if (data.ndarray !== undefined) return data.ndarray;
  if (data.tensor !== undefined) return tensorToNdarray(data.tensor);
  const tensor = readTfTensor(data.tftensor);
  return tensorToNdarray({ shape: tensor.shape, values: tfTensorElements(tensor) });
}

/** A rectangular array of one kind of value as a TfTensor (see `tfTensorOf`), or null when it is not one. */
export function ndarrayToTfTensor(array: NdArray): TfTensor | null {
  const shape = shapeOf(array);
  const values: unknown[] = [];
  const walk = (node: unknown[], dim: number): boolean => {
    if (node.length !== shape[dim]) return false;
    if (dim === shape.length - 1) {
      for (const value of node) {
        if (Array.isArray(value)) return false;
        values.push(value);
      }
      return true;
    }
    return node.every((child) => Array.isArray(child) && walk(child, dim + 1));
  };
  return walk(array, 0) ? tfTensorOf(shape, values) : null;
}

/**
 * The reply's `data` for a model output, in the request's encoding (a tensor stays a tensor, a
 * tftensor a tftensor, when the output can be one).
 * Names are the model's class names when it has them, else `t:0…` for 2-D output, else none.
 */
export function replyData(request: DefaultData | undefined, output: NdArray, classNames?: readonly string[]): DefaultData {
  const first = output[0];
  const columns = Array.isArray(first) ? first.length : undefined;
  const names = classNames !== undefined && classNames.length > 0 ? [...classNames] : columns !== undefined ? defaultNames(columns) : [];
  if (request?.tensor !== undefined) return { names, tensor: ndarrayToTensor(output, 'output') };
  const tftensor = request?.tftensor === undefined ? null : ndarrayToTfTensor(output);
  if (tftensor !== null) return { names, tftensor: writeTfTensor(tftensor) };
  return { names, ndarray: output };
}
