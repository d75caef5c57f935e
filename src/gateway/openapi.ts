/**
 * The OpenAPI pieces of a deployment's document: the Seldon message schemas and each route's
 * path item (operations, parameters, bodies, answers). The route table (routes.ts) names the path
 * item of each path; docs.ts assembles the document from the table.
 */

/** The example prediction the document and the doc page offer. */
export const EXAMPLE_REQUEST = { data: { names: ['f0', 'f1', 'f2', 'f3'], ndarray: [[5.1, 3.5, 1.4, 0.2]] } };

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

export const SCHEMAS = {
  SeldonMessage: {
    type: 'object',
    description: 'A request or a response. Give exactly one of data, binData, strData or jsonData.',
    properties: {
      data: ref('DefaultData'),
      binData: { type: 'string', format: 'byte', description: 'Binary payload, base64-encoded.' },
      strData: { type: 'string', description: 'A string payload.' },
      jsonData: { description: 'Any JSON value.' },
      meta: ref('Meta'),
      status: ref('Status'),
    },
  },
  DefaultData: {
    type: 'object',
    description: 'Numeric data: an ndarray (nested arrays) or a tensor (shape and flat values). A response keeps the request\'s encoding.',
    properties: {
      names: { type: 'array', items: { type: 'string' }, description: 'Column names; outputs default to t:0, t:1, …' },
      ndarray: { type: 'array', items: {}, description: 'Nested arrays, one per row.' },
      tensor: ref('Tensor'),
      tftensor: { type: 'object', description: 'A TensorFlow TensorProto in JSON form.' },
    },
  },
  Tensor: {
    type: 'object',
    required: ['shape', 'values'],
    properties: {
      shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
      values: { type: 'array', items: { type: 'number' }, description: 'Row-major; as many as the product of shape.' },
    },
  },
  Meta: {
    type: 'object',
    properties: {
      puid: { type: 'string', description: 'The request id; also in the Seldon-Puid header.' },
      tags: { type: 'object', additionalProperties: true, description: 'Tags set by the graph\'s components; later nodes override earlier ones.' },
      routing: { type: 'object', additionalProperties: { type: 'integer' }, description: 'The route each router chose: -1 all children, -2 none, N child N.' },
      requestPath: { type: 'object', additionalProperties: { type: 'string' }, description: 'The nodes the request passed, with their image or implementation.' },
      metrics: { type: 'array', items: ref('Metric') },
    },
  },
  Metric: {
    type: 'object',
    required: ['key', 'type', 'value'],
    properties: {
      key: { type: 'string' },
      type: { type: 'string', enum: ['COUNTER', 'GAUGE', 'TIMER'] },
      value: { type: 'number' },
      tags: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
  Status: {
    type: 'object',
    properties: {
      code: { type: 'integer' },
      info: { type: 'string' },
      reason: { type: 'string' },
      status: { type: 'string', enum: ['SUCCESS', 'FAILURE'] },
    },
  },
  Failure: {
    type: 'object',
    description: 'Every error: the HTTP status, what is wrong, and a stable reason.',
    required: ['status'],
    properties: { status: ref('Status') },
    example: { status: { code: 400, info: 'data: expected one of ndarray, tensor or tftensor', reason: 'MICROSERVICE_BAD_DATA', status: 'FAILURE' } },
  },
  Feedback: {
    type: 'object',
    description: 'How good a prediction was: the request, the response it got (with its meta.routing), a reward and optionally the truth.',
    properties: {
      request: ref('SeldonMessage'),
      response: ref('SeldonMessage'),
      reward: { type: 'number' },
      truth: ref('SeldonMessage'),
    },
  },
  GraphMetadata: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The predictor.' },
      models: { type: 'object', additionalProperties: ref('ModelMetadata') },
      graphinputs: { type: 'array', items: {} },
      graphoutputs: { type: 'array', items: {} },
    },
  },
  ModelMetadata: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      platform: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      inputs: { type: 'array', items: {} },
      outputs: { type: 'array', items: {} },
    },
  },
} as const;

const failures = (codes: readonly string[]): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  const text: Record<string, string> = {
    '400': 'The request is not a valid Seldon message, or the model rejected it',
    '404': 'No such deployment or node',
    '413': 'The body is larger than the gateway accepts',
    '415': 'The content type is neither JSON, a form with a json= field, nor multipart/form-data',
    '502': 'A component answered with something that is not a Seldon message',
    '503': 'No replica of a component is ready',
    '504': 'A component did not answer in time',
  };
  for (const code of codes) out[code] = { description: text[code] ?? 'Failure', content: { 'application/json': { schema: ref('Failure') } } };
  return out;
};

const jsonBody = (schema: string, example?: unknown): Record<string, unknown> => ({
  required: true,
  content: {
    'application/json': example === undefined ? { schema: ref(schema) } : { schema: ref(schema), example },
    'application/x-www-form-urlencoded': {
      schema: { type: 'object', required: ['json'], properties: { json: { type: 'string', description: `The ${schema} as JSON text.` } } },
    },
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: {
          json: { type: 'string', description: `The ${schema} as JSON text.` },
          ...(schema === 'SeldonMessage'
            ? {
                strData: { type: 'string', description: 'Becomes strData, as text (curl -F strData=@file).' },
                binData: { type: 'string', format: 'binary', description: 'Becomes binData, in base64 (curl -F binData=@file).' },
              }
            : {}),
        },
      },
    },
  },
});

const ok = (schema: string, description: string): Record<string, unknown> => ({
  description,
  headers: { 'Seldon-Puid': { schema: { type: 'string' }, description: 'The request id.' } },
  content: { 'application/json': { schema: ref(schema) } },
});

/** One path's operations, by lowercase method, as the OpenAPI document lists them. */
export type PathItem = Readonly<Record<string, unknown>>;

/** What a path item may depend on: the deployment it documents. */
export interface OperationContext {
  /** The primary predictor's nodes: the `<model>` values offered. */
  readonly models: readonly string[];
}

function modelParameter(context: OperationContext): Record<string, unknown> {
  const models = context.models;
  return { name: 'model', in: 'path', required: true, schema: models.length > 0 ? { type: 'string', enum: models } : { type: 'string' }, description: 'A node of the graph.' };
}

export function predictionsItem(summary: string, operationId: string): PathItem {
  const responses = { '200': ok('SeldonMessage', 'The graph\'s answer, with meta'), ...failures(['400', '404', '413', '415', '502', '503', '504']) };
  const puidHeader = { name: 'Seldon-Puid', in: 'header', required: false, schema: { type: 'string' }, description: 'A request id to use instead of a generated one.' };
  return {
    post: { summary, operationId, parameters: [puidHeader], requestBody: jsonBody('SeldonMessage', EXAMPLE_REQUEST), responses },
    get: {
      summary: `${summary} (message in the query string)`,
      parameters: [{ name: 'json', in: 'query', required: true, schema: { type: 'string' }, description: 'The SeldonMessage as JSON text.' }, puidHeader],
      responses,
    },
  };
}

export function feedbackItem(summary: string): PathItem {
  return { post: { summary, requestBody: jsonBody('Feedback'), responses: { '200': ok('SeldonMessage', 'The components\' answer'), ...failures(['400', '404', '413', '415', '503', '504']) } } };
}

export const graphMetadataItem = (): PathItem => ({ get: { summary: 'The graph\'s metadata', responses: { '200': ok('GraphMetadata', 'Each node\'s metadata and the graph\'s inputs and outputs'), ...failures(['404', '503', '504']) } } });

export const modelMetadataItem = (context: OperationContext): PathItem => ({
  get: { summary: 'One node\'s metadata', parameters: [modelParameter(context)], responses: { '200': ok('ModelMetadata', 'The node\'s metadata'), ...failures(['404', '503', '504']) } },
});

export const healthItem = (): PathItem => ({ get: { summary: 'The root component\'s health', responses: { '200': ok('SeldonMessage', 'Healthy'), ...failures(['503', '504']) } } });

export const modelStatusItem = (context: OperationContext): PathItem => ({
  get: { summary: 'One node\'s health', parameters: [modelParameter(context)], responses: { '200': ok('SeldonMessage', 'Healthy'), ...failures(['404', '503', '504']) } },
});
