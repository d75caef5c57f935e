/**
 * Journey J3 with the seeds' manifests and curl: an event posted to the default broker reaches the
 * iris deployment through a trigger; the model's reply goes back into the broker as Seldon's
 * response event and the event display prints it in the seed's format.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { type EventDisplay, ROOT, sklearnPredictProba, startEventDisplay, Trantor, waitFor } from './harness.ts';

const trantor = new Trantor();
let display: EventDisplay;

const printedSoFar = (): string => `printed so far:\n${display.printed()}`;

before(async () => {
  await trantor.up();
  for (const manifest of ['iris-deployment.yaml', 'seldon-trigger.yaml', 'event-display.yaml']) {
    trantor.applyAndWait(join(ROOT, 'examples', 'eventing', manifest));
  }
  display = await startEventDisplay(trantor);
});

after(async () => {
  display.stop();
  await trantor.close();
});

function seedCurl(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${trantor.gateway}/default/default`, {
    method: 'POST',
    headers: {
      'Ce-Id': '536808d3-88be-4077-9d7a-a3f162705f79',
      'Ce-specversion': '0.3',
      'Ce-Type': 'seldon.iris-deployment.default.request',
      'Ce-Source': 'seldon.examples.streaming.curl',
      'Content-Type': 'application/json',
      ...headers,
    },
    body: '{"data": { "ndarray": [[1,2,3,4]]}}',
  });
}

test('both triggers are ready with their subscriber URIs, as kubectl get trigger shows them', () => {
  const table = trantor.cli(['get', 'triggers']).stdout;
  assert.match(table, /^NAME\s+READY\s+REASON\s+BROKER\s+SUBSCRIBER_URI\s+AGE/m);
  assert.match(table, new RegExp(`seldon-eventing-sklearn-trigger\\s+True\\s+default\\s+${trantor.gateway.replace(/\./g, '\\.')}/seldon/default/iris-deployment/api/v1\\.0/predictions`));
  assert.match(table, /event-display\s+True\s+default\s+http:\/\/127\.0\.0\.1:\d+\//);
});

test("the seed's curl gets 202; the model serves it and the event display prints Seldon's response event", async () => {
  const res = await seedCurl();
  assert.equal(res.status, 202);
  await waitFor('the response event', () => display.printed().includes('type: seldon.iris-deployment.default.response'), 15_000, printedSoFar);
  assert.match(display.printed(), /☁️ {2}cloudevents\.Event\nValidation: valid\nContext Attributes,\n {2}specversion: 0\.3\n {2}type: seldon\.iris-deployment\.default\.response\n {2}source: seldon\.iris-deployment\n {2}id: [a-z0-9]+\n/);
  assert.match(display.printed(), /Extensions,\n/);
  assert.match(display.printed(), /Data,\n {2}\{/);
  const [probabilities] = sklearnPredictProba([[1, 2, 3, 4]]);
  for (const p of probabilities!) assert.ok(display.printed().includes(String(p)), `the display shows ${p}`);
  const logs = trantor.cli(['logs', 'iris-deployment']).stdout;
  assert.match(logs, /Calling predict_proba/);
});

test('an event without an id is refused with 400 and is neither stored nor delivered', async () => {
  const before = display.printed();
  const res = await fetch(`${trantor.gateway}/default/default`, {
    method: 'POST',
    headers: { 'Ce-specversion': '1.0', 'Ce-Type': 'seldon.iris-deployment.default.request', 'Ce-Source': 'tests', 'Content-Type': 'application/json' },
    body: '{"data": { "ndarray": [[1,2,3,4]]}}',
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /\bid\b/);
  // A good event after it: once its response is printed, the refused one would have been too.
  const responses = (text: string): number => text.split('type: seldon.iris-deployment.default.response').length - 1;
  assert.equal((await seedCurl({ 'Ce-Id': 'after-the-refused-one' })).status, 202);
  await waitFor('the good event after the refused one', () => responses(display.printed()) > responses(before), 15_000, printedSoFar);
  assert.equal(responses(display.printed()), responses(before) + 1);
});

test("the seed's curl, run with curl itself against the broker's in-cluster name, gets 202", () => {
  const port = new URL(trantor.gateway).port;
  const result = spawnSync('curl', [
    '-sS', '-o', '/dev/null', '-w', '%{http_code}',
    '--connect-to', `::127.0.0.1:${port}`,
    'default-broker.default.svc.cluster.local',
    '-H', 'Ce-Id: 536808d3-88be-4077-9d7a-a3f162705f79',
    '-H', 'Ce-specversion: 0.3',
    '-H', 'Ce-Type: seldon.iris-deployment.default.request',
    '-H', 'Ce-Source: seldon.examples.streaming.curl',
    '-H', 'Content-Type: application/json',
    '-d', '{"data": { "ndarray": [[1,2,3,4]]}}',
  ], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.stdout, '202', result.stderr);
});

test('an unknown broker is a 404 and other methods a 405', async () => {
  assert.equal((await fetch(`${trantor.gateway}/default/nope`, { method: 'POST', body: '{}' })).status, 404);
  assert.equal((await fetch(`${trantor.gateway}/default/default`)).status, 405);
});

test('trantor events send reaches the model through the broker like the curl does', async () => {
  const count = (display.printed().match(/cloudevents\.Event/g) ?? []).length;
  const sent = trantor.cli(['events', 'send', '--type', 'seldon.iris-deployment.default.request', '--source', 'tests', '--data', '{"data":{"ndarray":[[5.1,3.5,1.4,0.2]]}}']);
  assert.equal(sent.code, 0, sent.stderr);
  await waitFor('a second response event', () => (display.printed().match(/cloudevents\.Event/g) ?? []).length > count, 15_000, printedSoFar);
});
