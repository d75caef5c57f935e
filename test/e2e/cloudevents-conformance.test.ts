/**
 * Every conformance case (fixtures/cloudevents-conformance.ts) goes through a real broker to two
 * triggers — one delivering in binary mode, one in structured mode — and must arrive identical:
 * attributes, extensions, datacontenttype and the data's bytes. The subscriber reads what it gets
 * with its own small decoder (not Trantor's), so a bug in Trantor's codec cannot hide itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Trantor } from './harness.ts';
import { CASES, REFUSED, type ConformanceCase, type SentRequest } from './fixtures/cloudevents-conformance.ts';

const NAMESPACE = 'conformance';
/** Extensions the broker stamps on every event (Knative's): not part of what the producer sent. */
const BROKER_EXTENSIONS = new Set(['knativearrivaltime', 'knativebrokerttl']);

interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const trantor = new Trantor();
let subscriber: Server;
let port = 0;
/** Deliveries by mode (the path the trigger posts to) and event id. */
const received = { binary: new Map<string, Delivery>(), structured: new Map<string, Delivery>() };

function idOf(mode: 'binary' | 'structured', delivery: Delivery): string | undefined {
  if (mode === 'binary') {
    const id = delivery.headers['ce-id'];
    return typeof id === 'string' ? decodeURIComponent(id) : undefined;
  }
  const parsed = JSON.parse(delivery.body.toString('utf8')) as { id?: unknown };
  return typeof parsed.id === 'string' ? parsed.id : undefined;
}

before(async () => {
  subscriber = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const mode = req.url === '/structured' ? 'structured' : 'binary';
      const delivery = { headers: req.headers, body: Buffer.concat(chunks) };
      const id = idOf(mode, delivery);
      if (id !== undefined) received[mode].set(id, delivery);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => subscriber.listen(0, '127.0.0.1', resolve));
  port = (subscriber.address() as AddressInfo).port;

  await trantor.up();
  const file = join(trantor.home, 'conformance-triggers.yaml');
  writeFileSync(
    file,
    `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-binary, namespace: ${NAMESPACE}}
spec:
  broker: default
  subscriber: {uri: "http://127.0.0.1:${port}/binary"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-structured, namespace: ${NAMESPACE}}
spec:
  broker: default
  delivery: {format: json}
  subscriber: {uri: "http://127.0.0.1:${port}/structured"}
`,
  );
  trantor.applyAndWait(file);
});

after(async () => {
  await trantor.close();
  await new Promise<void>((resolve) => subscriber.close(() => resolve()));
});

/**
 * Posts a request to the broker over a raw socket, exactly as written: header values go out as
 * the bytes their characters stand for (latin-1), the body as is.
 */
function post(sent: SentRequest): Promise<{ status: number; body: string }> {
  const url = new URL(`${trantor.gateway}/${NAMESPACE}/default`);
  const body = typeof sent.body === 'string' ? Buffer.from(sent.body, 'utf8') : sent.body;
  const lines = [`POST ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, `Content-Length: ${body.length}`, 'Connection: close'];
  for (const [name, value] of Object.entries(sent.headers)) lines.push(`${name}: ${value}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(Buffer.concat([head, body])));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const response = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response);
      if (status === null) return reject(new Error(`not an HTTP response: ${response}`));
      resolve({ status: Number(status[1]), body: response.slice(response.indexOf('\r\n\r\n') + 4) });
    });
  });
}

async function waitForDelivery(mode: 'binary' | 'structured', id: string): Promise<Delivery> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const delivery = received[mode].get(id);
    if (delivery !== undefined) return delivery;
    if (Date.now() > deadline) throw new Error(`no ${mode}-mode delivery of ${id} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** JSON whitespace around a value is not part of it. */
function trimJson(text: string): string {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

function checkBinary(c: ConformanceCase, delivery: Delivery): void {
  const attributes: Record<string, string> = {};
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) {
    if (!name.startsWith('ce-') || typeof value !== 'string') continue;
    const attribute = name.slice(3);
    // Every header value a sender writes is percent-encoded and never quoted (binding 3.1.3.2).
    assert.doesNotMatch(value, /[\s"\x80-\xff]/, `${c.name}: header ${name} is percent-encoded`);
    const decoded = decodeURIComponent(value);
    if (attribute in c.expect.attributes || ['id', 'source', 'type', 'specversion', 'time', 'subject', 'dataschema', 'schemaurl'].includes(attribute)) {
      attributes[attribute] = decoded;
    } else if (!BROKER_EXTENSIONS.has(attribute)) {
      extensions[attribute] = decoded;
    }
  }
  assert.deepEqual(attributes, c.expect.attributes, `${c.name}: attributes (binary delivery)`);
  const expectedExtensions = Object.fromEntries(Object.entries(c.expect.extensions).map(([k, v]) => [k, String(v)]));
  assert.deepEqual(extensions, expectedExtensions, `${c.name}: extensions (binary delivery)`);
  const data = c.expect.data;
  // Binary mode has only Content-Type for datacontenttype: JSON data without one is labelled as the JSON it is.
  const contentType = c.expect.datacontenttype ?? (data.kind === 'json' ? 'application/json' : undefined);
  assert.equal(delivery.headers['content-type'], contentType, `${c.name}: Content-Type (binary delivery)`);
  const expected = data.kind === 'none' ? Buffer.alloc(0) : data.kind === 'json' ? Buffer.from(data.text, 'utf8') : data.bytes;
  assert.equal(delivery.body.toString('hex'), expected.toString('hex'), `${c.name}: data bytes (binary delivery): ${delivery.body.toString('utf8')}`);
}

function checkStructured(c: ConformanceCase, delivery: Delivery): void {
  assert.match(delivery.headers['content-type'] ?? '', /^application\/cloudevents\+json\b/, `${c.name}: structured content type`);
  const text = delivery.body.toString('utf8');
  const event = JSON.parse(text) as Record<string, unknown>;
  const attributes: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event)) {
    if (['data', 'data_base64', 'datacontenttype', 'datacontentencoding'].includes(name)) continue;
    if (['id', 'source', 'type', 'specversion', 'time', 'subject', 'dataschema', 'schemaurl'].includes(name)) attributes[name] = value;
    else if (!BROKER_EXTENSIONS.has(name)) extensions[name] = value;
  }
  assert.deepEqual(attributes, c.expect.attributes, `${c.name}: attributes (structured delivery)`);
  assert.deepEqual(extensions, c.expect.extensions, `${c.name}: extensions (structured delivery)`);
  assert.equal(event['datacontenttype'], c.expect.datacontenttype, `${c.name}: datacontenttype (structured delivery)`);
  const data = c.expect.data;
  if (data.kind === 'none') {
    assert.equal('data' in event || 'data_base64' in event, false, `${c.name}: no data (structured delivery): ${text}`);
    return;
  }
  if (data.kind === 'json') {
    assert.equal('data_base64' in event, false, `${c.name}: JSON data is embedded (structured delivery)`);
    // The data member's text, exactly: a parse would round the numbers this is about.
    assert.ok(text.includes(`"data":${trimJson(data.text)}`), `${c.name}: data ${trimJson(data.text)} exactly (structured delivery), got ${text}`);
    assert.deepEqual(event['data'], JSON.parse(data.text), `${c.name}: the data member is that value`);
    return;
  }
  let bytes: Buffer;
  if (typeof event['data_base64'] === 'string') bytes = Buffer.from(event['data_base64'], 'base64');
  else if (event['datacontentencoding'] === 'base64' && typeof event['data'] === 'string') bytes = Buffer.from(event['data'], 'base64');
  else if (typeof event['data'] === 'string' && !isJsonType(c.expect.datacontenttype)) bytes = Buffer.from(event['data'], 'utf8');
  else throw new Error(`${c.name}: byte data not carried as data_base64 or a string (structured delivery): ${text}`);
  assert.equal(bytes.toString('hex'), data.bytes.toString('hex'), `${c.name}: data bytes (structured delivery)`);
}

for (const c of CASES) {
  test(`conformance: ${c.name}`, async () => {
    const answer = await post(c.send);
    assert.equal(answer.status, 202, `${c.name}: the broker accepts it: ${answer.body}`);
    const id = c.expect.attributes['id']!;
    checkBinary(c, await waitForDelivery('binary', id));
    checkStructured(c, await waitForDelivery('structured', id));
  });
}

for (const r of REFUSED) {
  test(`conformance, refused with 400 BAD_EVENT: ${r.name}`, async () => {
    const answer = await post(r.send);
    assert.equal(answer.status, 400, answer.body);
    assert.match(answer.body, /BAD_EVENT/);
    assert.match(answer.body, r.reason);
  });
}
