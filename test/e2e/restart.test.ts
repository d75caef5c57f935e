/**
 * Restarts that always work and lose nothing: `trantor up` again right after a kill -9 (the old
 * process still a zombie), over a stale control-plane.json, racing another start on one home, with
 * producers posting throughout a clean restart, and with corrupt files among the stored manifests.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TRANTOR, Trantor, inProcessNoop, postJson, startEventRecorder } from './harness.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A Trantor closed (and its home removed) when the file's tests end. */
function trantorFor(home?: string): Trantor {
  const trantor = new Trantor(home);
  cleanups.push(() => (home === undefined ? trantor.close() : trantor.stop()));
  return trantor;
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The state letter of a process (R, S, Z …) from /proc, or undefined once it is gone. */
function processState(pid: number): string | undefined {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

test('trantor up starts again at once after a kill -9, while the old process is still a zombie', { skip: !existsSync('/proc/self/stat') }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'trantor-e2e-'));
  // `sleep` becomes the parent of `trantor up` and never reaps it: after kill -9 it stays a zombie.
  const parent = spawn('sh', ['-c', `"${process.execPath}" "${TRANTOR}" up --port 0 & echo "pid $!"; exec sleep 600`], {
    env: { ...process.env, TRANTOR_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    parent.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });
  let pid = 0;
  let gateway = '';
  createInterface({ input: parent.stdout }).on('line', (line) => {
    pid = Number(/^pid (\d+)$/.exec(line)?.[1] ?? pid);
    gateway = /^gateway: (\S+)$/.exec(line)?.[1] ?? gateway;
  });
  await until(() => gateway !== '', 'the first trantor up to print its gateway');
  process.kill(pid, 'SIGKILL');
  await until(() => processState(pid) === 'Z', 'the killed trantor up to become a zombie');

  const again = trantorFor(home);
  await again.up();
  assert.equal(processState(pid), 'Z', 'the old process was still a zombie when the new one started');
  assert.equal(again.cli(['get', 'sdep']).code, 0);
});

test('a control-plane.json naming a live process that is not trantor (pid 1) does not block the start', async () => {
  const trantor = trantorFor();
  writeFileSync(join(trantor.home, 'control-plane.json'), JSON.stringify({ pid: 1, apiUrl: 'http://127.0.0.1:9', gatewayUrl: 'http://127.0.0.1:9', startedAt: '2020-01-01T00:00:00Z' }));
  await trantor.up();
  assert.equal(trantor.cli(['get', 'sdep']).code, 0);
});

test('the CLI says the control plane is not running when control-plane.json is left by a killed one', async () => {
  const trantor = trantorFor();
  await trantor.up();
  // The test runner is alive, so kill(pid, 0) alone would call it running.
  await trantor.stop('SIGKILL');
  writeFileSync(join(trantor.home, 'control-plane.json'), JSON.stringify({ pid: process.pid, apiUrl: 'http://127.0.0.1:9', gatewayUrl: 'http://127.0.0.1:9', startedAt: '2020-01-01T00:00:00Z' }));
  const got = trantor.cli(['get', 'sdep']);
  assert.notEqual(got.code, 0);
  assert.match(got.stderr, /the control plane for home .* is not running; start it with: trantor up/);
});

test('two trantor up on one home at once: exactly one runs, the other exits saying why', async () => {
  const first = trantorFor();
  const second = trantorFor(first.home);
  const results = await Promise.allSettled([first.up(), second.up()]);
  const running = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(running.length, 1, `expected one to run, got ${running.length}: ${refused.map((r) => String(r.reason)).join('\n---\n')}`);
  assert.equal(refused.length, 1);
  assert.match(String(refused[0]!.reason), /exited with 1[\s\S]*another trantor up is running for home/);
});

test('a clean restart while 8 producers post: every event answered 202 reaches the subscriber', async () => {
  const subscriber = await startEventRecorder();
  cleanups.push(() => subscriber.close());
  const { received } = subscriber;

  // The same gateway port before and after the restart, as producers would have it configured.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));

  const trantor = trantorFor();
  await trantor.up(['--port', String(port)]);
  const file = join(trantor.home, 'restart.yaml');
  // Deployments (models loaded in process) make the restore take a while: the window in which an
  // ingress that opened too early stored events with no trigger to deliver them.
  const deployments = Array.from({ length: 4 }, (_, i) => inProcessNoop('restart', `model-${i}`));
  writeFileSync(
    file,
    `${deployments.join('---\n')}---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-sink, namespace: restart}
spec:
  broker: default
  filter: {attributes: {type: tests.restart}}
  subscriber: {uri: "${subscriber.uri}"}
`,
  );
  const applied = trantor.cli(['apply', '-f', file]);
  assert.equal(applied.code, 0, applied.stderr);

  const accepted = new Set<string>();
  let next = 0;
  let stop = false;
  let refusedConnections = 0;
  const producer = async (): Promise<void> => {
    while (!stop) {
      const id = `event-${next++}`;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/restart/default`, {
          method: 'POST',
          headers: { 'ce-id': id, 'ce-specversion': '1.0', 'ce-type': 'tests.restart', 'ce-source': 'tests', 'content-type': 'application/json' },
          body: `{"n":${next}}`,
        });
        await res.arrayBuffer();
        if (res.status === 202) accepted.add(id);
      } catch {
        refusedConnections++; // restarting: try again, a little later
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const producers = Array.from({ length: 8 }, () => producer());
  await until(() => accepted.size >= 200, '200 events accepted before the restart');
  await trantor.stop('SIGTERM');
  const beforeRestart = accepted.size;
  await trantor.up(['--port', String(port)]);
  await until(() => accepted.size >= beforeRestart + 300, '300 events accepted after the restart', 60_000);
  stop = true;
  await Promise.all(producers);
  assert.ok(refusedConnections > 0, 'the producers never saw the control plane down: no restart happened while they posted');

  const missing = (): string[] => [...accepted].filter((id) => !received.has(id));
  await until(() => missing().length === 0, 'every accepted event to be delivered', 60_000).catch(() => undefined);
  assert.deepEqual(missing(), [], `${missing().length} of ${accepted.size} accepted events were never delivered`);
});

test('corrupt stored manifests are named and skipped; the good ones come back and serve', async () => {
  const trantor = trantorFor();
  await trantor.up();
  const file = join(trantor.home, 'good.yaml');
  writeFileSync(file, inProcessNoop('stored', 'good'));
  trantor.applyAndWait(file);
  await trantor.stop();

  const folder = join(trantor.home, 'manifests', 'seldondeployments', 'stored');
  const good = JSON.parse(readFileSync(join(folder, 'good.json'), 'utf8')) as { deployment: { metadata: { name: string }; spec: { predictors: { replicas: number }[] } } };
  writeFileSync(join(folder, 'broken.json'), '{"deployment": {"apiVersion": ');
  // Stored as an older version stored it, before replicas were bounded.
  good.deployment.metadata.name = 'huge';
  good.deployment.spec.predictors[0]!.replicas = 1_000_000_000;
  writeFileSync(join(folder, 'huge.json'), JSON.stringify(good));
  mkdirSync(join(trantor.home, 'manifests', 'triggers', 'stored'), { recursive: true });
  writeFileSync(join(trantor.home, 'manifests', 'triggers', 'stored', 'odd.json'), '{"object": {"kind": "Trigger"}}');

  await trantor.up();
  const output = trantor.output.join('\n');
  assert.match(output, new RegExp(`skipped ${join(folder, 'broken.json')}: not valid JSON`));
  assert.match(output, new RegExp(`skipped ${join(folder, 'huge.json')}: spec\\.predictors\\[0\\]\\.replicas: 1000000000 is more than the 64 replicas allowed`));
  assert.match(output, /skipped .*triggers\/stored\/odd\.json: /);

  const got = trantor.cli(['get', 'sdep', '-n', 'stored', '-o', 'name']);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(got.stdout.trim().split('\n'), ['seldondeployment.machinelearning.seldon.io/good']);
  await until(() => /Available/.test(trantor.cli(['get', 'sdep', 'good', '-n', 'stored']).stdout), 'the good deployment to be Available');
  const answer = await postJson(trantor.url('stored', 'good'), { data: { ndarray: [[1, 2]] } });
  assert.equal(answer.status, 200);
});

