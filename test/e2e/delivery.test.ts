/**
 * Knative's delivery contract through the real `trantor up`: a trigger that sets no delivery gets
 * the broker defaults (retry 10, exponential from PT0.2S), so a subscriber failing twice still
 * gets the event; what became of each trigger's events shows in `trantor get triggers`, and a
 * dropped event is printed on the `up` terminal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Trantor } from './harness.ts';

const trantor = new Trantor();
const servers: Server[] = [];
/** Requests each subscriber got, with the status it answered. */
const answered: Record<'flaky' | 'failing', number[]> = { flaky: [], failing: [] };

/** A subscriber on 127.0.0.1 answering the n-th request (from 1) with `status(n)`. */
async function subscriber(name: 'flaky' | 'failing', status: (n: number) => number): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const code = status(answered[name].length + 1);
      answered[name].push(code);
      res.writeHead(code).end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; trantor up printed:\n${trantor.output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function post(type: string, id: string): Promise<Response> {
  return fetch(`${trantor.gateway}/default/default`, {
    method: 'POST',
    headers: { 'ce-specversion': '1.0', 'ce-id': id, 'ce-source': 'e2e', 'ce-type': type, 'content-type': 'application/json' },
    body: '{}',
  });
}

interface TriggerJson {
  metadata: { name: string };
  status: { deliveries?: { delivered: number; retried: number; deadLettered: number; dropped: number } };
}

function deliveriesOf(name: string): TriggerJson['status']['deliveries'] {
  const list = JSON.parse(trantor.cli(['get', 'triggers', '-o', 'json']).stdout) as { items: TriggerJson[] };
  return list.items.find((t) => t.metadata.name === name)?.status.deliveries;
}

before(async () => {
  await trantor.up();
  const flaky = await subscriber('flaky', (n) => (n <= 2 ? 503 : 200));
  const failing = await subscriber('failing', () => 500);
  const manifests = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: flaky}
spec:
  filter: {attributes: {type: e2e.flaky}}
  subscriber: {uri: "${flaky}"}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: failing}
spec:
  filter: {attributes: {type: e2e.failing}}
  subscriber: {uri: "${failing}"}
  delivery: {retry: 1, backoffDelay: PT0.01S}
`;
  const applied = trantor.cli(['apply', '-f', '-'], manifests);
  assert.equal(applied.code, 0, applied.stderr);
});

after(async () => {
  await trantor.close();
  for (const server of servers) server.close();
});

test('a trigger without delivery whose subscriber fails twice then succeeds gets the event; get triggers counts it', async () => {
  assert.equal((await post('e2e.flaky', 'flaky-1')).status, 202);
  await until(() => deliveriesOf('flaky')?.delivered === 1, 'the flaky subscriber to take the event');
  assert.deepEqual(answered.flaky, [503, 503, 200]);
  assert.deepEqual(deliveriesOf('flaky'), { delivered: 1, retried: 2, deadLettered: 0, dropped: 0 });
  const table = trantor.cli(['get', 'triggers']).stdout;
  assert.match(table, /^NAME\s+READY\s+REASON\s+BROKER\s+SUBSCRIBER_URI\s+AGE\s+DELIVERED\s+RETRIED\s+DEAD_LETTERED\s+DROPPED$/m);
  assert.match(table, /^flaky\s+True\s+default\s+http:\/\/127\.0\.0\.1:\d+\/\s+\S+\s+1\s+2\s+0\s+0$/m);
});

test('an event that fails for good is counted as dropped and printed on the up terminal', async () => {
  assert.equal((await post('e2e.failing', 'failing-1')).status, 202);
  await until(() => deliveriesOf('failing')?.dropped === 1, 'the failing delivery to be dropped');
  assert.deepEqual(answered.failing, [500, 500]);
  assert.match(trantor.cli(['get', 'triggers']).stdout, /^failing\s+True\s+default\s+\S+\s+\S+\s+0\s+1\s+0\s+1$/m);
  await until(() => trantor.output.some((line) => line.includes('trigger default/failing: event failing-1')), 'the terminal line');
  const line = trantor.output.find((l) => l.includes('trigger default/failing: event failing-1'));
  assert.equal(line, 'trigger default/failing: event failing-1 (e2e.failing) dropped after 2 attempts (500)');
});
