/**
 * The CLI's small commands through the real CLI against a real `trantor up`: `predict --data
 * @file` and `@-`, `feedback` from flags and `--last`, `version` with a running control plane,
 * bash completion of object names, `trantor` alone, and the messages for raw errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TRANTOR, Trantor, startEventDisplay } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-cli-misc-'));
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// A model that answers its request's rows doubled, and counts feedback by reward.
const COMPONENT = `
import http from 'node:http';
let rewards = 0;
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/health/ping') return res.end('pong');
    const message = JSON.parse(body || '{}');
    if (req.url.startsWith('/send-feedback')) {
      rewards += message.reward;
      return res.end(JSON.stringify({ data: { ndarray: [[rewards]] } }));
    }
    res.end(JSON.stringify({ data: { ndarray: message.data.ndarray.map((row) => row.map((x) => x * 2)) } }));
  });
}).listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1');
`;

before(async () => {
  writeFileSync(join(dir, 'component.mjs'), COMPONENT);
  const file = join(dir, 'doubler.yaml');
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: doubler, namespace: misc}
spec:
  predictors:
  - name: default
    graph: {name: model, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - {name: model, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'component.mjs'))}]}
`,
  );
  writeFileSync(join(dir, 'rows.json'), '[[1, 2.5]]');
  mkdirSync(join(dir, 'folder'));
  await trantor.up();
  trantor.applyAndWait(file);
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

function rowsOf(stdout: string): unknown {
  return (JSON.parse(stdout) as { data: { ndarray: unknown } }).data.ndarray;
}

test('predict --data @file reads the file, -d @- reads stdin, and a missing file or a folder is named', () => {
  const fromFile = trantor.cli(['predict', 'doubler', '--data', `@${join(dir, 'rows.json')}`]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(rowsOf(fromFile.stdout), [[2, 5]]);
  const fromStdin = trantor.cli(['predict', 'doubler', '-d', '@-'], '{"data":{"ndarray":[[3]]}}');
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.deepEqual(rowsOf(fromStdin.stdout), [[6]]);

  const missing = trantor.cli(['predict', 'doubler', '-d', '@nowhere.json']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^error: --data @nowhere\.json: no such file nowhere\.json \(looked for \/.*nowhere\.json\)\n$/);
  const folder = trantor.cli(['predict', 'doubler', '-d', `@${join(dir, 'folder')}`]);
  assert.equal(folder.code, 1);
  assert.match(folder.stderr, /^error: --data @.*folder: .*folder is a folder; name a file in it\n$/);
});

test('feedback sends request, response and reward from flags and files, and prints the answer', () => {
  writeFileSync(join(dir, 'response.json'), '{"data":{"ndarray":[[2, 5]]}}');
  const sent = trantor.cli(['feedback', 'doubler', '--request', `@${join(dir, 'rows.json')}`, '--response', `@${join(dir, 'response.json')}`, '--reward', '1']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.deepEqual(rowsOf(sent.stdout), [[1]], 'the model saw reward 1');
  const again = trantor.cli(['feedback', 'doubler', '--request', '[[1]]', '--response', '{"data":{"ndarray":[[2]]}}', '--reward', '2', '--truth', '[[2]]']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(rowsOf(again.stdout), [[3]]);
  const noReward = trantor.cli(['feedback', 'doubler', '--request', '[[1]]', '--response', '[[2]]']);
  assert.equal(noReward.code, 1);
  assert.match(noReward.stderr, /--reward is required/);
  const badReward = trantor.cli(['feedback', 'doubler', '--last', '--reward', 'lots']);
  assert.match(badReward.stderr, /--reward lots: expected a number/);
});

test('feedback --last sends the last prediction, kept under the home for its user alone', () => {
  const predicted = trantor.cli(['predict', 'doubler', '-d', '[[10]]']);
  assert.equal(predicted.code, 0, predicted.stderr);
  const file = join(trantor.home, 'cli', 'last-prediction.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const kept = JSON.parse(readFileSync(file, 'utf8')) as { namespace: string; name: string; request: string; response: string };
  assert.deepEqual([kept.namespace, kept.name], ['misc', 'doubler']);
  assert.deepEqual(JSON.parse(kept.response), JSON.parse(predicted.stdout));
  const before = Number((rowsOf(trantor.cli(['feedback', 'doubler', '--last', '--reward', '0']).stdout) as number[][])[0]![0]);
  const sent = trantor.cli(['feedback', 'doubler', '--last', '--reward', '5']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.deepEqual(rowsOf(sent.stdout), [[before + 5]]);

  const elsewhere = new Trantor(mkdtempSync(join(tmpdir(), 'trantor-cli-misc-home-')));
  try {
    // Another home, where this CLI made no prediction: said plainly.
    const none = elsewhere.cli(['feedback', 'doubler', '--last', '--reward', '1']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--last: this CLI has made no prediction with home .* yet .*; run trantor predict first, or give --request and --response/);
  } finally {
    rmSync(elsewhere.home, { recursive: true, force: true });
  }
});

test('version prints the client and the running control plane as kubectl does; --version the client', () => {
  const version = trantor.cli(['version']);
  assert.equal(version.code, 0, version.stderr);
  const expected = `v${PACKAGE_VERSION} (Node ${process.version}, ${process.platform}/${process.arch})`;
  assert.equal(version.stdout, `Client Version: ${expected}\nServer Version: ${expected}\n`);
  const json = trantor.cli(['version', '-o', 'json']);
  assert.equal((JSON.parse(json.stdout) as { serverVersion: { trantorVersion: string } }).serverVersion.trantorVersion, PACKAGE_VERSION);
  assert.equal(trantor.cli(['--version']).stdout, `Client Version: ${expected}\n`);

  const noServer = new Trantor();
  try {
    const alone = noServer.cli(['version']);
    assert.equal(alone.code, 1);
    assert.equal(alone.stdout, `Client Version: ${expected}\n`);
    assert.match(alone.stderr, /no control plane is running for home/);
    assert.equal(noServer.cli(['version', '--client']).code, 0);
  } finally {
    rmSync(noServer.home, { recursive: true, force: true });
  }
});

test('bash completion completes object names from the running control plane', () => {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'trantor'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(TRANTOR)} "$@"\n`);
  chmodSync(join(bin, 'trantor'), 0o755);
  const script = trantor.cli(['completion', 'bash']);
  assert.equal(script.code, 0, script.stderr);
  writeFileSync(join(dir, 'trantor.bash'), script.stdout);
  const complete = (...words: string[]): string[] => {
    const result = spawnSync(
      'bash',
      ['-c', `source ${JSON.stringify(join(dir, 'trantor.bash'))}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}\n_trantor\nprintf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { ...trantor.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` } },
    );
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split('\n').filter((l) => l !== '');
  };
  assert.deepEqual(complete('trantor', 'logs', 'dou'), ['doubler']);
  assert.deepEqual(complete('trantor', 'get', 'sdep', ''), ['doubler']);
  assert.deepEqual(complete('trantor', 'logs', '-n', 'mi'), ['misc']);
  assert.deepEqual(complete('trantor', 'logs', 'doubler', ''), ['model']);
});

test('trantor alone prints its help and exits 0', () => {
  const result = spawnSync(process.execPath, [TRANTOR], { encoding: 'utf8', env: trantor.env });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^Usage: trantor \[options\] \[command\]/);
  assert.match(result.stdout, /\n {2}logs /);
  assert.equal(result.stderr, '');
  const withHome = spawnSync(process.execPath, [TRANTOR, '--home', trantor.home], { encoding: 'utf8', env: trantor.env });
  assert.equal(withHome.status, 0, withHome.stderr);
  assert.equal(withHome.stdout, result.stdout);
});

test('an unknown --log-level names the allowed ones; a busy event-display port says what to do', async () => {
  const up = new Trantor();
  try {
    const level = up.cli(['up', '--port', '0', '--log-level', 'loud']);
    assert.equal(level.code, 1);
    assert.equal(level.stderr, 'error: --log-level loud: expected one of trace, debug, info, warn, error\n');
  } finally {
    rmSync(up.home, { recursive: true, force: true });
  }
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  try {
    const display = trantor.cli(['event-display', '--port', String(port)]);
    assert.equal(display.code, 1);
    assert.match(display.stderr, new RegExp(`--port ${port}: another process is already listening on 127\\.0\\.0\\.1:${port} .*choose another port`));
  } finally {
    busy.close();
  }
});

test('a second event-display for a Service the first still serves refuses, and get deployments shows the local sink ready', async () => {
  const manifest = join(mkdtempSync(join(tmpdir(), 'trantor-display-')), 'display.yaml');
  writeFileSync(
    manifest,
    `apiVersion: v1
kind: Service
metadata: {name: event-display, namespace: default}
spec: {selector: {app: event-display}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: event-display, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: event-display}}
  template:
    metadata: {labels: {app: event-display}}
    spec: {containers: [{name: event-display, image: gcr.io/knative-releases/knative.dev/eventing/cmd/event_display}]}
`,
  );
  assert.equal(trantor.cli(['apply', '-f', manifest]).code, 0);
  const first = await startEventDisplay(trantor);
  try {
    assert.match(trantor.cli(['get', 'deployments', '-n', 'default']).stdout, /^event-display\s+1\/1\s/m);
    const second = await trantor.cliAsync(['event-display']);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /Service default\/event-display is already served by the event display at http:\/\/127\.0\.0\.1:\d+\/, which is running; stop it first/);
    assert.match(trantor.cli(['get', 'services', '-n', 'default']).stdout, /event-display/);
  } finally {
    first.stop();
  }
});
