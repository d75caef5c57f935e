import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { Eventing, SqliteEventStore } from '../eventing/index.ts';
import { decodeStructured } from '../protocol/index.ts';
import { loadManifests } from '../spec/index.ts';
import { EventingControl } from './eventing-control.ts';
import { ManifestStore } from './store.ts';

const home = mkdtempSync(join(tmpdir(), 'trantor-eventing-control-'));
after(() => rmSync(home, { recursive: true, force: true }));

/** A control plane's eventing over the home's stores; the subscriber (a SeldonDeployment) never resolves. */
function open(): { eventing: Eventing; control: EventingControl } {
  const eventing = new Eventing({ store: new SqliteEventStore({ path: join(home, 'events.db') }), compactEveryMs: 0 });
  const control = new EventingControl({ eventing, store: new ManifestStore(join(home, 'manifests')), logger: pino({ level: 'silent' }), deploymentAddress: () => undefined });
  control.gatewayUrl = 'http://127.0.0.1:9';
  return { eventing, control };
}

const TRIGGERS = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: kept}
spec:
  subscriber: {ref: {apiVersion: machinelearning.seldon.io/v1, kind: SeldonDeployment, name: later}}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: good}
spec:
  subscriber: {uri: "http://127.0.0.1:9/"}
  filter: {attributes: {type: none.of.these}}
`;

test('a stored trigger that cannot be restored is named and skipped, its pending deliveries kept until it is deleted', async () => {
  const first = open();
  await first.control.restore();
  await first.control.apply(loadManifests(TRIGGERS));
  await first.eventing.publish('default', 'default', { specversion: '1.0', id: 'e1', source: 'tests', type: 'tests.kept', extensions: {} });
  assert.equal((await first.eventing.triggerCounts('default/kept')).pending, 1);
  await first.eventing.close();

  const file = join(home, 'manifests', 'triggers', 'default', 'kept.json');
  writeFileSync(file, '{"object": {"apiVersion": "eventing.knative.dev/v1", "kind": "Trigger", "metadata": {"name": "kept"}, "spec": {}}}');
  const second = open();
  const report = await second.control.restore();
  assert.equal(report.restored, 1);
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0]?.file, file);
  assert.match(report.skipped[0]?.reason ?? '', /spec\.subscriber: required/);
  assert.deepEqual(second.control.triggers().map((t) => t.metadata.name), ['good']);
  assert.equal((await second.eventing.triggerCounts('default/kept')).pending, 1, 'the skipped trigger lost its pending delivery');

  assert.equal(await second.control.remove('triggers', 'default', 'kept'), true);
  assert.equal(existsSync(file), false);
  assert.equal((await second.eventing.triggerCounts('default/kept')).pending, 0);
  await second.eventing.close();
});

test("a broker's tail writes each event on one line with its data's numbers exactly as sent", async () => {
  const { eventing, control } = open();
  const sent = '{\n  "n": 12345678901234567890\n}';
  await eventing.publish('default', 'default', decodeStructured(`{"specversion":"1.0","id":"exact","source":"tests","type":"tests.exact","data":${sent}}`));
  const abort = new AbortController();
  let line = '';
  for await (const text of control.tail('default', 'default', 0, abort.signal)) {
    if ((JSON.parse(text) as { id: string }).id !== 'exact') continue;
    line = text;
    abort.abort();
  }
  await eventing.close();
  assert.equal(line.includes('\n'), false, line);
  assert.ok(line.endsWith('"data":{"n":12345678901234567890}}'), line);
});
