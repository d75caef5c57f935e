import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillDisk, mountSmallDisk } from '../../../test/small-disk.ts';
import { PassThrough } from 'node:stream';
import { AppendLog, DeploymentLogs } from './logs.ts';

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('AppendLog writes lines in order, creating its folder', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'trantor-log-')), 'sub', 'a.log');
  const log = new AppendLog(path);
  for (let i = 0; i < 100; i++) log.write(`line ${i}\n`);
  await new Promise<void>((resolve) => log.flush(() => resolve()));
  await log.end();
  assert.equal(readFileSync(path, 'utf8'), Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(''));
  assert.equal(log.dropped, 0);
});

test('AppendLog on a full disk drops and counts lines, warns once, and writes again once space is freed', async (t) => {
  const disk = mountSmallDisk('1m');
  if (typeof disk === 'string') {
    t.skip(disk);
    return;
  }
  const notices: string[] = [];
  const path = join(disk.dir, 'logs', 'trantor.log');
  const log = new AppendLog(path, { retryMs: 50, onTrouble: (message) => notices.push(message) });
  try {
    log.write('before\n');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    const filler = join(disk.dir, 'filler');
    fillDisk(filler);
    // The file's last page has some slack: write until the disk refuses.
    for (let i = 0; i < 10_000 && notices.length === 0; i++) {
      assert.doesNotThrow(() => log.write(`${'x'.repeat(200)} ${i}\n`));
      if (i % 50 === 0) await new Promise<void>((resolve) => log.flush(() => resolve()));
    }
    await until('the warning', () => notices.length > 0);
    assert.match(notices[0]!, /trantor\.log failed \(.*ENOSPC.*\); dropping log lines until it works again/);
    assert.ok(log.dropped > 0);
    // Still failing: more lines dropped, no second warning.
    const dropped = log.dropped;
    for (let i = 0; i < 200; i++) log.write(`more ${i}\n`);
    await until('the retries to go on failing', () => log.dropped > dropped);
    assert.equal(notices.length, 1);

    rmSync(filler);
    await until('the log working again', () => notices.length === 2);
    assert.match(notices[1]!, /works again; \d+ log line\(s\) were dropped/);
    log.write('after\n');
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    const text = readFileSync(path, 'utf8');
    assert.match(text, /log line\(s\) dropped: ENOSPC/);
    assert.ok(text.endsWith('after\n'));
  } finally {
    await log.end();
    disk.unmount();
  }
});

test('AppendLog holds at most its buffer while a write is slow, dropping the rest', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'trantor-log-')), 'a.log');
  const log = new AppendLog(path, { maxBufferedBytes: 1000 });
  let kept = 0;
  for (let i = 0; i < 100; i++) if (log.write(`${'y'.repeat(99)}\n`)) kept++;
  assert.equal(kept, 10);
  assert.equal(log.dropped, 90);
  return log.end();
});

test('DeploymentLogs keeps its lines per replica, cut at lineMax, and quotes a capture\'s last lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-deployment-logs-'));
  const logs = new DeploymentLogs(dir, () => undefined, { lines: 2, lineMax: 5 });
  const stdout = new PassThrough();
  const capture = logs.capture('default/model/0', stdout, null, 1);
  stdout.write('one\ntwo\nthree and more\nend');
  await until('three lines read', () => logs.lines().length === 2 && logs.lines()[1]!.line === 'three…');
  assert.deepEqual(logs.lines().map((l) => l.line), ['two', 'three…']);
  assert.deepEqual(capture.tail(), ['three…']);
  capture.finish();
  assert.deepEqual(logs.lines().map((l) => l.line), ['three…', 'end'], 'the last partial line on finish');
  await logs.close();
  assert.equal(readFileSync(logs.fileOf('default/model/0'), 'utf8'), 'one\ntwo\nthree and more\nend', 'the file keeps whole lines');
  rmSync(dir, { recursive: true, force: true });
});

test('DeploymentLogs keeps the previous run of a restarted replica apart, and tails each replica', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-deployment-logs-'));
  const logs = new DeploymentLogs(dir, () => undefined, { lines: 10, lineMax: 100 });
  const first = new PassThrough();
  logs.capture('default/model/0', first, null, 1).finish();
  first.write('run 1 a\nrun 1 b\n');
  const other = new PassThrough();
  logs.capture('default/model/1', other, null, 1);
  other.write('other a\nother b\n');
  await until('both replicas read', () => logs.lines().length === 4);
  assert.deepEqual(logs.lines({ previous: true }), [], 'no replica has restarted yet');
  const second = new PassThrough();
  logs.capture('default/model/0', second, null, 1);
  second.write('run 2\n');
  await until('the second run read', () => logs.lines().some((l) => l.line === 'run 2'));
  assert.deepEqual(logs.lines().map((l) => l.line), ['other a', 'other b', 'run 2']);
  assert.deepEqual(logs.lines({ previous: true }).map((l) => l.line), ['run 1 a', 'run 1 b']);
  assert.deepEqual(logs.lines({ tail: 1 }).map((l) => l.line), ['other b', 'run 2'], 'the last line of each replica');
  await logs.close();
  rmSync(dir, { recursive: true, force: true });
});
