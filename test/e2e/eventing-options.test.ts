/**
 * The broker's named options reach it: `trantor up --set eventing.…` changes the ingress limit and
 * the dead-letter error data a user sees, and a misspelt option stops `trantor up` naming the
 * option meant.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Trantor } from './harness.ts';

const trantor = new Trantor();
const servers: Server[] = [];
const deadLettered: IncomingHttpHeaders[] = [];

/** A server on a free loopback port answering every request with `status` and `body`. */
async function serve(status: number, body: string, onRequest: (headers: IncomingHttpHeaders) => void = () => undefined): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      onRequest(req.headers);
      res.writeHead(status).end(body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function post(body: string, type = 'com.example.limits'): Promise<Response> {
  return fetch(`${trantor.gateway}/default/default`, {
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-id': `id-${body.length}`, 'ce-source': 'e2e', 'ce-type': type, 'content-type': 'text/plain' },
    body,
  });
}

before(async () => {
  const subscriber = await serve(400, 'refused: '.repeat(50));
  const sink = await serve(202, '', (headers) => deadLettered.push(headers));
  await trantor.up(['--set', 'eventing.ingressLimit=1kb', '--set', 'eventing.errorDataLimit=8']);
  const trigger = [
    'apiVersion: eventing.knative.dev/v1',
    'kind: Trigger',
    'metadata: {name: limits, namespace: default}',
    'spec:',
    '  broker: default',
    '  filter: {attributes: {type: com.example.limits}}',
    `  subscriber: {uri: "${subscriber}"}`,
    `  delivery: {deadLetterSink: {uri: "${sink}"}}`,
  ].join('\n');
  const applied = trantor.cli(['apply', '-f', '-'], trigger);
  assert.equal(applied.code, 0, applied.stderr);
});

after(async () => {
  await trantor.close();
  for (const server of servers) server.close();
});

test('--set eventing.ingressLimit=1kb: the broker refuses a 2 KB event with 413 and takes a small one', async () => {
  const large = await post('x'.repeat(2000), 'com.example.other');
  assert.equal(large.status, 413, await large.text());
  const small = await post('small', 'com.example.other');
  assert.equal(small.status, 202);
});

test('--set eventing.errorDataLimit=8: a dead-lettered event carries 8 characters of the failed answer', async () => {
  const sent = await post('hello');
  assert.equal(sent.status, 202);
  const deadline = Date.now() + 30_000;
  while (deadLettered.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(deadLettered.length, 1, 'the dead-letter sink got the event');
  assert.equal(deadLettered[0]!['ce-knativeerrorcode'], '400');
  assert.equal(deadLettered[0]!['ce-knativeerrordata'], Buffer.from('refused: ').toString('base64').slice(0, 8));
});

test('a misspelt eventing option stops trantor up, naming the option meant', () => {
  const other = new Trantor();
  try {
    const result = other.cli(['up', '--port', '0', '--set', 'eventing.ingresLimit=1kb']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /eventing\.ingresLimit: no such option; did you mean eventing\.ingressLimit\?/);
  } finally {
    void other.close();
  }
});
