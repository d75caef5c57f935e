/**
 * Triton's model configuration (`config.pbtxt`, the ModelConfig message of Triton's
 * model_config.proto) — the fields that decide how an ONNX model is served: its name, platform or
 * backend, `max_batch_size`, the inputs and outputs (name, `data_type`, `dims`, `reshape`,
 * `optional`), `version_policy` and `default_model_filename`. Other fields (instance groups,
 * dynamic batching, optimization, …) are read past: they tune Triton's own scheduler.
 */
import { TrantorError, type V2Datatype } from '../../../protocol/index.ts';
import { parseTextFormat, type TextMessage, type TextValue } from './pbtxt.ts';

/** One input or output as configured; `dims` excludes the batch dimension when `max_batch_size` > 0; -1 is any size. */
export interface TensorConfig {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly dims: readonly number[];
  /** The shape the model itself takes (or gives) in place of `dims`, without the batch dimension. */
  readonly reshape?: readonly number[];
  /** An input the request may leave out. */
  readonly optional?: boolean;
}

export type VersionPolicy = { readonly kind: 'latest'; readonly count: number } | { readonly kind: 'all' } | { readonly kind: 'specific'; readonly versions: readonly number[] };

export interface ModelConfig {
  readonly name?: string;
  readonly platform?: string;
  readonly backend?: string;
  /** 0: the model does not batch, shapes are `dims` as they are; N > 0: the first dimension is the batch, at most N. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorConfig[];
  readonly outputs: readonly TensorConfig[];
  readonly versionPolicy: VersionPolicy;
  readonly defaultModelFilename?: string;
}

/** Triton's DataType names and the V2 datatype each is on the wire. */
export const TRITON_DATATYPES: Readonly<Record<string, V2Datatype>> = Object.freeze({
  TYPE_BOOL: 'BOOL',
  TYPE_UINT8: 'UINT8',
  TYPE_UINT16: 'UINT16',
  TYPE_UINT32: 'UINT32',
  TYPE_UINT64: 'UINT64',
  TYPE_INT8: 'INT8',
  TYPE_INT16: 'INT16',
  TYPE_INT32: 'INT32',
  TYPE_INT64: 'INT64',
  TYPE_FP16: 'FP16',
  TYPE_FP32: 'FP32',
  TYPE_FP64: 'FP64',
  TYPE_STRING: 'BYTES',
});

/** The default version policy: the highest version only. */
export const LATEST_ONE: VersionPolicy = Object.freeze({ kind: 'latest', count: 1 });

class Reader {
  constructor(
    readonly message: TextMessage,
    readonly where: string,
  ) {}

  fail(field: string, what: string): never {
    throw new TrantorError('BAD_MANIFEST', `${this.where}${field}: ${what}`);
  }

  values(field: string): readonly TextValue[] {
    return this.message.fields.get(field) ?? [];
  }

  one(field: string): TextValue | undefined {
    const values = this.values(field);
    if (values.length > 1) this.fail(field, `is given ${values.length} times; give it once`);
    return values[0];
  }

  string(field: string): string | undefined {
    const value = this.one(field);
    if (value === undefined) return undefined;
    if (value.kind !== 'string') this.fail(field, `expected a quoted string, got ${describe(value)}`);
    return value.value;
  }

  integer(field: string, value: TextValue | undefined = this.one(field)): number | undefined {
    if (value === undefined) return undefined;
    if (value.kind !== 'number' || !Number.isSafeInteger(value.value)) this.fail(field, `expected an integer, got ${describe(value)}`);
    return value.value;
  }

  integers(field: string): number[] {
    return this.values(field).map((value) => this.integer(field, value)!);
  }

  identifier(field: string): string | undefined {
    const value = this.one(field);
    if (value === undefined) return undefined;
    if (value.kind !== 'identifier') this.fail(field, `expected a name (such as TYPE_FP32), got ${describe(value)}`);
    return value.value;
  }

  bool(field: string): boolean | undefined {
    const value = this.one(field);
    if (value === undefined) return undefined;
    if (value.kind !== 'identifier' || (value.value !== 'true' && value.value !== 'false')) this.fail(field, `expected true or false, got ${describe(value)}`);
    return value.value === 'true';
  }

  messages(field: string): Reader[] {
    return this.values(field).map((value, i) => {
      if (value.kind !== 'message') this.fail(field, `expected a message { … }, got ${describe(value)}`);
      return new Reader(value.value, `${this.where}${field}[${i}].`);
    });
  }

  message1(field: string): Reader | undefined {
    const value = this.one(field);
    if (value === undefined) return undefined;
    if (value.kind !== 'message') this.fail(field, `expected a message { … }, got ${describe(value)}`);
    return new Reader(value.value, `${this.where}${field}.`);
  }
}

function describe(value: TextValue): string {
  switch (value.kind) {
    case 'message':
      return 'a message';
    case 'string':
      return JSON.stringify(value.value);
    case 'number':
      return value.text;
    default:
      return value.value;
  }
}

function tensorOf(reader: Reader): TensorConfig {
  const name = reader.string('name');
  if (name === undefined || name === '') reader.fail('name', 'is required');
  const type = reader.identifier('data_type');
  if (type === undefined) reader.fail('data_type', `is required (one of ${Object.keys(TRITON_DATATYPES).join(', ')})`);
  const datatype = TRITON_DATATYPES[type];
  if (datatype === undefined) {
    reader.fail('data_type', `${type} is not served here; ONNX models take ${Object.keys(TRITON_DATATYPES).join(', ')}`);
  }
  const dims = reader.integers('dims');
  if (dims.some((d) => d < -1)) reader.fail('dims', `expected sizes (-1 for any size), got [${dims.join(', ')}]`);
  const reshapeOf = reader.message1('reshape');
  const tensor: { -readonly [K in keyof TensorConfig]: TensorConfig[K] } = { name, datatype, dims };
  if (reshapeOf !== undefined) tensor.reshape = reshapeOf.integers('shape');
  if (reader.bool('optional') === true) tensor.optional = true;
  return tensor;
}

function versionPolicyOf(reader: Reader | undefined): VersionPolicy {
  if (reader === undefined) return LATEST_ONE;
  const kinds = ['latest', 'all', 'specific'].filter((kind) => reader.values(kind).length > 0);
  if (kinds.length !== 1) reader.fail('', `expected one of latest { num_versions: N }, all { } or specific { versions: [...] }${kinds.length > 1 ? `, got ${kinds.join(' and ')}` : ''}`);
  const latest = reader.message1('latest');
  if (latest !== undefined) {
    const count = latest.integer('num_versions') ?? 1;
    if (count < 1) latest.fail('num_versions', `expected 1 or more, got ${count}`);
    return { kind: 'latest', count };
  }
  const specific = reader.message1('specific');
  if (specific !== undefined) {
    const versions = specific.integers('versions');
    if (versions.length === 0) specific.fail('versions', 'names no version; list the versions to serve');
    return { kind: 'specific', versions };
  }
  reader.message1('all');
  return { kind: 'all' };
}

/** A `config.pbtxt`'s text as a ModelConfig; `source` (its path) starts every error. */
export function parseModelConfig(text: string, source: string): ModelConfig {
  const reader = new Reader(parseTextFormat(text, source), `${source}: `);
  const maxBatchSize = reader.integer('max_batch_size') ?? 0;
  if (maxBatchSize < 0) reader.fail('max_batch_size', `expected 0 (no batching) or more, got ${maxBatchSize}`);
  const config: { -readonly [K in keyof ModelConfig]: ModelConfig[K] } = {
    maxBatchSize,
    inputs: reader.messages('input').map(tensorOf),
    outputs: reader.messages('output').map(tensorOf),
    versionPolicy: versionPolicyOf(reader.message1('version_policy')),
  };
  const name = reader.string('name');
  const platform = reader.string('platform');
  const backend = reader.string('backend');
  const file = reader.string('default_model_filename');
  if (name !== undefined && name !== '') config.name = name;
  if (platform !== undefined && platform !== '') config.platform = platform;
  if (backend !== undefined && backend !== '') config.backend = backend;
  if (file !== undefined && file !== '') config.defaultModelFilename = file;
  for (const [key, list] of [['input', config.inputs], ['output', config.outputs]] as const) {
    const seen = new Set<string>();
    list.forEach((tensor, i) => {
      if (seen.has(tensor.name)) reader.fail(`${key}[${i}].name`, `"${tensor.name}" is named twice`);
      seen.add(tensor.name);
    });
  }
  return config;
}
