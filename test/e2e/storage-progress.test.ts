/**
 * `trantor apply --wait` says what a deployment is doing while it waits: a model downloaded
 * slowly from a real HTTP server (throttled, real bytes) shows its bytes, total and speed, a line at
 * most once a second, then Available; a download that stalls past --timeout shows its last state
 * and the commands that say why.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { ROOT, Trantor, postJson, sklearnPredictProba } from './harness.ts';
import { cliAsync, irisManifest } from './storage-support.ts';

const work = mkdtempSync(join(tmpdir(), 'trantor-progress-e2e-'));
const trantor = new Trantor();
/** The iris model and 4 MB of random bytes beside it, so the download takes seconds when throttled. */
let archive: Buffer;
let server: Server;
let origin = '';
/** Responses of /stall/ held open until the test ends. */
const stalled: ServerResponse[] = [];

/** Sends `body` 64 kB at a time every 50 ms (about 1.3 MB/s); with `stopAt`, sends that much and holds. */
function throttled(res: ServerResponse, body: Buffer, stopAt?: number): void {
  const end = stopAt ?? body.length;
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed) {
      clearInterval(timer);
      return;
    }
    const next = Math.min(sent + 64 * 1024, end);
    res.write(body.subarray(sent, next));
    sent = next;
    if (sent < end) return;
    clearInterval(timer);
    if (stopAt === undefined) res.end();
    else stalled.push(res);
  }, 50);
}

before(async () => {
  const folder = join(work, 'model');
  mkdirSync(folder);
  copyFileSync(join(ROOT, 'examples', 'iris', 'model', 'model.joblib'), join(folder, 'model.joblib'));
  writeFileSync(join(folder, 'padding.bin'), randomBytes(4 * 1024 * 1024));
  await tar.c({ gzip: true, file: join(work, 'iris.tar.gz'), cwd: folder }, ['model.joblib', 'padding.bin']);
  archive = readFileSync(join(work, 'iris.tar.gz'));
  server = createServer((req, res) => {
    const stall = req.url === '/stall/iris.tar.gz';
    if (req.url !== '/slow/iris.tar.gz' && !stall) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { etag: `"${req.url}"`, 'content-length': String(archive.length) });
    if (req.method === 'HEAD') res.end();
    else throttled(res, archive, stall ? archive.length >> 1 : undefined);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await trantor.up();
});

after(async () => {
  for (const res of stalled) res.destroy();
  await trantor.close();
  server.close();
  rmSync(work, { recursive: true, force: true });
});

const PROGRESS = /^seldon\/(iris-[a-z]+): Creating — downloading (\S+) ([\d.]+) (B|kB|MB) of ([\d.]+) MB \(([\d.]+) (B|kB|MB)\/s\)$/;
const toBytes = (value: string, unit: string): number => Number(value) * (unit === 'MB' ? 1e6 : unit === 'kB' ? 1e3 : 1);

test('apply --wait shows a throttled download growing (bytes, total, speed), a line at most once a second, then Available', async () => {
  const started = Date.now();
  const uri = `${origin}/slow/iris.tar.gz`;
  const applied = await cliAsync(['apply', '-f', irisManifest(work, 'iris-slow', uri), '--wait', '--timeout', '120s'], trantor.env);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(applied.code, 0, applied.stderr);
  const lines = applied.stderr.trimEnd().split('\n');
  const progress = lines.map((line) => PROGRESS.exec(line)).filter((m): m is RegExpExecArray => m !== null);
  assert.ok(progress.length >= 2, `at least two progress lines in:\n${applied.stderr}`);
  for (const m of progress) {
    assert.equal(m[2], uri);
    assert.equal(Number(m[5]), Number((archive.length / 1e6).toFixed(1)), m[0]);
    assert.ok(toBytes(m[6]!, m[7]!) > 0, `a speed above zero: ${m[0]}`);
  }
  const bytes = progress.map((m) => toBytes(m[3]!, m[4]!));
  assert.ok(bytes.every((b, i) => i === 0 || b >= bytes[i - 1]!), `bytes never go back: ${bytes.join(', ')}`);
  assert.ok(bytes.at(-1)! > bytes[0]!, `bytes grow: ${bytes.join(', ')}`);
  // At most one line a second per deployment (plus the first and the final).
  assert.ok(lines.length <= Math.ceil(seconds) + 2, `${lines.length} lines in ${seconds.toFixed(1)} s:\n${applied.stderr}`);
  assert.equal(lines.at(-1), 'seldon/iris-slow: Available (1/1 replicas ready)');

  const rows = [[5.1, 3.5, 1.4, 0.2]];
  const res = await postJson(trantor.url('seldon', 'iris-slow'), { data: { ndarray: rows } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual((res.body as { data: { ndarray: number[][] } }).data.ndarray, sklearnPredictProba(rows));
});

test('apply --wait past its --timeout shows the last state (the download so far) and the commands that show why', async () => {
  const uri = `${origin}/stall/iris.tar.gz`;
  const applied = await cliAsync(['apply', '-f', irisManifest(work, 'iris-stalled', uri), '--wait', '--timeout', '6s'], trantor.env);
  assert.equal(applied.code, 1, applied.stderr);
  const escaped = uri.replace(/[./]/g, (c) => `\\${c}`);
  assert.match(
    applied.stderr,
    new RegExp(
      `error: timed out after 6s waiting for seldon/iris-stalled to become Available\\n` +
        `  last state: seldon/iris-stalled: Creating — downloading ${escaped} [\\d.]+ (kB|MB) of [\\d.]+ MB \\([\\d.]+ (B|kB|MB)/s\\)\\n` +
        `  see why: trantor describe sdep iris-stalled -n seldon; trantor logs iris-stalled -n seldon`,
    ),
  );
  assert.equal((await cliAsync(['delete', 'sdep', 'iris-stalled', '-n', 'seldon'], trantor.env)).code, 0);
});
