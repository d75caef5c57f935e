/**
 * A frozen replica (SIGSTOP: it still accepts connections but answers nothing) loses its traffic
 * within seconds, no request waits the request timeout for it, and it is killed and replaced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, TRANTOR, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const run = promisify(execFile);
const stopped = new Set<number>();

interface ReplicaView {
  state: string;
  pid?: number;
  port?: number;
  restarts: number;
}

/** `trantor get -o json`, without blocking this process (the requests in flight are being timed). */
async function replicas(): Promise<ReplicaView[]> {
  const { stdout } = await run(process.execPath, [TRANTOR, 'get', 'sdep', 'iris-frozen', '-n', 'seldon', '-o', 'json'], { env: trantor.env });
  return (JSON.parse(stdout) as { status: { replicas: ReplicaView[] } }).status.replicas;
}

before(async () => {
  await trantor.up();
  const file = join(trantor.home, 'iris-frozen.yaml');
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris-frozen, namespace: seldon}
spec:
  predictors:
  - graph: {implementation: SKLEARN_SERVER, modelUri: ${join(ROOT, 'examples', 'iris', 'model')}, name: classifier}
    name: default
    replicas: 2
`,
  );
  trantor.applyAndWait(file);
});

after(async () => {
  for (const pid of stopped) {
    try {
      process.kill(-pid, 'SIGCONT');
    } catch {
      // replaced and gone, as it should be
    }
  }
  await trantor.close();
});

interface Sample {
  startedAt: number;
  ms: number;
  status: number;
  body: string;
}

test('a SIGSTOPped replica loses its traffic within seconds and is killed and replaced', async () => {
  const before = await replicas();
  assert.equal(before.length, 2);
  const victim = before[0]!;
  assert.ok(victim.pid !== undefined && victim.state === 'Ready', JSON.stringify(before));

  const url = trantor.url('seldon', 'iris-frozen');
  const samples: Sample[] = [];
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const startedAt = Date.now();
      const res = await postJson(url, { data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } }).catch((err: unknown) => ({ status: 0, body: String(err) }));
      samples.push({ startedAt, ms: Date.now() - startedAt, status: res.status, body: JSON.stringify(res.body) });
    }
  };
  const workers = Array.from({ length: 4 }, () => worker());
  // Polls at `everyMs`: each look at the status runs the CLI, which costs CPU the timed requests share.
  const waitUntil = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };

  let replaced: ReplicaView | undefined;
  let frozenAt = 0;
  try {
    await waitUntil('traffic to flow', () => samples.length >= 40, 30_000);
    stopped.add(victim.pid);
    process.kill(-victim.pid, 'SIGSTOP');
    frozenAt = Date.now();
    // Keep the load on until the frozen replica was replaced and 10 s have passed since the freeze.
    await waitUntil(
      'the frozen replica to be replaced',
      async () => {
        const now = await replicas();
        const first = now[0];
        if (first?.state === 'Ready' && first.restarts >= 1 && first.pid !== victim.pid) replaced = first;
        return replaced !== undefined && Date.now() - frozenAt >= 10_000;
      },
      60_000,
      1_000,
    );
  } finally {
    stop = true;
    await Promise.all(workers);
  }

  const failures = samples.filter((s) => s.status !== 200);
  assert.deepEqual(failures, [], 'every request was answered');
  const settled = samples.filter((s) => s.startedAt >= frozenAt + 5_000);
  assert.ok(settled.length >= 20, `only ${settled.length} requests were sent from 5 s after the freeze`);
  const slow = settled.filter((s) => s.ms >= 1_000).map((s) => `${s.ms} ms at +${s.startedAt - frozenAt} ms`);
  assert.deepEqual(slow, [], 'no request started 5 s after the freeze took 1 s or more');
  const worst = Math.max(...samples.filter((s) => s.startedAt >= frozenAt).map((s) => s.ms));
  assert.ok(worst < 15_000, `a request waited ${worst} ms: about the request timeout`);

  assert.ok(replaced?.port !== undefined);
  assert.throws(() => process.kill(victim.pid!, 0), 'the frozen process was killed');
  const direct = await postJson(`http://127.0.0.1:${replaced.port}/predict`, { data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } });
  assert.equal(direct.status, 200, 'the replacement serves');
});
