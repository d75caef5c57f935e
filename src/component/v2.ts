/**
 * The Node host's Open Inference Protocol (V2) REST face, for components of `protocol: v2`
 * graphs: the executor calls a node at `/v2/models/<node>/infer`, `…/ready` and `/v2/models/<node>`.
 * The user's class keeps Seldon's contract: an inference is the method its service type answers
 * (`predict` for a MODEL, `transformInput` for a TRANSFORMER, `transformOutput` for an
 * OUTPUT_TRANSFORMER), called as the Seldon path calls it:
 *
 * - one input arrives as `X`, nested arrays in the input's shape, with `names` its name;
 *   several inputs as one object of those arrays by input name (`jsonData`);
 * - an array answer is one output named `predict` (as MLServer names a model's output), its
 *   shape the array's and its datatype read from its elements (booleans BOOL, strings BYTES,
 *   numbers FP64 — or INT64 when they are all integers and no input was floating point); an
 *   object of arrays is one output per key; a string is a BYTES output of one element.
 *
 * A component with `inferV2` (contract.ts) speaks V2 itself: inferences, model metadata and
 * readiness go to its `inferV2`, `metadataV2` and `readyV2` with typed tensors, no Seldon message
 * between, and it decides which model names and versions it answers.
 *
 * Otherwise the host serves one model, so any `<model>` name is it. Failures are V2 error bodies,
 * `{"error": "..."}`, with the status the Seldon path would answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendFailure as sendHttpFailure, type BodyLimit } from '../http/index.ts';
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  TrantorError,
  asTrantorError,
  assertJsonDepth,
  binaryOutputsWanted,
  decodeV2Request,
  encodeV2Response,
  flattenV2Data,
  isJsonNumber,
  parseInferenceHeaderLength,
  stringifyJson,
  v2DataFromValues,
  v2ErrorBody,
  v2TensorFromJson,
  type SeldonMessage,
  type V2Data,
  type V2Datatype,
  type V2DecodedBody,
  type V2Element,
  type V2InferenceRequest,
  type V2ModelMetadata,
  type V2Parameters,
  type V2TensorMetadata,
  type V2ResponseOutput,
  type V2Tensor,
  v2TensorToJson,
} from '../protocol/index.ts';
import type { ServiceType } from './contract.ts';
import type { ComponentMethod, Dispatcher } from './dispatch.ts';

const JSON_TYPE = 'application/json';
const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/infer|\/ready)?$/;

const METHOD_OF_TYPE: Partial<Record<ServiceType, ComponentMethod>> = {
  MODEL: 'predict',
  TRANSFORMER: 'transformInput',
  OUTPUT_TRANSFORMER: 'transformOutput',
};

function send(res: ServerResponse, status: number, body: string | Uint8Array, extra: string[] = [], type = JSON_TYPE): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  res.writeHead(status, ['content-type', type, 'content-length', String(length), ...extra]);
  res.end(body);
}

function fail(res: ServerResponse, err: unknown, extra?: string[]): void {
  const error = asTrantorError(err);
  send(res, error.status, JSON.stringify(v2ErrorBody(error)), extra);
}

/** `data` as nested arrays in `shape` (flat or nested as given). */
function reshape(flat: readonly V2Element[], shape: readonly number[]): V2Data {
  if (shape.length <= 1) return flat.slice();
  const [first, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const out: V2Data = [];
  for (let i = 0; i < first!; i++) out.push(reshape(flat.slice(i * size, (i + 1) * size), rest));
  return out;
}

function nested(listed: V2InferenceRequest['inputs'][number], typed: V2Tensor): V2Data {
  const flat = listed.data !== undefined ? flattenV2Data(listed.data) : flattenV2Data(v2DataFromValues(typed.datatype, typed.values));
  return reshape(flat, listed.shape);
}

/** The Seldon message a V2 request is for the user's method. */
function seldonMessageOf(request: V2DecodedBody<V2InferenceRequest>): SeldonMessage {
  const { inputs } = request.message;
  if (inputs.length === 1) return { data: { names: [inputs[0]!.name], ndarray: nested(inputs[0]!, request.tensors[0]!) } };
  const byName: Record<string, unknown> = {};
  inputs.forEach((input, i) => {
    byName[input.name] = nested(input, request.tensors[i]!);
  });
  return { jsonData: byName };
}

/** The shape of a rectangular nested array; undefined when it is ragged. */
function shapeOf(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return [];
  if (value.length === 0) return [0];
  const inner = value.map(shapeOf);
  const first = inner[0];
  if (first === undefined || inner.some((s) => s === undefined || s.join() !== first.join())) return undefined;
  return [value.length, ...first];
}

const FLOATING: ReadonlySet<V2Datatype> = new Set(['FP16', 'FP32', 'FP64']);

/** An answer's datatype from its elements; `floating` when an input was floating point (2.0 stays FP64). */
function datatypeOf(elements: readonly unknown[], floating: boolean): V2Datatype | undefined {
  if (elements.every((e) => typeof e === 'boolean')) return 'BOOL';
  if (elements.every((e) => typeof e === 'string')) return 'BYTES';
  if (!floating && elements.every((e) => (typeof e === 'number' && Number.isInteger(e)) || (isJsonNumber(e) && /^-?\d+$/.test(e.text)))) return 'INT64';
  if (elements.every((e) => typeof e === 'number' || isJsonNumber(e))) return 'FP64';
  return undefined;
}

function outputOf(name: string, value: unknown, where: string, floating: boolean): V2ResponseOutput {
  const shape = shapeOf(value);
  if (shape === undefined || !Array.isArray(value)) throw new TrantorError('MODEL_ERROR', `${where}: not a rectangular array, so it is not a V2 tensor`);
  const data = flattenV2Data(value as V2Data);
  const datatype = datatypeOf(data, floating) ?? (data.length === 0 ? 'FP64' : undefined);
  if (datatype === undefined) throw new TrantorError('MODEL_ERROR', `${where}: mixes numbers, strings and booleans, so it is not a V2 tensor`);
  return { name, shape, datatype, data };
}

/** The V2 outputs of the user's Seldon answer. */
function outputsOf(reply: SeldonMessage, method: string, floating: boolean): V2ResponseOutput[] {
  const data = reply.data;
  if (data?.tensor !== undefined) return [{ name: 'predict', shape: data.tensor.shape, datatype: datatypeOf(data.tensor.values, floating) ?? 'FP64', data: data.tensor.values }];
  if (data?.ndarray !== undefined) return [outputOf('predict', data.ndarray, `${method}'s answer`, floating)];
  if (typeof reply.strData === 'string') return [{ name: 'predict', shape: [1], datatype: 'BYTES', data: [reply.strData] }];
  const json = reply.jsonData;
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    return Object.entries(json).map(([name, value]) => outputOf(name, value, `${method}'s answer "${name}"`, floating));
  }
  throw new TrantorError('MODEL_ERROR', `${method} answered something that is not a V2 tensor: return an array, or an object of arrays by output name`);
}

/** Whether a path is the V2 face's; the handler answers it. */
export function isV2Path(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/** Answers one V2 request for the model behind `dispatcher`. */
export function handleV2(dispatcher: Dispatcher, serviceType: ServiceType, limit: BodyLimit, req: IncomingMessage, res: ServerResponse, path: string): void {
  const method = req.method ?? 'GET';
  const model = MODEL_PATH.exec(path);
  const action = model?.[3];
  if (action === '/infer') {
    if (method !== 'POST') {
      req.resume();
      return fail(res, new TrantorError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use POST`), ['allow', 'POST']);
    }
    return infer(dispatcher, serviceType, limit, req, res, decodeURIComponent(model![1]!), versionOf(model![2]));
  }
  req.resume();
  if (method !== 'GET' && method !== 'HEAD') return fail(res, new TrantorError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use GET`), ['allow', 'GET, HEAD']);
  if (path === '/v2/health/live') return send(res, 200, '{"live":true}');
  if (path === '/v2') return send(res, 200, JSON.stringify(V2_SERVER_METADATA));
  if (action === '/ready' && dispatcher.v2Native !== undefined) {
    const name = decodeURIComponent(model![1]!);
    v2ModelReady(dispatcher, name, versionOf(model![2])).then(
      () => send(res, 200, JSON.stringify({ name, ready: true })),
      (err: unknown) => fail(res, err),
    );
    return;
  }
  if (path === '/v2/health/ready' || action === '/ready') return send(res, 200, '{"ready":true}');
  if (model === null) return fail(res, new TrantorError('NOT_FOUND', `no such V2 path ${path}; a component serves /v2/models/<model>/infer, …/ready and /v2/models/<model>`));
  v2ModelMetadata(dispatcher, decodeURIComponent(model[1]!), versionOf(model[2])).then(
    (metadata) => send(res, 200, stringifyJson(metadata)),
    (err: unknown) => fail(res, err),
  );
}

/** Whoever asks this host's V2 server metadata (REST's `/v2`, gRPC's ServerMetadata) hears this. */
export const V2_SERVER_METADATA = { name: 'trantor-node-microservice', version: '', extensions: ['binary_tensor_data'] } as const;

function versionOf(segment: string | undefined): string | undefined {
  return segment === undefined ? undefined : decodeURIComponent(segment);
}

/**
 * Resolves when a V2-native component says `model` (and `version`) is ready; rejects with its
 * failure, or UNAVAILABLE when it answers not ready. Any other component is ready once it serves.
 */
export async function v2ModelReady(dispatcher: Dispatcher, model: string, version?: string): Promise<void> {
  const native = dispatcher.v2Native;
  if (native === undefined || (await native.ready(model, version))) return;
  throw new TrantorError('UNAVAILABLE', `model "${model}"${version === undefined ? '' : ` version ${version}`} is not ready`);
}

/**
 * The model metadata a V2 client is told: a V2-native component's `metadataV2`, else the user's
 * `metadata()` fields that V2 has, under `name`.
 */
export async function v2ModelMetadata(dispatcher: Dispatcher, name: string, version?: string): Promise<V2ModelMetadata> {
  const native = dispatcher.v2Native?.metadata(name, version);
  if (native !== undefined) return native;
  const reply = await dispatcher.handle('metadata');
  const given = reply.status === 200 && typeof reply.body === 'object' && reply.body !== null ? (reply.body as Record<string, unknown>) : {};
  // Passed on as given (REST sends them as JSON; gRPC's encoder refuses what it cannot carry).
  const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
  const platform = typeof given['platform'] === 'string' ? given['platform'] : 'trantor-node';
  return { name, versions: list<string>(given['versions']), platform, inputs: list<V2TensorMetadata>(given['inputs']), outputs: list<V2TensorMetadata>(given['outputs']) };
}

/** The user's method a V2 inference calls on a component of `serviceType`; NOT_SUPPORTED for a router or combiner. */
export function v2InferenceMethod(serviceType: ServiceType): ComponentMethod {
  const which = METHOD_OF_TYPE[serviceType];
  if (which === undefined) throw new TrantorError('NOT_SUPPORTED', `a ${serviceType} does not answer V2 inference: a protocol: v2 graph chains models and transformers`);
  return which;
}

/**
 * A V2 answer before encoding: the response's fields, and its outputs — with their elements as
 * JSON (the Seldon-contract path, whose answers are JSON already) or typed (a V2-native component).
 */
export type V2Answer = { fields: V2AnswerFields; outputs: V2ResponseOutput[]; typed?: undefined } | { fields: V2AnswerFields; typed: readonly V2Tensor[]; outputs?: undefined };

export interface V2AnswerFields {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: V2Parameters;
}

/** The answer's outputs as typed tensors (for the binary extension and gRPC). */
export function typedOutputs(answer: V2Answer): V2Tensor[] {
  return answer.typed !== undefined ? [...answer.typed] : answer.outputs.map((output, i) => v2TensorFromJson(output, `outputs[${i}]`));
}

/** The answer's outputs as JSON tensors. */
function jsonOutputs(answer: V2Answer): V2ResponseOutput[] {
  return answer.outputs ?? answer.typed.map((tensor, i) => v2TensorToJson(tensor, `outputs[${i}]`));
}

/** One inference by a V2-native component (`inferV2`), the request's `id` echoed. */
async function inferNative(dispatcher: Dispatcher, request: V2DecodedBody<V2InferenceRequest>, model: string, version: string | undefined): Promise<V2Answer> {
  const answer = await dispatcher.v2Native!.infer({ model, ...(version === undefined ? {} : { version }), message: request.message, inputs: request.tensors });
  const fields: V2AnswerFields = { model_name: answer.model_name };
  if (answer.model_version !== undefined) fields.model_version = answer.model_version;
  if (request.message.id !== undefined) fields.id = request.message.id;
  if (answer.parameters !== undefined) fields.parameters = answer.parameters;
  return { fields, typed: answer.outputs };
}

/**
 * One V2 inference by the user's class, as REST and gRPC both answer it: its `inferV2` when it has
 * one, else the method its service type answers (`which`). A failed call throws with the message
 * and status the Seldon path would answer.
 */
export async function inferV2(dispatcher: Dispatcher, which: ComponentMethod, request: V2DecodedBody<V2InferenceRequest>, model: string, version?: string): Promise<V2Answer> {
  if (dispatcher.v2Native !== undefined) return inferNative(dispatcher, request, model, version);
  const reply = await dispatcher.handle(which, seldonMessageOf(request));
  if (reply.status !== 200) {
    const info = (reply.body as { status?: { info?: unknown } } | undefined)?.status?.info;
    throw new TrantorError('COMPONENT_FAILURE', typeof info === 'string' ? info : `${which} failed`, { status: reply.status });
  }
  const floating = request.message.inputs.some((input) => FLOATING.has(input.datatype));
  const outputs = outputsOf(reply.body as SeldonMessage, which, floating);
  return { fields: { model_name: model, ...(request.message.id === undefined ? {} : { id: request.message.id }) }, outputs };
}

function infer(dispatcher: Dispatcher, serviceType: ServiceType, limit: BodyLimit, req: IncomingMessage, res: ServerResponse, model: string, version: string | undefined): void {
  let which: ComponentMethod;
  try {
    which = dispatcher.v2Native !== undefined ? 'predict' : v2InferenceMethod(serviceType);
  } catch (err) {
    req.resume();
    return fail(res, err);
  }
  readBody(req, limit).then(
    async (body) => {
      try {
        const headerLength = parseInferenceHeaderLength(req.headers[INFERENCE_HEADER_CONTENT_LENGTH]);
        assertJsonDepth(body.subarray(0, headerLength ?? body.length));
        const request = decodeV2Request(body, headerLength);
        const answer = await inferV2(dispatcher, which, request, model, version);
        const asBinary = binaryOutputsWanted(request.message);
        const names = answer.typed ?? answer.outputs;
        if (!names.some((output) => asBinary(output.name))) {
          send(res, 200, stringifyJson({ ...answer.fields, outputs: jsonOutputs(answer) }));
          return;
        }
        const encoded = encodeV2Response(answer.fields, typedOutputs(answer), asBinary);
        const extra = encoded.headerLength === undefined ? [] : [INFERENCE_HEADER_CONTENT_LENGTH, String(encoded.headerLength)];
        send(res, 200, encoded.body, extra, 'application/octet-stream');
      } catch (err) {
        fail(res, err);
      }
    },
    (err: unknown) => void sendHttpFailure(req, res, err),
  );
}
