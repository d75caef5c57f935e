/**
 * SKLEARN_SERVER served as ONNX in Node (`trantor.io/sklearn-onnx: "true"`): the scikit-learn
 * model in `model_uri` converted once, at load, by skl2onnx (python/trantor_runtime/onnx_export.py,
 * run as a child process with the Python the plan found) — or the `model.onnx` beside
 * `model.joblib` — and run by ONNX Runtime in a worker thread (../onnx/).
 *
 * Before serving, the ONNX model answers the helper's sample rows and its answers are compared
 * with the estimator's own `predict_proba`, `predict` and `decision_function` on the same rows;
 * a difference over SKLEARN_ONNX_TOLERANCE refuses the start, naming the difference, the row and
 * the fix. It answers as SKLEARN_SERVER does: `predict_proba` by default, or the `method`
 * parameter's; columns named by the Node host (`t:0`, `t:1`, …).
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V2Tensor } from '../../protocol/index.ts';
import type { Features, ModelMetadata, SeldonComponent, V2NativeRequest, V2NativeResponse } from '../contract.ts';
import { HostSetupError, MicroserviceError } from '../errors.ts';
import { OnnxModel, type OnnxTensor, type OnnxValueInfo } from '../onnx/index.ts';

/** The environment variable naming the Python that runs the export helper (set by the local plan). */
export const SKLEARN_ONNX_PYTHON_ENV = 'TRANTOR_SKLEARN_ONNX_PYTHON';
/** Where converted ONNX files are written (default: `<tmpdir>/trantor-sklearn-onnx`). */
export const SKLEARN_ONNX_CACHE_ENV = 'TRANTOR_SKLEARN_ONNX_CACHE';
/**
 * The largest difference allowed between ONNX Runtime's answer and scikit-learn's on a sample
 * row, as |onnx − sklearn| / max(1, |sklearn|): for probabilities, the absolute difference.
 */
export const SKLEARN_ONNX_TOLERANCE = 1e-5;
/** The methods SKLEARN_SERVER's `method` parameter takes. */
export const SKLEARN_METHODS = ['predict_proba', 'predict', 'decision_function'] as const;
export type SklearnMethod = (typeof SKLEARN_METHODS)[number];

const HELPER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python', 'trantor_runtime', 'onnx_export.py');
const MODEL_FILE = 'model.joblib';
const EXPORT_TIMEOUT_MS = 300_000;
const FIX = 'to serve it anyway, remove the trantor.io/sklearn-onnx annotation (the Python host then serves it with scikit-learn)';

/** What onnx_export.py answers on stdout. */
export interface ExportAnswer {
  onnx: string;
  source: string;
  estimator: string;
  sklearn: string;
  n_features: number;
  input: string | null;
  rows: number[][];
  rows_from: string;
  expected: Partial<Record<SklearnMethod, unknown[]>>;
}

/** The ONNX outputs that answer each method, by skl2onnx's names (`label`, `probabilities`) or position. */
export function outputsFor(outputs: readonly OnnxValueInfo[]): Partial<Record<SklearnMethod, string>> {
  const tensors = outputs.filter((o) => o.isTensor).map((o) => o.name);
  const found: Partial<Record<SklearnMethod, string>> = {};
  const predict = tensors.includes('label') ? 'label' : tensors.includes('variable') ? 'variable' : tensors[0];
  if (predict !== undefined) found.predict = predict;
  const proba = tensors.includes('probabilities') ? 'probabilities' : tensors.find((t) => t !== predict && t !== 'decision_function');
  if (proba !== undefined) found.predict_proba = proba;
  if (tensors.includes('decision_function')) found.decision_function = 'decision_function';
  return found;
}

/** A tensor's elements as numbers (or strings), flat. */
function flat(tensor: OnnxTensor): (number | string)[] {
  if (tensor.type === 'string') return [...(tensor.data as readonly string[])];
  return Array.from(tensor.data as ArrayLike<number | bigint>, (x) => Number(x));
}

/** A tensor as scikit-learn shapes its answer: one value per row for [N] or [N, 1] of predict, else rows. */
export function nested(tensor: OnnxTensor, method: SklearnMethod): unknown[] {
  const values = flat(tensor);
  const [rows = 0, ...rest] = tensor.dims;
  const width = rest.reduce((a, b) => a * b, 1);
  if (rest.length === 0 || (method === 'predict' && width === 1)) return values;
  return Array.from({ length: rows }, (_, r) => values.slice(r * width, (r + 1) * width));
}

export interface Difference {
  method: SklearnMethod;
  /** The largest |onnx − sklearn| / max(1, |sklearn|), Infinity for a label that differs. */
  difference: number;
  row: number;
  onnx: unknown;
  sklearn: unknown;
}

/** The largest difference between ONNX's and scikit-learn's answers to the same rows. */
export function largestDifference(method: SklearnMethod, onnx: readonly unknown[], sklearn: readonly unknown[]): Difference {
  let worst: Difference = { method, difference: 0, row: -1, onnx: undefined, sklearn: undefined };
  const rows = Math.max(onnx.length, sklearn.length);
  for (let r = 0; r < rows; r++) {
    const a = onnx[r];
    const b = sklearn[r];
    const as: unknown[] = Array.isArray(a) ? a : [a];
    const bs: unknown[] = Array.isArray(b) ? b : [b];
    let d = as.length === bs.length ? 0 : Infinity;
    for (let i = 0; i < Math.min(as.length, bs.length); i++) {
      const x: unknown = as[i];
      const y: unknown = bs[i];
      const here = typeof x === 'number' && typeof y === 'number' ? Math.abs(x - y) / Math.max(1, Math.abs(y)) : x === y ? 0 : Infinity;
      if (!(here <= d)) d = here; // NaN counts as a difference
    }
    if (!(d <= worst.difference)) worst = { method, difference: d, row: r, onnx: a, sklearn: b };
  }
  return worst;
}

/** SKLEARN_SERVER's own refusal of a method the estimator lacks, and ours of one the ONNX model lacks. */
function checkMethod(method: SklearnMethod, modelFile: string, answer: ExportAnswer, outputs: Partial<Record<SklearnMethod, string>>, onnxOutputs: readonly OnnxValueInfo[]): void {
  const has = SKLEARN_METHODS.filter((m) => answer.expected[m] !== undefined);
  if (answer.expected[method] === undefined) {
    throw new HostSetupError(
      `the model in ${modelFile} (a ${answer.estimator}) has no ${method} method; set the parameter method to one it has (${has.join(', ')})`,
    );
  }
  if (outputs[method] === undefined) {
    throw new HostSetupError(
      `parameter method ${method}: the ONNX model (${answer.onnx}) has no output for it (its outputs: ${onnxOutputs.map((o) => o.name).join(', ')}; ` +
        `decision_function needs an output named decision_function); set method to ${SKLEARN_METHODS.filter((m) => outputs[m] !== undefined).join(' or ')}, or ${FIX}`,
    );
  }
}

/** Runs the export helper; resolves with its answer or rejects with a HostSetupError saying why. */
function runExport(python: string, modelFile: string, cacheDir: string): Promise<ExportAnswer> {
  return new Promise((done, fail) => {
    execFile(python, [HELPER, modelFile, cacheDir], { timeout: EXPORT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) {
        const said = stderr.trim().split('\n').filter(Boolean);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') fail(new HostSetupError(`cannot run ${python} (${SKLEARN_ONNX_PYTHON_ENV}) to convert the model to ONNX: it does not exist`));
        else if (err.killed) fail(new HostSetupError(`converting ${modelFile} to ONNX took more than ${EXPORT_TIMEOUT_MS / 1000} s (${python} ${HELPER})`));
        else if (err.code === 2) fail(new HostSetupError(`not served as ONNX: ${said.at(-1) ?? 'the export helper failed'}; ${FIX}`));
        else fail(new HostSetupError(`the ONNX export helper failed (${python} ${HELPER} ${modelFile}): ${said.slice(-5).join(' | ') || err.message}`));
        return;
      }
      try {
        done(JSON.parse(stdout) as ExportAnswer);
      } catch {
        fail(new HostSetupError(`the ONNX export helper answered something that is not JSON: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

/** The local `model.joblib` a `model_uri` names (a folder, a file:// URI or a .joblib/.pkl file). */
export function modelFileOf(modelUri: unknown): string {
  if (typeof modelUri !== 'string' || modelUri.trim() === '') {
    throw new HostSetupError(`parameter model_uri is missing; set the graph node's modelUri to the folder that holds ${MODEL_FILE}`);
  }
  const uri = modelUri.trim();
  let path = uri;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'file') path = fileURLToPath(uri);
  else if (scheme !== undefined) {
    throw new HostSetupError(
      `modelUri ${uri}: a remote model is fetched by trantor up before the server starts, which does not happen for a model served in process; ` +
        `drop the trantor.io/in-process annotation, or copy the model to a local folder and use its path`,
    );
  }
  path = resolve(path);
  if (!existsSync(path)) throw new HostSetupError(`modelUri ${uri}: ${path} does not exist`);
  if (statSync(path).isDirectory()) {
    const file = join(path, MODEL_FILE);
    if (!existsSync(file)) throw new HostSetupError(`modelUri ${uri}: no ${MODEL_FILE} in ${path}; save the estimator with joblib.dump(model, "${MODEL_FILE}")`);
    return file;
  }
  if (!/\.(?:joblib|pkl|pickle)$/.test(path)) throw new HostSetupError(`modelUri ${uri}: expected a folder holding ${MODEL_FILE}, or a .joblib or .pkl file`);
  return path;
}

/** Rows of numbers as the ONNX input wants them, or a 400 saying what was wrong. */
export function toRows(X: Features, nFeatures: number): { rows: number; data: number[] } {
  if (!Array.isArray(X)) throw new MicroserviceError('expected rows of numbers in data.ndarray or data.tensor', 400);
  const rows: unknown[] = X.length > 0 && !Array.isArray(X[0]) ? [X] : X;
  const data: number[] = [];
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) throw new MicroserviceError(`row ${r}: expected a row of ${nFeatures} numbers, got ${JSON.stringify(row)}`, 400);
    if (row.length !== nFeatures) throw new MicroserviceError(`expected ${nFeatures} features per row, got ${row.length} (row ${r})`, 400);
    row.forEach((x, i) => {
      if (typeof x !== 'number') throw new MicroserviceError(`row ${r}, feature ${i}: expected a number, got ${JSON.stringify(x)}`, 400);
      data.push(x);
    });
  });
  if (rows.length === 0) throw new MicroserviceError(`expected rows of ${nFeatures} features, got none`, 400);
  return { rows: rows.length, data };
}

/** The outputs SKLEARN_SERVER answers under V2 (MLServer's sklearn runtime), `predict` when none are asked for. */
export const SKLEARN_V2_OUTPUTS = ['predict', 'predict_proba', 'transform'] as const;

/**
 * MLServer-convention V2 outputs from the model's answers: each requested name (default
 * `predict`) as a tensor of that name — predict_proba as FP64 [rows, classes], predict as INT64
 * (integer labels), FP64 (a regressor's) or BYTES (string labels), a 1-D result shaped [rows, 1].
 * A name SKLEARN_SERVER does not answer is a 400 naming `outputs[i].name`.
 */
export function sklearnV2Outputs(wanted: readonly string[], answers: Partial<Record<'predict' | 'predict_proba', OnnxTensor>>): V2Tensor[] {
  const names = wanted.length === 0 ? ['predict'] : wanted;
  return names.map((name, i) => {
    if (!(SKLEARN_V2_OUTPUTS as readonly string[]).includes(name)) {
      throw new MicroserviceError(`outputs[${i}].name: SKLEARN_SERVER answers 'predict', 'predict_proba' and 'transform' (MLServer's outputs), got '${name}'`, 400);
    }
    const tensor = answers[name as 'predict' | 'predict_proba'];
    if (tensor === undefined) throw new MicroserviceError(`outputs[${i}].name: this model served as ONNX does not answer '${name}'`, 400);
    // As the Python host answers: a 1-D result of N rows has shape [N, 1].
    const dims = tensor.dims.length === 1 ? [tensor.dims[0]!, 1] : [...tensor.dims];
    if (tensor.type === 'string') {
      const encoder = new TextEncoder();
      return { name, shape: dims, datatype: 'BYTES', values: (tensor.data as readonly string[]).map((s) => encoder.encode(s)) };
    }
    if (tensor.type === 'int64') return { name, shape: dims, datatype: 'INT64', values: tensor.data as BigInt64Array };
    return { name, shape: dims, datatype: 'FP64', values: Float64Array.from(tensor.data as ArrayLike<number>) };
  });
}

/**
 * A server dropped without close() — an in-process component replaced or removed by `trantor up`,
 * which has no hook to close it — stops its ONNX Runtime worker once it is collected.
 */
const closeWhenDropped = new FinalizationRegistry<OnnxModel>((model) => void model.close());

/** SKLEARN_SERVER's parameters, as the Node host passes them to the constructor. */
export interface SklearnOnnxParameters {
  model_uri?: unknown;
  method?: unknown;
  /** The Python that runs the export helper; the environment's TRANTOR_SKLEARN_ONNX_PYTHON otherwise. */
  python?: unknown;
  [name: string]: unknown;
}

export class SklearnOnnxServer implements SeldonComponent {
  readonly method: SklearnMethod;
  readonly modelFile: string;
  readonly #python: string;
  readonly #cacheDir: string;
  #model: OnnxModel | undefined;
  #input: { name: string; type: 'float32' | 'float64' } | undefined;
  #outputs: Partial<Record<SklearnMethod, string>> = {};
  #answer: ExportAnswer | undefined;

  constructor(parameters: SklearnOnnxParameters = {}, env: NodeJS.ProcessEnv = process.env) {
    const method = parameters.method ?? 'predict_proba';
    if (typeof method !== 'string' || !(SKLEARN_METHODS as readonly string[]).includes(method)) {
      throw new HostSetupError(`parameter method: expected one of ${SKLEARN_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
    }
    this.method = method as SklearnMethod;
    this.modelFile = modelFileOf(parameters.model_uri);
    const python = typeof parameters.python === 'string' && parameters.python !== '' ? parameters.python : env[SKLEARN_ONNX_PYTHON_ENV];
    this.#python = python === undefined || python === '' ? 'python3' : python;
    const cache = env[SKLEARN_ONNX_CACHE_ENV];
    this.#cacheDir = cache === undefined || cache === '' ? join(tmpdir(), 'trantor-sklearn-onnx') : cache;
  }

  /** How the sample rows were drawn and where the ONNX model came from, once loaded. */
  get exported(): ExportAnswer | undefined {
    return this.#answer;
  }

  async load(): Promise<void> {
    try {
      await this.#load();
    } catch (err) {
      // A refusal is a message for the user, not a crash: the host prints it without a stack.
      if (err instanceof HostSetupError) err.stack = err.message;
      throw err;
    }
  }

  async #load(): Promise<void> {
    const answer = await runExport(this.#python, this.modelFile, this.#cacheDir);
    const model = await OnnxModel.load(answer.onnx);
    try {
      const input = model.inputs.find((i) => answer.input === null || i.name === answer.input);
      if (model.inputs.length !== 1 || input === undefined || !input.isTensor || (input.type !== 'float32' && input.type !== 'float64')) {
        throw new HostSetupError(
          `the ONNX model ${answer.onnx} must take one float tensor of rows (it takes ${model.inputs.map((i) => `${i.name}${i.isTensor ? ` ${i.type}` : ''}`).join(', ')}); ${FIX}`,
        );
      }
      this.#input = { name: input.name, type: input.type };
      this.#outputs = outputsFor(model.outputs);
      checkMethod(this.method, this.modelFile, answer, this.#outputs, model.outputs);
      this.#model = model;
      await this.#check(answer);
      this.#answer = answer;
      closeWhenDropped.register(this, model, this);
    } catch (err) {
      this.#model = undefined;
      await model.close();
      throw err;
    }
  }

  /** Runs the sample rows and refuses when ONNX's answers differ from scikit-learn's beyond the tolerance. */
  async #check(answer: ExportAnswer): Promise<void> {
    const methods = SKLEARN_METHODS.filter((m) => answer.expected[m] !== undefined && this.#outputs[m] !== undefined);
    const got = await this.#run(answer.rows.length, answer.rows.flat(), methods);
    for (const method of methods) {
      const worst = largestDifference(method, nested(got[method]!, method), answer.expected[method]!);
      if (worst.difference > SKLEARN_ONNX_TOLERANCE) {
        throw new HostSetupError(
          `not served as ONNX: its ${method} differs from scikit-learn's by ${worst.difference.toPrecision(3)} (tolerance ${SKLEARN_ONNX_TOLERANCE}) ` +
            `on sample row ${worst.row} ${JSON.stringify(answer.rows[worst.row])}: ONNX ${JSON.stringify(worst.onnx)}, scikit-learn ${JSON.stringify(worst.sklearn)} ` +
            `(ONNX from ${answer.source}; rows ${answer.rows_from}); ${FIX}`,
        );
      }
    }
  }

  async #run(rows: number, data: readonly number[], methods: readonly SklearnMethod[]): Promise<Partial<Record<SklearnMethod, OnnxTensor>>> {
    const model = this.#model;
    const input = this.#input;
    if (model === undefined || input === undefined) throw new MicroserviceError('the model is not loaded', 503);
    const nFeatures = data.length / Math.max(1, rows);
    const tensor: OnnxTensor = { type: input.type, dims: [rows, nFeatures], data: input.type === 'float32' ? Float32Array.from(data) : Float64Array.from(data) };
    const names = [...new Set(methods.map((m) => this.#outputs[m]!))];
    const out = await model.run({ [input.name]: tensor }, names);
    const result: Partial<Record<SklearnMethod, OnnxTensor>> = {};
    for (const m of methods) {
      const tensor = out[this.#outputs[m]!];
      if (tensor !== undefined) result[m] = tensor;
    }
    return result;
  }

  get #nFeatures(): number {
    return this.#answer?.n_features ?? 0;
  }

  async predict(X: Features): Promise<unknown[]> {
    const { rows, data } = toRows(X, this.#nFeatures);
    const out = await this.#run(rows, data, [this.method]);
    return nested(out[this.method]!, this.method);
  }

  /**
   * The Open Inference Protocol, as SKLEARN_SERVER answers it under `protocol: v2` (MLServer's
   * sklearn runtime): one numeric input of rows (shape [rows, features], or [features] for one
   * row), run as it came, flat; the outputs the request names (`predict` by default,
   * `predict_proba`), see sklearnV2Outputs.
   */
  async inferV2(request: V2NativeRequest): Promise<V2NativeResponse> {
    if (request.inputs.length !== 1) throw new MicroserviceError(`inputs: SKLEARN_SERVER takes one input of rows, got ${request.inputs.length}`, 400);
    const input = request.inputs[0]!;
    if (input.datatype === 'BYTES') throw new MicroserviceError(`inputs[0] (${input.name}): expected numbers, got BYTES`, 400);
    const data = Array.from(input.values as ArrayLike<number | bigint>, Number);
    const nFeatures = this.#nFeatures;
    if (data.length === 0) throw new MicroserviceError(`expected rows of ${nFeatures} features, got none`, 400);
    const columns = input.shape.length === 1 ? data.length : (input.shape[input.shape.length - 1] ?? 0);
    if (columns !== nFeatures) throw new MicroserviceError(`expected ${nFeatures} features per row, got ${columns} (inputs[0] ${input.name} of shape [${input.shape.join(', ')}])`, 400);
    const wanted = (request.message.outputs ?? []).map((o) => o.name);
    const asked = (wanted.length === 0 ? ['predict'] : wanted).filter((n): n is 'predict' | 'predict_proba' => n === 'predict' || n === 'predict_proba');
    const methods = asked.filter((m) => this.#outputs[m] !== undefined);
    return { model_name: request.model, outputs: sklearnV2Outputs(wanted, await this.#run(data.length / columns, data, methods)) };
  }

  /** Stops the ONNX Runtime worker. */
  async close(): Promise<void> {
    const model = this.#model;
    this.#model = undefined;
    closeWhenDropped.unregister(this);
    await model?.close();
  }

  initMetadata(): ModelMetadata {
    const answer = this.#answer;
    const n = answer?.n_features ?? -1;
    return {
      versions: [`${answer?.estimator ?? 'estimator'}/sklearn-${answer?.sklearn ?? ''}/onnx`],
      platform: 'sklearn',
      inputs: [{ name: 'input', datatype: this.#input?.type === 'float64' ? 'FP64' : 'FP32', shape: [-1, n] }],
      outputs: [{ name: this.method, datatype: 'FP64', shape: this.method === 'predict' ? [-1] : [-1, -1] }],
    };
  }
}
