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
