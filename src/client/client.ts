/**
 * A client for a deployment behind the gateway, in the manner of Seldon's SeldonClient with
 * `gateway="ambassador"`: predictions, feedback, metadata and health under
 * `/seldon/<namespace>/<deployment>/api/…` over REST (one keep-alive connection pool), or with
 * `transport: 'grpc'` over the gateway's `seldon.protos.Seldon` service on the same host:port
 * (one HTTP/2 channel, the deployment named by the `seldon` and `namespace` metadata, as Seldon's
 * Ambassador and Istio routes read them). The Open Inference Protocol (V2) — infer, model and
 * server readiness, model metadata — goes under `…/v2/` over REST, or to
 * `inference.GRPCInferenceService` over gRPC.
 */
import { Pool } from 'undici';
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  decodeModelInferResponse,
  decodeModelMetadataResponse,
  decodeV2Response,
  fromProto,
  ndarrayToTensor,
  parseInferenceHeaderLength,
  parseV2Error,
  parseV2ModelMetadata,
  toProto,
  TrantorError,
  V2_GRPC_SERVICE,
  type DefaultData,
  type Feedback,
  type Meta,
  type NdArray,
  type SeldonMessage,
  type V2ModelMetadata,
} from '../protocol/index.ts';
import { SeldonClientError } from './errors.ts';
import { GatewayChannel } from './grpc-channel.ts';
import { v2GrpcMessage, v2GrpcReady, v2GrpcRequest, v2RestRequest, v2Result, type V2InferInput, type V2InferRequestOptions, type V2InferResult } from './v2.ts';

export { SeldonClientError, type SeldonClientErrorCode } from './errors.ts';
export type { V2InferInput, V2InferRequestOptions, V2InferResult } from './v2.ts';

/** How calls reach the gateway: REST (HTTP/1.1 JSON) or gRPC (HTTP/2 protobuf), on the same host:port. */
export type ClientTransport = 'rest' | 'grpc';

export interface SeldonClientOptions {
  /**
   * Where the gateway listens, e.g. `http://127.0.0.1:8000`. A bare `host:port` means http;
   * a path (`http://host/prefix`) is put before every request path.
   */
  gatewayEndpoint: string;
  /** The namespace of the deployments called; `default` when not given. */
  namespace?: string;
  /** The deployment called when a call does not name one. */
  deploymentName?: string;
  /** How long a call may take, from sending to the end of the answer; 30 s when not given. */
  timeoutMs?: number;
  /** Most connections kept open to the gateway; 16 when not given. */
  connections?: number;
  /** Headers sent with every call (an `Authorization` header, say); over gRPC, as metadata. */
  headers?: Record<string, string>;
  /** `rest` (the default) or `grpc`; `health` goes over REST either way (Seldon's gRPC service has none). */
  transport?: ClientTransport;
  /** gRPC: the largest message sent or received, in bytes; no limit but gRPC's own (2 GiB) when not given. */
  maxMessageBytes?: number;
}

/** What every call may say besides its own fields. */
export interface CallOptions {
  /** The deployment to call; the client's `deploymentName` when not given. */
  deploymentName?: string;
  namespace?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export type PayloadType = 'ndarray' | 'tensor';

export interface PredictOptions extends CallOptions {
  /** The features: rows of numbers (or any nested array, sent as an ndarray). */
  data?: number[][] | unknown[];
  /** Column names, sent as `data.names`. */
  names?: string[];
  /** How `data` is encoded: `ndarray` (the default) or `tensor` (shape and flat values). */
  payloadType?: PayloadType;
  /** A whole Seldon message to send instead of `data` (for `strData`, `jsonData`, `binData`). */
  message?: SeldonMessage;
  /** `meta` to send with the request (tags, a puid). */
  meta?: Meta;
  /** The path version: `v1.0` (the default) or Seldon's older `v0.1`. */
  apiVersion?: 'v1.0' | 'v0.1';
}

/**
 * A prediction: the gateway's Seldon message. `puid` (the `Seldon-Puid` header, or `meta.puid`)
 * is a non-enumerable property, so the message serialises exactly as the gateway sent it.
 */
export type Prediction = SeldonMessage & { puid?: string };

export interface FeedbackOptions extends CallOptions {
  request: SeldonMessage;
  response: SeldonMessage;
  reward: number;
  truth?: SeldonMessage;
}

export interface MetadataOptions extends CallOptions {
  /** A graph node's name, for that model's metadata; the whole graph's when not given. */
  model?: string;
}

/** One tensor's description in metadata. */
export interface TensorMetadata {
  name?: string;
  datatype?: string;
  shape?: number[];
  messagetype?: string;
  schema?: unknown;
  [key: string]: unknown;
}

/** A model's metadata (`/api/v1.0/metadata/<model>`). */
export interface ModelMetadata {
  name?: string;
  versions?: string[];
  platform?: string;
  inputs?: TensorMetadata[];
  outputs?: TensorMetadata[];
  custom?: Record<string, string>;
  [key: string]: unknown;
}

/** The graph's metadata (`/api/v1.0/metadata`). */
export interface GraphMetadata {
  name?: string;
  models?: Record<string, ModelMetadata>;
  graphinputs?: TensorMetadata[];
  graphoutputs?: TensorMetadata[];
  [key: string]: unknown;
}

/** A V2 call's options: which model version, and the call's own. */
export interface V2ModelOptions extends CallOptions {
  version?: string;
}

export interface InferOptions extends CallOptions, V2InferRequestOptions {}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS = 16;
const MAX_GRPC_MESSAGE_BYTES = 2_147_483_647;
const SELDON_SERVICE = '/seldon.protos.Seldon';
const V2_SERVICE = `/${V2_GRPC_SERVICE}`;

interface Answer {
  status: number;
  body: unknown;
  puid: string | undefined;
}

/** An answer as bytes, before it is read as JSON or the V2 binary form. */
interface RawAnswer {
  status: number;
  bytes: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export class SeldonClient {
  readonly namespace: string;
  readonly deploymentName: string | undefined;
  readonly transport: ClientTransport;
  readonly #origin: string;
  readonly #target: { host: string; tls: boolean };
  readonly #connections: number;
  readonly #maxMessageBytes: number;
  /** Opened on first use: a gRPC client asks REST only for health. */
  #pool: Pool | undefined;
  #channel: GatewayChannel | undefined;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: SeldonClientOptions) {
    const url = gatewayUrl(options.gatewayEndpoint);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.namespace = options.namespace ?? 'default';
    this.deploymentName = options.deploymentName;
    this.timeoutMs = positive(options.timeoutMs, 'timeoutMs') ?? DEFAULT_TIMEOUT_MS;
    this.headers = { ...options.headers };
    const transport = options.transport ?? 'rest';
    if (transport !== 'rest' && transport !== 'grpc') throw new TypeError(`transport must be rest or grpc, got ${JSON.stringify(transport)}`);
    this.transport = transport;
    if (transport === 'grpc' && this.basePath !== '') {
      throw new TypeError(`gatewayEndpoint ${JSON.stringify(options.gatewayEndpoint)}: gRPC calls take no path prefix`);
    }
    this.#origin = url.origin;
    this.#target = { host: url.port === '' ? `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}` : url.host, tls: url.protocol === 'https:' };
    this.#connections = positive(options.connections, 'connections') ?? DEFAULT_CONNECTIONS;
    this.#maxMessageBytes = positive(options.maxMessageBytes, 'maxMessageBytes') ?? MAX_GRPC_MESSAGE_BYTES;
  }

  /** Sends features (or a whole message) for a prediction; resolves with the gateway's message. */
  async predict(options: PredictOptions): Promise<Prediction> {
    const message = predictionRequest(options);
    let answer: Answer;
    if (this.transport === 'grpc') {
      answer = await this.grpcSeldon('Predict', options, toProto('SeldonMessage', message), 'SeldonMessage');
    } else {
      const version = options.apiVersion ?? 'v1.0';
      answer = await this.call('POST', this.pathOf(options, `api/${version}/predictions`), options, message);
    }
    const prediction = asMessage(answer, 'POST predictions') as Prediction;
    const puid = answer.puid ?? prediction.meta?.puid;
    if (puid !== undefined) Object.defineProperty(prediction, 'puid', { value: puid, enumerable: false, configurable: true, writable: true });
    return prediction;
  }

  /** Sends a reward for a response the deployment gave; routers learn from it. */
  async feedback(options: FeedbackOptions): Promise<SeldonMessage> {
    const body: Feedback = { request: options.request, response: options.response, reward: options.reward };
    if (options.truth !== undefined) body.truth = options.truth;
    const puid = options.response.meta?.puid;
    const headers: Record<string, string> = { ...(puid === undefined ? {} : { 'seldon-puid': puid }), ...options.headers };
    const answer =
      this.transport === 'grpc'
        ? await this.grpcSeldon('SendFeedback', { ...options, headers }, toProto('Feedback', body), 'SeldonMessage')
        : await this.call('POST', this.pathOf(options, 'api/v1.0/feedback'), { ...options, headers }, body);
    return asMessage(answer, 'POST feedback');
  }

  /** The graph's metadata, or one model's when `model` is given. */
  metadata(options: MetadataOptions & { model: string }): Promise<ModelMetadata>;
  metadata(options?: MetadataOptions): Promise<GraphMetadata>;
  async metadata(options: MetadataOptions = {}): Promise<GraphMetadata | ModelMetadata> {
    let answer: Answer;
    if (this.transport === 'grpc') {
      answer =
        options.model === undefined
          ? await this.grpcSeldon('GraphMetadata', options, new Uint8Array(0), 'SeldonGraphMetadata')
          : await this.grpcSeldon('ModelMetadata', options, toProto('SeldonModelMetadataRequest', { name: options.model }), 'SeldonModelMetadata');
    } else {
      const suffix = options.model === undefined ? 'api/v1.0/metadata' : `api/v1.0/metadata/${encodeURIComponent(options.model)}`;
      answer = await this.call('GET', this.pathOf(options, suffix), options);
    }
    if (typeof answer.body !== 'object' || answer.body === null || Array.isArray(answer.body)) {
      throw new SeldonClientError('BAD_RESPONSE', `GET metadata: expected a JSON object, got ${preview(answer.body)}`, { status: answer.status, body: answer.body });
    }
    return answer.body as GraphMetadata;
  }

  /**
   * The deployment's health (`/api/v1.0/health/status`): resolves with what the gateway answered
   * when it is healthy, and throws a SeldonClientError (often status 503) when it is not.
   */
  async health(options: CallOptions = {}): Promise<unknown> {
    const answer = await this.call('GET', this.pathOf(options, 'api/v1.0/health/status'), options);
    return answer.body;
  }

  /**
   * A V2 inference of `model` (a graph node's name, as V2 names models) with `inputs`: the
   * answer with every output's data, and the outputs as typed tensors.
   */
  async infer(model: string, inputs: readonly V2InferInput[], options: InferOptions = {}): Promise<V2InferResult> {
    if (this.transport === 'grpc') {
      const bytes = await this.grpcCall(`${V2_SERVICE}/ModelInfer`, options, v2GrpcRequest(model, inputs, options));
      return v2Result(readV2('ModelInferResponse', () => decodeModelInferResponse(bytes)));
    }
    const { body, headerLength } = v2RestRequest(inputs, options);
    const headers: Record<string, string> = { 'content-type': headerLength === undefined ? 'application/json' : 'application/octet-stream' };
    if (headerLength !== undefined) headers[INFERENCE_HEADER_CONTENT_LENGTH] = String(headerLength);
    const path = this.v2ModelPath(options, model, options.version, 'infer');
    const answer = await this.send('POST', path, options, { bytes: body, headers });
    if (answer.status < 200 || answer.status > 299) throw v2Failure(`POST ${path}`, answer);
    const length = parseInferenceHeaderLength(answer.headers[INFERENCE_HEADER_CONTENT_LENGTH]);
    return v2Result(readV2(`POST ${path}`, () => decodeV2Response(answer.bytes, length)));
  }

  /** Whether `model` is ready to infer (any answer but 200 over REST is not ready, as V2's clients read it). */
  async modelReady(model: string, options: V2ModelOptions = {}): Promise<boolean> {
    if (this.transport === 'grpc') {
      const request = v2GrpcMessage('ModelReadyRequest', { name: model, ...(options.version === undefined ? {} : { version: options.version }) });
      return v2GrpcReady('ModelReadyResponse', await this.grpcCall(`${V2_SERVICE}/ModelReady`, options, request));
    }
    const answer = await this.send('GET', this.v2ModelPath(options, model, options.version, 'ready'), options);
    return answer.status === 200;
  }

  /** Whether the deployment's server is ready (`/v2/health/ready`). */
  async serverReady(options: CallOptions = {}): Promise<boolean> {
    if (this.transport === 'grpc') {
      return v2GrpcReady('ServerReadyResponse', await this.grpcCall(`${V2_SERVICE}/ServerReady`, options, v2GrpcMessage('ServerReadyRequest', {})));
    }
    const answer = await this.send('GET', this.pathOf(options, 'v2/health/ready'), options);
    return answer.status === 200;
  }

  /** `model`'s V2 metadata: its platform, versions, inputs and outputs. */
  async modelMetadata(model: string, options: V2ModelOptions = {}): Promise<V2ModelMetadata> {
    if (this.transport === 'grpc') {
      const request = v2GrpcMessage('ModelMetadataRequest', { name: model, ...(options.version === undefined ? {} : { version: options.version }) });
      const bytes = await this.grpcCall(`${V2_SERVICE}/ModelMetadata`, options, request);
      return readV2('ModelMetadataResponse', () => decodeModelMetadataResponse(bytes));
    }
    const path = this.v2ModelPath(options, model, options.version, undefined);
    const answer = await this.send('GET', path, options);
    if (answer.status < 200 || answer.status > 299) throw v2Failure(`GET ${path}`, answer);
    return readV2(`GET ${path}`, () => parseV2ModelMetadata(JSON.parse(answer.bytes.toString('utf8'))));
  }

  /** Closes the connections once the calls under way have finished. */
  async close(): Promise<void> {
    this.#channel?.close();
    await this.#pool?.close();
  }

  private pathOf(options: CallOptions, suffix: string): string {
    const name = this.deploymentOf(options);
    const namespace = options.namespace ?? this.namespace;
    return `${this.basePath}/seldon/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${suffix}`;
  }

  /** `…/v2/models/<model>[/versions/<v>][/<action>]`. */
  private v2ModelPath(options: CallOptions, model: string, version: string | undefined, action: string | undefined): string {
    if (model === '') throw new TypeError('no model named: pass the graph node to call');
    const versioned = version === undefined ? '' : `/versions/${encodeURIComponent(version)}`;
    return this.pathOf(options, `v2/models/${encodeURIComponent(model)}${versioned}${action === undefined ? '' : `/${action}`}`);
  }

  private deploymentOf(options: CallOptions): string {
    const name = options.deploymentName ?? this.deploymentName;
    if (name === undefined || name === '') {
      throw new TypeError('no deployment named: pass deploymentName to the call or to new SeldonClient()');
    }
    return name;
  }

  private get pool(): Pool {
    this.#pool ??= new Pool(this.#origin, { connections: this.#connections, keepAliveTimeout: 30_000 });
    return this.#pool;
  }

  private get channel(): GatewayChannel {
    this.#channel ??= new GatewayChannel(this.#target.host, this.#target.tls, this.#maxMessageBytes);
    return this.#channel;
  }

  /** One call of the gateway's gRPC service for a deployment: the answer's bytes. */
  private grpcCall(path: string, options: CallOptions, request: Uint8Array): Promise<Buffer> {
    const metadata = { ...this.headers, ...options.headers, seldon: this.deploymentOf(options), namespace: options.namespace ?? this.namespace };
    const timeoutMs = positive(options.timeoutMs, 'timeoutMs') ?? this.timeoutMs;
    return this.channel.unary(path, { path, request, metadata, timeoutMs, signal: options.signal });
  }

  /** A call of `seldon.protos.Seldon`: its answer read as JSON, a Seldon failure in it thrown as over REST. */
  private async grpcSeldon(method: string, options: CallOptions, request: Uint8Array, answer: 'SeldonMessage' | 'SeldonModelMetadata' | 'SeldonGraphMetadata'): Promise<Answer> {
    const path = `${SELDON_SERVICE}/${method}`;
    const bytes = await this.grpcCall(path, options, request);
    let body: unknown;
    try {
      body = fromProto(answer, bytes);
    } catch (err) {
      throw new SeldonClientError('BAD_RESPONSE', `${path}: not a ${answer}: ${err instanceof Error ? err.message : String(err)}`, { status: 200, cause: err });
    }
    const failure = failureOf(body);
    if (failure !== undefined) throw seldonFailure(path, 200, body, failure, undefined);
    return { status: 200, body, puid: undefined };
  }

  /** Sends a request: the answer's status, headers and bytes, whatever the status. */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    options: CallOptions,
    body?: { bytes: Uint8Array | string; headers: Record<string, string> },
  ): Promise<RawAnswer> {
    const what = `${method} ${path}`;
    const timeoutMs = positive(options.timeoutMs, 'timeoutMs') ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers, ...options.headers, ...body?.headers };
    try {
      const response = await this.pool.request({ method, path, headers, signal, ...(body === undefined ? {} : { body: body.bytes }) });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, bytes, headers: response.headers };
    } catch (err) {
      if (timeout.aborted || isUndiciTimeout(err)) {
        throw new SeldonClientError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { cause: err });
      }
      if (options.signal?.aborted === true) throw new SeldonClientError('ABORTED', `${what}: aborted`, { cause: err });
      const detail = err instanceof Error ? errorDetail(err) : String(err);
      throw new SeldonClientError('CONNECTION', `${what}: ${detail}`, { cause: err });
    }
  }

  /** A Seldon API call with a JSON body: the answer parsed, a failure status or body thrown. */
  private async call(method: 'GET' | 'POST', path: string, options: CallOptions, body?: unknown): Promise<Answer> {
    const sent = body === undefined ? undefined : { bytes: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    const answer = await this.send(method, path, options, sent);
    const { status } = answer;
    const text = answer.bytes.toString('utf8');
    const puid = headerValue(answer.headers['seldon-puid']);
    const parsed = parseBody(text);
    const failure = failureOf(parsed.value);
    if (status < 200 || status > 299 || failure !== undefined) {
      const info = failure?.info ?? (parsed.json ? undefined : text.trim().slice(0, 500) || undefined);
      throw seldonFailure(`${method} ${path}`, status, parsed.value, { ...failure, ...(info === undefined ? {} : { info }) }, puid);
    }
    return { status, body: parsed.value, puid };
  }
}

/** A failure the gateway answered, its reason and words in the message as Seldon's failure body gives them. */
function seldonFailure(what: string, status: number, body: unknown, failure: { info?: string; reason?: string }, puid: string | undefined): SeldonClientError {
  const { info, reason } = failure;
  const said = [reason, info].filter((s) => s !== undefined && s !== '').join(': ');
  return new SeldonClientError('FAILURE', `${what}: ${status}${said === '' ? '' : ` ${said}`}`, {
    status,
    body,
    ...(info === undefined ? {} : { info }),
    ...(reason === undefined ? {} : { reason }),
    ...(puid === undefined ? {} : { puid }),
  });
}

/** A V2 REST failure: its `error` (V2's failure body) as info, else the start of its text. */
function v2Failure(what: string, answer: RawAnswer): SeldonClientError {
  const text = answer.bytes.toString('utf8');
  const parsed = parseBody(text);
  const info = parseV2Error(parsed.value)?.error ?? failureOf(parsed.value)?.info ?? (text.trim().slice(0, 500) || undefined);
  return new SeldonClientError('FAILURE', `${what}: ${answer.status}${info === undefined ? '' : ` ${info}`}`, {
    status: answer.status,
    body: parsed.value,
    ...(info === undefined ? {} : { info }),
  });
}

/** Reads a V2 answer; one that does not read is a BAD_RESPONSE naming what was wrong. */
function readV2<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof TrantorError) && !(err instanceof SyntaxError)) throw err;
    throw new SeldonClientError('BAD_RESPONSE', `${what}: not a V2 answer: ${err.message}`, { status: 200, cause: err });
  }
}

function gatewayUrl(endpoint: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`gatewayEndpoint ${JSON.stringify(endpoint)} is not a URL; write it like http://127.0.0.1:8000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`gatewayEndpoint ${JSON.stringify(endpoint)}: use http:// or https://`);
  }
  return url;
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** The request message of a predict call: `message` as given, or one built from `data`. */
function predictionRequest(options: PredictOptions): SeldonMessage {
  if (options.message !== undefined && options.data !== undefined) {
    throw new TypeError('predict: give either data or message, not both');
  }
  let message: SeldonMessage;
  if (options.message !== undefined) {
    message = { ...options.message };
  } else if (options.data !== undefined) {
    const data: DefaultData = {};
    if (options.names !== undefined) data.names = options.names;
    if ((options.payloadType ?? 'ndarray') === 'tensor') data.tensor = ndarrayToTensor(options.data as NdArray, 'data');
    else data.ndarray = options.data;
    message = { data };
  } else {
    throw new TypeError('predict: give data (rows of features) or a message');
  }
  if (options.meta !== undefined) message.meta = options.meta;
  return message;
}

function asMessage(answer: Answer, what: string): SeldonMessage {
  const body = answer.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SeldonClientError('BAD_RESPONSE', `${what}: expected a Seldon message, got ${preview(body)}`, {
      status: answer.status,
      body,
      ...(answer.puid === undefined ? {} : { puid: answer.puid }),
    });
  }
  return body;
}

function parseBody(text: string): { value: unknown; json: boolean } {
  if (text.trim() === '') return { value: text, json: false };
  try {
    const value: unknown = JSON.parse(text);
    return { value, json: true };
  } catch {
    return { value: text, json: false };
  }
}

/** The `status` of a Seldon failure body, when `body` is one. */
function failureOf(body: unknown): { info?: string; reason?: string } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const status = (body as { status?: unknown }).status;
  if (typeof status !== 'object' || status === null) return undefined;
  const { info, reason, status: state } = status as { info?: unknown; reason?: unknown; status?: unknown };
  if (state !== 'FAILURE') return undefined;
  const out: { info?: string; reason?: string } = {};
  if (typeof info === 'string') out.info = info;
  if (typeof reason === 'string') out.reason = reason;
  return out;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isUndiciTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

/** `connect ECONNREFUSED 127.0.0.1:1` rather than undici's bare `fetch failed`-style wrappers. */
function errorDetail(err: Error): string {
  const cause = err.cause;
  if (cause instanceof Error && cause.message !== '') return `${err.message} (${cause.message})`;
  return err.message;
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === '') return 'an empty body';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
