/**
 * `--workers 2` in a manifest's args: under `trantor up` both worker processes answer the
 * deployment's requests, and deleting the deployment stops every one of them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-workers-'));

const MANIFEST = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: workers
spec:
  predictors:
  - name: default
    graph:
      name: which
      type: MODEL
    componentSpecs:
    - spec:
        containers:
        - name: which
          command: [seldon-core-microservice, wrapper_models.WhichProcess]
          args: [--service-type, MODEL, --workers, '2']
          workingDir: ${JSON.stringify(join(ROOT, 'python', 'tests', 'fixtures'))}
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  writeFileSync(join(dir, 'workers.yaml'), MANIFEST);
  await trantor.up();
  trantor.applyAndWait(join(dir, 'workers.yaml'));
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

test('two worker processes answer, and deleting the deployment stops both', async () => {
  const pids = new Set<number>();
  await until(async () => {
    // Requests at once, so the executor opens several connections: the kernel spreads
    // connections over the workers, not requests.
    const replies = await Promise.all(Array.from({ length: 16 }, () => postJson(trantor.url('default', 'workers'), '{"data":{"ndarray":[[1]]}}')));
    for (const res of replies) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      pids.add((res.body as { jsonData: { pid: number } }).jsonData.pid);
    }
    return pids.size === 2;
  }, 'both workers to answer');
  const deleted = trantor.cli(['delete', 'sdep', 'workers']);
  assert.equal(deleted.code, 0, deleted.stderr);
  for (const pid of pids) await until(() => !alive(pid), `worker ${pid} to exit`);
});
