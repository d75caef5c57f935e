/**
 * kill -9 of `trantor up` while a producer posts events: every event answered 202 is delivered
 * after a restart (duplicates allowed, loss not).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Trantor, startEventRecorder, type EventRecorder } from './harness.ts';

const trantor = new Trantor();
let subscriber: EventRecorder | undefined;

after(async () => {
  await trantor.close();
  await subscriber?.close();
});

test('every event answered 202 before a kill -9 is delivered after the restart', async () => {
  subscriber = await startEventRecorder();
  const { received } = subscriber;

  await trantor.up();
  const file = join(trantor.home, 'trigger.yaml');
  writeFileSync(
    file,
    `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-counter, namespace: durable}
spec:
  broker: default
  filter: {attributes: {type: tests.durable}}
  subscriber: {uri: "${subscriber.uri}"}
`,
  );
  assert.equal(trantor.cli(['apply', '-f', file]).code, 0);

  const accepted = new Set<string>();
  let next = 0;
  let stop = false;
  const producer = async (): Promise<void> => {
    while (!stop) {
      const id = `event-${next++}`;
      try {
        const res = await fetch(`${trantor.gateway}/durable/default`, {
          method: 'POST',
          headers: { 'ce-id': id, 'ce-specversion': '1.0', 'ce-type': 'tests.durable', 'ce-source': 'tests', 'content-type': 'application/json' },
          body: `{"n":${next}}`,
        });
        await res.arrayBuffer();
        if (res.status === 202) accepted.add(id);
      } catch {
        stop = true; // the control plane is gone
      }
    }
  };
  const producers = Array.from({ length: 8 }, () => producer());
  // Kill once enough events are in flight and acknowledged, however busy the machine is.
  const loaded = Date.now() + 30_000;
  while (accepted.size < 300 && Date.now() < loaded) await new Promise((r) => setTimeout(r, 20));
  await trantor.stop('SIGKILL');
  stop = true;
  await Promise.all(producers);
  assert.ok(accepted.size > 200, `only ${accepted.size} events were accepted before the kill`);

  await trantor.up();
  const deadline = Date.now() + 30_000;
  const missing = (): string[] => [...accepted].filter((id) => !received.has(id));
  while (missing().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(missing(), [], `${missing().length} of ${accepted.size} accepted events were never delivered`);
});
