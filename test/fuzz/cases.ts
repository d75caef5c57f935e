/**
 * The fuzz inputs: for each target (the gateway's Seldon paths, the broker ingress, the
 * control-plane API) families of bad requests, each drawn from a seeded generator so the same seed
 * gives the same inputs. Raw families break HTTP itself (request lines, headers, framing, bytes);
 * body families send well-formed HTTP carrying wrong content.
 *
 * Two rules keep the pass from harming what it then checks: no API input deletes or replaces the
 * fixtures (deletes name objects that do not exist), and no generated manifest can be valid enough
 * to start a process or send events off the machine (no containers, no subscriber URIs).
 */
import type { Prng } from './prng.ts';
import { BAD_PERCENT, BAD_SEGMENTS, DEEP_LEVELS, deep, feedback, matrix, number, seldonMessage, value, STRINGS } from './values.ts';
import type { Input, RawEnding, RawInput } from './wire.ts';

export type Target = 'gateway' | 'broker' | 'api';

export interface FuzzCase {
  readonly target: Target;
  readonly family: string;
  readonly input: Input;
}

/** A deployment the fuzzer may send to (never delete). */
export interface Fixture {
  readonly namespace: string;
  readonly name: string;
  /** A node of its graph, for `metadata/<model>` and `status/<model>`. */
  readonly node: string;
}

export interface FuzzContext {
  readonly gatewayPort: number;
  readonly apiPort: number;
  /** The API token (`<home>/api-token`) when the control plane wrote one. */
  readonly token: string | undefined;
  readonly deployments: readonly Fixture[];
  /** Trigger names the fuzzer must not delete. */
  readonly triggers: readonly string[];
}

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO'] as const;

const JSON_TYPE = 'application/json';

type Header = readonly [string, string];

// ---------------------------------------------------------------------------------------------
// Building requests

interface RawRequest {
  method?: string;
  path: string;
  host: string;
  headers?: readonly Header[];
  body?: string | Buffer;
  /** Content-Length is added from the body unless the headers carry framing of their own. */
  framing?: 'length' | 'none';
  ending?: RawEnding;
  holdMs?: number;
  version?: string;
}

function raw(r: RawRequest): RawInput {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'latin1');
  const lines = [`${r.method ?? 'POST'} ${r.path} ${r.version ?? 'HTTP/1.1'}`, `Host: ${r.host}`];
  for (const [name, val] of r.headers ?? []) lines.push(`${name}: ${val}`);
  if ((r.framing ?? 'length') === 'length' && body.length > 0) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return { via: 'raw', bytes: Buffer.concat([head, body]), ending: r.ending ?? 'answer', ...(r.holdMs === undefined ? {} : { holdMs: r.holdMs }) };
}

function bytes(data: Buffer, ending: RawEnding = 'end'): Input {
  return { via: 'raw', bytes: data, ending };
}

function http(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Input {
  return { via: 'undici', method, path, headers, ...(body === undefined ? {} : { body }) };
}

// ---------------------------------------------------------------------------------------------
// What each target serves

interface Surface {
  readonly target: Target;
  readonly host: string;
  /** Paths that take a body, with a content type and a body generator. */
  readonly posts: readonly { path: string; method: string; type: string; body: (p: Prng) => string }[];
  /** Every path the target serves (for the method matrix and raw families). */
  readonly paths: readonly string[];
  /** Headers a legitimate client of this target sends. */
  readonly auth: readonly Header[];
}

const seldonBase = (d: Fixture, defaultForm = false): string =>
  defaultForm && d.namespace === 'default' ? `/seldon/${d.name}` : `/seldon/${d.namespace}/${d.name}`;

function gatewaySurface(ctx: FuzzContext): Surface {
  const paths = ['/', '/ready', '/live', '/prometheus', '/seldon', '/seldon/', '/seldon/default/nope/api/v1.0/predictions'];
  const posts: Surface['posts'][number][] = [];
  for (const d of ctx.deployments) {
    for (const base of [seldonBase(d), seldonBase(d, true)]) {
      for (const rest of ['api/v1.0/predictions', 'api/v0.1/predictions', 'api/v1.0/feedback', 'api/v0.1/feedback', 'api/v1.0/metadata', `api/v1.0/metadata/${d.node}`,
        'api/v1.0/health/status', `api/v1.0/status/${d.node}`, 'api/v1.0/doc/', 'api/v1.0/doc/openapi.json', 'prometheus']) paths.push(`${base}/${rest}`);
    }
    const base = seldonBase(d);
    posts.push({ path: `${base}/api/v1.0/predictions`, method: 'POST', type: JSON_TYPE, body: seldonMessage });
    posts.push({ path: `${base}/api/v0.1/predictions`, method: 'POST', type: JSON_TYPE, body: seldonMessage });
    posts.push({ path: `${base}/api/v1.0/feedback`, method: 'POST', type: JSON_TYPE, body: feedback });
  }
  return { target: 'gateway', host: `127.0.0.1:${ctx.gatewayPort}`, posts, paths, auth: [] };
}

function brokerSurface(ctx: FuzzContext): Surface {
  const event = (p: Prng): string => (p.chance(0.5) ? seldonMessage(p) : value(p));
  return {
    target: 'broker',
    host: `127.0.0.1:${ctx.gatewayPort}`,
    posts: [{ path: '/default/default', method: 'POST', type: 'application/cloudevents+json', body: (p) => structuredEvent(p, event) }],
    paths: ['/default/default', '/default/default/', '/default/nope', '/other/default', '/Default/default', '/default/default/x', '/default/-bad'],
    auth: [],
  };
}

function apiSurface(ctx: FuzzContext): Surface {
  const d = ctx.deployments[0]!;
  const paths = [
    '/', '/v1', '/v1/', '/v1/health', '/v1/openapi.json', '/v1/apply', '/v1/deployments', `/v1/deployments/${d.namespace}/${d.name}`,
    `/v1/deployments/${d.namespace}/${d.name}/logs`, '/v1/deployments/default/nope', '/v1/triggers', '/v1/brokers', '/v1/services', '/v1/kubedeployments',
    '/v1/triggers/default/nope', '/v1/brokers/default/nope', '/v1/services/default/nope', '/v1/kubedeployments/default/nope',
    '/v1/brokers/default/nope/events', '/v1/sinks/default/nope', '/v1/nothing',
  ];
  return {
    target: 'api',
    host: `127.0.0.1:${ctx.apiPort}`,
    posts: [
      { path: '/v1/apply', method: 'POST', type: 'application/yaml', body: manifest },
      { path: '/v1/sinks/default/nope', method: 'PUT', type: JSON_TYPE, body: sink },
    ],
    paths,
    auth: ctx.token === undefined ? [] : [['Authorization', `Bearer ${ctx.token}`]],
  };
}

/** A path that is safe for `method`: the API's DELETE never names a fixture. */
function safePath(surface: Surface, method: string, path: string): boolean {
  return !(surface.target === 'api' && method === 'DELETE' && !path.includes('/nope'));
}

// ---------------------------------------------------------------------------------------------
// Body generators for events, manifests and sinks

const CE_VERSIONS = ['1.0', '0.3', '2.0', '', '1.0 ', '1', '0.3%', 'v1.0'] as const;
const CE_TTLS = ['-1', '0', '1', '255', '256', '1e400', 'abc', '99999999999999999999', '%zz', ''] as const;
const CE_TIMES = ['2020-01-01T00:00:00Z', 'yesterday', '2020-13-45T99:99:99Z', '', '9999-12-31T23:59:60Z', '2020-02-30T00:00:00+25:00', '%E0%A4%A'] as const;
const CE_TEXT = ['x', '', ' ', '%', '%zz', '%C3%28', '%00', 'a%20b', 'x'.repeat(8000), 'seldon.fuzz', 'http://[::1', '"quoted"', '%F0%9F%92%A5'] as const;

function structuredEvent(p: Prng, data: (p: Prng) => string): string {
  const field = (name: string, good: string): string => {
    const roll = p.int(10);
    if (roll < 2) return '';
    if (roll < 6) return `"${name}":${good},`;
    return `"${name}":${value(p, 2)},`;
  };
  const body =
    field('specversion', p.pick(['"1.0"', '"0.3"'])) + field('id', `"${p.text(8)}"`) + field('type', '"fuzz.structured"') + field('source', '"fuzz"') +
    field('time', `"${p.pick(CE_TIMES)}"`) + field('datacontenttype', p.pick(['"application/json"', '"text/plain"', '"x"'])) +
    field('dataschema', '"::"') + field('knativebrokerttl', p.pick(CE_TTLS.map((t) => `"${t}"`))) + field('Bad-Name', '"x"') +
    field('data_base64', p.pick(['"AAAA"', '"!!!"', '"=="'])) + field('data', data(p));
  return p.chance(0.1) ? `{${body}` : `{${body.replace(/,$/, '')}}`;
}

function binaryEventHeaders(p: Prng): Record<string, string> {
  const headers: Record<string, string> = {};
  const put = (name: string, good: string, pool: readonly string[]): void => {
    const roll = p.int(10);
    if (roll < 2) return;
    headers[name] = roll < 6 ? good : p.pick(pool);
  };
  put('ce-specversion', '1.0', CE_VERSIONS);
  put('ce-id', p.text(10), CE_TEXT);
  put('ce-type', 'fuzz.binary', CE_TEXT);
  put('ce-source', 'fuzz', CE_TEXT);
  put('ce-time', '2020-01-01T00:00:00Z', CE_TIMES);
  put('ce-subject', 'x', CE_TEXT);
  put('ce-dataschema', 'http://example.invalid/schema', CE_TEXT);
  put('ce-schemaurl', 'http://example.invalid/schema', CE_TEXT);
  put('ce-knativebrokerttl', '5', CE_TTLS);
  put('ce-knativeerrordata', 'AAAA', CE_TEXT);
  put('ce-traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', CE_TEXT);
  put('ce-datacontentencoding', 'base64', CE_TEXT);
  if (p.chance(0.2)) headers[p.pick(['ce-', 'ce-UPPER', 'ce-a-b', 'ce-a_b', 'ce-' + 'x'.repeat(300)])] = 'x';
  if (p.chance(0.8)) headers['content-type'] = p.pick([JSON_TYPE, 'text/plain', 'application/octet-stream', 'application/cloudevents-batch+json', 'application/cloudevents+xml', 'x/y; charset=nope', '']);
  return headers;
}

const NAMES = ['nope', 'fuzz-x', '', '../../fuzz-escape', 'a/b', '..', 'UPPER', 'x'.repeat(300), 'ünï', '%2e%2e', 'a b', '-', '0', 'default/../x'] as const;

/** A manifest that must be refused (or, at worst, accepted as an inert object): never containers, never URIs. */
function manifest(p: Prng): string {
  const name = (): string => JSON.stringify(p.pick(NAMES));
  const v = (): string => value(p, 3);
  switch (p.int(14)) {
    case 0: return p.bytes(p.between(1, 300)).toString('latin1');
    case 1: {
      // an alias bomb: each level repeats the one before
      let text = 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]\n';
      for (let i = 1; i < 9; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]\n`;
      return text;
    }
    case 2: return deep(p, p.pick(DEEP_LEVELS));
    case 3: return `${'- '.repeat(p.pick([100, 1000, 5000]))}x\n`;
    case 4: return `{"apiVersion":"machinelearning.seldon.io/v1","kind":"SeldonDeployment","metadata":{"name":${name()},"namespace":${name()}},"spec":${v()}}`;
    case 5: return `{"apiVersion":"machinelearning.seldon.io/v1","kind":"SeldonDeployment","metadata":${v()},"spec":{"predictors":${v()}}}`;
    case 6: return `{"apiVersion":"machinelearning.seldon.io/v1","kind":"SeldonDeployment","metadata":{"name":"fuzz-bad"},"spec":{"predictors":[{"name":${v()},"graph":{"name":${v()},"implementation":${v()},"modelUri":${v()}},"replicas":${number(p)}}]}}`;
    case 7: return `{"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":${name()},"namespace":${name()}},"spec":{"broker":${v()},"filter":${v()},"subscriber":{"ref":{"kind":"SeldonDeployment","name":${name()}}}}}`;
    case 8: return `{"apiVersion":"eventing.knative.dev/v1","kind":"Broker","metadata":{"name":${name()},"namespace":${name()}},"spec":${v()}}`;
    case 9: return `{"apiVersion":"v1","kind":"Service","metadata":{"name":${name()}},"spec":${v()}}`;
    case 10: return `{"apiVersion":${v()},"kind":${v()},"metadata":${v()}}`;
    case 11: return `---\n${'---\n'.repeat(p.pick([1, 100, 5000]))}`;
    case 12: return `kind: SeldonDeployment\napiVersion: machinelearning.seldon.io/v1\nmetadata: {name: ${p.pick(NAMES)}}\nspec: !!binary ${p.pick(['AAAA', '%%%'])}\nx: !!js/function 'function(){}'\n`;
    default: return v();
  }
}

function sink(p: Prng): string {
  const url = p.pick(['"http://"', '"https://x.invalid"', '"ftp://x"', '42', 'null', '""', `"http://${'a'.repeat(10000)}"`, '"http://127.0.0.1:1/"', '"http://[::1"', ...STRINGS]);
  switch (p.int(5)) {
    case 0: return `{"url":${url}}`;
    case 1: return `{"url":${url},"extra":${value(p)}}`;
    case 2: return deep(p, p.pick(DEEP_LEVELS));
    case 3: return value(p);
    default: return `{"url":${url}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Families: each returns one input; the runner draws a fixed number from each.

type Family = (p: Prng, s: Surface, ctx: FuzzContext) => Input;

const pickPost = (p: Prng, s: Surface): Surface['posts'][number] => p.pick(s.posts);

/** Every method on every path (the full matrix, not sampled). */
function methodMatrix(s: Surface): FuzzCase[] {
  const out: FuzzCase[] = [];
  for (const path of s.paths) {
    for (const method of METHODS) {
      if (!safePath(s, method, path)) continue;
      const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
      const headers: Record<string, string> = Object.fromEntries(s.auth);
      if (body !== undefined) headers['content-type'] = JSON_TYPE;
      if (s.target === 'broker') Object.assign(headers, { 'ce-specversion': '1.0', 'ce-id': 'matrix', 'ce-type': 'fuzz.matrix', 'ce-source': 'fuzz' });
      // Streaming answers (logs, events) never end: those paths go raw, judged on their status line.
      const streaming = path.endsWith('/logs') || path.endsWith('/events');
      const input = METHODS.indexOf(method) > 7 || streaming ? raw({ method, path, host: s.host, headers: Object.entries(headers), ...(body === undefined ? {} : { body }) }) : http(method, path, headers, body);
      out.push({ target: s.target, family: 'every method on every path', input });
    }
    out.push({ target: s.target, family: 'every method on every path', input: raw({ method: 'CONNECT', path: s.host, host: s.host, headers: s.auth, ending: 'end' }) });
  }
  return out;
}

const bodyFamilies: Record<string, Family> = {
  'wrong types in the body': (p, s) => {
    const post = pickPost(p, s);
    return http(post.method, post.path, { ...Object.fromEntries(s.auth), 'content-type': post.type, ...(s.target === 'broker' ? {} : {}) }, post.body(p));
  },
  'deep JSON': (p, s) => {
    const post = pickPost(p, s);
    const level = p.pick(DEEP_LEVELS);
    const body = s.target === 'gateway'
      ? p.pick([deep(p, level), `{"jsonData":${deep(p, level)}}`, `{"data":{"ndarray":${deep(p, level)}}}`, `{"meta":{"tags":${deep(p, level)}},"data":{"ndarray":[[1]]}}`, `{"strData":"x","meta":{"routing":${deep(p, level)}}}`])
      : s.target === 'broker' ? `{"specversion":"1.0","id":"deep","type":"fuzz.deep","source":"fuzz","data":${deep(p, level)}}` : deep(p, level);
    const type = s.target === 'broker' ? 'application/cloudevents+json' : post.type;
    return http(post.method, post.path, { ...Object.fromEntries(s.auth), 'content-type': type }, body);
  },
  'odd content types': (p, s) => {
    const post = pickPost(p, s);
    const type = p.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'multipart/form-data', '', '*/*', 'application/json; charset=latin1',
      'application/cloudevents+json', 'application/x-yaml', 'text/yaml', 'application/yaml; charset=utf-16', 'image/png', 'application/json, text/plain', 'application/json;;;']);
    const body = p.pick([post.body(p), `json=${encodeURIComponent(post.body(p))}`, 'json=%zz', 'json=', '--xyz\r\nContent-Disposition: form-data; name="strData"\r\n\r\nx\r\n--xyz--\r\n',
      '--xyz\r\nContent-Disposition: form-data; name="binData"; filename="a"\r\n\r\n\u0000\u00ff\r\n--x', 'a=1&a=2&json=1&json=2']);
    const headers: Record<string, string> = Object.fromEntries(s.auth);
    if (type !== '') headers['content-type'] = type;
    return http(post.method, post.path, headers, body);
  },
  'huge and empty bodies': (p, s) => {
    const post = pickPost(p, s);
    const size = p.pick([0, 1, 2 * 1024 * 1024, 11 * 1024 * 1024]);
    const body = size === 0 ? '' : size === 1 ? '{' : `{"strData":"${'x'.repeat(size)}"}`;
    return http(post.method, post.path, { ...Object.fromEntries(s.auth), 'content-type': post.type }, body);
  },
  'invalid UTF-8 in the body': (p, s) => {
    const post = pickPost(p, s);
    const text = post.body(p);
    const at = p.int(text.length + 1);
    const body = Buffer.concat([Buffer.from(text.slice(0, at)), p.pick([Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80]), p.bytes(8)]), Buffer.from(text.slice(at))]);
    return http(post.method, post.path, { ...Object.fromEntries(s.auth), 'content-type': post.type }, body);
  },
};

const gatewayFamilies: Record<string, Family> = {
  'GET with ?json=': (p, s) => {
    const d = p.pick(s.posts).path;
    const query = p.pick([`json=${encodeURIComponent(seldonMessage(p))}`, `json=${p.pick(BAD_PERCENT)}`, 'json=', 'json', 'json=1&json=2', `json=${encodeURIComponent(deep(p, 10_000))}`, '%zz=1', '&&&', `json=${'%7B'.repeat(3000)}`]);
    return http('GET', `${d}?${query}`, {});
  },
  'CloudEvents to a deployment': (p, s) => {
    const post = p.pick(s.posts);
    const headers = binaryEventHeaders(p);
    if (p.chance(0.3)) return http('POST', post.path, { 'content-type': 'application/cloudevents+json' }, structuredEvent(p, seldonMessage));
    headers['content-type'] ??= JSON_TYPE;
    if (headers['content-type'] === '') delete headers['content-type'];
    return http('POST', post.path, headers, seldonMessage(p));
  },
  'odd Seldon-Puid headers': (p, s) => {
    const post = p.pick(s.posts);
    const puid = p.pick(['', ' ', 'x'.repeat(129), 'x'.repeat(10000), '%zz', 'a b', '\t', 'é']);
    return http('POST', post.path, { 'content-type': JSON_TYPE, 'seldon-puid': puid }, '{"data":{"ndarray":[[1,2,3,4]]}}');
  },
  'odd model names': (p, _s, ctx) => {
    const d = p.pick(ctx.deployments);
    return http('GET', `${seldonBase(d)}/api/v1.0/${p.pick(['metadata', 'status'])}/${p.pick(BAD_SEGMENTS)}`, {});
  },
  'many rows': (p, s) => {
    const post = p.pick(s.posts.filter((x) => x.path.endsWith('predictions')));
    return http('POST', post.path, { 'content-type': JSON_TYPE }, `{"data":{"ndarray":${matrix(p, p.pick([1000, 20000]), 4)}}}`);
  },
};

const brokerFamilies: Record<string, Family> = {
  'binary-mode events with bad attributes': (p) => {
    const body = p.pick([seldonMessage(p), value(p), '', p.bytes(32).toString('latin1')]);
    return http('POST', p.pick(['/default/default', '/default/default/', '/other/default']), binaryEventHeaders(p), body);
  },
  'structured-mode events with bad attributes': (p) => {
    return http('POST', '/default/default', { 'content-type': p.pick(['application/cloudevents+json', 'application/cloudevents+json; charset=utf-8', 'application/cloudevents-batch+json']) },
      p.chance(0.1) ? `[${structuredEvent(p, value)}]` : structuredEvent(p, (q) => value(q)));
  },
  'events over the in-cluster Host': (p, s) => {
    const host = p.pick(['default-broker.default.svc.cluster.local', 'default-broker.default.svc', 'default-broker.default.svc.cluster.local:80', 'nope-broker.default.svc.cluster.local',
      'default-broker.default.svc.cluster.local:99999', 'DEFAULT-broker.default.svc', '-broker..svc', `${'a'.repeat(300)}-broker.default.svc`, s.host]);
    const headers = Object.entries(binaryEventHeaders(p));
    return raw({ method: p.pick(['POST', 'POST', 'GET', 'PUT']), path: p.pick(['/', '/?x=1', '//']), host, headers, body: seldonMessage(p) });
  },
  'percent-encoding in Ce headers': (p, s) => {
    const headers: Header[] = [['ce-specversion', '1.0'], ['ce-id', p.pick(BAD_PERCENT)], ['ce-type', `fuzz.${p.pick(BAD_PERCENT)}`], ['ce-source', p.pick(BAD_PERCENT)], ['content-type', JSON_TYPE]];
    if (p.chance(0.5)) headers.push([`ce-${p.pick(['ext', 'x'])}`, `${p.pick(BAD_PERCENT)}${p.pick(BAD_PERCENT)}`]);
    if (p.chance(0.3)) headers.push(['ce-id', 'duplicate']);
    if (p.chance(0.3)) headers.push(['ce-bin', Buffer.from([0x80, 0xff, 0xfe]).toString('latin1')]);
    return raw({ path: '/default/default', host: s.host, headers, body: '{"a":1}' });
  },
};

const apiFamilies: Record<string, Family> = {
  'odd names in API paths': (p, s) => {
    const plural = p.pick(['deployments', 'triggers', 'brokers', 'services', 'kubedeployments', 'sinks', 'deployments']);
    const [ns, name] = [p.pick(BAD_SEGMENTS), p.pick(BAD_SEGMENTS)];
    const sub = plural === 'deployments' ? p.pick(['', '/logs', '/x']) : plural === 'brokers' ? p.pick(['', '/events']) : '';
    const method = p.pick(sub === '' ? ['GET', 'DELETE', 'PUT'] : ['GET']);
    // A name that decodes to a real object could delete a fixture: BAD_SEGMENTS never does.
    const headers: Header[] = [...s.auth];
    if (method === 'PUT') headers.push(['content-type', JSON_TYPE]);
    return raw({ method, path: `/v1/${plural}/${ns}/${name}${sub}`, host: s.host, headers, ...(method === 'PUT' ? { body: '{"url":"http://127.0.0.1:1/"}' } : {}) });
  },
  'odd log and event queries': (p, s, ctx) => {
    const d = p.pick(ctx.deployments);
    const q = p.pick(['tail=-1', 'tail=0', 'tail=1e400', 'tail=NaN', 'tail=99999999999999', 'tail=1.5', 'tail=abc', 'tail=%zz', 'follow=0', 'follow=1&tail=-5', 'tail=&tail=2']);
    const path = p.chance(0.5) ? `/v1/deployments/${d.namespace}/${d.name}/logs?${q}` : `/v1/brokers/default/default/events?${p.pick(['from=-1', 'from=1e400', 'from=NaN', 'from=abc', 'from=99999999999999999999', 'follow=1', 'from=%zz', 'from=1&from=2'])}`;
    return raw({ method: 'GET', path, host: s.host, headers: s.auth });
  },
  'odd tokens': (p, s, ctx) => {
    const token = ctx.token ?? 'none';
    const auth = p.pick([undefined, 'Bearer', 'Bearer ', 'Bearer wrong', `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, `bearer ${token}`, `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
      `Bearer ${'x'.repeat(10000)}`, `Bearer ${token} ${token}`, `Bearer %zz`, `Bearer ${token}\u00ff`]);
    const headers: Header[] = auth === undefined ? [] : [['Authorization', auth]];
    if (p.chance(0.2)) headers.push(['Authorization', `Bearer ${token}`]);
    const path = p.pick(['/v1/deployments', '/v1/health', '/v1/apply', '/v1/sinks/default/nope', '/v1/triggers/default/nope']);
    const method = path === '/v1/apply' ? 'POST' : path.includes('sinks') ? 'PUT' : path.includes('triggers') ? 'DELETE' : 'GET';
    const body = method === 'GET' || method === 'DELETE' ? undefined : path === '/v1/apply' ? 'kind: Nothing\n' : '{"url":"http://127.0.0.1:1/"}';
    if (body !== undefined) headers.push(['Content-Type', path === '/v1/apply' ? 'application/yaml' : JSON_TYPE]);
    return raw({ method, path, host: s.host, headers, ...(body === undefined ? {} : { body }) });
  },
  'browser-like requests': (p, s, ctx) => {
    const host = p.pick([s.host, s.host, `localhost:${ctx.apiPort}`, 'evil.example', `evil.example:${ctx.apiPort}`, '', `127.0.0.1:${ctx.apiPort + 1}`, '[::1]', '127.0.0.1.nip.io']);
    const headers: Header[] = [...s.auth];
    const origin = p.pick([undefined, 'http://evil.example', 'null', `http://127.0.0.1:${ctx.apiPort}`, `http://127.0.0.1:${ctx.gatewayPort}`, 'file://', 'chrome-extension://x', '%zz']);
    if (origin !== undefined) headers.push(['Origin', origin]);
    if (p.chance(0.5)) headers.push(['Sec-Fetch-Site', p.pick(['cross-site', 'same-origin', 'none'])], ['Sec-Fetch-Mode', 'no-cors']);
    const simple = p.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/yaml']);
    const apply = p.chance(0.6);
    if (apply) headers.push(['Content-Type', simple]);
    return raw({ method: apply ? 'POST' : p.pick(['GET', 'DELETE']), path: apply ? '/v1/apply' : p.pick(['/v1/deployments', '/v1/triggers/default/nope', '/v1/health']), host, headers, ...(apply ? { body: 'kind: Nothing\n' } : {}) });
  },
  'odd apply headers': (p, s) => {
    const headers: Header[] = [...s.auth, ['Content-Type', 'application/yaml']];
    headers.push([p.pick(['X-Trantor-Base-Dir', 'X-Trantor-Source']), p.pick([...BAD_PERCENT, '/etc', '../../..', 'x'.repeat(10000), Buffer.from([0xff, 0xfe]).toString('latin1')])]);
    return raw({ path: '/v1/apply', host: s.host, headers, body: 'apiVersion: v1\nkind: Nothing\n' });
  },
};

/** Raw families that break HTTP itself; they apply to every target. */
const rawFamilies: Record<string, Family> = {
  'malformed request lines': (p, s) => {
    const path = p.pick(s.paths);
    const line = p.pick([
      'GET', `GET ${path}`, `GET ${path} HTTP/9.9`, `GET ${path} HTTP/1.1 extra`, `get ${path} HTTP/1.1`, `G\u0000T ${path} HTTP/1.1`, `GET  ${path}  HTTP/1.1`,
      `${path} HTTP/1.1`, `GET http://evil.example${path} HTTP/1.1`, `GET http://${s.host}${path} HTTP/1.1`, 'OPTIONS * HTTP/1.1', `GET ${path}\u0000 HTTP/1.1`,
      `GET ${path} HTTP/1.0`, `GET ${path} HTTPS/1.1`, `GET ${path} HTTP/1.1\n`, `\r\nGET ${path} HTTP/1.1`, `GET /\u00ff HTTP/1.1`, `GET ${path}\t HTTP/1.1`,
    ]);
    return bytes(Buffer.from(`${line}\r\nHost: ${s.host}\r\n${s.auth.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1'), 'end');
  },
  'malformed headers': (p, s) => {
    const path = p.pick(s.paths);
    const bad = p.pick(['NoColon', 'Bad Name: x', ' Leading: space', 'X-Fold: a\r\n folded', 'X-Nul: a\u0000b', 'X-Cr: a\rb', ': empty-name', 'X-\u00ff: latin1',
      'Content-Type: application/json\r\nContent-Type: text/plain', `Host: other`, 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 'Expect: 100-continue', 'Expect: nonsense',
      'Connection: upgrade\r\nUpgrade: websocket', 'Connection: close, keep-alive, %zz', `X-Long: ${'x'.repeat(p.pick([1000, 20000, 70000]))}`, 'Content-Encoding: gzip']);
    return bytes(Buffer.from(`POST ${path} HTTP/1.1\r\nHost: ${s.host}\r\n${s.auth.map(([n, v]) => `${n}: ${v}\r\n`).join('')}${bad}\r\nContent-Length: 2\r\n\r\n{}`, 'latin1'), 'end');
  },
  'many headers': (p, s) => {
    const n = p.pick([100, 500, 2000]);
    const headers: Header[] = [...s.auth];
    for (let i = 0; i < n; i++) headers.push([`X-H${i}`, 'v']);
    return raw({ method: 'GET', path: p.pick(s.paths), host: s.host, headers });
  },
  'bad Content-Length': (p, s) => {
    const post = pickPost(p, s);
    const body = post.body(p);
    const length = p.pick(['abc', '-1', '1e3', '18446744073709551616', ' 5', '5, 5', '5,6', '0x10', '', '+2', String(body.length + 5), '0', `${body.length}\u0000`]);
    const headers: Header[] = [...s.auth, ['Content-Type', post.type], ['Content-Length', length]];
    if (p.chance(0.3)) headers.push(['Content-Length', String(body.length)]);
    if (p.chance(0.2)) headers.push(['Transfer-Encoding', 'chunked']);
    return raw({ method: post.method, path: post.path, host: s.host, headers, body, framing: 'none', ending: 'end' });
  },
  'chunked-encoding garbage': (p, s) => {
    const post = pickPost(p, s);
    const chunks = p.pick([
      'zz\r\nabc\r\n0\r\n\r\n', '-1\r\nx\r\n0\r\n\r\n', 'ffffffffffffffffff\r\nx\r\n', '5\r\nabc\r\n0\r\n\r\n', '3\r\nabc0\r\n\r\n', '3;ext=' + 'x'.repeat(20000) + '\r\nabc\r\n0\r\n\r\n',
      '2\r\n{}\r\n0\r\nTrailer: %zz\r\nBad Trailer\r\n\r\n', '2\r\n{}\r\n', '2\n{}\n0\n\n', '0\r\n\r\n', '1\r\n{\r\n1\r\n}\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n', '\r\n\r\n',
    ]);
    const te = p.pick(['chunked', 'gzip, chunked', 'chunked, identity', 'xchunked', 'Chunked', 'chunked\u0000']);
    return raw({ method: post.method, path: post.path, host: s.host, headers: [...s.auth, ['Content-Type', post.type], ['Transfer-Encoding', te]], body: chunks, framing: 'none', ending: 'end' });
  },
  'truncated bodies then close': (p, s) => {
    const post = pickPost(p, s);
    const body = Buffer.from(post.body(p) + ' '.repeat(64));
    const cut = p.int(body.length);
    const headers: Header[] = [...s.auth, ['Content-Type', post.type], ['Content-Length', String(body.length)]];
    const head = raw({ method: post.method, path: post.path, host: s.host, headers, framing: 'none' });
    return { via: 'raw', bytes: Buffer.concat([head.bytes, body.subarray(0, cut)]), ending: p.pick(['end', 'reset'] as const) };
  },
  'bodies that stop mid-way': (p, s) => {
    const post = pickPost(p, s);
    const body = Buffer.from(post.body(p) + ' '.repeat(64));
    const chunked = p.chance(0.3);
    const headers: Header[] = [...s.auth, ['Content-Type', post.type], chunked ? ['Transfer-Encoding', 'chunked'] : ['Content-Length', String(body.length + 1000)]];
    const head = raw({ method: post.method, path: post.path, host: s.host, headers, framing: 'none' });
    const partial = chunked ? Buffer.from(`${(body.length + 10).toString(16)}\r\n${body.toString('latin1')}`, 'latin1') : body;
    return { via: 'raw', bytes: Buffer.concat([head.bytes, partial]), ending: 'hold', holdMs: p.between(100, 400) };
  },
  'bad paths': (p, s) => {
    const base = p.pick(s.paths);
    const segment = p.pick([...BAD_SEGMENTS, '..%2F..%2F', '%2e%2e/%2e%2e', '/../../etc/passwd', '//', '\\..\\', '%00.json', '?%zz=%zz', '#frag', ';x=1']);
    const path = p.pick([`${base}/${segment}`, `/${segment}${base}`, base.replace(/\/[^/]*$/, `/${segment}`), `${base}?${segment}=${segment}`, base.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)]);
    const method = p.pick(['GET', 'POST', ...(s.target === 'api' ? [] : ['DELETE'])]);
    const headers: Header[] = [...s.auth];
    if (method === 'POST') headers.push(['Content-Type', JSON_TYPE]);
    return raw({ method, path, host: s.host, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
  },
  'very long paths': (p, s) => {
    const size = p.pick([2000, 8000, 17000, 100000]);
    return raw({ method: 'GET', path: `${p.pick(s.paths)}/${'a'.repeat(size)}`, host: s.host, headers: s.auth, ending: 'end' });
  },
  'random bytes': (p, s) => {
    const size = p.pick([1, 16, 256, 4096]);
    const prefix = p.pick(['', `POST ${p.pick(s.paths)} HTTP/1.1\r\nHost: ${s.host}\r\n`, 'GET / HTTP/1.1\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '\u0016\u0003\u0001']);
    return bytes(Buffer.concat([Buffer.from(prefix, 'latin1'), p.bytes(size)]), p.pick(['end', 'reset'] as const));
  },
  'invalid UTF-8 in headers and paths': (p, s) => {
    const bad = Buffer.from([0x80, 0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80]).toString('latin1');
    const post = pickPost(p, s);
    const where = p.int(3);
    const headers: Header[] = [...s.auth, ['Content-Type', post.type]];
    if (where === 0) headers.push(['X-Bad', bad]);
    if (where === 1) headers.push([s.target === 'api' ? 'X-Trantor-Source' : 'Ce-Source', bad]);
    return raw({ method: post.method, path: where === 2 ? `${post.path}${bad}` : post.path, host: s.host, headers, body: post.body(p) });
  },
  'duplicate and conflicting framing': (p, s) => {
    const post = pickPost(p, s);
    const body = post.body(p);
    const headers: Header[] = [...s.auth, ['Content-Type', post.type]];
    switch (p.int(4)) {
      case 0: headers.push(['Content-Length', String(body.length)], ['Content-Length', String(body.length + 1)]); break;
      case 1: headers.push(['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']); break;
      case 2: headers.push(['Transfer-Encoding', 'chunked'], ['Content-Length', '0']); break;
      default: headers.push(['Content-Length', String(body.length)], ['Content-Type', 'text/plain']); break;
    }
    return raw({ method: post.method, path: post.path, host: s.host, headers, body, framing: 'none', ending: 'end' });
  },
  'pipelined requests': (p, s) => {
    const path = p.pick(s.paths.filter((x) => !x.endsWith('/logs') && !x.endsWith('/events')));
    const one = `GET ${path} HTTP/1.1\r\nHost: ${s.host}\r\n${s.auth.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    return bytes(Buffer.from(one.repeat(p.pick([2, 50, 500])) + p.pick(['', 'garbage\r\n\r\n']), 'latin1'), 'end');
  },
};

/** How many inputs each family contributes, per target (the method matrix is added whole). */
const COUNTS: Record<Target, Record<string, number>> = {
  gateway: {
    'wrong types in the body': 260, 'deep JSON': 30, 'odd content types': 50, 'huge and empty bodies': 8, 'invalid UTF-8 in the body': 25,
    'GET with ?json=': 35, 'CloudEvents to a deployment': 45, 'odd Seldon-Puid headers': 15, 'odd model names': 25, 'many rows': 4,
    'malformed request lines': 25, 'malformed headers': 25, 'many headers': 5, 'bad Content-Length': 30, 'chunked-encoding garbage': 25, 'truncated bodies then close': 25,
    'bodies that stop mid-way': 15, 'bad paths': 40, 'very long paths': 8, 'random bytes': 25, 'invalid UTF-8 in headers and paths': 15, 'duplicate and conflicting framing': 15, 'pipelined requests': 5,
  },
  broker: {
    'wrong types in the body': 40, 'deep JSON': 12, 'odd content types': 20, 'huge and empty bodies': 6, 'invalid UTF-8 in the body': 15,
    'binary-mode events with bad attributes': 120, 'structured-mode events with bad attributes': 80, 'events over the in-cluster Host': 35, 'percent-encoding in Ce headers': 30,
    'malformed request lines': 10, 'malformed headers': 10, 'many headers': 3, 'bad Content-Length': 15, 'chunked-encoding garbage': 15, 'truncated bodies then close': 15,
    'bodies that stop mid-way': 10, 'bad paths': 15, 'very long paths': 4, 'random bytes': 10, 'invalid UTF-8 in headers and paths': 10, 'duplicate and conflicting framing': 8, 'pipelined requests': 3,
  },
  api: {
    'wrong types in the body': 110, 'deep JSON': 12, 'odd content types': 25, 'huge and empty bodies': 6, 'invalid UTF-8 in the body': 15,
    'odd names in API paths': 70, 'odd log and event queries': 25, 'odd tokens': 30, 'browser-like requests': 35, 'odd apply headers': 20,
    'malformed request lines': 15, 'malformed headers': 15, 'many headers': 3, 'bad Content-Length': 15, 'chunked-encoding garbage': 15, 'truncated bodies then close': 15,
    'bodies that stop mid-way': 10, 'bad paths': 25, 'very long paths': 4, 'random bytes': 10, 'invalid UTF-8 in headers and paths': 10, 'duplicate and conflicting framing': 8, 'pipelined requests': 3,
  },
};

const FAMILIES: Record<Target, Record<string, Family>> = {
  gateway: { ...bodyFamilies, ...gatewayFamilies, ...rawFamilies },
  broker: { ...bodyFamilies, ...brokerFamilies, ...rawFamilies },
  api: { ...bodyFamilies, ...apiFamilies, ...rawFamilies },
};

/** Every input of one fuzz pass, in a seeded order (the same seed gives the same list). */
export function generateCases(p: Prng, ctx: FuzzContext, only?: RegExp): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const surfaces = [gatewaySurface(ctx), brokerSurface(ctx), apiSurface(ctx)];
  for (const surface of surfaces) {
    cases.push(...methodMatrix(surface));
    for (const [family, count] of Object.entries(COUNTS[surface.target])) {
      const make = FAMILIES[surface.target][family];
      if (make === undefined) throw new Error(`no fuzz family "${family}" for ${surface.target}`);
      for (let i = 0; i < count; i++) cases.push({ target: surface.target, family, input: make(p, surface, ctx) });
    }
  }
  // Interleave targets so a wedge in one shows up while the others are still being fuzzed.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = p.int(i + 1);
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  // Filtered after drawing, so a subset replays exactly the inputs of the full run.
  return only === undefined ? cases : cases.filter((c) => only.test(`${c.target}: ${c.family}`));
}

/** A short, exact description of an input, enough to replay it by hand. */
export function describeInput(input: Input, limit = 400): string {
  const clip = (text: string): string => (text.length > limit ? `${text.slice(0, limit)}… (${text.length} chars)` : text);
  if (input.via === 'raw') {
    return `raw ${JSON.stringify(clip(input.bytes.toString('latin1')))} then ${input.ending}${input.holdMs === undefined ? '' : ` after ${input.holdMs} ms`}`;
  }
  const body = input.body === undefined ? '' : ` body ${JSON.stringify(clip(Buffer.isBuffer(input.body) ? input.body.toString('latin1') : input.body))}`;
  const headers = Object.entries(input.headers).map(([n, v]) => `${n}: ${clip(v)}`);
  return `${input.method} ${clip(input.path)} ${JSON.stringify(headers)}${body}`;
}
