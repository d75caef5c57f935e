/**
 * The binary tensor data extension of V2 REST (Triton's `binary_data`, also spoken by KServe
 * clients): a body is a JSON header of `Inference-Header-Content-Length` bytes, then the raw
 * little-endian bytes of each tensor whose parameters give `binary_data_size`, in the order the
 * tensors are listed. A request asks for binary outputs with `binary_data: true` on a requested
 * output, or `binary_data_output: true` on the request for every output.
 *
 * Reading gives the checked message and a typed tensor for each of its inputs or outputs, so
 * binary data never becomes JSON numbers (and BYTES that are not text stay bytes).
 */
import { TrantorError } from '../errors.ts';
import { parseJsonLossless, stringifyJson } from '../json-lossless.ts';
import { binaryDataSize, elementCount, parseV2InferenceRequest, parseV2InferenceResponse, type V2ParseOptions } from './parse.ts';
import { checkValues, decodeRaw, encodeRaw, tensorFromJson, tensorToJson, type V2JsonTensor, type V2Tensor } from './tensors.ts';
import type { V2InferenceRequest, V2InferenceResponse, V2Parameters } from './types.ts';

/** The header naming the JSON part's length, lower-case as node:http gives header names. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

export interface V2DecodedBody<M> {
  message: M;
  /** One typed tensor per input (request) or output (response), in order. */
  tensors: V2Tensor[];
}

export interface V2EncodedBody {
  body: Uint8Array;
  /** The JSON header's length: `Inference-Header-Content-Length`, or undefined when all tensors are JSON. */
  headerLength: number | undefined;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The header length from the header's text; undefined when absent. A value that is not a
 * non-negative integer is an error, not a silent JSON body.
 */
export function parseHeaderLength(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!/^\d{1,15}$/.test(text.trim())) throw new TrantorError('BAD_PATH', `Inference-Header-Content-Length: expected a byte count, got ${JSON.stringify(text)}`);
  return Number(text.trim());
}

function readHeader(body: Uint8Array, headerLength: number | undefined): unknown {
  const length = headerLength ?? body.length;
  if (length > body.length) {
    throw new TrantorError('BAD_PAYLOAD', `Inference-Header-Content-Length: ${length} is longer than the ${body.length}-byte body`);
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(body.subarray(0, length));
  } catch {
    throw new TrantorError('BAD_JSON', 'the JSON header is not UTF-8 text');
  }
  if (text.trim() === '') throw new TrantorError('EMPTY_BODY', 'the request has no JSON header');
  try {
    return parseJsonLossless(text);
  } catch (err) {
    throw new TrantorError('BAD_JSON', `the JSON header is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the binary tensors after the header, in order, and gives every tensor's typed view. */
function readTensors(tensors: V2JsonTensor[], body: Uint8Array, headerLength: number | undefined, key: string): V2Tensor[] {
  let at = headerLength ?? body.length;
  const out = tensors.map((tensor, i) => {
    const where = `${key}[${i}]`;
    const size = binaryDataSize(tensor.parameters);
    if (size === undefined) return tensorFromJson(tensor, where);
    if (at + size > body.length) {
      throw new TrantorError('BAD_PAYLOAD', `${where}.parameters.binary_data_size: ${size} bytes, but only ${body.length - at} remain in the body`);
    }
    const values = decodeRaw(tensor.datatype, body.subarray(at, at + size), elementCount(tensor.shape), where);
    at += size;
    const typed: V2Tensor = { name: tensor.name, shape: tensor.shape, datatype: tensor.datatype, values };
    const parameters = withoutBinaryParameters(tensor.parameters);
    if (parameters !== undefined) typed.parameters = parameters;
    return typed;
  });
  if (at !== body.length) throw new TrantorError('BAD_PAYLOAD', `${body.length - at} bytes after the last binary tensor belong to none`);
  return out;
}

function withoutBinaryParameters(parameters: V2Parameters | undefined): V2Parameters | undefined {
  if (parameters === undefined) return undefined;
  const { binary_data_size: _size, ...rest } = parameters;
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/** A request body, JSON alone (no header length) or JSON header plus binary tensors. */
export function decodeV2Request(body: Uint8Array, headerLength: number | undefined): V2DecodedBody<V2InferenceRequest> {
  const options: V2ParseOptions = { binary: headerLength !== undefined };
  const message = parseV2InferenceRequest(readHeader(body, headerLength), options);
  return { message, tensors: readTensors(message.inputs, body, headerLength, 'inputs') };
}

/** A response body, JSON alone or JSON header plus binary tensors (what a client reads). */
export function decodeV2Response(body: Uint8Array, headerLength: number | undefined): V2DecodedBody<V2InferenceResponse> {
  const options: V2ParseOptions = { binary: headerLength !== undefined };
  const message = parseV2InferenceResponse(readHeader(body, headerLength), options);
  return { message, tensors: readTensors(message.outputs, body, headerLength, 'outputs') };
}

/**
 * Which outputs a request wants as binary data: a requested output's own `binary_data` decides;
 * otherwise the request's `binary_data_output` (false when absent).
 */
export function binaryOutputsWanted(request: V2InferenceRequest): (name: string) => boolean {
  const all = request.parameters?.['binary_data_output'] === true;
  const own = new Map<string, boolean>();
  for (const output of request.outputs ?? []) {
    const wanted = output.parameters?.['binary_data'];
    if (typeof wanted === 'boolean') own.set(output.name, wanted);
  }
  return (name) => own.get(name) ?? all;
}

/**
 * Writes a message whose tensors are `tensors`: those `asBinary` picks go after the JSON header
 * as raw bytes (with `binary_data_size`), the others as JSON data.
 */
function encodeBody(fields: Record<string, unknown>, key: 'inputs' | 'outputs', tensors: V2Tensor[], asBinary: (name: string) => boolean): V2EncodedBody {
  const raws: Uint8Array[] = [];
  const listed = tensors.map((tensor, i) => {
    const where = `${key}[${i}]`;
    if (!asBinary(tensor.name)) return tensorToJson(tensor, where);
    checkValues(tensor, where);
    const raw = encodeRaw(tensor.datatype, tensor.values);
    raws.push(raw);
    return { name: tensor.name, shape: tensor.shape, datatype: tensor.datatype, parameters: { ...tensor.parameters, binary_data_size: raw.length } };
  });
  const header = new TextEncoder().encode(stringifyJson({ ...fields, [key]: listed }));
  if (raws.length === 0) return { body: header, headerLength: undefined };
  const body = new Uint8Array(header.length + raws.reduce((sum, raw) => sum + raw.length, 0));
  body.set(header, 0);
  let at = header.length;
  for (const raw of raws) {
    body.set(raw, at);
    at += raw.length;
  }
  return { body, headerLength: header.length };
}

/** A request body from typed inputs; `asBinary` picks the inputs sent as binary data (all, by default). */
export function encodeV2Request(
  request: Omit<V2InferenceRequest, 'inputs'>,
  inputs: V2Tensor[],
  asBinary: (name: string) => boolean = () => true,
): V2EncodedBody {
  return encodeBody(request, 'inputs', inputs, asBinary);
}

/** A response body from typed outputs; `asBinary` is usually `binaryOutputsWanted(request)`. */
export function encodeV2Response(
  response: Omit<V2InferenceResponse, 'outputs'>,
  outputs: V2Tensor[],
  asBinary: (name: string) => boolean,
): V2EncodedBody {
  return encodeBody(response, 'outputs', outputs, asBinary);
}
