/**
 * No web page open in the user's browser can drive Trantor. A page can send a CORS "simple
 * request" (text/plain, a form or multipart, with its Origin) without asking first, and a
 * DNS-rebinding page reaches 127.0.0.1 under its own Host name; both are refused by the
 * control-plane API (which starts processes) and by the gateway and broker, while clients that
 * send no Origin (curl, SDKs) work as before. Requests are sent with node:http so every header,
 * Host included, is exactly what a browser (or curl) would send.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trantor } from './harness.ts';
import { homeLayout, type ControlPlaneInfo } from '../../src/manifest/index.ts';

const trantor = new Trantor();
const work = mkdtempSync(join(tmpdir(), 'trantor-origin-'));
/** The file a page's manifest would create if its command ran. */
const PWNED = join(work, 'pwned');
/** One line per call the witness model received: `predict` or `feedback <reward>`. */
const WITNESS_LOG = join(work, 'witness.log');
const ALLOWED_PAGE = 'http://app.example';
const EVIL_PAGE = 'http://evil.example';
let apiUrl = '';

/** A manifest whose command, if it ever ran, would create PWNED. */
const EVIL_MANIFEST = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: page-planted, namespace: default}
spec:
  predictors:
  - name: default
    graph: {name: payload, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: payload
          command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(`require('fs').writeFileSync(${JSON.stringify(PWNED)}, 'ran')`)}]
`;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly these headers (Host too, when given). */
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const all = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method, headers: all, agent: false, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The headers every control-plane API request carries (credentials go here), plus `extra`. */
/** Every API call carries the token, so a refusal below is the Origin/Host/type check's, not the token's. */
function apiHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${readFileSync(homeLayout.apiToken(trantor.home), 'utf8').trim()}`, ...extra };
}

function apiPort(): string {
  return new URL(apiUrl).port;
}

function gatewayPort(): string {
  return new URL(trantor.gateway).port;
}

function predictions(name = 'witness'): string {
  return trantor.url('default', name);
}

function witnessCalls(): string[] {
  return existsSync(WITNESS_LOG) ? readFileSync(WITNESS_LOG, 'utf8').split('\n').filter((l) => l !== '') : [];
}

function failureInfo(answer: Answer): string {
  return (JSON.parse(answer.body) as { status: { info: string } }).status.info;
}

async function deploymentNames(): Promise<string[]> {
  const answer = await send(`${apiUrl}/v1/deployments`, 'GET', apiHeaders());
  assert.equal(answer.status, 200, answer.body);
  return (JSON.parse(answer.body) as { items: { metadata: { name: string } }[] }).items.map((d) => d.metadata.name);
}

/** The simple-request bodies a page can send without a preflight, each carrying the manifest. */
const SIMPLE_REQUESTS: readonly { type: string; body: string }[] = [
  { type: 'text/plain', body: EVIL_MANIFEST },
  { type: 'application/x-www-form-urlencoded', body: EVIL_MANIFEST },
  { type: 'multipart/form-data; boundary=x', body: `--x\r\nContent-Disposition: form-data; name="m"\r\n\r\n${EVIL_MANIFEST}\r\n--x--\r\n` },
];

before(async () => {
  // A model that records each call it gets, so a refused request is seen not to reach it.
  writeFileSync(
    join(work, 'Witness.mjs'),
    `import { appendFileSync } from 'node:fs';
export class Witness {
  predict(X) { appendFileSync(${JSON.stringify(WITNESS_LOG)}, 'predict\\n'); return X; }
  send_feedback(X, names, reward) { appendFileSync(${JSON.stringify(WITNESS_LOG)}, 'feedback ' + reward + '\\n'); return []; }
}
`,
  );
  const manifest = join(work, 'witness.yaml');
  writeFileSync(
    manifest,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: witness, namespace: default}
spec:
  predictors:
  - name: default
    graph: {name: witness, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: witness
          command: [trantor-node-microservice, Witness]
          args: [--service-type, MODEL]
          workingDir: ${JSON.stringify(work)}
`,
  );
  await trantor.up(['--cors-allowed-origins', ALLOWED_PAGE]);
  apiUrl = (JSON.parse(readFileSync(homeLayout.controlPlane(trantor.home), 'utf8')) as ControlPlaneInfo).apiUrl;
  // The CLI's own apply still goes through: it says its manifest is YAML.
  trantor.applyAndWait(manifest);
});

after(async () => {
  await trantor.close();
  rmSync(work, { recursive: true, force: true });
});

test("a page's simple-request apply (text/plain, form, multipart) is refused with 403; nothing is applied and its command never runs", async () => {
  for (const { type, body } of SIMPLE_REQUESTS) {
    const answer = await send(`${apiUrl}/v1/apply`, 'POST', apiHeaders({ 'content-type': type, origin: EVIL_PAGE }), body);
    assert.equal(answer.status, 403, `${type}: ${answer.body}`);
    assert.match(failureInfo(answer), /Origin "http:\/\/evil\.example" is not allowed/);
  }
  assert.deepEqual(await deploymentNames(), ['witness']);
  assert.equal(existsSync(PWNED), false, 'the manifest command ran');
});

test('even a YAML apply is refused from a page, and the API grants no CORS preflight', async () => {
  const apply = await send(`${apiUrl}/v1/apply`, 'POST', apiHeaders({ 'content-type': 'application/yaml', origin: EVIL_PAGE }), EVIL_MANIFEST);
  assert.equal(apply.status, 403, apply.body);
  const preflight = await send(`${apiUrl}/v1/apply`, 'OPTIONS', apiHeaders({ origin: ALLOWED_PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }));
  assert.equal(preflight.status, 403, preflight.body);
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  assert.deepEqual(await deploymentNames(), ['witness']);
});

test('a manifest sent as text/plain, a form or multipart without any Origin gets 415 naming the accepted types', async () => {
  for (const { type, body } of SIMPLE_REQUESTS) {
    const answer = await send(`${apiUrl}/v1/apply`, 'POST', apiHeaders({ 'content-type': type }), body);
    assert.equal(answer.status, 415, `${type}: ${answer.body}`);
    assert.match(failureInfo(answer), /send application\/yaml, application\/x-yaml, application\/json/);
  }
  const untyped = await send(`${apiUrl}/v1/apply`, 'POST', apiHeaders(), EVIL_MANIFEST);
  assert.equal(untyped.status, 415, untyped.body);
  assert.deepEqual(await deploymentNames(), ['witness']);
});

test('the API refuses a foreign Host (DNS rebinding) with 421, and answers its loopback names', async () => {
  for (const host of [`evil.example:${apiPort()}`, 'evil.example']) {
    const answer = await send(`${apiUrl}/v1/deployments`, 'GET', apiHeaders({ host }));
    assert.equal(answer.status, 421, `${host}: ${answer.body}`);
  }
  const rebound = await send(`${apiUrl}/v1/apply`, 'POST', apiHeaders({ host: `evil.example:${apiPort()}`, origin: `http://evil.example:${apiPort()}`, 'content-type': 'text/plain' }), EVIL_MANIFEST);
  assert.equal(rebound.status, 421, rebound.body);
  for (const host of [`localhost:${apiPort()}`, `127.0.0.1:${apiPort()}`]) {
    const answer = await send(`${apiUrl}/v1/health`, 'GET', apiHeaders({ host }));
    assert.equal(answer.status, 200, `${host}: ${answer.body}`);
  }
});

test('curl -d (a form content type) and a request with no Content-Type still predict through the gateway', async () => {
  const before = witnessCalls().length;
  const curlD = await send(predictions(), 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, '{"data":{"ndarray":[[1,2]]}}');
  assert.equal(curlD.status, 200, curlD.body);
  assert.deepEqual((JSON.parse(curlD.body) as { data: { ndarray: number[][] } }).data.ndarray, [[1, 2]]);
  const untyped = await send(predictions(), 'POST', {}, '{"data":{"ndarray":[[3]]}}');
  assert.equal(untyped.status, 200, untyped.body);
  assert.equal(witnessCalls().length, before + 2);
});

test("a page's prediction and feedback are refused with 403 and never reach the model", async () => {
  const before = witnessCalls().length;
  const prediction = await send(predictions(), 'POST', { 'content-type': 'text/plain', origin: EVIL_PAGE }, '{"data":{"ndarray":[[1,2]]}}');
  assert.equal(prediction.status, 403, prediction.body);
  assert.ok(prediction.headers['seldon-puid'], 'a refusal still carries Seldon-Puid');
  const feedback = await send(trantor.url('default', 'witness', 'api/v1.0/feedback'), 'POST', { 'content-type': 'text/plain', origin: EVIL_PAGE }, '{"request":{"data":{"ndarray":[[1]]}},"reward":1}');
  assert.equal(feedback.status, 403, feedback.body);
  // A page's <img src=…?json=…> sends no Origin, but its Sec-Fetch-Site gives it away.
  const image = await send(`${predictions()}?json=${encodeURIComponent('{"data":{"ndarray":[[1]]}}')}`, 'GET', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' });
  assert.equal(image.status, 403, image.body);
  // The same feedback from a client without Origin reaches the model: it is the Origin that was refused.
  const allowed = await send(trantor.url('default', 'witness', 'api/v1.0/feedback'), 'POST', { 'content-type': 'application/json' }, '{"request":{"data":{"ndarray":[[1]]}},"reward":7}');
  assert.equal(allowed.status, 200, allowed.body);
  assert.deepEqual(witnessCalls().slice(before), ['feedback 7']);
});

test('the gateway refuses a foreign Host with 421 on predictions and feedback', async () => {
  const before = witnessCalls().length;
  for (const path of ['api/v1.0/predictions', 'api/v1.0/feedback']) {
    const answer = await send(trantor.url('default', 'witness', path), 'POST', { host: `evil.example:${gatewayPort()}`, 'content-type': 'application/json' }, '{"request":{"data":{"ndarray":[[1]]}},"data":{"ndarray":[[1]]},"reward":1}');
    assert.equal(answer.status, 421, `${path}: ${answer.body}`);
  }
  const localhost = await send(predictions(), 'POST', { host: `localhost:${gatewayPort()}`, 'content-type': 'application/json' }, '{"data":{"ndarray":[[1]]}}');
  assert.equal(localhost.status, 200, localhost.body);
  assert.deepEqual(witnessCalls().slice(before), ['predict']);
});

test("the broker takes the seeds' curl with its in-cluster Host (202) and refuses a page's event (403)", async () => {
  const event = { 'ce-id': 'origin-1', 'ce-specversion': '1.0', 'ce-type': 'dev.example.ping', 'ce-source': 'curl', 'content-type': 'application/json' };
  for (const host of ['default-broker.default.svc.cluster.local', `default-broker.default.svc.cluster.local:${gatewayPort()}`]) {
    const seeds = await send(`${trantor.gateway}/`, 'POST', { ...event, host }, '{"ping":1}');
    assert.equal(seeds.status, 202, `${host}: ${seeds.body}`);
  }
  const byPath = await send(`${trantor.gateway}/default/default`, 'POST', event, '{"ping":2}');
  assert.equal(byPath.status, 202, byPath.body);
  const fromPage = await send(`${trantor.gateway}/default/default`, 'POST', { ...event, 'content-type': 'text/plain', origin: EVIL_PAGE }, '{"ping":3}');
  assert.equal(fromPage.status, 403, fromPage.body);
  const rebound = await send(`${trantor.gateway}/default/default`, 'POST', { ...event, host: `evil.example:${gatewayPort()}` }, '{"ping":4}');
  assert.equal(rebound.status, 421, rebound.body);
});

test('an origin in --cors-allowed-origins gets a preflight 204 and a prediction with CORS headers; another origin gets 403', async () => {
  const preflight = await send(predictions(), 'OPTIONS', {
    origin: ALLOWED_PAGE,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type, seldon-puid, x-not-granted',
  });
  assert.equal(preflight.status, 204, preflight.body);
  assert.equal(preflight.headers['access-control-allow-origin'], ALLOWED_PAGE);
  assert.match(String(preflight.headers['vary']), /\bOrigin\b/);
  assert.match(String(preflight.headers['access-control-allow-methods']), /\bPOST\b/);
  assert.equal(preflight.headers['access-control-allow-headers'], 'content-type, seldon-puid');
  assert.ok(Number(preflight.headers['access-control-max-age']) > 0);

  const prediction = await send(predictions(), 'POST', { origin: ALLOWED_PAGE, 'content-type': 'application/json' }, '{"data":{"ndarray":[[5]]}}');
  assert.equal(prediction.status, 200, prediction.body);
  assert.equal(prediction.headers['access-control-allow-origin'], ALLOWED_PAGE);
  assert.match(String(prediction.headers['access-control-expose-headers']), /Seldon-Puid/);
  assert.deepEqual((JSON.parse(prediction.body) as { data: { ndarray: number[][] } }).data.ndarray, [[5]]);

  const refused = await send(predictions(), 'OPTIONS', { origin: EVIL_PAGE, 'access-control-request-method': 'POST' });
  assert.equal(refused.status, 403, refused.body);
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
});

test("after all of the above, the page's manifest command has still not run", async () => {
  assert.deepEqual(await deploymentNames(), ['witness']);
  assert.equal(existsSync(PWNED), false);
});
