/**
 * The message handling of a component, free of HTTP: a request body (already parsed JSON) in,
 * a status and a reply body out. It decodes the payload the way Seldon's Python wrapper does,
 * calls the user's method, and answers in the request's own encoding with the model's tags
 * and metrics in `meta`. It never throws: every failure is a status and Seldon's failure body.
 */
import {
  TrantorError,
  asTrantorError,
  defaultNames,
  failureBody,
  featuresOf,
  ndarrayToTfTensor,
  numericTensor,
  parseSeldonMessage,
  writeTfTensor,
  type DefaultData,
  type Meta,
  type Metric,
  type SeldonMessage,
  type V2ModelMetadata,
} from '../protocol/index.ts';
import { SeldonResponse, type Features, type JsonValue, type ModelMetadata, type SeldonComponent, type V2NativeRequest, type V2NativeResponse } from './contract.ts';
import { MicroserviceError, modelFailure } from './errors.ts';

export type ComponentMethod =
  | 'predict'
  | 'transformInput'
  | 'transformOutput'
  | 'route'
  | 'aggregate'
  | 'sendFeedback'
  | 'healthStatus'
  | 'metadata';

export interface DispatchOptions {
  /** The name used in messages (`MLScore.predict returned …`); default the class name. */
  name?: string;
  /** PREDICTIVE_UNIT_ID: which `meta.routing` entry is this unit's, and the default metadata name. */
  unitId?: string;
  /** Told about every error thrown by user code (default: its stack on stderr). */
  onModelError?: (err: unknown, method: string) => void;
}

export interface Reply {
  status: number;
  body: unknown;
}

/**
 * A component's own V2 methods (`inferV2`, `metadataV2`, `readyV2`), present when it has
 * `inferV2`. They reject with the TrantorError to answer with: the component's own, or its other
 * failures as the model's (500, reported through `onModelError`).
 */
export interface V2Native {
  infer(request: V2NativeRequest): Promise<V2NativeResponse>;
  /** Undefined when the component has no `metadataV2`. */
  metadata(model: string, version?: string): Promise<V2ModelMetadata> | undefined;
  ready(model: string, version?: string): Promise<boolean>;
}

export interface Dispatcher {
  readonly name: string;
  handle(method: ComponentMethod, body?: unknown): Promise<Reply>;
  /** The component's V2-native face, when it has one. */
  readonly v2Native?: V2Native;
}

type UserFn = (...args: unknown[]) => unknown;

interface Extra {
  tags: Record<string, unknown> | undefined;
  metrics: Metric[] | undefined;
}

const NO_EXTRA: Extra = { tags: undefined, metrics: undefined };

function method(model: object, ...names: string[]): UserFn | undefined {
  for (const name of names) {
    const value: unknown = (model as Record<string, unknown>)[name];
    if (typeof value === 'function') return (value as UserFn).bind(model);
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function className(value: object): string {
  return (value as { constructor?: { name?: string } }).constructor?.name ?? '';
}

/** Also a SeldonResponse from another copy of this package (the user's import, say). */
function isSeldonResponse(value: unknown): value is SeldonResponse {
  return value instanceof SeldonResponse || (typeof value === 'object' && value !== null && className(value) === 'SeldonResponse');
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'object':
      return value === null ? 'null' : `a ${className(value) || 'object'}`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    default:
      return `a ${typeof value} (${String(value)})`;
  }
}

/** A method the class does not have: 400 MICROSERVICE_BAD_DATA, as Seldon's wrapper answers. */
function notImplemented(message: string): TrantorError {
  return new MicroserviceError(message, 400);
}

function bad(message: string): TrantorError {
  return new TrantorError('BAD_PAYLOAD', message);
}

/** The payload of a message as the user's method receives it. */
export function featuresOfMessage(msg: SeldonMessage, where = 'body'): Features {
  if (msg.data !== undefined) return featuresOf(msg.data);
  if (msg.strData !== undefined) return msg.strData;
  if (msg.binData !== undefined) return Buffer.from(msg.binData, 'base64');
  if (msg.jsonData !== undefined) return msg.jsonData as JsonValue;
  throw bad(`${where}: expected one of data, binData, strData or jsonData`);
}

/** Typed arrays (a Float32Array row, say) as plain arrays, so they serialise as JSON arrays. */
function plainRows(output: unknown[]): unknown[] {
  if (output.length === 0 || !ArrayBuffer.isView(output[0])) return output;
  return output.map((row) => (ArrayBuffer.isView(row) && !(row instanceof DataView) ? Array.from(row as unknown as ArrayLike<number>) : row));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isMessage(value: unknown): value is SeldonMessage {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function succeeded(body: unknown): Reply {
  return { status: 200, body };
}

function failed(err: unknown): Reply {
  const failure = asTrantorError(err);
  return { status: failure.status, body: failureBody(failure) };
}

class ModelDispatcher implements Dispatcher {
  readonly name: string;
  private readonly model: SeldonComponent;
  private readonly unitId: string;
  private readonly onModelError: (err: unknown, method: string) => void;
  private readonly fns: Readonly<Record<string, UserFn | undefined>>;
  private metadataCache: Promise<ModelMetadata> | undefined;
  readonly v2Native?: V2Native;

  constructor(model: SeldonComponent, options: DispatchOptions) {
    this.model = model;
    const ctor = className(model);
    this.name = options.name ?? (ctor !== '' && ctor !== 'Object' ? ctor : 'model');
    this.unitId = options.unitId ?? '';
    this.onModelError =
      options.onModelError ??
      ((err, where) => {
        const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
        process.stderr.write(`${this.name}.${where} failed: ${detail}\n`);
      });
    // Resolved once: the hot path looks nothing up by name.
    this.fns = {
      predict: method(model, 'predict'),
      predictRaw: method(model, 'predictRaw', 'predict_raw'),
      transformInput: method(model, 'transformInput', 'transform_input'),
      transformInputRaw: method(model, 'transformInputRaw', 'transform_input_raw'),
      transformOutput: method(model, 'transformOutput', 'transform_output'),
      transformOutputRaw: method(model, 'transformOutputRaw', 'transform_output_raw'),
      route: method(model, 'route'),
      routeRaw: method(model, 'routeRaw', 'route_raw'),
      aggregate: method(model, 'aggregate'),
      aggregateRaw: method(model, 'aggregateRaw', 'aggregate_raw'),
      sendFeedback: method(model, 'sendFeedback', 'send_feedback'),
      sendFeedbackRaw: method(model, 'sendFeedbackRaw', 'send_feedback_raw'),
      tags: method(model, 'tags'),
      metrics: method(model, 'metrics'),
      healthStatus: method(model, 'healthStatus', 'health_status'),
      initMetadata: method(model, 'initMetadata', 'init_metadata'),
    };
    const inferV2 = method(model, 'inferV2');
    if (inferV2 !== undefined) this.v2Native = this.nativeFace(inferV2, method(model, 'metadataV2'), method(model, 'readyV2'));
  }

  private nativeFace(infer: UserFn, metadata: UserFn | undefined, ready: UserFn | undefined): V2Native {
    const call = async <T>(fn: UserFn, where: string, args: unknown[]): Promise<T> => {
      try {
        return (await fn(...args)) as T;
      } catch (err) {
        if (!(err instanceof TrantorError)) this.onModelError(err, where);
        throw modelFailure(err);
      }
    };
    return {
      infer: (request) => call<V2NativeResponse>(infer, 'inferV2', [request]),
      metadata: (model, version) => (metadata === undefined ? undefined : call<V2ModelMetadata>(metadata, 'metadataV2', [model, version])),
      ready: (model, version) => (ready === undefined ? Promise.resolve(true) : call<boolean>(ready, 'readyV2', [model, version])),
    };
  }

  handle(which: ComponentMethod, body?: unknown): Promise<Reply> {
    let out: unknown;
    try {
      out = this.run(which, body);
    } catch (err) {
      return Promise.resolve(failed(err));
    }
    // A synchronous model's answer makes one promise here, not one per layer.
    if (isThenable(out)) return Promise.resolve(out).then(succeeded, failed);
    return Promise.resolve(succeeded(out));
  }

  /** The method's answer: a value when everything on the way was synchronous, else a promise of it. */
  private run(which: ComponentMethod, body: unknown): unknown {
    switch (which) {
      case 'predict':
        return this.unary(body, 'predict', 'predictRaw', 'predict');
      case 'transformInput':
        return this.unary(body, 'transformInput', 'transformInputRaw', 'transform_input');
      case 'transformOutput':
        return this.unary(body, 'transformOutput', 'transformOutputRaw', 'transform_output');
      case 'route':
        return this.route(body);
      case 'aggregate':
        return this.aggregate(body);
      case 'sendFeedback':
        return this.sendFeedback(body);
      case 'healthStatus':
        return this.healthStatus();
      case 'metadata':
        return this.metadata();
    }
  }

  /** Calls user code; what it throws becomes the model's failure (logged once here). */
  /** A synchronous answer stays synchronous (no promise per call); a promised one settles as the model's failure when it rejects. */
  private call(fn: UserFn, label: string, args: unknown[]): unknown {
    let out: unknown;
    try {
      out = fn(...args);
    } catch (err) {
      throw this.failure(err, label);
    }
    if (!isThenable(out)) return out;
    return Promise.resolve(out).then(undefined, (err: unknown) => {
      throw this.failure(err, label);
    });
  }

  private failure(err: unknown, label: string): TrantorError {
    const failure = modelFailure(err);
    if (failure.status >= 500) this.onModelError(err, label);
    return failure;
  }

  /** For `tags()` and `metrics()`, which Seldon calls synchronously on every reply. */
  private callSync(fn: UserFn, label: string): unknown {
    let out: unknown;
    try {
      out = fn();
    } catch (err) {
      throw this.failure(err, label);
    }
    if (out instanceof Promise) throw new TrantorError('MODEL_ERROR', `${this.name}.${label}() returned a Promise; it must return its value directly`);
    return out;
  }

  private async raw(fn: UserFn, label: string, arg: unknown): Promise<unknown> {
    const out = await this.call(fn, label, [arg]);
    if (!isMessage(out)) throw new TrantorError('MODEL_ERROR', `${this.name}.${label} returned ${describe(out)}; return a Seldon message object`);
    return out;
  }

  private unary(body: unknown, fnName: string, rawName: string, label: string): unknown {
    const msg = parseSeldonMessage(body);
    const raw = this.fns[rawName];
    if (raw !== undefined) return this.raw(raw, `${label}_raw`, msg);
    const X = featuresOfMessage(msg);
    const fn = this.fns[fnName];
    if (fn === undefined) {
      // Seldon's wrapper: a missing transform is the identity; a missing predict is an error.
      if (fnName === 'predict') throw notImplemented(`${this.name} has no predict method; add predict(X, names) or predictRaw(msg)`);
      return this.reply(X, msg, msg.meta, label);
    }
    const out = this.call(fn, label, [X, msg.data?.names ?? [], msg.meta ?? {}]);
    if (isThenable(out)) return out.then((value) => this.reply(value, msg, msg.meta, label));
    return this.reply(out, msg, msg.meta, label);
  }

  private async route(body: unknown): Promise<unknown> {
    const msg = parseSeldonMessage(body);
    if (this.fns['routeRaw'] !== undefined) return this.raw(this.fns['routeRaw'], 'route_raw', msg);
    const fn = this.fns['route'];
    if (fn === undefined) throw notImplemented(`${this.name} has no route method; a ROUTER needs route(X, names) returning a child index`);
    let out = await this.call(fn, 'route', [featuresOfMessage(msg), msg.data?.names ?? [], msg.meta ?? {}]);
    let extra = NO_EXTRA;
    if (isSeldonResponse(out)) {
      extra = { tags: out.tags, metrics: out.metrics };
      out = out.data;
    }
    if (typeof out !== 'number' || !Number.isInteger(out)) {
      throw new TrantorError('MODEL_ERROR', `${this.name}.route returned ${describe(out)}; return an integer child index (-1 all, -2 none)`);
    }
    return { data: { names: this.classNames(1), ndarray: [[out]] }, meta: this.meta(msg.meta, undefined, extra) };
  }

  private async aggregate(body: unknown): Promise<unknown> {
    const list: unknown = Array.isArray(body) ? body : isPlainObject(body) ? body['seldonMessages'] : undefined;
    if (!Array.isArray(list)) throw bad('body: expected a JSON array of Seldon messages (or {"seldonMessages": [...]})');
    if (list.length === 0) throw bad('body: the list of messages to aggregate is empty');
    const msgs = list.map((m, i) => parseSeldonMessage(m, `[${i}]`));
    const first = msgs[0]!;
    if (this.fns['aggregateRaw'] !== undefined) return this.raw(this.fns['aggregateRaw'], 'aggregate_raw', msgs);
    const fn = this.fns['aggregate'];
    if (fn === undefined) throw notImplemented(`${this.name} has no aggregate method; a COMBINER needs aggregate(Xs, namesList)`);
    const Xs = msgs.map((m, i) => featuresOfMessage(m, `[${i}]`));
    const namesList = msgs.map((m) => m.data?.names ?? []);
    const out = await this.call(fn, 'aggregate', [Xs, namesList]);
    // The children's tags, metrics and request paths all carry on.
    const merged: Meta = { ...(first.meta?.puid === undefined ? {} : { puid: first.meta.puid }) };
    const tags: Record<string, unknown> = {};
    const requestPath: Record<string, string> = {};
    const metrics: Metric[] = [];
    for (const m of msgs) {
      Object.assign(tags, m.meta?.tags);
      Object.assign(requestPath, m.meta?.requestPath);
      if (m.meta?.metrics !== undefined) metrics.push(...m.meta.metrics);
    }
    merged.tags = tags;
    merged.metrics = metrics;
    merged.requestPath = requestPath;
    return this.reply(out, first, merged, 'aggregate');
  }

  private async sendFeedback(body: unknown): Promise<unknown> {
    if (!isPlainObject(body)) throw bad('body: expected a feedback object {"request": …, "response": …, "reward": …, "truth": …}');
    const raw = this.fns['sendFeedbackRaw'];
    const request = body['request'] === undefined ? undefined : parseSeldonMessage(body['request'], 'request');
    const response = body['response'] === undefined ? undefined : parseSeldonMessage(body['response'], 'response');
    const truth = body['truth'] === undefined || body['truth'] === null ? undefined : parseSeldonMessage(body['truth'], 'truth');
    const reward = body['reward'] ?? 0;
    if (typeof reward !== 'number') throw bad(`reward: expected a number, got ${JSON.stringify(reward)}`);
    if (raw !== undefined) return this.raw(raw, 'send_feedback_raw', body);
    const fn = this.fns['sendFeedback'];
    const X = request === undefined ? [] : featuresOfMessage(request, 'request');
    let out: unknown = [];
    if (fn !== undefined) {
      const routing = response?.meta?.routing?.[this.unitId];
      const args = [X, request?.data?.names ?? [], reward, truth === undefined ? undefined : featuresOfMessage(truth, 'truth')];
      if (routing !== undefined) args.push(routing);
      out = await this.call(fn, 'send_feedback', args);
      if (out === undefined || out === null) out = [];
    }
    const reply = this.reply(out, request ?? {}, undefined, 'send_feedback');
    // Seldon's wrapper answers feedback through its protobuf message, which leaves empty names out.
    if (reply.data?.names?.length === 0) delete reply.data.names;
    return reply;
  }

  private async healthStatus(): Promise<unknown> {
    const fn = this.fns['healthStatus'];
    const out = fn === undefined ? 'healthy' : await this.call(fn, 'health_status', []);
    return this.reply(out, {}, undefined, 'health_status');
  }

  private metadata(): Promise<ModelMetadata> {
    this.metadataCache ??= this.loadMetadata();
    const pending = this.metadataCache;
    // A failure is not remembered: the next request asks the model again.
    pending.catch(() => {
      if (this.metadataCache === pending) this.metadataCache = undefined;
    });
    return pending;
  }

  private async loadMetadata(): Promise<ModelMetadata> {
    const fn = this.fns['initMetadata'];
    const user = fn === undefined ? {} : await this.call(fn, 'init_metadata', []);
    if (!isPlainObject(user)) throw new TrantorError('MODEL_ERROR', `${this.name}.init_metadata returned ${describe(user)}; return an object`);
    return { name: this.unitId || this.name, versions: [], platform: '', inputs: [], outputs: [], ...user };
  }

  /** The reply for a method's output: payload in the request's encoding, then meta. */
  private reply(output: unknown, request: SeldonMessage, inherited: Meta | undefined, label: string): SeldonMessage {
    let extra = NO_EXTRA;
    if (isSeldonResponse(output)) {
      extra = { tags: output.tags, metrics: output.metrics };
      output = output.data;
    }
    const meta = this.meta(request.meta, inherited, extra);
    if (Array.isArray(output)) return { data: this.dataOf(plainRows(output), request.data), meta };
    if (typeof output === 'string') return { strData: output, meta };
    if (output instanceof Uint8Array || output instanceof DataView) {
      return { binData: Buffer.from(output.buffer, output.byteOffset, output.byteLength).toString('base64'), meta };
    }
    if (ArrayBuffer.isView(output)) return { data: this.dataOf(Array.from(output as unknown as ArrayLike<number>), request.data), meta };
    if (isPlainObject(output)) return { jsonData: output, meta };
    throw new TrantorError(
      'MODEL_ERROR',
      `${this.name}.${label} returned ${describe(output)}; return an array (data), a string (strData), a Buffer (binData) or an object (jsonData)`,
    );
  }

  /**
   * Seldon's rule: a numeric output keeps the request's encoding (tensor or ndarray), and is a
   * tensor when the request had no `data`; a tftensor request gets a tftensor of the output's
   * kind (numbers DT_DOUBLE, see `tfTensorOf`); anything else is an ndarray.
   */
  private dataOf(output: unknown[], request: DefaultData | undefined): DefaultData {
    const first = output[0];
    const names = Array.isArray(first) ? this.classNames(first.length) : [];
    if (request === undefined || request.tensor !== undefined) {
      const tensor = numericTensor(output);
      if (tensor !== null) return { names, tensor };
    }
    if (request?.tftensor !== undefined) {
      const tftensor = ndarrayToTfTensor(output);
      if (tftensor !== null) return { names, tftensor: writeTfTensor(tftensor) };
    }
    return { names, ndarray: output };
  }

  private classNames(columns: number): string[] {
    const declared = this.model.classNames ?? this.model.class_names;
    if (declared === undefined) return defaultNames(columns);
    try {
      const names = typeof declared === 'function' ? declared.call(this.model) : declared;
      return [...names];
    } catch (err) {
      this.onModelError(err, 'class_names');
      throw modelFailure(err);
    }
  }

  /**
   * The reply's meta, as Seldon's wrapper builds it: the request's puid and request path, the
   * inherited tags and metrics (for a predict or transform, the request's own), then the
   * model's `tags()` and `metrics()`, then those returned with this output.
   */
  private meta(request: Meta | undefined, inherited: Meta | undefined, extra: Extra): Meta {
    const meta: Meta = {};
    const tagsFn = this.fns['tags'];
    const metricsFn = this.fns['metrics'];
    const modelTags = tagsFn === undefined ? undefined : (this.callSync(tagsFn, 'tags') as Record<string, unknown> | undefined);
    const modelMetrics = metricsFn === undefined ? undefined : (this.callSync(metricsFn, 'metrics') as Metric[] | undefined);
    if (request?.tags !== undefined || inherited?.tags !== undefined || modelTags != null || extra.tags !== undefined) {
      // Seldon's wrapper carries the request's tags on, under the model's own.
      const tags = { ...request?.tags, ...inherited?.tags, ...modelTags, ...extra.tags };
      if (Object.keys(tags).length > 0) meta.tags = tags;
    }
    if (inherited?.metrics !== undefined || modelMetrics != null || extra.metrics !== undefined) {
      const metrics = [...(inherited?.metrics ?? []), ...(Array.isArray(modelMetrics) ? modelMetrics : []), ...(extra.metrics ?? [])];
      if (metrics.length > 0) meta.metrics = metrics;
    }
    if (request?.puid !== undefined) meta.puid = request.puid;
    const requestPath = inherited?.requestPath ?? request?.requestPath;
    if (requestPath !== undefined && Object.keys(requestPath).length > 0) meta.requestPath = requestPath;
    return meta;
  }
}

/** The dispatcher for a model instance (after its `load()`): methods are resolved once, here. */
export function createDispatcher(model: SeldonComponent, options: DispatchOptions = {}): Dispatcher {
  return new ModelDispatcher(model, options);
}
