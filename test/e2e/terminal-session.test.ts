/**
 * A user's shell session, recorded with tmux (`send-keys`, `capture-pane`): `trantor get -w`
 * updates its rows in the terminal while a deployment is applied and then rolled to more
 * replicas, and `trantor apply --wait` on a real terminal shows a slow model's download progress
 * (one line rewritten in place) until the deployment is Available.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { ROOT, TRANTOR, Trantor, waitFor } from './harness.ts';

const CI = process.env['CI'] === 'true';
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SKIP = !hasTmux && !CI ? 'tmux is not installed (apt-get install tmux)' : false;

const work = mkdtempSync(join(tmpdir(), 'trantor-tmux-e2e-'));
const socket = `trantor-e2e-${process.pid}`;
const trantor = new Trantor();
let server: Server | undefined;
let origin = '';

function tmux(...args: string[]): string {
  const result = spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, `tmux ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** What the pane shows now. */
function screen(pane: string): string {
  return tmux('capture-pane', '-p', '-t', pane);
}

/** Types a command line into the pane, as a user would. */
function type(pane: string, line: string): void {
  tmux('send-keys', '-t', pane, line, 'Enter');
}

before(async () => {
  if (SKIP !== false) return;
  assert.ok(hasTmux, 'tmux is not installed: .ci/run installs it');
  // A `trantor` command on PATH, as `npm install -g trantor-ml` gives one.
  const bin = join(work, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'trantor'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(TRANTOR)} "$@"\n`);
  chmodSync(join(bin, 'trantor'), 0o755);
  // The iris model with 3 MB of padding, served at about 1.3 MB/s: its download takes seconds.
  const folder = join(work, 'model');
  mkdirSync(folder);
  copyFileSync(join(ROOT, 'examples', 'iris', 'model', 'model.joblib'), join(folder, 'model.joblib'));
  writeFileSync(join(folder, 'padding.bin'), randomBytes(3 * 1024 * 1024));
  await tar.c({ gzip: true, file: join(work, 'iris.tar.gz'), cwd: folder }, ['model.joblib', 'padding.bin']);
  const archive = readFileSync(join(work, 'iris.tar.gz'));
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(archive.length) });
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      const next = Math.min(sent + 64 * 1024, archive.length);
      res.write(archive.subarray(sent, next));
      sent = next;
      if (sent === archive.length) {
        clearInterval(timer);
        res.end();
      }
    }, 50);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await trantor.up();
  tmux('new-session', '-d', '-s', 'user', '-x', '200', '-y', '40', 'bash --norc --noprofile');
  tmux('split-window', '-t', 'user', '-v', 'bash --norc --noprofile');
  // Each shell as the user would set it up: the command on PATH, this Trantor's home.
  for (const pane of ['user.0', 'user.1']) type(pane, `export PATH=${JSON.stringify(`${bin}:${process.env['PATH'] ?? ''}`)} TRANTOR_HOME=${JSON.stringify(trantor.home)} PS1='$ '; clear`);
});

after(async () => {
  if (SKIP === false) spawnSync('tmux', ['-L', socket, 'kill-server']);
  await trantor.close();
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

const simple = (replicas: number): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: rolling, namespace: seldon}
spec:
  predictors:
  - name: default
    replicas: ${replicas}
    graph: {name: model, implementation: SKLEARN_SERVER, modelUri: ${JSON.stringify(join(ROOT, 'examples', 'iris', 'model'))}}
`;

test('in a terminal, get -w updates its rows while a deployment rolls, and apply --wait shows a slow download', { skip: SKIP, timeout: 240_000 }, async () => {
  const watching = 'user.0';
  const applying = 'user.1';
  writeFileSync(join(work, 'rolling-1.yaml'), simple(1));
  writeFileSync(join(work, 'rolling-2.yaml'), simple(2));
  type(applying, `trantor apply -f ${join(work, 'rolling-1.yaml')} --wait`);
  await waitFor('the first apply to end Available', () => /seldon\/rolling: Available \(1\/1 replicas ready\)/.test(screen(applying)), 120_000, () => screen(applying));

  type(watching, 'trantor get sdep -n seldon -w');
  await waitFor('get -w to show the deployment', () => /^rolling\s+Available\s+1\/1\b/m.test(screen(watching)), 30_000, () => screen(watching));
  type(applying, `trantor apply -f ${join(work, 'rolling-2.yaml')} --wait`);
  await waitFor('the watch to show the roll to 2/2', () => /^rolling\s+Available\s+2\/2\b/m.test(screen(watching)), 120_000, () => screen(watching));
  const watched = screen(watching);
  assert.match(watched, /^NAME\s+STATE\s+READY\s+AGE/m, watched);
  // A row printed again for each change while it rolled: more rows than the one it started with.
  const rows = watched.split('\n').filter((l) => l.startsWith('rolling '));
  assert.ok(rows.length >= 3, `rows while rolling:\n${watched}`);

  writeFileSync(
    join(work, 'slow.yaml'),
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: slow, namespace: seldon}
spec:
  predictors:
  - name: default
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: "${origin}/iris.tar.gz"}
`,
  );
  type(applying, 'clear');
  type(applying, `trantor apply -f ${join(work, 'slow.yaml')} --wait`);
  const progress = /seldon\/slow: Creating — downloading http:\/\/127\.0\.0\.1:\d+\/iris\.tar\.gz [\d.]+ (kB|MB) of [\d.]+ MB \([\d.]+ (B|kB|MB)\/s\)/;
  await waitFor('apply --wait to show the download in progress', () => progress.test(screen(applying)), 60_000, () => screen(applying));
  await waitFor('apply --wait to end with the deployment Available', () => /seldon\/slow: Available \(1\/1 replicas ready\)/.test(screen(applying)), 120_000, () => screen(applying));
  // On a terminal the line is rewritten in place: one line for the deployment, not one per update.
  const shown = screen(applying).split('\n').filter((l) => l.startsWith('seldon/slow:'));
  assert.equal(shown.length, 1, screen(applying));
});
