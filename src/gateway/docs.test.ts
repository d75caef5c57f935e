/** A deployment's doc page and OpenAPI document list the endpoints of its own protocol only. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docPage, openApiDocument, type DocTarget } from './docs.ts';
import type { GatewayPredictor } from './predictor.ts';

const refused = (): Promise<never> => Promise.reject(new Error('not called by the docs'));

function predictor(protocol: 'seldon' | 'v2', nodeNames: string[]): GatewayPredictor {
  return {
    name: 'main',
    traffic: 100,
    shadow: false,
    metrics: undefined,
    nodeNames,
    plan: { nodes: new Set(nodeNames) },
    protocol,
    v2: protocol === 'v2' ? { infer: refused, modelReady: refused, modelMetadata: refused, serverReady: refused } : undefined,
    predict: refused,
    feedback: refused,
    metadata: refused,
    health: refused,
    status: refused,
  };
}

function target(protocol: 'seldon' | 'v2', nodeNames = ['pre', 'classifier']): DocTarget {
  const primary = predictor(protocol, nodeNames);
  return { namespace: 'models', name: 'iris', executors: [primary], primary, origin: 'http://gw.example:8000' };
}

const pathsOf = (document: Record<string, unknown>): string[] => Object.keys(document['paths'] as Record<string, unknown>);

test("a protocol: seldon deployment's document lists Seldon's paths and schemas, no V2 path", () => {
  const document = openApiDocument(target('seldon'));
  const paths = pathsOf(document);
  assert.ok(paths.includes('/api/v1.0/predictions') && paths.includes('/api/v1.0/feedback') && paths.includes('/api/v1.0/status/{model}'), paths.join(', '));
  assert.deepEqual(paths.filter((p) => p.startsWith('/v2')), []);
  assert.match((document['info'] as { description: string }).description, /^Seldon protocol endpoints of SeldonDeployment models\/iris/);
  const schemas = Object.keys((document['components'] as { schemas: object }).schemas);
  assert.ok(schemas.includes('SeldonMessage') && !schemas.some((s) => s.startsWith('V2')), schemas.join(', '));
});

test("a protocol: v2 deployment's document lists V2's paths and schemas, every $ref resolving, no Seldon path", () => {
  const document = openApiDocument(target('v2'));
  const paths = pathsOf(document);
  assert.deepEqual(paths, [
    '/v2/health/live',
    '/v2/health/ready',
    '/v2',
    '/v2/models/{model}',
    '/v2/models/{model}/versions/{version}',
    '/v2/models/{model}/ready',
    '/v2/models/{model}/versions/{version}/ready',
    '/v2/models/{model}/infer',
    '/v2/models/{model}/versions/{version}/infer',
  ]);
  assert.equal((document['info'] as { version: string }).version, 'v2');
  assert.match((document['info'] as { description: string }).description, /^Open Inference Protocol \(V2\) endpoints of SeldonDeployment models\/iris/);
  const schemas = (document['components'] as { schemas: Record<string, unknown> }).schemas;
  assert.ok(!('SeldonMessage' in schemas));
  const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.includes('V2InferenceRequest') && refs.includes('V2Error'), refs.join(', '));
  for (const ref of refs) assert.ok(ref in schemas, `$ref ${ref} has no schema`);
  const infer = (document['paths'] as Record<string, { post: { parameters: { name: string; schema: { enum?: string[] } }[] } }>)['/v2/models/{model}/infer']!;
  assert.deepEqual(infer.post.parameters[0]!.schema.enum, ['pre', 'classifier']);
});

test("the doc page of a protocol: v2 deployment offers a V2 inference to try, at its first model", () => {
  const t = target('v2');
  const html = docPage(openApiDocument(t), t);
  assert.ok(html.includes('curl -X POST http://gw.example:8000/seldon/models/iris/v2/models/pre/infer'), 'the curl is a V2 inference');
  assert.ok(html.includes('POST /v2/models/pre/infer</button>'));
  assert.ok(html.includes('"/seldon/models/iris/v2/models/pre/infer"'), 'the form posts to the V2 path');
  assert.ok(html.includes('id="schema-V2InferenceRequest"'));
  assert.ok(html.includes('Inference-Header-Content-Length'));
  assert.ok(!html.includes('/api/v1.0/predictions'), 'no Seldon prediction path on a V2 page');
  const seldon = target('seldon');
  const page = docPage(openApiDocument(seldon), seldon);
  assert.ok(page.includes('curl -X POST http://gw.example:8000/seldon/models/iris/api/v1.0/predictions'));
  assert.ok(!page.includes('/v2/models/'), 'no V2 path on a Seldon page');
});
