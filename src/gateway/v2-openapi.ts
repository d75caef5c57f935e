/**
 * The OpenAPI pieces of the gateway's V2 (Open Inference Protocol) paths: the V2 message schemas
 * and each path's item, for the document of a `protocol: v2` deployment.
 */
import type { OperationContext, PathItem } from './openapi.ts';

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

/** The V2 messages, by name: a `protocol: v2` deployment's document lists these in place of Seldon's. */
export const V2_SCHEMAS = {
  V2InferenceRequest: {
    type: 'object',
    description: 'An inference request: the inputs, and optionally which outputs to answer (as binary data with the binary_data parameter).',
    required: ['inputs'],
    properties: {
      id: { type: 'string', description: 'Echoed in the response.' },
      parameters: { type: 'object', additionalProperties: true, description: '`binary_data_output: true` asks for every output as binary data.' },
      inputs: { type: 'array', items: ref('V2Tensor') },
      outputs: { type: 'array', items: { type: 'object' }, description: 'The outputs wanted, by name, each with its own parameters.' },
    },
  },
  V2InferenceResponse: {
    type: 'object',
    required: ['model_name', 'outputs'],
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string', description: 'The request\'s id.' },
      outputs: { type: 'array', items: ref('V2Tensor') },
    },
  },
  V2Tensor: {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      datatype: { type: 'string', enum: ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] },
      parameters: { type: 'object', additionalProperties: true, description: '`binary_data_size` when the tensor travels after the JSON header.' },
      data: { type: 'array', items: {}, description: 'Row-major, flat or nested.' },
    },
  },
  V2ModelMetadata: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: {} },
      outputs: { type: 'array', items: {} },
    },
  },
  V2Error: {
    type: 'object',
    description: 'Every V2 failure, with the HTTP status.',
    required: ['error'],
    properties: { error: { type: 'string', description: 'What went wrong, naming the field.' } },
  },
} as const;

/** The example inference the document and the doc page offer. */
export const EXAMPLE_V2_REQUEST = { inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: [[5.1, 3.5, 1.4, 0.2]] }] };

function failures(codes: readonly string[]): Record<string, unknown> {
  const text: Record<string, string> = {
    '400': 'The request is not a valid V2 inference request (the error names the field), or the model rejected it',
    '404': 'No such deployment or model, or the deployment is not protocol: v2',
    '413': 'The body is larger than the gateway accepts',
    '502': 'A component answered with something that is not V2',
    '503': 'Not ready, or no replica of a component is ready',
    '504': 'A component did not answer in time',
  };
  const out: Record<string, unknown> = {};
  for (const code of codes) out[code] = { description: text[code] ?? 'Failure', content: { 'application/json': { schema: ref('V2Error') } } };
  return out;
}

function okJson(description: string, schema: Record<string, unknown> = { type: 'object' }): Record<string, unknown> {
  return { description, content: { 'application/json': { schema } } };
}

function pathParameters(context: OperationContext, versioned: boolean): Record<string, unknown>[] {
  const models = context.models;
  const model = { name: 'model', in: 'path', required: true, schema: models.length > 0 ? { type: 'string', enum: models } : { type: 'string' }, description: 'A node of the graph.' };
  return versioned ? [model, { name: 'version', in: 'path', required: true, schema: { type: 'string' } }] : [model];
}

export const v2LiveItem = (): PathItem => ({ get: { summary: 'V2: the server is live', responses: { '200': okJson('Live'), ...failures(['404']) } } });

export const v2ReadyItem = (): PathItem => ({ get: { summary: 'V2: every model of the graph is ready', responses: { '200': okJson('Ready'), ...failures(['404', '503']) } } });

export const v2ServerItem = (): PathItem => ({
  get: {
    summary: 'V2: server metadata',
    responses: {
      '200': okJson('Name, version and extensions', { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } } }),
      ...failures(['404']),
    },
  },
});

export const v2ModelItem = (context: OperationContext, versioned = false): PathItem => ({
  get: { summary: 'V2: a model\'s metadata', parameters: pathParameters(context, versioned), responses: { '200': okJson('The model\'s metadata, as its server gives it', ref('V2ModelMetadata')), ...failures(['404', '503', '504']) } },
});

export const v2ModelReadyItem = (context: OperationContext, versioned = false): PathItem => ({
  get: { summary: 'V2: whether a model is ready', parameters: pathParameters(context, versioned), responses: { '200': okJson('Ready'), ...failures(['404', '503']) } },
});

export const v2InferItem = (context: OperationContext, versioned = false): PathItem => ({
  post: {
    summary: 'V2: inference through the graph',
    parameters: [
      ...pathParameters(context, versioned),
      { name: 'Inference-Header-Content-Length', in: 'header', required: false, schema: { type: 'integer' }, description: 'binary_data: the length of the JSON header; tensors follow it as raw bytes.' },
    ],
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: ref('V2InferenceRequest'), example: EXAMPLE_V2_REQUEST },
        'application/octet-stream': { schema: { type: 'string', format: 'binary' }, description: 'A JSON header of Inference-Header-Content-Length bytes, then the binary tensors.' },
      },
    },
    responses: {
      '200': okJson('The last model\'s answer', ref('V2InferenceResponse')),
      ...failures(['400', '404', '413', '502', '503', '504']),
    },
  },
});
