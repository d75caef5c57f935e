import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { listCache, parseAge, parseSize, pruneCache } from './cache-admin.ts';
import { cacheEntry } from './fetch.ts';

const FETCH = new URL('./fetch.ts', import.meta.url).href;
/** A process of its own: fetches argv's URI into argv's home (as `trantor up` does), says so, runs until stdin closes. */
const HOLD = `const { fetchModel } = await import(${JSON.stringify(FETCH)});
const [home, uri] = process.argv.slice(1);
const result = await fetchModel(new URL(uri), { home, env: {} });
process.stdout.write('fetched ' + result.folder + '\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));`;
const DAY = 86_400_000;

/** A real process fetching `uri` into `home`'s cache; it uses the entry until `release()`. */
async function holder(home: string, uri: URL): Promise<{ child: ChildProcess; release: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', HOLD, home, uri.href], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('fetched ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`fetch-and-hold exited ${code}: ${out}`)));
  });
  return {
    child,
    release: async () => {
      const exited = once(child, 'exit');
      child.stdin.end();
      await exited;
    },
  };
}

/** Sets an entry's last use `days` ago (what a fetch that long ago left). */
function lastUsed(home: string, uri: URL, days: number): void {
  const when = new Date(Date.now() - days * DAY);
  utimesSync(join(cacheEntry(home, uri), 'manifest.json'), when, when);
}

describe('the model cache: ls and prune', () => {
  let work: string;
  let home: string;
  const models: Record<string, URL> = {};

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'trantor-cache-admin-'));
    home = join(work, 'home');
    for (const [name, size] of [['old', 3000], ['recent', 2000], ['fresh', 1000]] as const) {
      mkdirSync(join(work, name));
      writeFileSync(join(work, name, 'model.bin'), Buffer.alloc(size, 1));
      models[name] = pathToFileURL(join(work, name, 'model.bin'));
      // Fetched by processes that have stopped, as a `trantor up` that ran yesterday.
      await (await holder(home, models[name])).release();
    }
    lastUsed(home, models['old']!, 40);
    lastUsed(home, models['recent']!, 10);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('ls: each entry with its URI, version, size and last use, most recent first; nobody uses them', async () => {
    const listed = await listCache(home);
    assert.deepEqual(listed.map((m) => [m.uri, m.bytes > 0, m.kind, m.users]), [
      [models['fresh']!.href, true, 'cached', []],
      [models['recent']!.href, true, 'cached', []],
      [models['old']!.href, true, 'cached', []],
    ]);
    assert.ok(listed.every((m) => m.version !== undefined));
    assert.ok(Math.abs(Date.now() - 40 * DAY - listed[2]!.lastUsed.getTime()) < 60_000);
  });

  test('a dry run says what would go and removes nothing', async () => {
    const result = await pruneCache(home, { olderThanMs: 30 * DAY, dryRun: true });
    assert.deepEqual(result.removed.map((m) => m.uri), [models['old']!.href]);
    assert.equal((await listCache(home)).length, 3);
  });

  test('an entry a live process uses is kept, named with its pid; removed once that process stops', async () => {
    const user = await holder(home, models['old']!);
    try {
      lastUsed(home, models['old']!, 40); // the holder's fetch touched it; make it old again
      const result = await pruneCache(home, { olderThanMs: 30 * DAY });
      assert.deepEqual(result.removed, []);
      assert.deepEqual(result.kept.map((k) => [k.model.uri, k.reason]), [[models['old']!.href, `in use by process ${user.child.pid}`]]);
      assert.ok(existsSync(cacheEntry(home, models['old']!)));
    } finally {
      await user.release();
    }
    const result = await pruneCache(home, { olderThanMs: 30 * DAY });
    assert.deepEqual(result.removed.map((m) => m.uri), [models['old']!.href]);
    assert.equal(existsSync(cacheEntry(home, models['old']!)), false);
    assert.equal(existsSync(`${cacheEntry(home, models['old']!)}.users`), false);
  });

  test('an entry whose lock a live process holds (a download) is kept', async () => {
    const entry = cacheEntry(home, models['recent']!);
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    writeFileSync(`${entry}.lock`, String(sleeper.pid));
    try {
      const result = await pruneCache(home, { olderThanMs: 1 * DAY });
      assert.deepEqual(result.kept.map((k) => k.reason), [`being downloaded by process ${sleeper.pid}`]);
      assert.ok(existsSync(entry));
    } finally {
      sleeper.kill();
      await once(sleeper, 'exit');
    }
    // The lock's process is gone: the lock is stale and the entry goes.
    const result = await pruneCache(home, { olderThanMs: 1 * DAY, dryRun: true });
    assert.deepEqual(result.removed.map((m) => m.uri), [models['recent']!.href]);
  });

  test('--max-size removes the least recently used until the cache fits', async () => {
    const again = pathToFileURL(join(work, 'old', 'model.bin'));
    await (await holder(home, again)).release(); // back, 3000 bytes, used now
    lastUsed(home, again, 2);
    // recent (10 days, 2000 B), old (2 days, 3000 B), fresh (now, 1000 B): to fit 4500 B, recent goes; to fit 1500 B, old too.
    assert.deepEqual((await pruneCache(home, { maxBytes: 4500, dryRun: true })).removed.map((m) => m.uri), [models['recent']!.href]);
    const result = await pruneCache(home, { maxBytes: 1500 });
    assert.deepEqual(result.removed.map((m) => m.uri), [models['recent']!.href, again.href]);
    assert.ok(result.remainingBytes <= 1500);
    assert.deepEqual((await listCache(home)).map((m) => m.uri), [models['fresh']!.href]);
  });
});

describe('prune flags', () => {
  test('sizes: decimal as ls prints them, binary with i; ages in s m h d w', () => {
    assert.equal(parseSize('10GB', 'f'), 10e9);
    assert.equal(parseSize('1.5GiB', 'f'), 1.5 * 2 ** 30);
    assert.equal(parseSize('2048', 'f'), 2048);
    assert.equal(parseAge('30d', 'f'), 30 * DAY);
    assert.equal(parseAge('2w', 'f'), 14 * DAY);
    assert.equal(parseAge('90m', 'f'), 90 * 60_000);
    assert.throws(() => parseAge('30', '--older-than'), /--older-than "30": expected an age/);
  });

  test('prune without an age or a size is refused', async () => {
    await assert.rejects(pruneCache('/nonexistent', {}), /say what to remove with an age \(--older-than\) or a size \(--max-size\)/);
  });
});
