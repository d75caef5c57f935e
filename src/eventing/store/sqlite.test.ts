import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { TrantorError, dataBytes, decodeStructured } from '../../protocol/index.ts';
import { DURABILITIES, SqliteEventStore, openSqliteStore } from './sqlite.ts';
import type { Durability } from './sqlite.ts';
import { fillDisk, mountSmallDisk } from '../../../test/small-disk.ts';
import { eventStoreContract, sampleEvent } from './testing.ts';
import type { OpenInChild } from './testing.ts';

const MODULE = fileURLToPath(new URL('./sqlite.ts', import.meta.url));

/** How a child process opens the same store: sqlite.ts's `openSqliteStore(folder, durability)`. */
const inChild = (durability: Durability): OpenInChild => ({ module: MODULE, name: 'openSqliteStore', args: [durability] });

for (const durability of DURABILITIES) {
  eventStoreContract(`sqlite, durability ${durability}`, (folder) => openSqliteStore(folder, durability), inChild(durability));
}

test('sqlite: durability is process (synchronous=NORMAL) unless fsync (synchronous=FULL) is asked for', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'trantor-store-'));
  const plain = new SqliteEventStore({ path: join(folder, 'a.db') });
  const fsync = new SqliteEventStore({ path: join(folder, 'b.db'), durability: 'fsync' });
  try {
    assert.equal(plain.durability, 'process');
    assert.equal(fsync.durability, 'fsync');
  } finally {
    await plain.close();
    await fsync.close();
  }
});

/**
 * Counts the fsync and fdatasync calls a child process makes while it appends `count` events one
 * after another (each awaited, as one producer), or all at once (one group commit).
 */
function syncCalls(durability: 'fsync' | 'process', count: number, concurrent: boolean): number | string {
  const folder = mkdtempSync(join(tmpdir(), 'trantor-store-'));
  const trace = join(folder, 'trace');
  const script = `
    import { SqliteEventStore } from ${JSON.stringify(MODULE)};
    const store = new SqliteEventStore({ path: ${JSON.stringify(join(folder, 'events.db'))}, durability: ${JSON.stringify(durability)} });
    const event = (i) => ({ specversion: '1.0', id: String(i), source: 's', type: 't', extensions: {} });
    await store.append('ns/default', [{ event: event(-1), triggers: [] }]);
    process.stdout.write('start\\n');
    const append = (i) => store.append('ns/default', [{ event: event(i), triggers: ['ns/t'] }]);
    if (${concurrent}) await Promise.all(Array.from({ length: ${count} }, (_, i) => append(i)));
    else for (let i = 0; i < ${count}; i++) await append(i);
    process.stdout.write('end\\n');
    process.kill(process.pid, 'SIGKILL');
  `;
  // -e write=1 ties each traced call to where the script wrote its markers on stdout.
  const child = spawnSync(
    'strace',
    ['-f', '-o', trace, '-e', 'trace=fsync,fdatasync,write', '-e', 'signal=none', process.execPath, '--import', 'tsx', '--input-type=module', '--eval', script],
    { encoding: 'utf8' },
  );
  if (child.error !== undefined || !child.stdout.includes('end')) {
    rmSync(folder, { recursive: true, force: true });
    return `strace could not run the child: ${String(child.error ?? child.stderr)}`;
  }
  const lines = readFileSync(trace, 'utf8').split('\n');
  rmSync(folder, { recursive: true, force: true });
  const start = lines.findIndex((l) => l.includes('write(1, "start'));
  const end = lines.findIndex((l) => l.includes('write(1, "end'));
  return lines.slice(start, end).filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length;
}

const strace = spawnSync('strace', ['-V']).status === 0 ? undefined : 'strace is not installed';

test('sqlite: with fsync durability every commit is fsynced before its append resolves; with process, none is', { skip: strace }, () => {
  const fsync = syncCalls('fsync', 40, false);
  const plain = syncCalls('process', 40, false);
  if (typeof fsync === 'string' || typeof plain === 'string') assert.fail(String(typeof fsync === 'string' ? fsync : plain));
  assert.ok(fsync >= 40, `40 awaited appends with fsync durability made ${fsync} fsyncs; expected one per commit`);
  assert.ok(plain < 5, `40 awaited appends with process durability made ${plain} fsyncs; expected none (checkpoints aside)`);
});

test('sqlite: with fsync durability concurrent appends share one commit and its fsync', { skip: strace }, () => {
  const calls = syncCalls('fsync', 200, true);
  if (typeof calls === 'string') assert.fail(calls);
  assert.ok(calls >= 1 && calls <= 6, `200 concurrent appends made ${calls} fsyncs; expected one group commit`);
});

test('sqlite: on a full disk an append is refused with INSUFFICIENT_STORAGE, marks wait, and both work once space is freed', async (t) => {
  const disk = mountSmallDisk('4m');
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  const path = join(disk.dir, 'events.db');
  const store = new SqliteEventStore({ path, durability: 'fsync', retryMs: 50 });
  try {
    const [first] = await store.append('ns/default', [{ event: sampleEvent('before'), triggers: ['ns/t'] }]);
    const filler = join(disk.dir, 'filler');
    fillDisk(filler);
    // Space SQLite already holds may take a few more; the disk runs out within a few hundred.
    let refused: unknown;
    const stored: string[] = [];
    for (let i = 0; i < 500 && refused === undefined; i++) {
      const big = sampleEvent(`full-${i}`, { data: { pad: 'x'.repeat(2000) } });
      try {
        await store.append('ns/default', [{ event: big, triggers: ['ns/t'] }]);
        stored.push(big.id);
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused instanceof TrantorError, `expected a TrantorError, got ${String(refused)}`);
    assert.equal(refused.code, 'INSUFFICIENT_STORAGE');
    assert.equal(refused.status, 507);
    assert.match(refused.message, new RegExp(`^the broker's disk is full: ${path}: `));

    // A mark made while the disk is full is kept, not lost: it settles once space is back.
    let marked = false;
    const mark = store.markDelivered('ns/t', first!).then(() => {
      marked = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stillFull = await store.append('ns/default', [{ event: sampleEvent('still-full', { data: { pad: 'x'.repeat(2000) } }), triggers: [] }]).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.equal((stillFull as TrantorError | undefined)?.code, 'INSUFFICIENT_STORAGE');
    assert.equal(marked, false);

    rmSync(filler);
    await mark;
    const [after] = await store.append('ns/default', [{ event: sampleEvent('after'), triggers: ['ns/t'] }]);
    assert.ok(after! > first!);
    const pending = (await store.pending('ns/t')).map((p) => p.event.id);
    assert.deepEqual(pending, [...stored, 'after']);
    assert.equal((await store.counts('ns/t')).delivered, 1);
  } finally {
    await store.close();
    disk.unmount();
  }
});

test('sqlite: rows written before data was kept as text are still read and delivered, even under rules made stricter since', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'trantor-store-')), 'events.db');
  await new SqliteEventStore({ path }).close(); // creates the schema
  // What the store wrote before: eventToJson's object, data re-serialised, a 40-bit integer extension accepted then.
  const old = JSON.stringify({ specversion: '1.0', id: 'old', source: 's', type: 't', datacontenttype: 'application/json', big: 1099511627776, data: { a: [1, 2] } });
  const db = new Database(path);
  const seq = Number(db.prepare('INSERT INTO events (broker, event) VALUES (?, ?)').run('ns/default', old).lastInsertRowid);
  db.prepare('INSERT INTO deliveries (trigger, seq) VALUES (?, ?)').run('ns/t', seq);
  db.close();
  const store = new SqliteEventStore({ path });
  try {
    const [pending] = await store.pending('ns/t');
    assert.equal(pending?.event.id, 'old');
    assert.equal(pending.event.extensions['big'], 1099511627776);
    assert.deepEqual(pending.event.data, { a: [1, 2] });
    assert.equal(dataBytes(pending.event).toString(), '{"a":[1,2]}');
  } finally {
    await store.close();
  }
});

test('sqlite: an event is stored in the JSON format with its data text spliced in exactly', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'trantor-store-')), 'events.db');
  const store = new SqliteEventStore({ path });
  const exact = '{"n":12345678901234567890}';
  await store.append('ns/default', [{ event: decodeStructured(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":${exact}}`), triggers: [] }]);
  await store.close();
  const db = new Database(path, { readonly: true });
  const row = db.prepare<[], { event: string }>('SELECT event FROM events').get();
  db.close();
  assert.ok(row?.event.endsWith(`"data":${exact}}`), row?.event);
});
