/**
 * `TritonOnnxServer`: TRITON_SERVER for ONNX models, in the Node host. It reads a Triton model
 * repository (repository.ts), loads each served version with ONNX Runtime (one `OnnxModel`, whose
 * runs happen in a worker thread), and answers the Open Inference Protocol as Triton does:
 * inputs by name, datatypes and shapes checked against the model configuration (the first
 * dimension being the batch when `max_batch_size` > 0), the requested outputs or all, each named
 * as the model names it. Errors are worded as Triton words them, naming the input and what was
 * expected.
 *
 * Parameters (the graph node's): `model_uri` the repository folder (set by `trantor up` from
 * `modelUri`), `model_name` the model to serve when the repository holds several.
 */
import { COMPONENT_ENV, TrantorError, type V2ModelMetadata, type V2Tensor, type V2TensorMetadata } from '../../../protocol/index.ts';
import type { SeldonComponent, V2NativeRequest, V2NativeResponse } from '../../contract.ts';
import { OnnxModel, type OnnxTensor, type OnnxValueInfo } from '../../onnx/index.ts';
import type { ModelConfig, TensorConfig } from './config.ts';
import { ONNX_PLATFORM, locateTritonModel, type RepositoryModel } from './repository.ts';
import { ONNX_TYPE_OF_V2, V2_TYPE_OF_ONNX, onnxTensorOf, v2TensorOf } from './tensors.ts';

function bad(message: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', message);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Whether `shape` fits `pattern` (-1 matching any size). */
function fits(shape: readonly number[], pattern: readonly number[]): boolean {
  return shape.length === pattern.length && pattern.every((d, i) => d === -1 || d === shape[i]);
}

/** `pattern` with its one -1 (if any) solved so that it holds `count` elements. */
function solve(pattern: readonly number[], count: number): number[] {
  const known = pattern.reduce((product, d) => (d === -1 ? product : product * d), 1);
  return pattern.map((d) => (d === -1 ? (known === 0 ? 0 : count / known) : d));
}

function stringParameter(parameters: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = parameters[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new TrantorError('BAD_MANIFEST', `parameter ${name}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** The configuration completed from the model, as Triton auto-completes an ONNX model's: every tensor input and output, symbolic dimensions -1. */
function completed(config: ModelConfig | undefined, name: string, model: OnnxModel): ModelConfig {
  const fromModel = (infos: readonly OnnxValueInfo[]): TensorConfig[] =>
    infos.flatMap((info) => (info.isTensor ? [{ name: info.name, datatype: V2_TYPE_OF_ONNX[info.type], dims: info.shape.map((d) => (typeof d === 'number' ? d : -1)) }] : []));
  const base: ModelConfig = config ?? { maxBatchSize: 0, inputs: [], outputs: [], versionPolicy: { kind: 'latest', count: 1 } };
  // With batching, `dims` leave out the model's first (batch) dimension.
  const own = (infos: readonly OnnxValueInfo[]): TensorConfig[] => fromModel(infos).map((t) => (base.maxBatchSize > 0 ? { ...t, dims: t.dims.slice(1) } : t));
  return {
    ...base,
    name,
    inputs: base.inputs.length > 0 ? base.inputs : own(model.inputs),
    outputs: base.outputs.length > 0 ? base.outputs : own(model.outputs),
  };
}

/** Refuses a configuration that does not describe the model, naming the tensor and what differs. */
function checkAgainstModel(config: ModelConfig, model: OnnxModel, where: string): void {
  const check = (kind: 'input' | 'output', tensors: readonly TensorConfig[], infos: readonly OnnxValueInfo[]): void => {
    for (const tensor of tensors) {
      const info = infos.find((i) => i.name === tensor.name);
      if (info === undefined || !info.isTensor) {
        const names = infos.filter((i) => i.isTensor).map((i) => i.name);
        throw new TrantorError('BAD_MANIFEST', `${where}: ${kind} '${tensor.name}' is not a tensor ${kind} of the model (its ${kind}s: ${names.join(', ')})`);
      }
      if (ONNX_TYPE_OF_V2[tensor.datatype] !== info.type) {
        throw new TrantorError('BAD_MANIFEST', `${where}: ${kind} '${tensor.name}' is configured as ${tensor.datatype}, but the model's is ${V2_TYPE_OF_ONNX[info.type] ?? info.type}`);
      }
      const own = [...(config.maxBatchSize > 0 ? [-1] : []), ...(tensor.reshape ?? tensor.dims)];
      const modelShape = info.shape.map((d) => (typeof d === 'number' ? d : -1));
      if (own.length !== modelShape.length || own.some((d, i) => d !== -1 && modelShape[i] !== -1 && d !== modelShape[i])) {
        throw new TrantorError(
          'BAD_MANIFEST',
          `${where}: ${kind} '${tensor.name}' has dims ${shapeText(own)}${config.maxBatchSize > 0 ? ' (with the batch dimension)' : ''}, but the model's shape is ${shapeText(modelShape)}`,
        );
      }
    }
  };
  check('input', config.inputs, model.inputs);
  check('output', config.outputs, model.outputs);
  const missing = model.inputs.filter((i) => !config.inputs.some((t) => t.name === i.name)).map((i) => i.name);
  if (missing.length > 0) throw new TrantorError('BAD_MANIFEST', `${where}: the model's input(s) ${missing.join(', ')} are not configured; list every input the model takes`);
}

export class TritonOnnxServer implements SeldonComponent {
  readonly #repository: string;
  readonly #modelName: string | undefined;
  /** The graph node's name: the executor calls the node by it, so it is answered as the model's too. */
  readonly #node: string | undefined;
  #located: RepositoryModel | undefined;
  #config: ModelConfig | undefined;
  /** Each served version's model, highest last. */
  #versions = new Map<number, OnnxModel>();

  constructor(parameters: Readonly<Record<string, unknown>> = {}) {
    const repository = stringParameter(parameters, 'model_uri');
    if (repository === undefined) throw new TrantorError('BAD_MANIFEST', 'parameter model_uri is required: the Triton model repository folder (modelUri)');
    this.#repository = repository;
    this.#modelName = stringParameter(parameters, 'model_name');
    const node = process.env[COMPONENT_ENV.unitId];
    this.#node = node === undefined || node === '' ? undefined : node;
  }

  /** The model's name (its folder's). */
  get name(): string {
    return this.#located?.name ?? '';
  }

  /** The configuration served: config.pbtxt's, completed from the model where it is silent. */
  get config(): ModelConfig {
    if (this.#config === undefined) throw new TrantorError('UNAVAILABLE', 'the Triton model is not loaded yet');
    return this.#config;
  }

  async load(): Promise<void> {
    const located = locateTritonModel(this.#repository, this.#modelName);
    const where = `${located.dir}/config.pbtxt`;
    const loaded = new Map<number, OnnxModel>();
    try {
      for (const { version, file } of located.versions) loaded.set(version, await OnnxModel.load(file));
      const models = [...loaded.values()];
      const config = completed(located.config, located.name, models[0]!);
      for (const [version, model] of loaded) checkAgainstModel(config, model, located.config === undefined ? `${located.dir}/${version}` : where);
      this.#config = config;
    } catch (err) {
      await Promise.all([...loaded.values()].map((m) => m.close()));
      throw err;
    }
    this.#located = located;
    this.#versions = loaded;
  }

  async close(): Promise<void> {
    const models = [...this.#versions.values()];
    this.#versions = new Map();
    await Promise.all(models.map((m) => m.close()));
  }

  /** The version's model: `version` when named (404 when not served), else the highest. */
  #model(name: string, version: string | undefined): [number, OnnxModel] {
    if (name !== this.name && name !== this.#node) throw new TrantorError('NOT_FOUND', `Request for unknown model: '${name}' is not found; this server serves '${this.name}'`);
    if (version === undefined || version === '') {
      const highest = [...this.#versions.keys()].at(-1)!;
      return [highest, this.#versions.get(highest)!];
    }
    const model = /^\d+$/.test(version) ? this.#versions.get(Number(version)) : undefined;
    if (model === undefined) {
      throw new TrantorError('NOT_FOUND', `Request for unknown model: '${this.name}' version ${version} is not found; versions served: ${[...this.#versions.keys()].join(', ')}`);
    }
    return [Number(version), model];
  }

  readyV2(model: string, version?: string): boolean {
    this.#model(model, version);
    return true;
  }

  metadataV2(model: string, version?: string): V2ModelMetadata {
    this.#model(model, version);
    const config = this.config;
    const meta = (tensor: TensorConfig): V2TensorMetadata => ({ name: tensor.name, datatype: tensor.datatype, shape: [...(config.maxBatchSize > 0 ? [-1] : []), ...tensor.dims] });
    return { name: this.name, versions: [...this.#versions.keys()].map(String), platform: ONNX_PLATFORM, inputs: config.inputs.map(meta), outputs: config.outputs.map(meta) };
  }

  async inferV2(request: V2NativeRequest): Promise<V2NativeResponse> {
    const [version, model] = this.#model(request.model, request.version);
    const config = this.config;
    const name = this.name;
    const feeds: Record<string, OnnxTensor> = {};
    let batch: number | undefined;
    request.inputs.forEach((input) => {
      const tensor = config.inputs.find((t) => t.name === input.name);
      if (tensor === undefined) throw bad(`unexpected inference input '${input.name}' for model '${name}'; its inputs: ${config.inputs.map((t) => t.name).join(', ')}`);
      if (input.name in feeds) throw bad(`input '${input.name}' is given twice`);
      if (input.datatype !== tensor.datatype) throw bad(`inference input '${input.name}' data-type is '${input.datatype}', but model '${name}' expects '${tensor.datatype}'`);
      feeds[input.name] = onnxTensorOf(input, this.#feedShape(input, tensor, (b) => (batch ??= b)));
    });
    const missing = config.inputs.filter((t) => !(t.name in feeds) && t.optional !== true).map((t) => t.name);
    if (missing.length > 0) {
      throw bad(
        `expected ${config.inputs.length} inputs but got ${request.inputs.length} inputs for model '${name}'. ` +
          `Got input(s) [${request.inputs.map((i) => `'${i.name}'`).join(', ')}], but missing required input(s) [${missing.map((m) => `'${m}'`).join(', ')}]. Please provide all required input(s).`,
      );
    }
    const wanted = (request.message.outputs ?? []).map((o) => o.name);
    for (const output of wanted) {
      if (!config.outputs.some((t) => t.name === output)) throw bad(`unexpected inference output '${output}' for model '${name}'; its outputs: ${config.outputs.map((t) => t.name).join(', ')}`);
    }
    const names = wanted.length > 0 ? [...new Set(wanted)] : config.outputs.map((t) => t.name);
    const results = await model.run(feeds, names);
    const outputs: V2Tensor[] = names.map((output) => {
      const tensor = config.outputs.find((t) => t.name === output)!;
      const result = results[output];
      if (result === undefined) throw new TrantorError('MODEL_ERROR', `the model gave no output '${output}'`);
      return v2TensorOf(output, result, this.#answerShape(result, tensor));
    });
    return { model_name: name, model_version: String(version), outputs };
  }

  /** The shape the model takes an input in, after checking the request's against the configuration. */
  #feedShape(input: V2Tensor, tensor: TensorConfig, batchOf: (b: number) => number): number[] {
    const config = this.config;
    const batched = config.maxBatchSize > 0;
    const expected = [...(batched ? [-1] : []), ...tensor.dims];
    if (!fits(input.shape, expected)) {
      throw bad(`unexpected shape for input '${input.name}' for model '${this.name}'. Expected ${shapeText(expected)}, got ${shapeText(input.shape)}`);
    }
    if (batched) {
      const size = input.shape[0]!;
      if (size < 1 || size > config.maxBatchSize) throw bad(`inference request batch-size must be <= ${config.maxBatchSize} for '${this.name}' (input '${input.name}' has ${size})`);
      const batch = batchOf(size);
      if (batch !== size) throw bad(`input '${input.name}' has batch size ${size}, but another input has ${batch}; every input of one request has the same batch size`);
    }
    if (tensor.reshape === undefined) return input.shape;
    const rest = batched ? input.shape.slice(1) : input.shape;
    const count = rest.reduce((a, b) => a * b, 1);
    return [...(batched ? [input.shape[0]!] : []), ...solve(tensor.reshape, count)];
  }

  /** The shape an output is answered in: the model's own, or the configured dims when the output is reshaped. */
  #answerShape(result: OnnxTensor, tensor: TensorConfig): number[] {
    if (tensor.reshape === undefined) return [...result.dims];
    const batched = this.config.maxBatchSize > 0;
    const rest = batched ? result.dims.slice(1) : result.dims;
    return [...(batched ? [result.dims[0]!] : []), ...solve(tensor.dims, rest.reduce((a, b) => a * b, 1))];
  }
}
