/**
 * A client for a deployment behind the gateway, in the manner of Seldon's SeldonClient with
 * `gateway="ambassador"` and `transport="rest"`: predictions, feedback, metadata and health
 * under `/seldon/<namespace>/<deployment>/api/…`, over one keep-alive connection pool.
 */
import { Pool } from 'undici';
import { ndarrayToTensor, type DefaultData, type Meta, type NdArray, type SeldonMessage } from '../protocol/index.ts';

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
  /** Headers sent with every call (an `Authorization` header, say). */
  headers?: Record<string, string>;
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

/** Why a call failed; callers branch on `code`, not on the message. */
export type SeldonClientErrorCode =
  /** The gateway answered with a failure: a status that is not 2xx, or a body whose `status.status` is FAILURE. */
  | 'FAILURE'
  /** The gateway answered 2xx with something that is not JSON. */
  | 'BAD_RESPONSE'
  /** No complete answer within the timeout. */
  | 'TIMEOUT'
  /** The caller's signal aborted the call. */
  | 'ABORTED'
  /** The gateway could not be reached, or the connection broke. */
  | 'CONNECTION';

/** A call that did not succeed, with what the gateway said when it said anything. */
export class SeldonClientError extends Error {
  readonly code: SeldonClientErrorCode;
  /** The HTTP status, when the gateway answered. */
  readonly status: number | undefined;
  /** The server's `status.info`: what is wrong, in words. */
  readonly info: string | undefined;
  /** The server's `status.reason`, e.g. `MICROSERVICE_BAD_DATA`. */
  readonly reason: string | undefined;
  /** The answer's body: parsed JSON, or the text when it is not JSON. */
  readonly body: unknown;
  /** The request's puid, when the gateway sent one. */
  readonly puid: string | undefined;

  constructor(
    code: SeldonClientErrorCode,
    message: string,
    details: { status?: number; info?: string; reason?: string; body?: unknown; puid?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SeldonClientError';
    this.code = code;
    this.status = details.status;
    this.info = details.info;
    this.reason = details.reason;
    this.body = details.body;
    this.puid = details.puid;
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS = 16;

interface Answer {
  status: number;
  body: unknown;
  puid: string | undefined;
}

export class SeldonClient {
  readonly namespace: string;
  readonly deploymentName: string | undefined;
  private readonly pool: Pool;
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
    this.pool = new Pool(url.origin, {
      connections: positive(options.connections, 'connections') ?? DEFAULT_CONNECTIONS,
      keepAliveTimeout: 30_000,
    });
  }

  /** Sends features (or a whole message) for a prediction; resolves with the gateway's message. */
  async predict(options: PredictOptions): Promise<Prediction> {
    const message = predictionRequest(options);
    const version = options.apiVersion ?? 'v1.0';
    const answer = await this.call('POST', this.pathOf(options, `api/${version}/predictions`), options, message);
    const prediction = asMessage(answer, 'POST predictions') as Prediction;
    const puid = answer.puid ?? prediction.meta?.puid;
    if (puid !== undefined) Object.defineProperty(prediction, 'puid', { value: puid, enumerable: false, configurable: true, writable: true });
    return prediction;
  }

  /** Sends a reward for a response the deployment gave; routers learn from it. */
  async feedback(options: FeedbackOptions): Promise<SeldonMessage> {
    const body: Record<string, unknown> = { request: options.request, response: options.response, reward: options.reward };
    if (options.truth !== undefined) body['truth'] = options.truth;
    const puid = options.response.meta?.puid;
    const headers: Record<string, string> = { ...(puid === undefined ? {} : { 'seldon-puid': puid }), ...options.headers };
    const answer = await this.call('POST', this.pathOf(options, 'api/v1.0/feedback'), { ...options, headers }, body);
    return asMessage(answer, 'POST feedback');
  }

  /** The graph's metadata, or one model's when `model` is given. */
  metadata(options: MetadataOptions & { model: string }): Promise<ModelMetadata>;
  metadata(options?: MetadataOptions): Promise<GraphMetadata>;
  async metadata(options: MetadataOptions = {}): Promise<GraphMetadata | ModelMetadata> {
    const suffix = options.model === undefined ? 'api/v1.0/metadata' : `api/v1.0/metadata/${encodeURIComponent(options.model)}`;
    const answer = await this.call('GET', this.pathOf(options, suffix), options);
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

  /** Closes the connections once the calls under way have finished. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  private pathOf(options: CallOptions, suffix: string): string {
    const name = options.deploymentName ?? this.deploymentName;
    if (name === undefined || name === '') {
      throw new TypeError('no deployment named: pass deploymentName to the call or to new SeldonClient()');
    }
    const namespace = options.namespace ?? this.namespace;
    return `${this.basePath}/seldon/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${suffix}`;
  }

  private async call(method: 'GET' | 'POST', path: string, options: CallOptions, body?: unknown): Promise<Answer> {
    const what = `${method} ${path}`;
    const timeoutMs = positive(options.timeoutMs, 'timeoutMs') ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers, ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';

    let status: number;
    let text: string;
    let puid: string | undefined;
    try {
      const response = await this.pool.request({
        method,
        path,
        headers,
        signal,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      status = response.statusCode;
      puid = headerValue(response.headers['seldon-puid']);
      text = await response.body.text();
    } catch (err) {
      if (timeout.aborted || isUndiciTimeout(err)) {
        throw new SeldonClientError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { cause: err });
      }
      if (options.signal?.aborted === true) throw new SeldonClientError('ABORTED', `${what}: aborted`, { cause: err });
      const detail = err instanceof Error ? errorDetail(err) : String(err);
      throw new SeldonClientError('CONNECTION', `${what}: ${detail}`, { cause: err });
    }

    const parsed = parseBody(text);
    const failure = failureOf(parsed.value);
    if (status < 200 || status > 299 || failure !== undefined) {
      const info = failure?.info ?? (parsed.json ? undefined : text.trim().slice(0, 500) || undefined);
      const reason = failure?.reason;
      const said = [reason, info].filter((s) => s !== undefined && s !== '').join(': ');
      throw new SeldonClientError('FAILURE', `${what}: ${status}${said === '' ? '' : ` ${said}`}`, {
        status,
        body: parsed.value,
        ...(info === undefined ? {} : { info }),
        ...(reason === undefined ? {} : { reason }),
        ...(puid === undefined ? {} : { puid }),
      });
    }
    return { status, body: parsed.value, puid };
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
