/**
 * `trantor logs` with kubectl's flags, through the real CLI against a real `trantor up`: a
 * two-node graph, two replicas each, every process printing known lines; one replica killed so
 * that it restarts (for -p and --since-time); `-f` ending once the deployment is deleted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRANTOR, Trantor, waitFor } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-cli-logs-'));

// Prints a greeting naming its node and pid, then five numbered lines, and serves.
const COMPONENT = `
import http from 'node:http';
const node = process.env.PREDICTIVE_UNIT_ID;
console.log('hello from ' + node + ' pid=' + process.pid);
for (let i = 1; i <= 5; i++) console.log(node + ' line ' + i);
http.createServer((req, res) => res.end(req.url === '/health/ping' ? 'pong' : '{"data":{"ndarray":[[1]]}}'))
  .listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1');
`;

function manifest(name: string): string {
  const file = join(dir, `${name}.yaml`);
  const container = (node: string): string => `        - {name: ${node}, command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'component.mjs'))}]}`;
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ${name}, namespace: logs-ns}
spec:
  predictors:
  - name: default
    replicas: 2
    graph:
      name: alpha
      type: MODEL
      children: [{name: beta, type: MODEL}]
    componentSpecs:
    - spec:
        containers:
${container('alpha')}
${container('beta')}
`,
  );
  return file;
}

interface Replica {
  id: string;
  pid?: number;
  restarts: number;
  state: string;
}

function replicas(name: string): Replica[] {
  const got = trantor.cli(['get', 'sdep', name, '-n', 'logs-ns', '-o', 'json']);
  assert.equal(got.code, 0, got.stderr);
  return (JSON.parse(got.stdout) as { status: { replicas: Replica[] } }).status.replicas;
}

/** `trantor logs ARGS`, expected to succeed with nothing on stderr; its lines. */
function logs(...args: string[]): string[] {
  const result = trantor.cli(['logs', ...args]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  return result.stdout.split('\n').filter((line) => line !== '');
}

before(async () => {
  writeFileSync(join(dir, 'component.mjs'), COMPONENT);
  await trantor.up();
  trantor.applyAndWait(manifest('chatty'));
  // Every replica's last line has been read.
  await waitFor('every replica to print its five lines', () => trantor.cli(['logs', 'chatty', '--tail', '1']).stdout.split('\n').filter((l) => / line 5$/.test(l)).length === 4);
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

test('logs NAME prints every replica\'s lines, each prefixed with its replica', () => {
  const lines = logs('chatty');
  assert.equal(lines.length, 24);
  for (const replica of ['default/alpha/0', 'default/alpha/1', 'default/beta/0', 'default/beta/1']) {
    const node = replica.split('/')[1]!;
    const own = lines.filter((l) => l.startsWith(`[${replica}] `));
    assert.match(own[0]!, new RegExp(`^\\[${replica}\\] hello from ${node} pid=\\d+$`));
    assert.deepEqual(own.slice(1), [1, 2, 3, 4, 5].map((i) => `[${replica}] ${node} line ${i}`));
  }
});

test('logs NAME NODE and -c NODE print that graph node\'s replicas only; an unknown node is named', () => {
  const positional = logs('chatty', 'beta');
  assert.equal(positional.length, 12);
  assert.ok(positional.every((l) => l.startsWith('[default/beta/')));
  assert.deepEqual(logs('chatty', '-c', 'beta', '-n', 'logs-ns'), positional);
  const unknown = trantor.cli(['logs', 'chatty', '-c', 'gamma']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /container=gamma: SeldonDeployment logs-ns\/chatty has no graph node of that name; its nodes are alpha, beta/);
});

test('--tail N prints the last N lines of each replica', () => {
  assert.deepEqual(logs('chatty', '--tail', '2', '-c', 'alpha').sort(), [
    '[default/alpha/0] alpha line 4',
    '[default/alpha/0] alpha line 5',
    '[default/alpha/1] alpha line 4',
    '[default/alpha/1] alpha line 5',
  ]);
  assert.deepEqual(logs('chatty', '--tail', '0'), []);
});

test('--timestamps puts an RFC 3339 time with nine fraction digits after the prefix; --prefix=false drops the prefix', () => {
  const stamped = logs('chatty', '-c', 'alpha', '--tail', '1', '--timestamps');
  assert.equal(stamped.length, 2);
  for (const line of stamped) assert.match(line, /^\[default\/alpha\/[01]\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z alpha line 5$/);
  const time = Date.parse(stamped[0]!.split(' ')[1]!);
  assert.ok(Math.abs(Date.now() - time) < 600_000, `a time near now: ${stamped[0]}`);
  assert.deepEqual(logs('chatty', '-c', 'alpha', '--tail', '1', '--prefix=false'), ['alpha line 5', 'alpha line 5']);
  assert.deepEqual(logs('chatty', '-c', 'alpha', '--tail', '1', '--no-prefix'), ['alpha line 5', 'alpha line 5']);
});

test('--since keeps recent lines; a bad duration or tail is named', async () => {
  assert.equal(logs('chatty', '--since', '1h').length, 24);
  // Once the newest line is more than two seconds old, --since 2s has nothing to show.
  const newest = Math.max(...logs('chatty', '--timestamps', '--tail', '1').map((l) => Date.parse(l.split(' ')[1]!)));
  await waitFor('the newest line to be older than 2 s', () => Date.now() > newest + 2500);
  assert.deepEqual(logs('chatty', '--since', '2s'), []);
  assert.equal(logs('chatty', '--since', '10m').length, 24);
  const bad = trantor.cli(['logs', 'chatty', '--since', '5']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--since 5: expected a duration such as 30s, 5m, 1h or 1h30m/);
  const tail = trantor.cli(['logs', 'chatty', '--tail', 'all']);
  assert.equal(tail.code, 1);
  assert.match(tail.stderr, /--tail all: expected a number of lines/);
});

test('-p prints the run before a restart, --since-time only what came after; -p before any restart is refused', async () => {
  const refused = trantor.cli(['logs', 'chatty', '-p']);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /no replica of SeldonDeployment logs-ns\/chatty has restarted, so none has a previous run/);

  const victim = replicas('chatty').find((r) => r.id === 'default/beta/1')!;
  const beforeKill = new Date().toISOString();
  process.kill(victim.pid!, 'SIGKILL');
  await waitFor('the killed replica to restart and be ready', () => {
    const again = replicas('chatty').find((r) => r.id === 'default/beta/1')!;
    return again.restarts === 1 && again.state === 'Ready' && again.pid !== victim.pid;
  }, 30_000);
  const now = replicas('chatty').find((r) => r.id === 'default/beta/1')!;
  await waitFor('the new run to print its lines', () => logs('chatty', 'beta', '--tail', '1').includes('[default/beta/1] beta line 5'));

  const previous = logs('chatty', '-p');
  assert.deepEqual(previous, [`[default/beta/1] hello from beta pid=${victim.pid}`, ...[1, 2, 3, 4, 5].map((i) => `[default/beta/1] beta line ${i}`)]);
  const current = logs('chatty', 'beta', '--tail', '-1').filter((l) => l.startsWith('[default/beta/1]'));
  assert.equal(current[0], `[default/beta/1] hello from beta pid=${now.pid}`);
  assert.equal(current.length, 6, 'the current run only');
  assert.deepEqual(logs('chatty', '--since-time', beforeKill, '--prefix=false'), [`hello from beta pid=${now.pid}`, ...[1, 2, 3, 4, 5].map((i) => `beta line ${i}`)]);
  const alphaRefused = trantor.cli(['logs', 'chatty', '-p', '-c', 'alpha']);
  assert.equal(alphaRefused.code, 1);
  assert.match(alphaRefused.stderr, /no replica of SeldonDeployment logs-ns\/chatty node alpha has restarted/);
});

test('-f prints new lines and exits 0 once the deployment is deleted', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, [TRANTOR, 'logs', '-f', 'followed', '--tail', '1', '-c', 'alpha'], { env: trantor.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    // Not there yet: logs -f of a missing deployment fails at once.
    assert.equal(await exited, 1, stdout);
    assert.match(stderr, /no SeldonDeployment named "followed"/);
  } finally {
    child.kill();
  }
  trantor.applyAndWait(manifest('followed'));
  const follower = spawn(process.execPath, [TRANTOR, 'logs', '-f', 'followed', '--tail', '1', '-c', 'alpha'], { env: trantor.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let followed = '';
  follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
  const followerExit = new Promise<number | null>((resolve) => follower.on('close', (code) => resolve(code)));
  try {
    // The kept last lines come first: then the answer is open and new lines will follow.
    await waitFor('the kept lines', () => followed.split('\n').filter((l) => / alpha line 5$/.test(l)).length === 2, 15_000, () => followed);
    assert.ok(!followed.includes('hello'), followed);
    const alpha = replicas('followed').find((r) => r.id === 'default/alpha/0')!;
    process.kill(alpha.pid!, 'SIGKILL');
    await waitFor("the restarted replica's lines to be followed", () => {
      const restarted = followed.indexOf('[default/alpha/0] hello from alpha');
      return restarted >= 0 && followed.includes('[default/alpha/0] alpha line 5\n', restarted);
    }, 30_000, () => followed);
    assert.match(followed, /\[default\/alpha\/0\] hello from alpha pid=\d+\n/);
    assert.ok(!followed.includes('beta'), followed);
    const deleted = trantor.cli(['delete', 'sdep', 'followed', '-n', 'logs-ns']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await followerExit, 0);
  } finally {
    follower.kill();
  }
});
