/**
 * Failures you can see, through the real CLI against a real `trantor up`: a replica that crashes
 * is restarted and `get pods` counts it, `describe` shows the crash with its exit code and last
 * output; a subscriber that answers 500 shows as DeliveryFailed, then DeadLettered or Dropped, in
 * `get events`; `describe` renders every kind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRANTOR, Trantor, startEventRecorder, waitFor, type CliResult, type EventRecorder } from './harness.ts';
import { EVENT_DISPLAY_DEPLOYMENT } from '../seed-manifests.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-describe-'));
let failing: Server;
let failingUri = '';
let deadLetters: EventRecorder;

// Serves until its first health check passed, then prints two lines and exits with code 3
// (MODE=crash); with MODE=fail it prints its lines and exits before it ever listens.
const COMPONENT = `
import http from 'node:http';
console.log('loading the model');
if (process.env.MODE === 'fail') {
  console.log('model file is corrupt');
  process.exit(3);
}
const server = http.createServer((req, res) => {
  res.end(req.url === '/health/ping' ? 'pong' : '{}');
  if (req.url === '/health/ping') setTimeout(() => { console.log('out of memory, giving up'); process.exit(3); }, 200);
});
server.listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1');
`;

function deployment(name: string, mode: string): string {
  return `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}, namespace: seldon, labels: {team: ml}}
spec:
  predictors:
  - name: default
    graph: {name: model, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: model
          command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'component.mjs'))}]
          env: [{name: MODE, value: ${mode}}]
`;
}

/** The CLI, without blocking this process: the failing subscriber lives here and must answer meanwhile. */
function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TRANTOR, ...args], { env: trantor.env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function applied(file: string, text: string): Promise<void> {
  const path = join(dir, file);
  writeFileSync(path, text);
  const result = await cli(['apply', '-f', path]);
  assert.equal(result.code, 0, result.stderr);
}

before(async () => {
  writeFileSync(join(dir, 'component.mjs'), COMPONENT);
  failing = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500).end('subscriber is broken'));
  });
  await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
  failingUri = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/`;
  deadLetters = await startEventRecorder();
  // Restarts come quickly, so the test sees several without waiting long.
  await trantor.up(['--set', 'runtime.restartBackoff=100ms', '--set', 'runtime.restartBackoffMax=400ms']);
});

after(async () => {
  await trantor.close();
  await new Promise<void>((resolve) => failing.close(() => resolve()));
  await deadLetters.close();
  rmSync(dir, { recursive: true, force: true });
});

/** RESTARTS of the pod line of `name` in `get pods`, or -1 when it is not listed. */
function restartsIn(table: string, name: string): number {
  const line = table.split('\n').find((l) => l.startsWith(`${name} `));
  const match = line === undefined ? null : /^\S+\s+\S+\s+\S+\s+(\d+)/.exec(line);
  return match === null ? -1 : Number(match[1]);
}

test('a replica that crashes is restarted: RESTARTS grows in get pods, and describe shows the crash, its exit code and last output', async () => {
  await applied('crashing.yaml', deployment('crashing', 'crash'));
  let pods: CliResult = { code: 1, stdout: '', stderr: '' };
  await waitFor(
    'get pods to count two restarts',
    async () => {
      pods = await cli(['get', 'pods', '-n', 'seldon']);
      return restartsIn(pods.stdout, 'crashing-default-model-0') >= 2;
    },
    60_000,
    () => pods.stdout + pods.stderr,
  );
  assert.equal(pods.code, 0);
  assert.match(pods.stdout, /^NAME +READY +STATUS +RESTARTS +AGE$/m);
  assert.match(pods.stdout, /^crashing-default-model-0 +[01]\/1 +(Running|Starting|CrashLoopBackOff) +\d+ \(\d+s ago\) +\d+s$/m);

  const same = await cli(['get', 'replicas', '-n', 'seldon']);
  assert.match(same.stdout, /^crashing-default-model-0 /m);

  const described = await cli(['describe', 'sdep', 'crashing']);
  assert.equal(described.code, 0, described.stderr);
  const text = described.stdout;
  assert.match(text, /^Name: +crashing$/m);
  assert.match(text, /^Labels: +team=ml$/m);
  assert.match(text, /^ {8}model \(MODEL, .*component\.mjs\)$/m);
  assert.match(text, /^ {2}crashing-default-model-0 +default\/model +\S+ +[01]\/1 +\d+ \(\d+s ago\) +exited with code 3 \(\d+s ago\)/m);
  assert.match(text, /^ {2}Normal +Created +\S+ +control-plane +SeldonDeployment crashing created from /m);
  assert.match(text, /^ {2}Normal +Started +\S+( \(x\d+ over \S+\))? +crashing-default-model-0 +Started replica/m);
  assert.match(text, /^ {2}Warning +Crashed +.* +crashing-default-model-0 +Replica exited with code 3; its last output:$/m);
  assert.match(text, /^ +out of memory, giving up$/m);
  assert.match(text, /^ {2}Warning +BackOff +\S+ \(x\d+ over \S+\) +crashing-default-model-0 +Back-off restarting failed replica crashing-default-model-0$/m);

  const pod = await cli(['describe', 'pod', 'crashing-default-model-0']);
  assert.equal(pod.code, 0, pod.stderr);
  assert.match(pod.stdout, /^Last State: {2}Terminated\n {2}Reason: +exited with code 3\n {2}Exit Code: +3$/m);
});

test('a replica that fails before it is ready: describe shows Failed with its exit code and output, and how the deployment failed', async () => {
  await applied('broken.yaml', deployment('broken', 'fail'));
  let described: CliResult = { code: 1, stdout: '', stderr: '' };
  await waitFor('describe to show the Failed event', async () => {
    described = await cli(['describe', 'seldondeployment/broken', '-n', 'seldon']);
    return /Warning +Failed/.test(described.stdout);
  }, 30_000, () => described.stdout + described.stderr);
  assert.match(described.stdout, /^ {2}State: +Failed$/m);
  assert.match(described.stdout, /^ {2}Description: +replica default\/model\/0 \(.*\) exited with code 3 before it was ready; its last output:$/m);
  assert.match(described.stdout, /Warning +Failed +\S+ +broken-default-model-0 +Replica exited with code 3 before it was ready; its last output:\n +loading the model\n +model file is corrupt$/m);
  const pods = await cli(['get', 'pods', 'broken-default-model-0', '-n', 'seldon']);
  assert.match(pods.stdout, /^broken-default-model-0 +0\/1 +(Error|Stopped) +0 /m);
});

test('a subscriber answering 500: get events shows DeliveryFailed, then Dropped (no sink) or DeadLettered (a sink took it)', async () => {
  await applied(
    'eventing.yaml',
    `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default, namespace: default}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-broken, namespace: default}
spec:
  broker: default
  subscriber: {uri: ${JSON.stringify(failingUri)}}
  delivery: {retry: 1, backoffPolicy: linear, backoffDelay: PT0.05S}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: with-sink, namespace: default}
spec:
  broker: default
  subscriber: {uri: ${JSON.stringify(failingUri)}}
  delivery: {retry: 1, backoffPolicy: linear, backoffDelay: PT0.05S, deadLetterSink: {uri: ${JSON.stringify(deadLetters.uri)}}}
---
${EVENT_DISPLAY_DEPLOYMENT}`,
  );
  const sent = await cli(['events', 'send', '--broker', 'default', '--type', 'com.example.test', '--source', 'describe-test', '--id', 'ev-1', '--data', '{"n": 1}']);
  assert.equal(sent.code, 0, sent.stderr);
  let events: CliResult = { code: 1, stdout: '', stderr: '' };
  await waitFor(
    'get events to show the dropped and the dead-lettered event',
    async () => {
      events = await cli(['get', 'events', '-n', 'default']);
      return /Dropped/.test(events.stdout) && /DeadLettered/.test(events.stdout);
    },
    30_000,
    () => events.stdout + events.stderr,
  );
  assert.match(events.stdout, /^LAST SEEN +TYPE +REASON +OBJECT +MESSAGE$/m);
  const lines = events.stdout.split('\n');
  const failedAt = lines.findIndex((l) => / Warning +DeliveryFailed +trigger\/to-broken +Delivery to http:\/\/127\.0\.0\.1:\d+\/ failed \(500/.test(l));
  const droppedAt = lines.findIndex((l) => / Warning +Dropped +trigger\/to-broken +Event ev-1 \(com\.example\.test\) dropped after 2 attempts \(500/.test(l));
  assert.ok(failedAt > 0 && droppedAt > failedAt, events.stdout);
  assert.match(events.stdout, / Warning +DeadLettered +trigger\/with-sink +Event ev-1 \(com\.example\.test\) sent to the dead-letter sink after 2 attempts/);
  assert.match(events.stdout, / Normal +Created +trigger\/to-broken +Trigger to-broken created from /);

  const trigger = await cli(['describe', 'trigger', 'to-broken']);
  assert.equal(trigger.code, 0, trigger.stderr);
  assert.match(trigger.stdout, /^ {2}Deliveries: +0 delivered, 1 retried, 0 dead-lettered, 1 dropped$/m);
  assert.match(trigger.stdout, /^ {2}Warning +DeliveryFailed +\S+ \(x2 over \S+\) +broker +Delivery to /m);
});

test('describe renders every kind: by TYPE NAME, TYPE/NAME and a bare SeldonDeployment name', async () => {
  const pages: [string[], RegExp][] = [
    [['describe', 'crashing'], /^Kind: +SeldonDeployment$/m],
    [['describe', 'broker', 'default'], /^ {2}Address: +http:\/\/127\.0\.0\.1:\d+\/default\/default$/m],
    [['describe', 'trigger.eventing.knative.dev/with-sink'], /^ {4}Dead Letter Sink: +http:\/\/127\.0\.0\.1:\d+\/$/m],
    [['describe', 'svc', 'event-display'], /^ {2}Sink: +<none>: no process receives its events/m],
    [['describe', 'deployment', 'event-display'], /^ {2}Ready Replicas: +\d\/1$/m],
  ];
  for (const [args, expected] of pages) {
    const result = await cli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stdout, expected, args.join(' '));
    assert.match(result.stdout, /^Events:/m, args.join(' '));
  }
  const unknown = await cli(['get', 'foo']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.equal(unknown.stderr.trim(), 'error: the server doesn\'t have a resource type "foo"');
  const missing = await cli(['describe', 'trigger', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /trigger\.eventing\.knative\.dev "nope" not found/);
});
