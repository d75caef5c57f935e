/**
 * For the cloud providers' tests: find an emulator (built by .ci/run into ~/.cache/trantor-ci/go-bin,
 * or named by an environment variable), start it on a free port and wait for the line saying it
 * listens, and read a provider's answers back. Outside CI a missing emulator skips its tests with
 * the command that builds it; under CI (CI=true) it is a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StorageProvider, StoredObject } from '../provider.ts';

export const GO_BIN = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'trantor-ci', 'go-bin');

/** The emulator's path, or (for node:test's `skip`) why it is absent; throws under CI. */
export function emulator(binary: string, envVar: string, build: string): { path: string; skip: false } | { path: string; skip: string } {
  const named = process.env[envVar];
  const path = named !== undefined && named !== '' ? named : join(GO_BIN, binary);
  if (existsSync(path)) return { path, skip: false };
  const why = `${binary} not found at ${path} (set ${envVar}, or build it: ${build})`;
  if (process.env['CI'] === 'true') throw new Error(`under CI the emulator must be there: ${why}`);
  return { path, skip: why };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Running {
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `command` and resolves once its output matches `ready`; rejects if it exits first. */
export async function start(command: string, args: readonly string[], ready: RegExp, env?: NodeJS.ProcessEnv): Promise<Running> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  let started = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        if (started) return; // past the ready line: drained, not kept
        output += chunk.toString('utf8');
        if (ready.test(output)) {
          started = true;
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${output}`)));
      child.once('error', reject);
      const timer = setTimeout(() => reject(new Error(`${command} did not say it was ready within 30 s:\n${output}`)), 30_000);
      timer.unref();
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every byte of one read. */
export async function readAll(provider: StorageProvider, uri: URL, object: StoredObject, offset = 0): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await provider.read(uri, object, { offset, signal: AbortSignal.timeout(30_000) })) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, the call succeeded');
}

/** The files every store's contract tests expect under its base URI (`seed` uploads them). */
export const CONTRACT_FILES: Readonly<Record<string, Uint8Array | string>> = {
  'multi/a.txt': 'alpha',
  'multi/sub/b c.txt': 'beta gamma',
  'multi2/not-mine.txt': 'other',
};

/**
 * What every bucket store's provider must do, run against each one (hono's habit: one suite, many
 * implementations). Call inside the store's `describe`, after its `before` has seeded CONTRACT_FILES
 * and the iris model; `store()` is read per test, once the emulator is up.
 */
export function storeContract(store: () => { provider: StorageProvider; uri: (path: string) => URL; iris: URL; model: Uint8Array }): void {
  const signal = (): AbortSignal => AbortSignal.timeout(10_000);

  test('contract: a prefix lists the objects below it, with size and version', async () => {
    const { provider, iris, model } = store();
    const objects = await provider.list(iris, signal());
    assert.deepEqual(objects.map((o) => [o.key, o.size]), [['model.joblib', model.length]]);
    assert.notEqual(objects[0]?.version, undefined);
  });

  test('contract: a URI naming one object lists it alone, with key ""', async () => {
    const { provider, uri } = store();
    assert.deepEqual((await provider.list(uri('multi/a.txt'), signal())).map((o) => [o.key, o.size]), [['', 5]]);
  });

  test('contract: a multi-file prefix keeps its folders and stops at its boundary (multi, not multi2)', async () => {
    const { provider, uri } = store();
    const objects = await provider.list(uri('multi'), signal());
    assert.deepEqual(objects.map((o) => [o.key, o.size]), [['a.txt', 5], ['sub/b c.txt', 10]]);
  });

  test('contract: reads an object whole and from an offset', async () => {
    const { provider, uri, iris, model } = store();
    const [object] = await provider.list(iris, signal());
    assert.ok(object);
    assert.deepEqual(await readAll(provider, iris, object), Buffer.from(model));
    assert.deepEqual(await readAll(provider, iris, object, 500), Buffer.from(model.subarray(500)));
    const objects = await provider.list(uri('multi'), signal());
    assert.equal((await readAll(provider, uri('multi'), objects[1]!, 5)).toString(), 'gamma');
  });

  test('contract: nothing at or below the path is NOT_FOUND naming the URI', async () => {
    const { provider, uri } = store();
    const missing = uri('nothing-here');
    const err = await rejection(provider.list(missing, signal()));
    assert.equal(err.code, 'NOT_FOUND');
    assert.ok(err.message.startsWith(`${missing.href}: no object is named "`), err.message);
  });
}
