/**
 * A full disk under a running `trantor up`, for real: the home is a small tmpfs that the test fills
 * with a file. The broker answers 507 with the reason (never 202, never 500), the log file failing
 * does not stop the control plane, predictions keep being answered, and once the file is deleted
 * the broker accepts again and every event it accepted is delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillDisk, mountSmallDisk, type SmallDisk } from '../small-disk.ts';
import { Trantor, postJson, startEventRecorder, waitFor } from './harness.ts';

/** An in-process model that fails on a 13, so the test can make the control plane log at will. */
function flakyModel(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-flaky-'));
  writeFileSync(
    join(dir, 'FlakyModel.ts'),
    `export class FlakyModel {
  predict(X: number[][]): number[][] {
    if (X[0]?.[0] === 13) throw new Error('unlucky thirteen');
    return X;
  }
}
`,
  );
  const manifest = join(dir, 'flaky.yaml');
  writeFileSync(
    manifest,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: flaky
  namespace: default
  annotations: {trantor.io/in-process: "true"}
spec:
  name: flaky
  predictors:
  - name: default
    replicas: 1
    graph: {name: flaky, type: MODEL, children: []}
    componentSpecs:
    - spec:
        containers:
        - name: flaky
          command: [trantor-node-microservice, FlakyModel]
          args: [--service-type, MODEL]
          workingDir: ./
`,
  );
  return manifest;
}

function alive(pid: number | undefined): boolean {
  try {
    return pid !== undefined && process.kill(pid, 0);
  } catch {
    return false;
  }
}

async function postEvent(trantor: Trantor, id: string, pad = 0): Promise<{ status: number; text: string }> {
  const res = await fetch(`${trantor.gateway}/full/default`, {
    method: 'POST',
    headers: { 'ce-id': id, 'ce-specversion': '1.0', 'ce-type': 'tests.full', 'ce-source': 'tests', 'content-type': 'application/json' },
    body: JSON.stringify({ id, pad: 'x'.repeat(pad) }),
  });
  return { status: res.status, text: await res.text() };
}

/** A prediction's status, or 0 when no answer came within 10 s (the control plane hangs). */
async function predictStatus(url: string, first: number): Promise<number> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { ndarray: [[first, 2]] } }),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Starts `trantor up` on a fresh small disk; skips the test when the system refuses to mount one. */
async function upOnSmallDisk(t: { skip: (reason: string) => void }, args: string[] = []): Promise<{ disk: SmallDisk; trantor: Trantor } | undefined> {
  const disk = mountSmallDisk('32m');
  if (typeof disk === 'string') {
    t.skip(disk);
    return undefined;
  }
  const trantor = new Trantor(join(disk.dir, 'home'));
  try {
    await trantor.up(args);
  } catch (err) {
    disk.unmount();
    throw err;
  }
  return { disk, trantor };
}

test('a full disk: the broker answers 507 with the reason, predictions go on, and after freeing space every accepted event is delivered', async (t) => {
  const subscriber = await startEventRecorder();
  const { received } = subscriber;
  const started = await upOnSmallDisk(t, ['--durability', 'fsync']);
  if (started === undefined) {
    await subscriber.close();
    return;
  }
  const { disk, trantor } = started;
  const filler = join(disk.dir, 'filler');
  try {
    const trigger = join(mkdtempSync(join(tmpdir(), 'trantor-full-')), 'trigger.yaml');
    writeFileSync(
      trigger,
      `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-sink, namespace: full}
spec:
  broker: default
  filter: {attributes: {type: tests.full}}
  subscriber: {uri: "${subscriber.uri}"}
`,
    );
    assert.equal(trantor.cli(['apply', '-f', trigger]).code, 0);
    trantor.applyAndWait(flakyModel());
    const predict = trantor.url('default', 'flaky');

    const accepted = new Set<string>();
    const first = await postEvent(trantor, 'before');
    assert.equal(first.status, 202, first.text);
    accepted.add('before');

    fillDisk(filler);
    // SQLite may still hold a little space of its own: post until the disk runs out.
    let refused: { status: number; text: string } | undefined;
    for (let i = 0; i < 2000 && refused === undefined; i++) {
      const answer = await postEvent(trantor, `full-${i}`, 4000);
      if (answer.status === 202) accepted.add(`full-${i}`);
      else refused = answer;
    }
    assert.ok(refused !== undefined, 'the broker accepted 2,000 events on a full disk');
    assert.equal(refused.status, 507, refused.text);
    const body = JSON.parse(refused.text) as { status: { reason: string; info: string } };
    assert.equal(body.status.reason, 'INSUFFICIENT_STORAGE');
    assert.match(body.status.info, /^the broker's disk is full: .*events\.db: /);
    const again = await postEvent(trantor, 'still-full', 4000);
    assert.equal(again.status, 507, again.text);

    assert.equal((await postJson(predict, { data: { ndarray: [[1, 2]] } })).status, 200);
    assert.ok(alive(trantor.pid), 'trantor up died on a full disk');

    rmSync(filler);
    const after = await postEvent(trantor, 'after');
    assert.equal(after.status, 202, after.text);
    accepted.add('after');
    const missing = (): string[] => [...accepted].filter((id) => !received.has(id));
    await waitFor(`delivery of ${accepted.size} accepted events (missing ${missing().slice(0, 5).join(', ')})`, () => missing().length === 0, 30_000);
  } finally {
    rmSync(filler, { force: true });
    await trantor.stop();
    disk.unmount();
    await subscriber.close();
  }
});

test('a full disk under the log file: the control plane warns once on stderr, keeps answering, and logs again once space is freed', async (t) => {
  const started = await upOnSmallDisk(t);
  if (started === undefined) return;
  const { disk, trantor } = started;
  const filler = join(disk.dir, 'filler');
  const stderr = (): string => trantor.output.join('');
  try {
    trantor.applyAndWait(flakyModel());
    const predict = trantor.url('default', 'flaky');
    assert.equal(await predictStatus(predict, 1), 200);

    fillDisk(filler);
    // A failing model makes the control plane log a line; once the slack of the file's last page is
    // used up, lines cannot be written.
    await waitFor(
      'the log-file warning on stderr, or the control plane exiting or hanging',
      async () => {
        if (/trantor\.log failed/.test(stderr()) || !alive(trantor.pid)) return true;
        const failed = await predictStatus(predict, 13);
        assert.ok(failed >= 500, failed === 0 ? 'the control plane stopped answering once its log file hit a full disk' : `the failing model answered ${failed}`);
        return false;
      },
      20_000,
    );
    assert.ok(alive(trantor.pid), `trantor up died when its log file hit a full disk:\n${stderr().slice(-2000)}`);
    for (let i = 0; i < 20; i++) {
      assert.ok((await predictStatus(predict, 13)) >= 500);
      assert.equal(await predictStatus(predict, 1), 200, 'a prediction on a full disk');
    }
    assert.equal(stderr().match(/trantor\.log failed/g)?.length, 1, 'the warning is written once per outage');
    assert.ok(alive(trantor.pid));

    rmSync(filler);
    await predictStatus(predict, 13);
    await waitFor('the log file working again', () => /trantor\.log works again; \d+ log line\(s\) were dropped/.test(stderr()), 30_000);
  } finally {
    rmSync(filler, { force: true });
    await trantor.stop();
    disk.unmount();
  }
});
