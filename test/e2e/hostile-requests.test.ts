/**
 * No request may crash or wedge `trantor up`: aborted uploads, JSON nested 10,000 deep, broken
 * percent-encoding, bodies over the limit and bodies that never finish, sent to the gateway, the
 * broker, the control-plane API and a component host, byte for byte as a hostile client would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { rawExchange, truncatedPost } from '../../src/http/testing.ts';
import { homeLayout } from '../../src/manifest/index.ts';
import { ROOT, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const NOOP = join(ROOT, 'examples', 'noop-ts');
let api = '';
let host: ChildProcess | undefined;
let hostUrl = '';

const arrays = '['.repeat(10_000) + ']'.repeat(10_000);
const objects = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
const EVENT = { 'ce-specversion': '1.0', 'ce-id': 'e-1', 'ce-source': 'hostile-test', 'ce-type': 'test.event' };

before(async () => {
  await trantor.up(['--request-timeout', '2s']);
  trantor.applyAndWait(join(NOOP, 'noop.yaml'));
  api = (JSON.parse(readFileSync(homeLayout.controlPlane(trantor.home), 'utf8')) as { apiUrl: string }).apiUrl;
  // A component host on its own, as `trantor up` starts one per replica.
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'trantor-node-microservice.js'), 'NoopModel', '--service-type', 'MODEL', '--http-port', '0'], { cwd: NOOP, stdio: ['ignore', 'pipe', 'pipe'] });
  host = child;
  hostUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the node host printed no serving line in 30 s')), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /serving \S+ on (http:\/\/\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the node host exited with ${code}`)));
  });
});
after(async () => {
  host?.kill();
  await trantor.close();
});

/** The API token, when the control plane keeps one. */
function apiHeaders(): Record<string, string> {
  const file = homeLayout.apiToken(trantor.home);
  return existsSync(file) ? { authorization: `Bearer ${readFileSync(file, 'utf8').trim()}` } : {};
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function failure(body: unknown): { code: number; info: string; reason: string } {
  return (body as { status: { code: number; info: string; reason: string } }).status;
}

async function assertTooDeep(res: Promise<{ status: number; body: unknown }>, what: string): Promise<void> {
  const { status, body } = await res;
  assert.equal(status, 400, `${what}: ${JSON.stringify(body).slice(0, 300)}`);
  assert.match(failure(body).info, /deeper than 512 levels/, what);
}

test('an upload aborted mid-body to the broker leaves trantor up running, and the broker still answers', async () => {
  await rawExchange(portOf(trantor.gateway), truncatedPost(portOf(trantor.gateway), '/default/default', 1000, '{"data":1}\n', EVENT), { closeAfterWrite: true });
  const res = await fetch(`${trantor.gateway}/default/default`, { method: 'POST', headers: { ...EVENT, 'content-type': 'application/json' }, body: '{"ok":true}' });
  assert.equal(res.status, 202);
  assert.ok(alive(trantor.pid), 'trantor up is still running');
  assert.doesNotMatch(trantor.output.join('\n'), /unhandled|Unhandled/);
});

test('an upload aborted mid-body to gateway predictions leaves the gateway serving', async () => {
  await rawExchange(portOf(trantor.gateway), truncatedPost(portOf(trantor.gateway), '/seldon/default/noop/api/v1.0/predictions', 1000, '{"data":{"n'), { closeAfterWrite: true });
  const { status } = await postJson(trantor.url('default', 'noop'), { data: { ndarray: [[1, 2]] } });
  assert.equal(status, 200);
  assert.ok(alive(trantor.pid));
});

test('an upload aborted mid-body to the API leaves the API answering', async () => {
  await rawExchange(portOf(api), truncatedPost(portOf(api), '/v1/apply', 1000, 'apiVersion:', apiHeaders()), { closeAfterWrite: true });
  const res = await fetch(`${api}/v1/health`, { headers: apiHeaders() });
  assert.equal(res.status, 200);
  assert.ok(alive(trantor.pid));
});

test('an upload aborted mid-body to a component host leaves it serving', async () => {
  await rawExchange(portOf(hostUrl), truncatedPost(portOf(hostUrl), '/predict', 1000, '{"data":{"n'), { closeAfterWrite: true });
  const { status, body } = await postJson(`${hostUrl}/predict`, { data: { ndarray: [[1, 2]] } });
  assert.equal(status, 200, JSON.stringify(body));
  assert.ok(alive(host?.pid));
});

test('JSON nested 10,000 deep gets 400 JSON_TOO_DEEP from gateway predictions, as JSON, a form and a CloudEvent', async () => {
  const url = trantor.url('default', 'noop');
  await assertTooDeep(postJson(url, `{"data":{"ndarray":${arrays}}}`), 'arrays');
  await assertTooDeep(postJson(url, `{"data":{"ndarray":[[1]]},"meta":{"tags":${objects}}}`), 'objects');
  await assertTooDeep(postJson(url, `json=${encodeURIComponent(arrays)}`, { 'content-type': 'application/x-www-form-urlencoded' }), 'form json=');
  await assertTooDeep(postJson(url, `{"data":{"ndarray":${arrays}}}`, EVENT), 'binary-mode CloudEvent');
  const structured = `{"specversion":"1.0","id":"e-2","source":"s","type":"t","data":${objects}}`;
  await assertTooDeep(postJson(url, structured, { 'content-type': 'application/cloudevents+json' }), 'structured CloudEvent');
  const { status } = await postJson(url, { data: { ndarray: [[1, 2]] } });
  assert.equal(status, 200);
});

test('JSON nested 10,000 deep gets 400 JSON_TOO_DEEP from the broker, structured and binary, and nothing is stored', async () => {
  const broker = `${trantor.gateway}/default/default`;
  await assertTooDeep(postJson(broker, `{"specversion":"1.0","id":"e-3","source":"s","type":"t","data":${arrays}}`, { 'content-type': 'application/cloudevents+json' }), 'structured');
  await assertTooDeep(postJson(broker, objects, EVENT), 'binary with application/json data');
  const res = await fetch(broker, { method: 'POST', headers: { ...EVENT, 'content-type': 'application/json' }, body: '[[1]]' });
  assert.equal(res.status, 202);
});

test('JSON nested 10,000 deep gets 400 JSON_TOO_DEEP from API apply and from a component host', async () => {
  await assertTooDeep(postJson(`${api}/v1/apply`, arrays, apiHeaders()), 'API apply, arrays');
  await assertTooDeep(postJson(`${api}/v1/apply`, objects, apiHeaders()), 'API apply, objects');
  await assertTooDeep(postJson(`${hostUrl}/predict`, `{"data":{"ndarray":${arrays}}}`), 'component host, arrays');
  await assertTooDeep(postJson(`${hostUrl}/predict`, `{"jsonData":${objects}}`), 'component host, objects');
});

test('bad percent-encoding in an API path or header gets 400 BAD_PATH, not 500', async () => {
  const path = await fetch(`${api}/v1/deployments/%E0%A4%A`, { headers: apiHeaders() });
  assert.equal(path.status, 400);
  assert.equal(failure(await path.json()).reason, 'BAD_REQUEST');
  const header = await postJson(`${api}/v1/apply`, '{}', { ...apiHeaders(), 'x-trantor-source': '%zz' });
  assert.equal(header.status, 400, JSON.stringify(header.body));
  assert.match(failure(header.body).info, /x-trantor-source/);
});

test('a manifest over the API limit gets 413 naming the limit, and trantor apply prints it', async () => {
  const big = join(trantor.home, 'big.yaml');
  const manifest = readFileSync(join(NOOP, 'noop.yaml'), 'utf8').replace('  name: noop\n', `  name: big\n  annotations:\n    padding: "${'x'.repeat(9 * 1024 * 1024)}"\n`);
  writeFileSync(big, manifest);
  const applied = trantor.cli(['apply', '-f', big]);
  assert.notEqual(applied.code, 0);
  assert.match(applied.stderr, /larger than the limit of 8388608 bytes \(8 MiB\)/);
  assert.doesNotMatch(applied.stderr, /cannot reach the control plane/);
  const res = await fetch(`${api}/v1/apply`, { method: 'POST', headers: { ...apiHeaders(), 'content-type': 'application/yaml' }, body: readFileSync(big, 'utf8') });
  assert.equal(res.status, 413);
  assert.match(failure(await res.json()).info, /8 MiB/);
});

test('an incomplete body gets 408 within the configured 2 s, not twice as late', async () => {
  const result = await rawExchange(portOf(trantor.gateway), truncatedPost(portOf(trantor.gateway), '/seldon/default/noop/api/v1.0/predictions', 100, '{"data":'), { deadlineMs: 20_000 });
  assert.match(result.text, /^HTTP\/1\.1 408 /);
  assert.match(result.text, /REQUEST_TIMEOUT/);
  assert.ok(result.ms >= 1_900, `408 after ${result.ms} ms, before the timeout`);
  assert.ok(result.ms < 3_500, `408 after ${result.ms} ms for a 2 s timeout`);
});
