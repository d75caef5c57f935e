import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fetchModel } from '../storage/index.ts';
import type { Io } from './io.ts';
import { buildProgram, runCli } from './program.ts';

const work = mkdtempSync(join(tmpdir(), 'trantor-cli-storage-'));
const home = join(work, 'home');
const model = pathToFileURL(join(work, 'iris', 'model.bin'));

before(async () => {
  mkdirSync(join(work, 'iris'));
  writeFileSync(join(work, 'iris', 'model.bin'), Buffer.alloc(1000, 1));
  await fetchModel(model, { home, env: {} }); // this process now uses the entry, as a `trantor up` does
});
after(() => rmSync(work, { recursive: true, force: true }));

async function storage(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: () => '', env: {} };
  const code = await runCli(buildProgram(io), ['node', 'trantor', '--home', home, 'storage', ...args], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('storage ls: URI, version, size, last used and the process using each entry', async () => {
  const ls = await storage('ls');
  assert.equal(ls.code, 0, ls.err);
  const [header, row, total] = ls.out.split('\n');
  assert.match(header ?? '', /^URI\s+VERSION\s+SIZE\s+LAST USED\s+IN USE$/);
  assert.match(row ?? '', new RegExp(`^${model.href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+\\d+-1000\\s+1\\.\\d kB\\s+\\d+s ago\\s+pid ${process.pid}$`));
  assert.match(total ?? '', /^1 entry, 1\.\d kB$/); // the model and its manifest
  const json = JSON.parse((await storage('ls', '-o', 'json')).out) as { uri: string; users: number[]; kind: string }[];
  assert.deepEqual(json.map((m) => [m.uri, m.users, m.kind]), [[model.href, [process.pid], 'cached']]);
});

test('storage prune keeps an entry in use, saying by whom; --dry-run and the default age', async () => {
  const prune = await storage('prune', '--max-size', '0B');
  assert.equal(prune.code, 0, prune.err);
  assert.match(prune.out, new RegExp(`^kept file://.*/iris/model\\.bin \\(1\\.\\d kB\\): in use by process ${process.pid}\\nremoved 0 entries, 0 B; the cache holds 1\\.\\d kB$`));
  const dry = await storage('prune', '--dry-run');
  assert.match(dry.out, /^would remove 0 entries, 0 B; the cache would hold 1\.\d kB$/);
});

test('storage prune: a bad age or size is refused, naming the flag', async () => {
  const age = await storage('prune', '--older-than', '30 days');
  assert.equal(age.code, 1);
  assert.match(age.err, /--older-than "30 days": expected an age such as 30d/);
  assert.match((await storage('prune', '--max-size', 'lots')).err, /--max-size "lots": expected a size such as 10GB/);
  assert.match((await storage('ls', '-o', 'yaml')).err, /-o yaml: unknown output format; use json/);
});
