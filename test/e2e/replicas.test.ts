/**
 * replicas: 2 means two processes; kill -9 of one under load loses no request, and it comes back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, Trantor, postJson, waitFor } from './harness.ts';

const trantor = new Trantor();

interface View {
  status: { state: string; replicas: { state: string; pid?: number; restarts: number }[] };
}

function view(): View {
  const result = trantor.cli(['get', 'sdep', 'iris-twice', '-n', 'seldon', '-o', 'json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as View;
}

before(async () => {
  await trantor.up();
  const file = join(trantor.home, 'iris-twice.yaml');
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris-twice, namespace: seldon}
spec:
  predictors:
  - graph: {implementation: SKLEARN_SERVER, modelUri: ${join(ROOT, 'examples', 'iris', 'model')}, name: classifier}
    name: default
    replicas: 2
`,
  );
  const applied = trantor.cli(['apply', '-f', file, '--wait']);
  assert.equal(applied.code, 0, applied.stderr);
});
after(() => trantor.close());

test('replicas: 2 runs two processes', () => {
  const replicas = view().status.replicas;
  assert.equal(replicas.length, 2);
  assert.ok(replicas.every((r) => r.state === 'Ready'));
  const pids = replicas.map((r) => r.pid);
  assert.equal(new Set(pids).size, 2);
  for (const pid of pids) process.kill(pid!, 0);
});

test('kill -9 of one replica under load loses no request, and the replica comes back', async () => {
  const victim = view().status.replicas[0]!.pid!;
  const url = trantor.url('seldon', 'iris-twice');
  let sent = 0;
  const failures: string[] = [];
  let stop = false;
  const worker = async (): Promise<void> => {
    while (!stop) {
      sent++;
      const res = await postJson(url, { data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } }).catch((err: unknown) => ({ status: 0, body: String(err) }));
      if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
    }
  };
  const workers = Array.from({ length: 8 }, () => worker());
  await waitFor('requests to flow before the kill', () => sent >= 100, 15_000);
  process.kill(victim, 'SIGKILL');
  const sentAtKill = sent;
  // Load goes on until the killed replica has been replaced and is serving beside the other one.
  let replicas = view().status.replicas;
  await waitFor('the killed replica to come back while requests flow', () => {
    replicas = view().status.replicas;
    return replicas.every((r) => r.state === 'Ready') && replicas.some((r) => r.restarts === 1) && sent >= sentAtKill + 200;
  }, 30_000, () => JSON.stringify(replicas));
  stop = true;
  await Promise.all(workers);
  assert.deepEqual(failures, []);

  assert.ok(replicas.every((r) => r.state === 'Ready'), JSON.stringify(replicas));
  assert.equal(replicas.reduce((n, r) => n + r.restarts, 0), 1);
  assert.ok(!replicas.some((r) => r.pid === victim));
});
