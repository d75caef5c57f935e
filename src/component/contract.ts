/**
 * The contract between Trantor's Node host and a user's model class — the same one Seldon's
 * Python wrapper offers a Python class. Every method is optional except that a MODEL needs
 * `predict` (or `predictRaw`); each may return its value or a Promise of it. Seldon's
 * snake_case names (`predict_raw`, `transform_input`, `send_feedback`, `class_names`, …) are
 * accepted beside the camelCase ones, so a class ported from Python keeps its method names.
 */
import type { Feedback, Meta, Metric, SeldonMessage, V2InferenceRequest, V2ModelMetadata, V2Parameters, V2Tensor } from '../protocol/index.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a method receives as `X`: nested arrays for `data.ndarray` and `data.tensor` (a tensor
 * is reshaped row-major), the string for `strData`, the decoded bytes for `binData`, and the
 * JSON value itself for `jsonData`.
 */
export type Features = unknown[] | string | Buffer | JsonValue;

/**
 * What a method may return. An array becomes `data` (a tensor when the request was a tensor
 * and the output is numeric and rectangular, else an ndarray), a string `strData`, bytes
 * `binData` (base64), a plain object `jsonData`. Wrap it in a `SeldonResponse` to add tags
 * and metrics for this one request. (Returning the features as they came — the identity — is
 * always valid; a bare number, boolean or null is not a Seldon payload and answers 500.)
 */
export type ModelOutput = Features | ArrayBufferView | { [key: string]: unknown } | SeldonResponse;

export type MaybePromise<T> = T | Promise<T>;

/** A model's output with tags and metrics that belong to this request only. */
export class SeldonResponse {
  readonly data: unknown;
  readonly tags: Record<string, unknown>;
  readonly metrics: Metric[];

  constructor(data: unknown, extra: { tags?: Record<string, unknown>; metrics?: Metric[] } = {}) {
    this.data = data;
    this.tags = extra.tags ?? {};
    this.metrics = extra.metrics ?? [];
  }
}

/** Model metadata as Seldon's `/metadata` answers it; `init_metadata()` returns (part of) it. */
export interface ModelMetadata {
  name?: string;
  versions?: string[];
  platform?: string;
  inputs?: unknown[];
  outputs?: unknown[];
  custom?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * A V2 inference as a component that speaks V2 itself receives it (`inferV2`): the model and
 * version the request named, the request's fields (its `inputs` listed without their elements, its
 * requested `outputs`), and the inputs as typed tensors in the same order.
 */
export interface V2NativeRequest {
  readonly model: string;
  /** The version in the path (`/v2/models/<m>/versions/<v>/infer`) or gRPC's `model_version`; absent: the server's choice. */
  readonly version?: string;
  readonly message: V2InferenceRequest;
  readonly inputs: readonly V2Tensor[];
}

/** A V2-native answer: the outputs as typed tensors; the host adds `id` and encodes JSON, binary or gRPC as asked. */
export interface V2NativeResponse {
  readonly model_name: string;
  readonly model_version?: string;
  readonly parameters?: V2Parameters;
  readonly outputs: readonly V2Tensor[];
}

/**
 * A user's model. Method syntax keeps parameter types bivariant, so a class may narrow them:
 * `predict(X: number[][], names: string[]): number[][]` satisfies this interface.
 */
export interface SeldonComponent {
  /** Called once, after construction and before the first request. */
  load?(): MaybePromise<void>;

  predict?(X: Features, names: string[], meta?: Meta): MaybePromise<ModelOutput>;
  /** The whole request message in, the whole reply message out; wins over `predict`. */
  predictRaw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;
  predict_raw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;

  transformInput?(X: Features, names: string[], meta?: Meta): MaybePromise<ModelOutput>;
  transform_input?(X: Features, names: string[], meta?: Meta): MaybePromise<ModelOutput>;
  transformInputRaw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;
  transform_input_raw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;

  transformOutput?(X: Features, names: string[], meta?: Meta): MaybePromise<ModelOutput>;
  transform_output?(X: Features, names: string[], meta?: Meta): MaybePromise<ModelOutput>;
  transformOutputRaw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;
  transform_output_raw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;

  /** The index of the child to send the request to (-1 all children, -2 none). */
  route?(X: Features, names: string[], meta?: Meta): MaybePromise<number | SeldonResponse>;
  routeRaw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;
  route_raw?(msg: SeldonMessage): MaybePromise<SeldonMessage>;

  /** Combines the children's outputs: one entry per child, in order. */
  aggregate?(Xs: Features[], namesList: string[][]): MaybePromise<ModelOutput>;
  aggregateRaw?(msgs: SeldonMessage[]): MaybePromise<SeldonMessage>;
  aggregate_raw?(msgs: SeldonMessage[]): MaybePromise<SeldonMessage>;

  /** `routing` is the child this unit chose for the request, when it is a router. */
  sendFeedback?(X: Features, names: string[], reward: number, truth: Features | undefined, routing?: number): MaybePromise<ModelOutput | undefined | void>;
  send_feedback?(X: Features, names: string[], reward: number, truth: Features | undefined, routing?: number): MaybePromise<ModelOutput | undefined | void>;
  sendFeedbackRaw?(feedback: Feedback): MaybePromise<SeldonMessage>;
  send_feedback_raw?(feedback: Feedback): MaybePromise<SeldonMessage>;

  /** Column names for a 2-D output (default `t:0`, `t:1`, …); a method or a plain array. */
  classNames?: readonly string[] | (() => readonly string[]);
  class_names?: readonly string[] | (() => readonly string[]);

  /** Tags added to every reply's `meta.tags`. */
  tags?(): Record<string, unknown>;
  /** Custom metrics (COUNTER, GAUGE, TIMER) added to every reply's `meta.metrics`. */
  metrics?(): Metric[];

  healthStatus?(): MaybePromise<ModelOutput>;
  health_status?(): MaybePromise<ModelOutput>;

  initMetadata?(): MaybePromise<ModelMetadata>;
  init_metadata?(): MaybePromise<ModelMetadata>;

  /**
   * V2-native serving: when present, the host's V2 REST and gRPC faces answer inferences with it
   * directly (typed tensors in and out, no Seldon message between), and `predict` is not called
   * for V2. A thrown TrantorError (or MicroserviceError) answers with its status and message.
   */
  inferV2?(request: V2NativeRequest): MaybePromise<V2NativeResponse>;
  /** The V2 model metadata for `model` (and `version`); with `inferV2`, instead of `metadata()`'s. */
  metadataV2?(model: string, version?: string): MaybePromise<V2ModelMetadata>;
  /** Whether `model` (and `version`) is ready; with `inferV2`; absent: ready once loaded. A throw is "no such model". */
  readyV2?(model: string, version?: string): MaybePromise<boolean>;
}

/** The constructor a model file exports; parameters from the manifest arrive as one object. */
export type SeldonComponentClass = new (parameters: Record<string, unknown>) => SeldonComponent;

/** Seldon's service types (`--service-type`), i.e. the graph node types a component can fill. */
export const SERVICE_TYPES = ['MODEL', 'ROUTER', 'TRANSFORMER', 'OUTPUT_TRANSFORMER', 'COMBINER'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];
