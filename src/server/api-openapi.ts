/**
 * The control-plane API (docs/api.md) as an OpenAPI 3.0 document, served at `GET /v1/openapi.json`.
 * It is data, written once: clients and fuzzers (schemathesis in test/e2e/fuzz.test.ts) read
 * the routes, parameters, bodies and failure shape from it. Keep it in step with `route` in api.ts.
 *
 * Request bodies are described loosely on purpose (a manifest is text): a generator fed a precise
 * SeldonDeployment schema would apply manifests that start processes.
 */

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

/** Kubernetes-style object names: what `trantor apply` accepts for a namespace or a name. */
const NAME_SCHEMA = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$' } as const;

const pathParameter = (name: 'namespace' | 'name', description: string): Record<string, unknown> => ({
  name,
  in: 'path',
  required: true,
  schema: NAME_SCHEMA,
  description,
});

const NAMESPACE = pathParameter('namespace', 'The namespace of the object.');
const NAME = pathParameter('name', 'The name of the object.');

const FAILURE_TEXT: Record<string, string> = {
  '400': 'The request or its body is malformed; the message says what is wrong',
  '401': 'The bearer token (in <home>/api-token) is missing or wrong',
  '403': 'The request came from a web page (an Origin header) that may not use the API',
  '404': 'No such path or object',
  '405': 'The path does not accept this method',
  '408': 'The body did not arrive in time',
  '413': 'The body is larger than the API accepts',
  '415': 'The body\'s content type is not one this path reads',
  '421': 'The Host header is not the API\'s own address',
  '431': 'The request headers are too large',
};

/** Every answer an API call can fail with, each a Failure body. */
function failures(...extra: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const code of ['400', '401', '403', '404', '421', '431', ...extra].sort()) {
    out[code] = { description: FAILURE_TEXT[code] ?? 'Failure', content: { 'application/json': { schema: ref('Failure') } } };
  }
  return out;
}

const json = (schema: Record<string, unknown>, description: string): Record<string, unknown> => ({
  description,
  content: { 'application/json': { schema } },
});

/** `?watch=1`: the list becomes a stream of watch events (docs/api.md, watching a collection). */
const WATCH_PARAMETERS = [
  { name: 'watch', in: 'query', required: false, schema: { type: 'string', enum: ['1', 'true', '0', 'false'] }, description: '1 or true: stream JSON lines {type: ADDED|MODIFIED|DELETED, object} (application/x-ndjson) instead of the list, until the connection closes; 0 or false: the list.' },
  { name: 'sendInitialEvents', in: 'query', required: false, schema: { type: 'string', enum: ['false'] }, description: 'With watch: leave out the ADDED events of the objects that exist now.' },
];

const list = (item: string, description: string): Record<string, unknown> => ({
  get: {
    operationId: `list${item}s`,
    summary: description,
    parameters: WATCH_PARAMETERS,
    responses: { '200': json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref(item) } } }, description), ...failures('405') },
  },
});

const removal = (what: string): Record<string, unknown> => ({
  delete: {
    operationId: `delete${what}`,
    summary: `Forgets the ${what}; triggers re-resolve`,
    parameters: [NAMESPACE, NAME],
    responses: { '200': json(ref('Deleted'), `The ${what} is gone`), ...failures('405') },
  },
});

const SCHEMAS = {
  Failure: {
    type: 'object',
    description: 'Every error: the HTTP status, what is wrong, and a stable reason (docs/errors.md).',
    required: ['status'],
    properties: {
      status: {
        type: 'object',
        required: ['code', 'info', 'reason', 'status'],
        properties: {
          code: { type: 'integer', description: 'The HTTP status.' },
          info: { type: 'string', description: 'What is wrong, naming the field or header.' },
          reason: { type: 'string', description: 'A stable reason, such as BAD_MANIFEST or UNAUTHORIZED.' },
          status: { type: 'string', enum: ['FAILURE'] },
        },
      },
    },
  },
  Health: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
  Version: {
    type: 'object',
    required: ['trantorVersion', 'nodeVersion', 'platform'],
    properties: { trantorVersion: { type: 'string', description: "The package's version, e.g. 0.1.0" }, nodeVersion: { type: 'string', description: 'e.g. v20.18.1' }, platform: { type: 'string', description: 'e.g. linux/x64' } },
  },
  DashboardLogin: {
    type: 'object',
    required: ['code', 'url', 'expiresAt'],
    properties: {
      code: { type: 'string', description: 'A one-time login code, good once, for a minute' },
      url: { type: 'string', description: 'The login link: the gateway root with #login=<code>' },
      expiresAt: { type: 'string', format: 'date-time' },
    },
  },
  Applied: {
    type: 'object',
    required: ['applied'],
    properties: {
      applied: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kind', 'namespace', 'name', 'action'],
          properties: {
            kind: { type: 'string' },
            namespace: { type: 'string' },
            name: { type: 'string' },
            action: { type: 'string', enum: ['created', 'configured', 'unchanged'] },
          },
        },
      },
      dryRun: { type: 'boolean', enum: [true], description: 'Set on a dry run: the actions are what applying would do; nothing was stored.' },
      warnings: { type: 'array', items: { type: 'string' }, description: 'Unknown fields, by object and path, with the field most likely meant.' },
    },
  },
  Deployment: {
    type: 'object',
    description: 'The stored SeldonDeployment (defaults filled in) with its live status.',
    required: ['metadata', 'spec', 'status'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' } } },
      spec: { type: 'object' },
      status: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: ['Creating', 'Available', 'Failed'] },
          description: { type: 'string' },
          replicas: { type: 'array', items: { type: 'object' } },
          address: { type: 'object', properties: { url: { type: 'string' } } },
          createdAt: { type: 'string' },
        },
      },
    },
  },
  Trigger: { type: 'object', description: 'A Knative Trigger with status{ready, reason, message, subscriberUri, deadLetterSinkUri, deliveries{delivered, retried, deadLettered, dropped}}.', properties: { metadata: { type: 'object' }, spec: { type: 'object' }, status: { type: 'object' } } },
  Broker: { type: 'object', description: 'A Knative Broker with status{ready, address.url}.', properties: { metadata: { type: 'object' }, spec: { type: 'object' }, status: { type: 'object' } } },
  Service: { type: 'object', description: 'A Service with status{sinkUrl}.', properties: { metadata: { type: 'object' }, spec: { type: 'object' }, status: { type: 'object' } } },
  KubeDeployment: { type: 'object', description: 'An apps/v1 Deployment with status{readyReplicas}.', properties: { metadata: { type: 'object' }, spec: { type: 'object' }, status: { type: 'object' } } },
  ConfigMap: { type: 'object', description: "Knative's config-br-defaults ConfigMap, data as applied.", properties: { metadata: { type: 'object' }, data: { type: 'object' }, status: { type: 'object' } } },
  Deleted: { type: 'object', required: ['deleted'], properties: { deleted: { type: 'object' } } },
  Event: {
    type: 'object',
    description: 'A Kubernetes-style Event the control plane recorded; repeats are folded into one with a count.',
    required: ['type', 'reason', 'message', 'involvedObject', 'source', 'count', 'firstTimestamp', 'lastTimestamp'],
    properties: {
      type: { type: 'string', enum: ['Normal', 'Warning'] },
      reason: { type: 'string', description: 'CamelCase: Created, Updated, Deleted, SinkRegistered, SinkUnregistered, Started, Crashed, BackOff, Failed, Pulling, Pulled, Unhealthy, DeliveryFailed, DeadLettered, Dropped.' },
      message: { type: 'string' },
      involvedObject: {
        type: 'object',
        required: ['kind', 'namespace', 'name'],
        properties: {
          kind: { type: 'string' },
          namespace: { type: 'string' },
          name: { type: 'string' },
          replica: { type: 'string', description: 'The replica process, as trantor get pods names it.' },
          fieldPath: { type: 'string', description: 'The graph node: spec.predictors{<predictor>}.graph{<node>}.' },
        },
      },
      source: { type: 'string', enum: ['control-plane', 'supervisor', 'broker'] },
      count: { type: 'integer' },
      firstTimestamp: { type: 'string', format: 'date-time' },
      lastTimestamp: { type: 'string', format: 'date-time' },
    },
  },
  SinkRegistration: {
    type: 'object',
    required: ['url'],
    properties: { url: { type: 'string', pattern: '^https?://', description: 'The local process that receives the Service\'s events.' } },
  },
} as const;

const MANIFEST_TEXT = { type: 'string', description: 'One or many manifests (YAML or JSON documents).' } as const;

/** The OpenAPI 3.0 document of the control-plane API. */
export const API_OPENAPI = Object.freeze({
  openapi: '3.0.3',
  info: {
    title: 'Trantor control-plane API',
    version: 'v1',
    description:
      'What the trantor CLI uses to apply manifests and read state. It listens on loopback, on the port written to <home>/control-plane.json, ' +
      'and every call carries the token in <home>/api-token as Authorization: Bearer <token>.',
  },
  security: [{ bearerToken: [] }],
  paths: {
    '/v1/health': {
      get: { operationId: 'health', summary: 'Answers while the control plane runs', responses: { '200': json(ref('Health'), 'Running'), ...failures('405') } },
    },
    '/v1/version': {
      get: { operationId: 'version', summary: "The control plane's version (trantor version's Server Version)", responses: { '200': json(ref('Version'), 'Its version'), ...failures('405') } },
    },
    '/v1/dashboard/login': {
      post: { operationId: 'dashboardLogin', summary: "A one-time login link for the dashboard (trantor dashboard)", responses: { '200': json(ref('DashboardLogin'), 'The code and its link'), ...failures('405') } },
    },
    '/v1/openapi.json': {
      get: { operationId: 'openapi', summary: 'This document', responses: { '200': json({ type: 'object' }, 'The OpenAPI 3.0 document'), ...failures('405') } },
    },
    '/v1/apply': {
      post: {
        operationId: 'apply',
        summary: 'Stores manifests and starts or updates what they describe; nothing is applied when one of them is invalid',
        parameters: [
          { name: 'X-Trantor-Base-Dir', in: 'header', required: false, schema: { type: 'string' }, description: 'The folder relative paths resolve against, URI-encoded.' },
          { name: 'X-Trantor-Source', in: 'header', required: false, schema: { type: 'string' }, description: 'A name for the manifests in messages, URI-encoded.' },
          { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['All'] }, description: 'Check and answer what applying would do; store and start nothing.' },
          {
            name: 'fieldValidation',
            in: 'query',
            required: false,
            schema: { type: 'string', enum: ['Strict', 'Warn', 'Ignore'], default: 'Warn' },
            description: 'Strict refuses manifests with unknown fields; Warn answers them as warnings.',
          },
        ],
        requestBody: {
          required: true,
          content: { 'application/yaml': { schema: MANIFEST_TEXT }, 'application/json': { schema: { description: 'A manifest as a JSON document.' } } },
        },
        responses: { '200': json(ref('Applied'), 'What each manifest did'), ...failures('405', '408', '413', '415') },
      },
    },
    '/v1/events': {
      get: {
        operationId: 'listEvents',
        summary: 'The Kubernetes-style Events recorded (the last 1000 by default, each kept an hour after it was last seen), newest last',
        parameters: (['namespace', 'kind', 'name'] as const).map((name) => ({
          name,
          in: 'query',
          required: false,
          schema: { type: 'string' },
          description: `Only events whose involvedObject has this ${name}${name === 'kind' ? ' (any case: SeldonDeployment, Trigger, Broker, Service, Deployment)' : ''}.`,
        })),
        responses: { '200': json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('Event') } } }, 'The events, newest last'), ...failures('405') },
      },
    },
    '/v1/deployments': list('Deployment', 'Every SeldonDeployment with its status'),
    '/v1/deployments/{namespace}/{name}': {
      get: { operationId: 'getDeployment', summary: 'One SeldonDeployment', parameters: [NAMESPACE, NAME], responses: { '200': json(ref('Deployment'), 'The deployment'), ...failures('405') } },
      delete: { operationId: 'deleteDeployment', summary: 'Stops its processes and forgets it', parameters: [NAMESPACE, NAME], responses: { '200': json(ref('Deleted'), 'Gone'), ...failures('405') } },
    },
    '/v1/deployments/{namespace}/{name}/logs': {
      get: {
        operationId: 'deploymentLogs',
        summary: 'Its processes\' log lines, `[<predictor>/<node>/<replica>] <line>`',
        parameters: [
          NAMESPACE,
          NAME,
          { name: 'container', in: 'query', required: false, schema: { type: 'string' }, description: "Only this graph node's replicas (404 when the graph has no such node)." },
          { name: 'tailLines', in: 'query', required: false, schema: { type: 'integer', minimum: -1, default: 100 }, description: 'How many past lines of each replica; -1 for every line kept.' },
          { name: 'tail', in: 'query', required: false, schema: { type: 'integer', minimum: -1 }, description: 'The older name of tailLines.' },
          { name: 'sinceSeconds', in: 'query', required: false, schema: { type: 'integer', minimum: 1 }, description: 'Only lines read in the last so many seconds.' },
          { name: 'sinceTime', in: 'query', required: false, schema: { type: 'string', format: 'date-time' }, description: 'Only lines read at or after this RFC 3339 time (not with sinceSeconds).' },
          { name: 'timestamps', in: 'query', required: false, schema: { type: 'boolean' }, description: 'Put the RFC 3339 time the line was read (nine fraction digits) after the replica.' },
          { name: 'previous', in: 'query', required: false, schema: { type: 'boolean' }, description: "The lines of each restarted replica's run before its current one (404 when none has restarted)." },
          { name: 'follow', in: 'query', required: false, schema: { type: 'boolean' }, description: 'Keep the answer open and stream new lines; it ends when the deployment is deleted.' },
        ],
        responses: { '200': { description: 'Log lines', content: { 'text/plain': { schema: { type: 'string' } } } }, ...failures('405') },
      },
    },
    '/v1/triggers': list('Trigger', 'Every Trigger with its status'),
    '/v1/brokers': list('Broker', 'Every Broker with its ingress address'),
    '/v1/services': list('Service', 'Every Service with its registered sink'),
    '/v1/kubedeployments': list('KubeDeployment', 'Every apps/v1 Deployment'),
    '/v1/configmaps': list('ConfigMap', "Knative's broker defaults (knative-eventing/config-br-defaults), when applied"),
    '/v1/triggers/{namespace}/{name}': removal('Trigger'),
    '/v1/brokers/{namespace}/{name}': removal('Broker'),
    '/v1/services/{namespace}/{name}': removal('Service'),
    '/v1/kubedeployments/{namespace}/{name}': removal('KubeDeployment'),
    '/v1/configmaps/{namespace}/{name}': removal('ConfigMap'),
    '/v1/brokers/{namespace}/{name}/events': {
      get: {
        operationId: 'brokerEvents',
        summary: 'The broker\'s events as JSON lines (structured mode); the answer stays open',
        parameters: [
          NAMESPACE,
          NAME,
          { name: 'follow', in: 'query', required: false, schema: { type: 'string', enum: ['1'] } },
          { name: 'from', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'The first sequence number; from now on when absent.' },
        ],
        responses: { '200': { description: 'One event per line', content: { 'application/x-ndjson': { schema: { type: 'string' } } } }, ...failures('405') },
      },
    },
    '/v1/sinks/{namespace}/{name}': {
      put: {
        operationId: 'registerSink',
        summary: 'Registers the local process that receives events for Service <name>; kept across restarts',
        parameters: [NAMESPACE, NAME],
        requestBody: { required: true, content: { 'application/json': { schema: ref('SinkRegistration') } } },
        responses: { '200': json({ type: 'object', properties: { namespace: { type: 'string' }, name: { type: 'string' }, url: { type: 'string' } } }, 'Registered'), ...failures('405', '408', '413', '415') },
      },
      delete: { operationId: 'unregisterSink', summary: 'Removes the registration', parameters: [NAMESPACE, NAME], responses: { '200': json(ref('Deleted'), 'Removed'), ...failures('405') } },
    },
  },
  components: {
    securitySchemes: { bearerToken: { type: 'http', scheme: 'bearer', description: 'The token in <home>/api-token (mode 0600), written at first start.' } },
    schemas: SCHEMAS,
  },
});
