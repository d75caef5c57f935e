/**
 * A deployment's API documentation: an OpenAPI 3 document of the endpoints of its protocol —
 * Seldon's for `protocol: seldon`, the Open Inference Protocol's (V2) for `protocol: v2`, each
 * with its message schemas and an example request — and an HTML page rendered from that
 * document on the server. The page needs nothing from the network: no CDN, one small inline
 * script to try a prediction.
 */
import type { GatewayPredictor } from './predictor.ts';
import { EXAMPLE_REQUEST, SCHEMAS, type OperationContext, type PathItem } from './openapi.ts';
import { documentedPaths } from './routes.ts';
import { EXAMPLE_V2_REQUEST, V2_SCHEMAS } from './v2-openapi.ts';

export interface DocTarget {
  namespace: string;
  name: string;
  executors: readonly GatewayPredictor[];
  /** The primary predictor: its nodes are the `<model>` values offered. */
  primary: GatewayPredictor | undefined;
  /** `http://host:port`, from the request that asks for the docs. */
  origin: string;
}

/** The protocol the deployment speaks: its primary predictor's (every predictor of a deployment speaks the same). */
function protocolOf(target: DocTarget): 'seldon' | 'v2' {
  return target.primary?.protocol ?? target.executors[0]?.protocol ?? 'seldon';
}

/** Whether a documented path is one of the protocol's: V2's are `/v2` and under it, Seldon's the rest. */
function isProtocolPath(path: string, protocol: 'seldon' | 'v2'): boolean {
  const v2 = path === '/v2' || path.startsWith('/v2/');
  return protocol === 'v2' ? v2 : !v2;
}

/** The OpenAPI 3 document of one deployment's endpoints: those of its protocol only. */
export function openApiDocument(target: DocTarget): Record<string, unknown> {
  const context: OperationContext = { models: target.primary?.nodeNames ?? [] };
  const protocol = protocolOf(target);
  const predictors = target.executors.map((e) => `${e.name} (${e.shadow ? 'shadow' : `traffic ${e.traffic}`}; graph: ${e.nodeNames.join(' → ')})`);
  const paths: Record<string, PathItem> = {};
  for (const [path, item] of Object.entries(documentedPaths(context))) if (isProtocolPath(path, protocol)) paths[path] = item;
  const speaks = protocol === 'v2' ? 'Open Inference Protocol (V2)' : 'Seldon protocol';
  return {
    openapi: '3.0.3',
    info: {
      title: `${target.name} — SeldonDeployment in ${target.namespace}`,
      version: protocol === 'v2' ? 'v2' : 'v1.0',
      description: `${speaks} endpoints of SeldonDeployment ${target.namespace}/${target.name}. Predictors: ${predictors.join('; ') || 'none'}.`,
    },
    servers: [{ url: `${target.origin}/seldon/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}` }],
    paths,
    components: { schemas: protocol === 'v2' ? V2_SCHEMAS : SCHEMAS },
  };
}

/** What the page offers to try: the path (after the deployment's base), its example body, and how bodies may be sent. */
interface TryIt {
  readonly path: string;
  readonly example: unknown;
  readonly bodies: string;
}

function tryItOf(target: DocTarget): TryIt {
  if (protocolOf(target) === 'v2') {
    // Any model of a V2 graph runs the whole chain; its first node stands for it.
    const model = target.primary?.nodeNames[0] ?? 'model';
    return {
      path: `/v2/models/${encodeURIComponent(model)}/infer`,
      example: EXAMPLE_V2_REQUEST,
      bodies: 'as <code>application/json</code>, or with the binary_data extension: a JSON header of <code>Inference-Header-Content-Length</code> bytes, then the tensors\' raw bytes',
    };
  }
  return {
    path: '/api/v1.0/predictions',
    example: EXAMPLE_REQUEST,
    bodies: 'as <code>application/json</code>, a form field <code>json=</code>, or <code>multipart/form-data</code> (<code>curl -F strData=@file</code>, <code>-F binData=@file</code>)',
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The shell-quoted curl command for a prediction (by default Seldon's, at `/api/v1.0/predictions`). */
export function exampleCurl(baseUrl: string, path = '/api/v1.0/predictions', example: unknown = EXAMPLE_REQUEST): string {
  return `curl -X POST ${baseUrl}${path} \\\n  -H 'Content-Type: application/json' \\\n  -d '${JSON.stringify(example)}'`;
}

interface Operation {
  summary?: string;
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: { $ref?: string } }> }>;
}

type Schema = { type?: string; description?: string; $ref?: string; items?: Schema; enum?: readonly string[]; properties?: Record<string, Schema>; required?: readonly string[]; additionalProperties?: unknown; format?: string };

function typeText(schema: Schema): string {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.split('/').pop()!;
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (schema.type === 'array') return `array of ${schema.items === undefined || Object.keys(schema.items).length === 0 ? 'any' : typeText(schema.items)}`;
  if (schema.enum !== undefined) return `${escapeHtml(schema.type ?? 'string')}: ${schema.enum.map((e) => `<code>${escapeHtml(e)}</code>`).join(' | ')}`;
  if (schema.type === 'object' && schema.additionalProperties !== undefined && typeof schema.additionalProperties === 'object') {
    return `map of ${typeText(schema.additionalProperties as Schema)}`;
  }
  return escapeHtml(schema.type ?? 'any');
}

function schemaRef(content: Record<string, { schema?: { $ref?: string } }> | undefined): string {
  const schema = content?.['application/json']?.schema;
  return schema === undefined ? '' : typeText(schema);
}

/** The HTML page: endpoints, an example curl, a form to try a prediction, and the schemas. */
export function docPage(document: Record<string, unknown>, target: DocTarget): string {
  const baseUrl = `${target.origin}/seldon/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}`;
  const paths = document['paths'] as Record<string, Record<string, Operation>>;
  const schemas = (document['components'] as { schemas: Record<string, Schema> }).schemas;
  const info = document['info'] as { title: string; description: string };
  const tryIt = tryItOf(target);
  const endpoints: string[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const params = (op.parameters ?? []).map((p) => `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required === true ? ', required' : ''}) ${escapeHtml(p.description ?? '')}</li>`).join('');
      const body = op.requestBody === undefined ? '' : `<p>Body: ${schemaRef(op.requestBody.content)} ${tryIt.bodies}</p>`;
      const responses = Object.entries(op.responses).map(([code, r]) => `<tr><td>${escapeHtml(code)}</td><td>${escapeHtml(r.description)}</td><td>${schemaRef(r.content)}</td></tr>`).join('');
      endpoints.push(
        `<section class="op"><h3><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(baseUrl + path)}</code></h3>` +
          `<p>${escapeHtml(op.summary ?? '')}</p>${params === '' ? '' : `<ul>${params}</ul>`}${body}` +
          `<table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead><tbody>${responses}</tbody></table></section>`,
      );
    }
  }
  const schemaSections = Object.entries(schemas).map(([name, schema]) => {
    const required = new Set(schema.required ?? []);
    const rows = Object.entries(schema.properties ?? {})
      .map(([prop, s]) => `<tr><td><code>${escapeHtml(prop)}</code>${required.has(prop) ? ' *' : ''}</td><td>${typeText(s)}</td><td>${escapeHtml(s.description ?? '')}</td></tr>`)
      .join('');
    return `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3><p>${escapeHtml(schema.description ?? '')}</p>` +
      `<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table></section>`;
  });
  const predictionsPath = `/seldon/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}${tryIt.path}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24;line-height:1.45}
code,pre,textarea{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f4f5f7;padding:.8rem;overflow:auto;border-radius:4px}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #d8dbe0;padding:.3rem .5rem;text-align:left;vertical-align:top}
.op{border-left:4px solid #6b7785;padding-left:1rem;margin:1.5rem 0}.method{display:inline-block;min-width:3.5rem;padding:.1rem .4rem;border-radius:3px;color:#fff;background:#6b7785;font-size:.8em}
.method.post{background:#2f7d4a}.method.get{background:#2a5ea8}textarea{width:100%;height:7rem}#answer{white-space:pre-wrap}
</style></head><body>
<h1>${escapeHtml(info.title)}</h1>
<p>${escapeHtml(info.description)}</p>
<p>OpenAPI document: <a href="${escapeHtml(`/seldon/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}/api/v1.0/doc/openapi.json`)}">openapi.json</a></p>
<h2>Try it</h2>
<pre>${escapeHtml(exampleCurl(baseUrl, tryIt.path, tryIt.example))}</pre>
<form id="try"><textarea id="request" aria-label="request body">${escapeHtml(JSON.stringify(tryIt.example))}</textarea>
<p><button type="submit">POST ${escapeHtml(tryIt.path)}</button></p></form>
<pre id="answer" aria-live="polite"></pre>
<script>
document.getElementById('try').addEventListener('submit', async function (event) {
  event.preventDefault();
  var out = document.getElementById('answer');
  out.textContent = '…';
  try {
    var res = await fetch(${JSON.stringify(predictionsPath).replace(/</g, '\\u003c')}, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: document.getElementById('request').value });
    var text = await res.text();
    try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
    out.textContent = res.status + ' ' + res.statusText + '\\n' + text;
  } catch (err) { out.textContent = String(err); }
});
</script>
<h2>Endpoints</h2>
${endpoints.join('\n')}
<h2>Schemas</h2>
${schemaSections.join('\n')}
</body></html>
`;
}
