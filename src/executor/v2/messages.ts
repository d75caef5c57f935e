/**
 * V2 messages as the executor passes them along a chain: the JSON form of a decoded body (a
 * tensor that came as JSON keeps its own `data`, digits and all; one that came as binary data or
 * raw gRPC contents is written from its typed values), and an answer turned into the next node's
 * request.
 */
import {
  binaryDataSize,
  v2TensorToJson,
  type V2DecodedBody,
  type V2InferenceRequest,
  type V2InferenceResponse,
  type V2JsonTensor,
  type V2Parameters,
  type V2RequestedOutput,
  type V2Tensor,
} from '../../protocol/index.ts';

/** Parameters that ask for or describe the binary extension: a component answers JSON to the executor. */
const BINARY_PARAMETERS = new Set(['binary_data', 'binary_data_size', 'binary_data_output']);

function withoutBinary(parameters: V2Parameters | undefined): V2Parameters | undefined {
  if (parameters === undefined) return undefined;
  let kept: V2Parameters | undefined;
  for (const key of Object.keys(parameters)) {
    if (BINARY_PARAMETERS.has(key)) continue;
    (kept ??= {})[key] = parameters[key];
  }
  return kept;
}

/** One tensor as JSON: its own JSON when it has `data`, else written from its typed view. */
function jsonTensor(listed: V2JsonTensor, typed: V2Tensor | undefined, where: string): V2JsonTensor {
  if (listed.data !== undefined && binaryDataSize(listed.parameters) === undefined) return listed;
  if (typed === undefined) return listed;
  const json = v2TensorToJson(typed, where);
  const parameters = withoutBinary(json.parameters);
  if (parameters === undefined) delete json.parameters;
  else json.parameters = parameters;
  return json;
}

function jsonTensors(listed: readonly V2JsonTensor[], typed: readonly V2Tensor[], key: string): V2JsonTensor[] {
  return listed.map((tensor, i) => jsonTensor(tensor, typed[i], `${key}[${i}]`));
}

function setOptional<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** The request's fields but its inputs, as a component gets them: no binary extension asked for. */
export function requestFields(message: V2InferenceRequest): Omit<V2InferenceRequest, 'inputs'> {
  const out: Omit<V2InferenceRequest, 'inputs'> = {};
  setOptional(out, 'id', message.id);
  setOptional(out, 'parameters', withoutBinary(message.parameters));
  if (message.outputs !== undefined) {
    out.outputs = message.outputs.map((output) => {
      const requested: V2RequestedOutput = { name: output.name };
      setOptional(requested, 'parameters', withoutBinary(output.parameters));
      return requested;
    });
  }
  return out;
}

/** The request as JSON for a component: every input with `data`, no binary extension asked for. */
export function requestJson(request: V2DecodedBody<V2InferenceRequest>): V2InferenceRequest {
  return { ...requestFields(request.message), inputs: jsonTensors(request.message.inputs, request.tensors, 'inputs') };
}

/** The answer as JSON: every output with `data` (for the request logger). */
export function responseJson(response: V2DecodedBody<V2InferenceResponse>): V2InferenceResponse {
  return { ...response.message, outputs: jsonTensors(response.message.outputs, response.tensors, 'outputs') };
}

/**
 * A node's answer as the request to the next node of the chain, as Seldon's executor chains V2
 * models: the outputs become the inputs (names, shapes, datatypes and data unchanged), the
 * request's id and parameters go on. The request's `outputs` are not carried: they name the
 * graph's answer, and the graph hands them to its last node alone.
 */
export function chainRequest(previous: V2DecodedBody<V2InferenceRequest>, answer: V2DecodedBody<V2InferenceResponse>): V2DecodedBody<V2InferenceRequest> {
  const message: V2InferenceRequest = { inputs: answer.message.outputs };
  setOptional(message, 'id', answer.message.id ?? previous.message.id);
  setOptional(message, 'parameters', previous.message.parameters);
  return { message, tensors: answer.tensors };
}
