/**
 * Models from where users keep them: `trantor storage-init SRC DEST` (KServe's contract) and
 * `trantor up` serving an iris SKLEARN_SERVER whose modelUri is an archive on a real HTTP server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { ROOT, Trantor, postJson, sklearnPredictProba, type CliResult } from './harness.ts';
import { cliAsync, irisManifest as irisManifestIn } from './storage-support.ts';

const work = mkdtempSync(join(tmpdir(), 'trantor-storage-e2e-'));
const archive = join(work, 'iris.tar.gz');
const gets: string[] = [];
let server: Server;
let origin = '';
const trantor = new Trantor();

before(async () => {
  await tar.c({ gzip: true, file: archive, cwd: join(ROOT, 'examples', 'iris', 'model') }, ['model.joblib']);
  const body = readFileSync(archive);
  server = createServer((req, res) => {
    if (req.url !== '/iris.tar.gz') {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'GET') gets.push(req.url);
    res.writeHead(200, { etag: '"iris-1"', 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await trantor.close();
  server.close();
});

/** `trantor ARGS` without blocking this process, whose HTTP server the command downloads from. */
function cli(args: string[]): Promise<CliResult> {
  return cliAsync(args, trantor.env);
}

function irisManifest(name: string, modelUri: string): string {
  return irisManifestIn(work, name, modelUri);
}

test('storage-init fetches an archive into DEST unpacked, and a second run comes from the cache', async () => {
  const dest = join(work, 'dest');
  const first = await cli(['storage-init', `${origin}/iris.tar.gz`, dest]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(readFileSync(join(dest, 'model.joblib')), readFileSync(join(ROOT, 'examples', 'iris', 'model', 'model.joblib')));
  assert.equal(existsSync(join(dest, 'iris.tar.gz')), false);
  const before = gets.length;
  const again = await cli(['storage-init', `${origin}/iris.tar.gz`, join(work, 'dest2')]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /from the cache/);
  assert.equal(gets.length, before, 'nothing downloaded the second time');
});

test('storage-init --no-cache of a missing file exits 1 naming the URI and the cause', async () => {
  const result = await cli(['storage-init', '--no-cache', `${origin}/nothing.tgz`, join(work, 'dest3')]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`error: ${origin}/nothing\\.tgz: no such file \\(404 Not Found\\); check the modelUri`));
});

test('trantor up serves an iris model fetched from an HTTP archive, and a missing one is Failed with its cause', async () => {
  await trantor.up();
  const applied = await cli(['apply', '-f', irisManifest('iris-http', `${origin}/iris.tar.gz`), '--wait', '--timeout', '120s']);
  assert.equal(applied.code, 0, applied.stderr);
  const rows = [[5.1, 3.5, 1.4, 0.2]];
  const res = await postJson(trantor.url('seldon', 'iris-http'), { data: { ndarray: rows } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual((res.body as { data: { ndarray: number[][] } }).data.ndarray, sklearnPredictProba(rows));

  const missing = await cli(['apply', '-f', irisManifest('iris-missing', `${origin}/gone/iris.tar.gz`), '--wait', '--timeout', '60s']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot fetch the model of node "classifier": http:\/\/127\.0\.0\.1:\d+\/gone\/iris\.tar\.gz: no such file \(404 Not Found\); check the modelUri/);
});

test('storage prune keeps the model a live trantor up serves, and removes it once trantor up has stopped', async () => {
  const upPid = trantor.pid;
  assert.ok(upPid !== undefined, 'trantor up runs (started by the test before)');
  const ls = await cli(['storage', 'ls']);
  assert.equal(ls.code, 0, ls.stderr);
  const uri = `${origin}/iris.tar.gz`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(ls.stdout, new RegExp(`^${uri}\\s+"iris-1"\\s+\\S+ kB\\s+\\d+s ago\\s+pid ${upPid}$`, 'm'));

  const prune = await cli(['storage', 'prune', '--max-size', '0B']);
  assert.equal(prune.code, 0, prune.stderr);
  assert.match(prune.stdout, new RegExp(`^kept ${uri} \\(\\S+ kB\\): in use by process ${upPid}$`, 'm'));
  const rows = [[5.1, 3.5, 1.4, 0.2]];
  const res = await postJson(trantor.url('seldon', 'iris-http'), { data: { ndarray: rows } });
  assert.equal(res.status, 200, 'still served after the prune');

  await trantor.stop();
  const after = await cli(['storage', 'prune', '--max-size', '0B']);
  assert.match(after.stdout, new RegExp(`^removed ${uri} `, 'm'));
  assert.match((await cli(['storage', 'ls'])).stdout, /^the model cache is empty$/m);
});
