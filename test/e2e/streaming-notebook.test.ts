/**
 * Journey J3 as the streaming notebook runs it (seed "Seldon Core Real Time Stream Processing with
 * KNative Eventing"): its SeldonDeployment annotated `io.seldon.eventing: "enabled"`, its Triggers
 * and event-display Deployment and Service, its curl to the broker's in-cluster host name, and the
 * event display printing the response event field for field as the notebook shows it.
 *
 * The manifests are examples/eventing-notebook/, the notebook's files with the changes its
 * README lists: the model is the local iris model (or the notebook's gs:// URI through a mirror), and the Trigger
 * has the `subscriber:` line the notebook's printout lost. The event-display image is stood in by
 * `trantor event-display`, as the integration doc's e2e does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EventDisplay, ROOT, sklearnPredictProba, startEventDisplay, Trantor, waitFor } from './harness.ts';
import { NOTEBOOK_DEPLOYMENT, NOTEBOOK_TRIGGER_AS_PRINTED } from '../seed-manifests.ts';

const EXAMPLE = join(ROOT, 'examples', 'eventing-notebook');
const trantor = new Trantor();
let display: EventDisplay;

const printedSoFar = (): string => `printed so far:\n${display.printed()}`;

before(async () => {
  await trantor.up();
  // In the notebook's order: the deployment, its trigger, the event display, the display's trigger.
  for (const manifest of ['simple-iris-deployment.yaml', 'seldon-knative-trigger.yaml', 'event-display-deployment.yaml', 'event-display-trigger.yaml']) {
    trantor.applyAndWait(join(EXAMPLE, manifest));
  }
  display = await startEventDisplay(trantor);
});

after(async () => {
  display.stop();
  await trantor.close();
});

/**
 * The notebook's curl, headers unchanged: `curl -v "default-broker.default.svc.cluster.local" -H …`
 * is a POST to `/` with that Host, here on the gateway's port (curl --connect-to).
 */
function notebookCurl(): Promise<number> {
  const { port } = new URL(trantor.gateway);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        headers: {
          Host: 'default-broker.default.svc.cluster.local',
          'Ce-Id': '536808d3-88be-4077-9d7a-a3f162705f79',
          'Ce-specversion': '0.3',
          'Ce-Type': 'io.seldon.eventing.request',
          'Ce-Source': 'dev.knative.samples/helloworldsource',
          'Content-Type': 'application/json',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('{"data": { "ndarray": [[1,2,3,4]]}}');
  });
}

/** The printed events, each from its `☁️  cloudevents.Event` line up to the next one. */
function events(): string[] {
  return display.printed().split(/(?=☁️ {2}cloudevents\.Event\n)/).filter((block) => block.startsWith('☁️'));
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/**
 * One event block checked against the notebook's printout line by line: the same sections, order,
 * indentation and attributes; id, time and arrival time (which vary) by pattern.
 */
function assertNotebookEvent(block: string, probabilities: number[]): void {
  const lines = block.split('\n');
  let at = 0;
  const next = (): string => lines[at++] ?? '<end of output>';
  const expect = (line: string | RegExp): void => {
    const got = next();
    if (typeof line === 'string') assert.equal(got, line, `line ${at} of:\n${block}`);
    else assert.match(got, line, `line ${at} of:\n${block}`);
  };
  expect('☁️  cloudevents.Event');
  expect('Validation: valid');
  expect('Context Attributes,');
  expect('  specversion: 0.3');
  expect('  type: io.seldon.eventing.response');
  expect('  source: io.seldon.eventing.seldondeployment');
  expect(/^ {2}id: \S+$/);
  const time = /^ {2}time: (.*)$/.exec(next())?.[1] ?? '';
  assert.match(time, RFC3339, `time of:\n${block}`);
  expect('  datacontenttype: application/json');
  expect('Extensions,');
  // Knative's in-cluster channel adds knativehistory and its tracing traceparent; the local
  // broker has neither, and knativearrivaltime is the one every broker adds.
  const extensions = new Map<string, string>();
  while (lines[at] !== undefined && lines[at] !== 'Data,') {
    const match = /^ {2}([a-z0-9]+): (.+)$/.exec(next());
    assert.ok(match, `an extension line in:\n${block}`);
    extensions.set(match[1]!, match[2]!);
  }
  assert.match(extensions.get('knativearrivaltime') ?? '', RFC3339, `knativearrivaltime in:\n${block}`);
  assert.deepEqual([...extensions.keys()], [...extensions.keys()].sort(), 'extensions in name order');
  expect('Data,');
  for (const line of [
    '  {',
    '    "data": {',
    '      "names": [',
    '        "t:0",',
    '        "t:1",',
    '        "t:2"',
    '      ],',
    '      "ndarray": [',
    '        [',
    ...probabilities.map((p, i) => `          ${p}${i < probabilities.length - 1 ? ',' : ''}`),
    '        ]',
    '      ]',
    '    },',
  ]) {
    expect(line);
  }
  // The notebook's model answered `"meta": {}`; Trantor's executor fills meta (puid, requestPath…).
  expect(/^ {4}"meta": \{/);
  const rest = lines.slice(at);
  assert.deepEqual(rest.slice(-3), ['  }', '', ''], `the event ends with its data and a blank line:\n${block}`);
}

test("the notebook's triggers are ready, the deployment's resolved to its predictions address", () => {
  const table = trantor.cli(['get', 'triggers']).stdout;
  assert.match(table, /^NAME\s+READY\s+REASON\s+BROKER\s+SUBSCRIBER_URI\s+AGE/m);
  assert.match(table, new RegExp(`seldon-eventing-sklearn-trigger\\s+True\\s+default\\s+${trantor.gateway.replace(/\./g, '\\.')}/seldon/default/simple-iris-deployment/api/v1\\.0/predictions`));
  assert.match(table, /event-display\s+True\s+default\s+http:\/\/127\.0\.0\.1:\d+\//);
});

test("the notebook's curl gets 202 twice, and the event display prints both response events as the notebook shows them", async () => {
  const [probabilities] = sklearnPredictProba([[1, 2, 3, 4]]);
  assert.equal(await notebookCurl(), 202);
  assert.equal(await notebookCurl(), 202);
  await waitFor('two response events', () => events().length >= 2 && display.printed().endsWith('\n\n'), 30_000, printedSoFar);
  const blocks = events();
  assert.equal(blocks.length, 2, display.printed());
  for (const block of blocks) assertNotebookEvent(block, probabilities!);
  const ids = blocks.map((block) => /\n {2}id: (\S+)\n/.exec(block)?.[1]);
  assert.notEqual(ids[0], ids[1], 'each response is its own event');
  // As the notebook's `kubectl logs … simple-iris-model` shows: the model served both.
  let logs = '';
  const served = (): number => (logs.match(/Calling predict_proba/g) ?? []).length;
  await waitFor('the model to log both predictions', () => {
    logs = trantor.cli(['logs', 'simple-iris-deployment']).stdout;
    return served() >= 2;
  }, 30_000, printedSoFar);
  assert.equal(served(), 2, logs);
});

test("the notebook's Trigger as display.printed() is refused at the line where its subscriber: was lost, and nothing changes", () => {
  const applied = trantor.cli(['apply', '-f', '-'], NOTEBOOK_TRIGGER_AS_PRINTED);
  assert.equal(applied.code, 1);
  assert.match(applied.stderr, /YAML syntax error at line 11, column 4 \(at spec\.ref\)/);
  assert.match(trantor.cli(['get', 'triggers']).stdout, /seldon-eventing-sklearn-trigger\s+True/);
});

// Last: it turns the running deployment into the notebook's, unchanged.
test("the notebook's gs:// deployment, unchanged, serves this package's iris model through TRANTOR_STORAGE_MIRRORS-style mirrors", () => {
  writeFileSync(join(trantor.home, 'storage.json'), JSON.stringify({ mirrors: { 'gs://seldon-models/sklearn/iris': join(ROOT, 'examples', 'iris', 'model') } }));
  const applied = trantor.cli(['apply', '-f', '-', '--wait', '--timeout', '60s'], NOTEBOOK_DEPLOYMENT);
  assert.equal(applied.code, 0, applied.stderr);
});
