/**
 * The client's side of the Open Inference Protocol (V2): an inference request built from the
 * caller's inputs, as a REST body (JSON, or JSON header plus binary tensors) or a gRPC
 * ModelInferRequest, and an answer read back into one form whatever carried it.
 */
import {
  encodeModelInferRequest,
  encodeV2Request,
  v2MessageType,
  v2TensorFromJson,
  v2TensorToJson,
  type V2DecodedBody,
  type V2EncodedBody,
  type V2InferenceRequest,
  type V2InferenceResponse,
  type V2JsonTensor,
  type V2Parameters,
  type V2RequestedOutput,
  type V2Tensor,
} from '../protocol/index.ts';

/** An input: V2 JSON (`data`, flat or nested) or a typed tensor (`values`). */
export type V2InferInput = V2JsonTensor | V2Tensor;

export interface V2InferRequestOptions {
  /** The outputs wanted (all of them when not given): names, or requested outputs with parameters. */
  outputs?: readonly (string | V2RequestedOutput)[];
  /**
   * REST: send the inputs as binary data and ask for binary outputs (the binary_data extension).
   * gRPC always carries tensors as raw bytes.
   */
  binary?: boolean;
  /** The request's id, echoed in the answer. */
  id?: string;
  parameters?: V2Parameters;
  /** The model version; the model's current one when not given. */
  version?: string;
}

/** An inference answer: the V2 JSON response with every output's `data`, and the typed outputs. */
export interface V2InferResult {
  /** Outputs hold `data` (exact: int64 past 2^53 stays a JsonNumber); BYTES that are not UTF-8 are only in `tensors`. */
  readonly response: V2InferenceResponse;
  readonly tensors: readonly V2Tensor[];
}

function typedInputs(inputs: readonly V2InferInput[]): V2Tensor[] {
  if (inputs.length === 0) throw new TypeError('infer: give at least one input');
  return inputs.map((input, i) => ('values' in input ? input : v2TensorFromJson(input, `inputs[${i}]`)));
}

/** The request's fields other than its inputs. */
function requestFields(options: V2InferRequestOptions, binaryOutputs: boolean): Omit<V2InferenceRequest, 'inputs'> {
  const fields: Omit<V2InferenceRequest, 'inputs'> = {};
  if (options.id !== undefined) fields.id = options.id;
  const parameters: V2Parameters = { ...options.parameters };
  if (options.outputs !== undefined) {
    fields.outputs = options.outputs.map((output) => {
      const requested: V2RequestedOutput = typeof output === 'string' ? { name: output } : { ...output };
      if (binaryOutputs) requested.parameters = { ...requested.parameters, binary_data: true };
      return requested;
    });
  } else if (binaryOutputs) {
    parameters['binary_data_output'] = true;
  }
  if (Object.keys(parameters).length > 0) fields.parameters = parameters;
  return fields;
}

/** A REST body for `inputs`: JSON, or with `binary` every input as binary data after the JSON header. */
export function v2RestRequest(inputs: readonly V2InferInput[], options: V2InferRequestOptions): V2EncodedBody {
  const binary = options.binary === true;
  return encodeV2Request(requestFields(options, binary), typedInputs(inputs), () => binary);
}

/** A ModelInferRequest's bytes for `model` and `inputs` (tensors as raw contents). */
export function v2GrpcRequest(model: string, inputs: readonly V2InferInput[], options: V2InferRequestOptions): Uint8Array {
  const version = options.version === undefined ? {} : { version: options.version };
  return encodeModelInferRequest({ name: model, ...version }, requestFields(options, false), typedInputs(inputs));
}

/** The answer in the client's form: every output given its `data` from its typed tensor. */
export function v2Result(decoded: V2DecodedBody<V2InferenceResponse>): V2InferResult {
  const { message, tensors } = decoded;
  const outputs = message.outputs.map((output, i) => {
    const tensor = tensors[i];
    if (output.data !== undefined || tensor === undefined) return output;
    try {
      // The typed tensor's parameters are the output's without binary_data_size.
      return v2TensorToJson(tensor, `outputs[${i}]`);
    } catch {
      // BYTES that are not text have no JSON form: the typed tensor holds them.
      return output;
    }
  });
  return { response: { ...message, outputs }, tensors };
}

/** A readiness request's bytes (ServerReadyRequest, ModelReadyRequest, ModelMetadataRequest). */
export function v2GrpcMessage(type: 'ServerReadyRequest' | 'ModelReadyRequest' | 'ModelMetadataRequest', fields: Record<string, string>): Uint8Array {
  const message = v2MessageType(type);
  return message.encode(message.fromObject(fields)).finish();
}

/** The `ready` of a ServerReadyResponse or ModelReadyResponse. */
export function v2GrpcReady(type: 'ServerReadyResponse' | 'ModelReadyResponse', bytes: Uint8Array): boolean {
  const message = v2MessageType(type);
  return (message.toObject(message.decode(bytes)) as { ready?: boolean }).ready === true;
}
