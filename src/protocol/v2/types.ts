/**
 * The Open Inference Protocol (V2, shared by KServe, MLServer and Triton): its REST JSON messages
 * as they are after `parse.ts` has checked them. Numbers a double would change (INT64/UINT64 past
 * 2^53, an FP64 written with more range than a double has) stay `JsonNumber`s, as the lossless
 * JSON reader gave them, so writing a message back loses no digit.
 */
import type { JsonNumber } from '../json-lossless.ts';

export const V2_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type V2Datatype = (typeof V2_DATATYPES)[number];

export function isV2Datatype(value: unknown): value is V2Datatype {
  return typeof value === 'string' && (V2_DATATYPES as readonly string[]).includes(value);
}

/** Bytes per element on the wire (raw and binary_data); BYTES has no fixed size. */
export const V2_ELEMENT_SIZE: Readonly<Record<Exclude<V2Datatype, 'BYTES'>, number>> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
};

/** A parameter value: the protocol allows strings, numbers and booleans (extensions may nest). */
export type V2Parameters = Record<string, unknown>;

/** One element of `data`: a number (or one kept exact), a boolean, or a BYTES string. */
export type V2Element = number | JsonNumber | boolean | string;

/** `data`, flat or nested row-major arrays. */
export type V2Data = (V2Element | V2Data)[];

export interface V2RequestInput {
  name: string;
  shape: number[];
  datatype: V2Datatype;
  parameters?: V2Parameters;
  /** Absent only when the tensor travels as binary data (`parameters.binary_data_size`). */
  data?: V2Data;
}

export interface V2RequestedOutput {
  name: string;
  parameters?: V2Parameters;
}

export interface V2InferenceRequest {
  id?: string;
  parameters?: V2Parameters;
  inputs: V2RequestInput[];
  outputs?: V2RequestedOutput[];
}

export interface V2ResponseOutput {
  name: string;
  shape: number[];
  datatype: V2Datatype;
  parameters?: V2Parameters;
  data?: V2Data;
}

export interface V2InferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: V2Parameters;
  outputs: V2ResponseOutput[];
}

export interface V2ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface V2TensorMetadata {
  name: string;
  datatype: V2Datatype;
  /** -1 marks a dimension of variable size. */
  shape: number[];
  parameters?: V2Parameters;
}

export interface V2ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
  parameters?: V2Parameters;
}

/** The protocol's error body, for every failed call. */
export interface V2ErrorBody {
  error: string;
}
