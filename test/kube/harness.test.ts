/**
 * The harness leaves no etcd or kube-apiserver behind when the test process dies, however it dies:
 * killed by the test runner's SIGTERM on a timeout, or by SIGKILL.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { skipUnlessKube } from './harness.ts';

/** Alive: the process exists and is not a zombie waiting for its new parent to reap it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('the harness cleans up after a dead test process', { skip: skipUnlessKube(), timeout: 300_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    test(`killed by ${signal}`, async () => {
      const holder = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'hold-kube.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const pids = await new Promise<{ etcd: number; apiserver: number }>((resolve, reject) => {
        createInterface({ input: holder.stdout }).once('line', (line) => resolve(JSON.parse(line) as { etcd: number; apiserver: number }));
        holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before its server was ready:\n${stderr}`)));
      });
      assert.ok(alive(pids.etcd) && alive(pids.apiserver));

      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill(signal);
      await exited;
      const deadline = Date.now() + 20_000;
      while ((alive(pids.etcd) || alive(pids.apiserver)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual({ etcd: alive(pids.etcd), apiserver: alive(pids.apiserver) }, { etcd: false, apiserver: false });
    });
  }
});
