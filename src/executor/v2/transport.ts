/**
 * How the executor calls a graph node that speaks the Open Inference Protocol (V2), the way
 * Seldon's executor calls a `protocol: v2` graph: each node is a model of its own name, so a
 * node `classifier` is called at `POST /v2/models/classifier/infer`, asked
 * `GET /v2/models/classifier/ready` and `GET /v2/models/classifier`.
 *
 * Over HTTP the calls ride the HTTP transport's raw `call`, so a V2 node gets the same
 * connection pools, replica choice, retries and ejection as a Seldon one. Requests go as JSON,
 * which every V2 server reads (a tensor that came as JSON keeps its own text); a BYTES input that
 * is not UTF-8 text, which JSON cannot carry, goes with the binary_data extension instead, and so
 * do tensors of `binaryFromBytes` raw bytes or more when that is set. Measured on 1M FP32 values
 * (4 MB raw): writing JSON takes ~110 ms and reading it back ~160 ms, per hop; binary ~1-4 ms. A
 * component answers JSON (the executor asks for no binary outputs). A component's failure
 * (`{"error": "..."}` with a 4xx or 5xx) keeps its status and message.
 */
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  TrantorError,
  encodeV2Request,
  parseJsonLossless,
  parseV2Error,
  parseV2InferenceResponse,
  parseV2ModelMetadata,
  stringifyJson,
  v2TensorFromJson,
  type V2DecodedBody,
  type V2InferenceRequest,
  type V2InferenceResponse,
  type V2ModelMetadata,
  type V2Tensor,
} from '../../protocol/index.ts';
import type { HttpCallOptions, RawResponse } from '../transport/http.ts';
import type { UnitKey } from '../transport/endpoints.ts';
import { failureOf, type CallOptions } from '../transport/transport.ts';
import { requestFields, requestJson } from './messages.ts';

/** A V2 call's options: the request's puid travels as `Seldon-Puid`, skip logging as `Seldon-Skip-Logging`. */
export interface V2CallOptions extends CallOptions {
  puid?: string | undefined;
  skipLogging?: boolean | undefined;
}

/**
 * A V2 call resolves with the node's answer and rejects with a TrantorError: the component's own
 * status and message when it answered a failure, UNAVAILABLE or UPSTREAM_TIMEOUT when it did not
 * answer, BAD_UPSTREAM when its answer is not the protocol's.
 */
export interface V2Transport {
  infer(unit: UnitKey, request: V2DecodedBody<V2InferenceRequest>, options: V2CallOptions): Promise<V2DecodedBody<V2InferenceResponse>>;
  /** True when the node answers its model ready check with 200; false for any other answer. */
  modelReady(unit: UnitKey, options: V2CallOptions): Promise<boolean>;
  modelMetadata(unit: UnitKey, options: V2CallOptions): Promise<V2ModelMetadata>;
  close(): Promise<void>;
}

/** The V2 call that is timed, by its method: what metrics label a call with. */
export type V2Method = 'infer' | 'ready' | 'metadata';

/** A node's V2 path for `method`: `/v2/models/<node>/infer` … */
export function v2PathOf(node: string, method: V2Method): string {
  const base = `/v2/models/${encodeURIComponent(node)}`;
  return method === 'metadata' ? base : `${base}/${method}`;
}

/** What the HTTP V2 transport needs of the HTTP transport: its raw call (HttpTransport has it). */
export interface RawHttpCaller {
  call(unit: UnitKey, path: string, body: string | Uint8Array, options: HttpCallOptions): Promise<RawResponse>;
}

function callOptions(options: V2CallOptions, method: 'GET' | 'POST', headerLength?: number): HttpCallOptions {
  const headers: Record<string, string> = {};
  if (options.puid !== undefined) headers['seldon-puid'] = options.puid;
  if (options.skipLogging === true) headers['seldon-skip-logging'] = 'true';
  if (headerLength !== undefined) headers[INFERENCE_HEADER_CONTENT_LENGTH] = String(headerLength);
  return { idempotent: options.idempotent, timeoutMs: options.timeoutMs, method, headers };
}

export interface HttpV2TransportOptions {
  /** Tensors of at least this many raw bytes go as binary data; by default only BYTES that are not text do. */
  binaryFromBytes?: number;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

function isText(bytes: Uint8Array): boolean {
  try {
    STRICT_UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export class HttpV2Transport implements V2Transport {
  private readonly http: RawHttpCaller;
  private readonly binaryFromBytes: number;

  constructor(http: RawHttpCaller, options: HttpV2TransportOptions = {}) {
    this.http = http;
    this.binaryFromBytes = options.binaryFromBytes ?? Number.POSITIVE_INFINITY;
  }

  /** Whether an input goes as binary data: BYTES JSON cannot carry, or a tensor past the size set. */
  private asBinary(tensor: V2Tensor): boolean {
    const values = tensor.values;
    if (Array.isArray(values)) return !values.every(isText);
    return values.byteLength >= this.binaryFromBytes;
  }

  infer(unit: UnitKey, request: V2DecodedBody<V2InferenceRequest>, options: V2CallOptions): Promise<V2DecodedBody<V2InferenceResponse>> {
    const binary = new Set(request.tensors.filter((tensor) => this.asBinary(tensor)).map((tensor) => tensor.name));
    return v2RestInfer(this.http, nodeTarget(unit, 'infer'), request, (name) => binary.has(name), options);
  }

  async modelReady(unit: UnitKey, options: V2CallOptions): Promise<boolean> {
    const response = await this.http.call(unit, v2PathOf(unit.node, 'ready'), '', callOptions(options, 'GET'));
    return response.status === 200;
  }

  modelMetadata(unit: UnitKey, options: V2CallOptions): Promise<V2ModelMetadata> {
    return v2RestModelMetadata(this.http, nodeTarget(unit, 'metadata'), options);
  }

  /** The HTTP transport is the executor's, shared with the Seldon calls: whoever built it closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Where a V2 REST call goes: the transport's unit, the path on it, and who answers it, as errors
 * name it. The executor calls a graph node; the gateway (`RemotePredictor`) a pod's executor,
 * with the same calls.
 */
export interface V2RestTarget {
  readonly unit: UnitKey;
  readonly path: string;
  /** `node "classifier"`, `predictor "main"'s executor`… */
  readonly who: string;
}

function nodeTarget(unit: UnitKey, method: V2Method): V2RestTarget {
  return { unit, path: v2PathOf(unit.node, method), who: `node "${unit.node}"` };
}

/**
 * `POST` an inference: JSON when no input is `asBinary` (a tensor that came as JSON keeps its
 * own text), else a JSON header and those inputs as binary data. No binary output is asked for:
 * the answer is JSON, read with its tensors typed.
 */
export async function v2RestInfer(
  http: RawHttpCaller,
  target: V2RestTarget,
  request: V2DecodedBody<V2InferenceRequest>,
  asBinary: (name: string) => boolean,
  options: V2CallOptions,
): Promise<V2DecodedBody<V2InferenceResponse>> {
  let body: string | Uint8Array;
  let headerLength: number | undefined;
  if (!request.tensors.some((tensor) => asBinary(tensor.name))) body = stringifyJson(requestJson(request));
  else ({ body, headerLength } = encodeV2Request(requestFields(request.message), request.tensors, asBinary));
  const response = await http.call(target.unit, target.path, body, callOptions(options, 'POST', headerLength));
  const value = answerOf(target, response);
  let message: V2InferenceResponse;
  try {
    message = parseV2InferenceResponse(value);
  } catch (err) {
    throw notProtocol(target, 'an inference response', err);
  }
  return { message, tensors: message.outputs.map((output, i) => v2TensorFromJson(output, `outputs[${i}]`)) };
}

/** `GET` a model's metadata. */
export async function v2RestModelMetadata(http: RawHttpCaller, target: V2RestTarget, options: V2CallOptions): Promise<V2ModelMetadata> {
  const response = await http.call(target.unit, target.path, '', callOptions(options, 'GET'));
  try {
    return parseV2ModelMetadata(answerOf(target, response));
  } catch (err) {
    throw notProtocol(target, 'model metadata', err);
  }
}

/**
 * `GET` a ready check (`/v2/health/ready`, `/v2/models/<m>/ready`): true on 2xx, false on 503
 * (not ready); any other failure is thrown as it came (a 404 naming an unknown model, say).
 */
export async function v2RestReady(http: RawHttpCaller, target: V2RestTarget, options: V2CallOptions): Promise<boolean> {
  const response = await http.call(target.unit, target.path, '', callOptions(options, 'GET'));
  if (response.status >= 200 && response.status < 300) return true;
  if (response.status === 503) return false;
  throw failureOfAnswer(target, response, parseOrUndefined(response.body));
}

/** The JSON value of a 2xx answer; a failure answer thrown with the component's status and message. */
function answerOf(target: V2RestTarget, response: RawResponse): unknown {
  const value = parseOrUndefined(response.body);
  if (response.status >= 200 && response.status < 300) {
    if (value === undefined) throw new TrantorError('BAD_UPSTREAM', `${target.who} answered with something that is not JSON: ${snippet(response.body)}`);
    return value;
  }
  throw failureOfAnswer(target, response, value);
}

/** A failure answer as the error to throw: a V2 `{"error": …}` keeps its status and message, anything else as a component failure. */
function failureOfAnswer(target: V2RestTarget, response: RawResponse, value: unknown): TrantorError {
  const v2 = value === undefined ? undefined : parseV2Error(value);
  if (v2 !== undefined) return new TrantorError('COMPONENT_FAILURE', v2.error, { status: response.status });
  return failureOf(target.unit, response.status, value, response.body).failure;
}

/** The body's JSON value, or undefined when it is not JSON. */
function parseOrUndefined(text: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch {
    return undefined;
  }
}

function notProtocol(target: V2RestTarget, what: string, err: unknown): TrantorError {
  if (err instanceof TrantorError && (err.code === 'COMPONENT_FAILURE' || err.code === 'BAD_UPSTREAM')) return err;
  return new TrantorError('BAD_UPSTREAM', `${target.who} answered with something that is not V2 ${what}: ${(err as Error).message}`, { cause: err });
}

function snippet(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
