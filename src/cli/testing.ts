/**
 * Test support for the CLI (not shipped): a node:http server standing in for the control plane and
 * the gateway, and a way to run `trantor ARGS` against it with captured output.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { homeLayout, type ControlPlaneInfo } from '../manifest/index.ts';
import type { Io } from './io.ts';
import { buildProgram, runCli } from './program.ts';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Answer = { status: number; body?: string; type?: string };

/** The API token of every home `trantor()` makes; the fake control plane requires it as the real one does. */
export const TEST_API_TOKEN = 'cli-test-token-0123456789abcdef';

const UNAUTHORIZED: Answer = { status: 401, body: JSON.stringify({ status: { code: 401, info: 'the control-plane API needs "Authorization: Bearer <token>"', reason: 'UNAUTHORIZED', status: 'FAILURE' } }) };

/**
 * A node:http server standing in for the control plane and the gateway (broker ingress). Like
 * the real API, it answers 401 to a `/v1/` call without `Authorization: Bearer TEST_API_TOKEN`.
 */
export async function fakeServer(answer: (seen: Seen) => Answer): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      const a = s.url.startsWith('/v1/') && s.headers.authorization !== `Bearer ${TEST_API_TOKEN}` ? UNAUTHORIZED : answer(s);
      res.writeHead(a.status, { 'content-type': a.type ?? 'application/json' }).end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/**
 * Runs `trantor ARGS` against a fresh home whose control plane is `url` (API and gateway alike).
 * `files` are written into the home first; an argument `HOME/<file>` names one of them.
 */
export async function trantor(
  url: string,
  args: string[],
  files: Record<string, string> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; err: string; home: string }> {
  const home = mkdtempSync(join(tmpdir(), 'trantor-cli-'));
  const info: ControlPlaneInfo = { pid: process.pid, apiUrl: url, gatewayUrl: url, startedAt: new Date().toISOString() };
  writeFileSync(homeLayout.controlPlane(home), JSON.stringify(info));
  writeFileSync(homeLayout.apiToken(home), `${TEST_API_TOKEN}\n`, { mode: 0o600 });
  // Held as `trantor up` holds it (src/server/home-lock.ts): the CLI trusts the lock, not the pid.
  const lock = new Database(homeLayout.lock(home));
  lock.pragma('locking_mode = EXCLUSIVE');
  lock.exec('BEGIN EXCLUSIVE');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(home, name)), { recursive: true });
    writeFileSync(join(home, name), text);
  }
  const withPaths = args.map((a) => (a.startsWith('HOME/') ? join(home, a.slice(5)) : a));
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: () => '', env };
  try {
    const code = await runCli(buildProgram(io), ['node', 'trantor', '--home', home, ...withPaths], io);
    return { code, out: out.join('\n'), err: err.join('\n'), home };
  } finally {
    lock.close();
    rmSync(home, { recursive: true, force: true });
  }
}
