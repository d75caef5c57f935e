import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import * as tar from 'tar';
import { TrantorError } from '../protocol/index.ts';
import { cacheEntry, fetchModel, fetchModelTo, type FetchProgress } from './fetch.ts';

interface Served {
  body: Buffer;
  etag: string;
  /** Answer a Range request with the whole file (200), as some servers do. */
  noRange?: boolean;
  /** Cut the connection after this many bytes, this many times. */
  cutAfter?: number;
  cuts?: number;
}

const files = new Map<string, Served>();
const requests: { method: string; path: string; range: string | undefined }[] = [];
let server: Server;
let origin: string;
const work = mkdtempSync(join(tmpdir(), 'trantor-fetch-'));

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  requests.push({ method: req.method ?? '', path, range: req.headers.range });
  if (path === '/moved.bin') {
    res.writeHead(302, { location: '/data.bin' }).end();
    return;
  }
  const file = files.get(path);
  if (file === undefined) {
    res.writeHead(404).end('no');
    return;
  }
  const start = file.noRange === true ? 0 : Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
  const body = file.body.subarray(start);
  const headers = { etag: file.etag, 'content-length': String(body.length), 'accept-ranges': 'bytes' };
  if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` });
  else res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (file.cutAfter !== undefined && (file.cuts ?? 0) > 0 && body.length > file.cutAfter) {
    file.cuts = (file.cuts ?? 0) - 1;
    res.write(body.subarray(0, file.cutAfter), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

const options = (home: string): { home: string; env: Record<string, string>; backoffMs: number } => ({ home, env: {}, backoffMs: 1 });

before(async () => {
  server = createServer(serve);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

test('an HTTP file is fetched into the cache, then served from it while its ETag is unchanged', async () => {
  const home = join(work, 'cache-hit');
  files.set('/data.bin', { body: Buffer.alloc(100_000, 7), etag: '"v1"' });
  const url = new URL(`${origin}/data.bin`);
  const first = await fetchModel(url, options(home));
  assert.equal(first.fromCache, false);
  assert.equal(first.bytes, 100_000);
  assert.deepEqual(readFileSync(join(first.folder, 'data.bin')), Buffer.alloc(100_000, 7));
  requests.length = 0;
  const second = await fetchModel(url, options(home));
  assert.equal(second.fromCache, true);
  assert.deepEqual(requests.map((r) => r.method), ['HEAD']);
  files.set('/data.bin', { body: Buffer.alloc(50, 1), etag: '"v2"' });
  const third = await fetchModel(url, options(home));
  assert.equal(third.fromCache, false);
  assert.deepEqual(readFileSync(join(third.folder, 'data.bin')), Buffer.alloc(50, 1));
  // The entry, and who uses it (this process, until it ends: `trantor storage prune` keeps it).
  const id = cacheEntry(home, url).split('/').pop();
  assert.deepEqual(readdirSync(join(home, 'models')).sort(), [id, `${id}.users`]);
  assert.deepEqual(readdirSync(join(home, 'models', `${id}.users`)), [String(process.pid)]);
});

test('a transfer cut mid-body is resumed with a Range request from the bytes on disk', async () => {
  const home = join(work, 'resume');
  const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
  files.set('/big.bin', { body, etag: '"big"', cutAfter: 120_000, cuts: 1 });
  const seen: FetchProgress[] = [];
  const result = await fetchModel(new URL(`${origin}/big.bin`), { ...options(home), onProgress: (p) => seen.push(p), progressIntervalMs: 0 });
  assert.deepEqual(readFileSync(join(result.folder, 'big.bin')), body);
  const gets = requests.filter((r) => r.path === '/big.bin' && r.method === 'GET');
  assert.equal(gets.length, 2);
  assert.match(gets[1]?.range ?? '', /^bytes=\d+-$/);
  assert.ok(Number(/\d+/.exec(gets[1]?.range ?? '')?.[0]) > 0, 'the retry starts past 0');
  assert.equal(seen.at(-1)?.bytes, 300_000);
  assert.equal(seen.at(-1)?.total, 300_000);
});

test('a transfer cut on every try fails naming the URI, nothing is served, and the next fetch resumes', async () => {
  const home = join(work, 'always-cut');
  files.set('/cut.bin', { body: Buffer.alloc(400_000, 3), etag: '"c"', cutAfter: 150_000, cuts: 2 });
  const url = new URL(`${origin}/cut.bin`);
  await assert.rejects(fetchModel(url, { ...options(home), attempts: 2 }), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, /cut\.bin.*\(after 2 tries\)/);
    return true;
  });
  assert.equal(existsSync(cacheEntry(home, url)), false);
  const held = statSync(join(`${cacheEntry(home, url)}.partial`, 'data', 'cut.bin')).size;
  assert.ok(held > 0, 'the failed fetch left its bytes');
  requests.length = 0;
  const result = await fetchModel(url, options(home));
  assert.deepEqual(readFileSync(join(result.folder, 'cut.bin')), Buffer.alloc(400_000, 3));
  assert.deepEqual(requests.filter((r) => r.method === 'GET').map((r) => r.range), [`bytes=${held}-`]);
});

test('a server that ignores Range is read again from the start, the bytes already held skipped', async () => {
  const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
  files.set('/norange.bin', { body, etag: '"n"', noRange: true, cutAfter: 100_000, cuts: 1 });
  const result = await fetchModel(new URL(`${origin}/norange.bin`), options(join(work, 'norange')));
  assert.deepEqual(readFileSync(join(result.folder, 'norange.bin')), body);
  assert.equal(requests.filter((r) => r.path === '/norange.bin' && r.method === 'GET').length, 2);
});

test('a redirect is followed', async () => {
  files.set('/data.bin', { body: Buffer.from('moved'), etag: '"m"' });
  const result = await fetchModel(new URL(`${origin}/moved.bin`), options(join(work, 'redirect')));
  assert.equal(readFileSync(join(result.folder, 'moved.bin'), 'utf8'), 'moved');
});

test('a .tar.gz and a .zip are unpacked into the model folder', async () => {
  const src = join(work, 'archive-src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'model.joblib'), 'weights');
  writeFileSync(join(src, 'sub', 'extra.txt'), 'extra');
  const tgz = join(work, 'model.tar.gz');
  await tar.c({ gzip: true, file: tgz, cwd: src }, ['model.joblib', 'sub']);
  files.set('/model.tar.gz', { body: readFileSync(tgz), etag: '"t"' });
  const result = await fetchModel(new URL(`${origin}/model.tar.gz`), options(join(work, 'tgz')));
  assert.equal(readFileSync(join(result.folder, 'model.joblib'), 'utf8'), 'weights');
  assert.equal(readFileSync(join(result.folder, 'sub', 'extra.txt'), 'utf8'), 'extra');
  assert.equal(existsSync(join(result.folder, 'model.tar.gz')), false);

  const zip = readFileSync(new URL('./testdata/model.zip', import.meta.url));
  files.set('/model.zip', { body: zip, etag: '"z"' });
  const unzipped = await fetchModel(new URL(`${origin}/model.zip`), options(join(work, 'zip')));
  assert.equal(readFileSync(join(unzipped.folder, 'model.joblib'), 'utf8'), 'weights\n');
});

test('an archive with an entry escaping the folder is refused, naming the entry', async () => {
  const src = join(work, 'escape-src', 'in');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(work, 'escape-src', 'outside.txt'), 'x');
  const dotdot = join(work, 'dotdot.tgz');
  await tar.c({ gzip: true, file: dotdot, cwd: src, preservePaths: true }, ['../outside.txt']);
  files.set('/dotdot.tgz', { body: readFileSync(dotdot), etag: '"d"' });
  const home = join(work, 'escape');
  await assert.rejects(fetchModel(new URL(`${origin}/dotdot.tgz`), options(home)), /\.\.\/outside\.txt climbs out/);

  const linked = join(work, 'link-src');
  mkdirSync(linked, { recursive: true });
  symlinkSync('../../etc/passwd', join(linked, 'model.joblib'));
  const link = join(work, 'link.tgz');
  await tar.c({ gzip: true, file: link, cwd: linked }, ['model.joblib']);
  files.set('/link.tgz', { body: readFileSync(link), etag: '"l"' });
  await assert.rejects(fetchModel(new URL(`${origin}/link.tgz`), options(home)), /model\.joblib links outside the folder/);
  assert.equal(existsSync(join(work, 'passwd')), false);

  files.set('/escape.zip', { body: readFileSync(new URL('./testdata/escape.zip', import.meta.url)), etag: '"e"' });
  await assert.rejects(fetchModel(new URL(`${origin}/escape.zip`), options(home)), /escape\.zip: the archive is refused: .*\.\.\/evil\.txt/);
  assert.deepEqual(readdirSync(join(home, 'models')).filter((n) => !n.endsWith('.partial')), []);
});

test('a missing file is NOT_FOUND and a dead endpoint UNAVAILABLE, each naming the URI', async () => {
  const home = join(work, 'errors');
  await assert.rejects(fetchModel(new URL(`${origin}/nothing.tgz`), options(home)), (err: TrantorError) => err.code === 'NOT_FOUND' && err.message.includes('/nothing.tgz'));
  const dead = createServer();
  await new Promise<void>((ok) => dead.listen(0, '127.0.0.1', ok));
  const port = (dead.address() as AddressInfo).port;
  await new Promise<void>((ok) => dead.close(() => ok()));
  await assert.rejects(fetchModel(new URL(`http://127.0.0.1:${port}/m.tgz`), options(home)), (err: TrantorError) => {
    assert.equal(err.code, 'UNAVAILABLE');
    assert.match(err.message, new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
    return true;
  });
});

test('a folder of many files is copied in parallel straight into a destination, with no cache', async () => {
  const src = join(work, 'many');
  mkdirSync(join(src, 'deep', 'er'), { recursive: true });
  for (let i = 0; i < 12; i++) writeFileSync(join(src, i % 2 === 0 ? '' : 'deep/er', `part-${i}.bin`), Buffer.alloc(1000 + i, i));
  const dest = join(work, 'many-dest');
  const result = await fetchModelTo(pathToFileURL(src), dest, { ...options(join(work, 'unused')), concurrency: 3 });
  assert.equal(result.bytes, 12 * 1000 + 66);
  assert.deepEqual(readFileSync(join(dest, 'deep', 'er', 'part-5.bin')), Buffer.alloc(1005, 5));
  assert.equal(existsSync(join(dest, '.trantor-partial')), false);
  assert.equal(existsSync(join(work, 'unused')), false, 'no cache written');
});

test('concurrent fetches of one URI share one download', async () => {
  files.set('/shared.bin', { body: Buffer.alloc(10, 2), etag: '"s"' });
  requests.length = 0;
  const url = new URL(`${origin}/shared.bin`);
  const [a, b] = await Promise.all([fetchModel(url, options(join(work, 'shared'))), fetchModel(url, options(join(work, 'shared')))]);
  assert.equal(a, b);
  assert.equal(requests.filter((r) => r.method === 'GET').length, 1);
});

test('one of two callers sharing a download gives up, and the other still gets the model', async () => {
  files.set('/shared2.bin', { body: Buffer.alloc(500_000, 4), etag: '"s2"' });
  const url = new URL(`${origin}/shared2.bin`);
  const home = join(work, 'shared2');
  const quitter = new AbortController();
  const first = fetchModel(url, { ...options(home), signal: quitter.signal });
  const second = fetchModel(url, { ...options(home), signal: new AbortController().signal });
  quitter.abort(new Error('removed'));
  await assert.rejects(first, /removed/);
  const result = await second;
  assert.deepEqual(readFileSync(join(result.folder, 'shared2.bin')), Buffer.alloc(500_000, 4));
});

test("a lock left by a process that is gone is taken over, and the lock is released after the fetch", async () => {
  files.set('/locked.bin', { body: Buffer.alloc(10, 5), etag: '"k"' });
  const url = new URL(`${origin}/locked.bin`);
  const home = join(work, 'locked');
  const entry = cacheEntry(home, url);
  mkdirSync(join(home, 'models'), { recursive: true });
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(`${entry}.lock`, gone.stdout);
  const result = await fetchModel(url, options(home));
  assert.equal(result.fromCache, false);
  assert.equal(existsSync(`${entry}.lock`), false);
});
