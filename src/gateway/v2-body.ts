/**
 * A V2 inference body at the gateway: read as JSON, or as a JSON header and binary tensors when
 * `Inference-Header-Content-Length` is given (the binary_data extension); answered as JSON, or
 * with the outputs the request asked for as binary data after a JSON header. JSON outputs keep
 * the text their component gave (an FP32 `0.1` stays `0.1`, an INT64 every digit).
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  assertJsonDepth,
  binaryOutputsWanted,
  decodeV2Request,
  encodeV2Response,
  INFERENCE_HEADER_CONTENT_LENGTH,
  parseInferenceHeaderLength,
  stringifyJson,
  v2TensorToJson,
  type V2DecodedBody,
  type V2InferenceRequest,
  type V2InferenceResponse,
} from '../protocol/index.ts';

export function readV2Request(headers: IncomingHttpHeaders, body: Buffer): V2DecodedBody<V2InferenceRequest> {
  const headerLength = parseInferenceHeaderLength(headers[INFERENCE_HEADER_CONTENT_LENGTH]);
  // Refused before parsing, as every JSON body the gateway reads: the JSON part only.
  assertJsonDepth(body.subarray(0, headerLength ?? body.length));
  return decodeV2Request(body, headerLength);
}

export interface V2ResponseBody {
  body: Buffer;
  /** Content-Type, and the header length when outputs follow as binary data. */
  headers: string[];
}

export function writeV2Response(request: V2InferenceRequest, answer: V2DecodedBody<V2InferenceResponse>): V2ResponseBody {
  const asBinary = binaryOutputsWanted(request);
  const { outputs, ...fields } = answer.message;
  if (!outputs.some((output) => asBinary(output.name))) {
    const json = outputs.map((output, i) => (output.data !== undefined ? output : v2TensorToJson(answer.tensors[i]!, `outputs[${i}]`)));
    return { body: Buffer.from(stringifyJson({ ...fields, outputs: json })), headers: ['Content-Type', 'application/json'] };
  }
  const encoded = encodeV2Response(fields, answer.tensors, asBinary);
  const body = Buffer.from(encoded.body.buffer, encoded.body.byteOffset, encoded.body.byteLength);
  const headers = ['Content-Type', 'application/octet-stream'];
  if (encoded.headerLength !== undefined) headers.push('Inference-Header-Content-Length', String(encoded.headerLength));
  return { body, headers };
}
