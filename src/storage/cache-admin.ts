/**
 * The model cache seen from outside a fetch: what `<home>/models/` holds (`trantor storage ls`)
 * and removing what is old or over a size (`trantor storage prune`).
 *
 * In use, never removed: an entry with a user file `<entry>.users/<pid>` whose process runs (a
 * `trantor up` that fetched it for a deployment keeps it until that process stops), and an entry
 * whose `<entry>.lock` a live process holds (a download in progress). Prune takes the entry's lock
 * itself and looks at its users under that lock; a fetch marks its use under the same lock, so a
 * fetch never hands out a folder prune is removing. Users whose process is gone are forgotten.
 *
 * Last used is the manifest's mtime, which every fetch of the entry (downloaded or found) sets.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TrantorError } from '../protocol/index.ts';
import { alive, entryUsers, readManifest, tryLockEntry } from './fetch.ts';

export interface CachedModel {
  /** The entry's folder name (sha256 of the normalized URI); `<id>.partial` for a broken download. */
  readonly id: string;
  readonly path: string;
  /** The URI it was fetched from, when its manifest says (a broken download's does not). */
  readonly uri: string | undefined;
  /** The one object's version (ETag, generation…), `N objects` for a folder, undefined when unknown. */
  readonly version: string | undefined;
  /** Bytes on disk. */
  readonly bytes: number;
  readonly lastUsed: Date;
  /** `cached`, or `partial` (a download that broke off, kept to resume), or `leftover` (a crashed swap's old copy). */
  readonly kind: 'cached' | 'partial' | 'leftover';
  /** Live processes using it (a `trantor up`, a `storage-init`). */
  readonly users: readonly number[];
  /** A live process holds its lock (downloading into it), by pid. */
  readonly lockedBy: number | undefined;
}

const ENTRY = /^([0-9a-f]{64})(\.partial|\.old-[0-9a-f]+)?$/;

export function cacheRoot(home: string): string {
  return join(home, 'models');
}

/** Every entry of the cache, most recently used first. */
export async function listCache(home: string): Promise<CachedModel[]> {
  const root = cacheRoot(home);
  const names = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const models: CachedModel[] = [];
  for (const name of names) {
    const match = ENTRY.exec(name);
    if (match === null) continue;
    const path = join(root, name);
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || !info.isDirectory()) continue;
    const base = join(root, match[1]!);
    const kind = match[2] === undefined ? 'cached' : match[2] === '.partial' ? 'partial' : 'leftover';
    const manifest = kind === 'cached' ? await readManifest(join(path, 'manifest.json')) : undefined;
    const used = kind === 'cached' ? await stat(join(path, 'manifest.json')).catch(() => undefined) : undefined;
    let version: string | undefined;
    if (manifest !== undefined) version = manifest.objects.length === 1 ? manifest.objects[0]?.version : `${manifest.objects.length} objects`;
    models.push({
      id: name,
      path,
      uri: manifest?.uri ?? (kind === 'cached' ? undefined : await usersUri(base)),
      version,
      bytes: await diskBytes(path),
      lastUsed: used?.mtime ?? info.mtime,
      kind,
      users: kind === 'cached' ? await liveUsers(base) : [],
      lockedBy: await lockHolder(base),
    });
  }
  return models.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
}

async function diskBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await diskBytes(join(path, name));
  return total;
}

async function users(base: string): Promise<{ pid: number; file: string; uri: string | undefined }[]> {
  const folder = entryUsers(base);
  const found: { pid: number; file: string; uri: string | undefined }[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(join(folder, name), 'utf8').catch(() => '');
    let uri: string | undefined;
    try {
      const parsed = (JSON.parse(text) as { uri?: unknown }).uri;
      uri = typeof parsed === 'string' ? parsed : undefined;
    } catch {
      uri = undefined;
    }
    found.push({ pid: Number(name), file: join(folder, name), uri });
  }
  return found;
}

async function liveUsers(base: string): Promise<number[]> {
  return (await users(base)).filter((u) => alive(u.pid)).map((u) => u.pid);
}

async function usersUri(base: string): Promise<string | undefined> {
  return (await users(base)).find((u) => u.uri !== undefined)?.uri;
}

async function lockHolder(base: string): Promise<number | undefined> {
  const text = await readFile(`${base}.lock`, 'utf8').catch(() => undefined);
  const pid = Number(text);
  return text !== undefined && Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

// ---- prune ------------------------------------------------------------------------------------

export interface PruneOptions {
  /** Remove entries last used longer ago than this. */
  readonly olderThanMs?: number;
  /** Then remove the least recently used until the cache holds at most this many bytes. */
  readonly maxBytes?: number;
  /** Say what would go, remove nothing. */
  readonly dryRun?: boolean;
  readonly now?: number;
}

export interface PruneResult {
  readonly removed: readonly CachedModel[];
  /** Entries prune wanted to remove but could not, and why (in use, being downloaded). */
  readonly kept: readonly { readonly model: CachedModel; readonly reason: string }[];
  readonly freedBytes: number;
  /** The cache's bytes after pruning. */
  readonly remainingBytes: number;
}

/** Removes what `options` selects, never an entry in use. */
export async function pruneCache(home: string, options: PruneOptions): Promise<PruneResult> {
  if (options.olderThanMs === undefined && options.maxBytes === undefined) {
    throw new TrantorError('BAD_MANIFEST', 'prune: say what to remove with an age (--older-than) or a size (--max-size)');
  }
  const now = options.now ?? Date.now();
  const models = await listCache(home);
  const busy = (m: CachedModel): string | undefined =>
    m.lockedBy !== undefined ? `being downloaded by process ${m.lockedBy}` : m.users.length > 0 ? `in use by process ${m.users.join(', ')}` : undefined;

  const chosen: CachedModel[] = [];
  const kept: { model: CachedModel; reason: string }[] = [];
  const choose = (m: CachedModel): boolean => {
    const reason = busy(m);
    if (reason !== undefined) {
      if (!kept.some((k) => k.model === m)) kept.push({ model: m, reason });
      return false;
    }
    chosen.push(m);
    return true;
  };
  for (const m of models) {
    if (m.kind === 'leftover' || (options.olderThanMs !== undefined && now - m.lastUsed.getTime() > options.olderThanMs)) choose(m);
  }
  let total = models.reduce((sum, m) => sum + m.bytes, 0) - chosen.reduce((sum, m) => sum + m.bytes, 0);
  if (options.maxBytes !== undefined) {
    // Least recently used first.
    for (const m of [...models].reverse()) {
      if (total <= options.maxBytes) break;
      if (chosen.includes(m)) continue;
      if (choose(m)) total -= m.bytes;
    }
  }

  const removed: CachedModel[] = [];
  for (const m of chosen) {
    if (options.dryRun === true) {
      removed.push(m);
      continue;
    }
    const reason = await removeEntry(home, m);
    if (reason === undefined) removed.push(m);
    else {
      kept.push({ model: m, reason });
      total += m.bytes;
    }
  }
  await forgetGoneUsers(home, options.dryRun === true);
  return { removed, kept, freedBytes: removed.reduce((sum, m) => sum + m.bytes, 0), remainingBytes: total };
}

/** Removes one entry under its lock; the reason it stays when it turned busy meanwhile. */
async function removeEntry(home: string, model: CachedModel): Promise<string | undefined> {
  const base = join(cacheRoot(home), model.id.slice(0, 64));
  const lock = await tryLockEntry(base);
  if (lock === undefined) return 'being downloaded';
  let held = true;
  const release = async (): Promise<void> => {
    if (held) await lock();
    held = false;
  };
  try {
    if (model.kind === 'cached') {
      const now = await liveUsers(base);
      if (now.length > 0) return `in use by process ${now.join(', ')}`;
    }
    if (!existsSync(model.path)) return undefined;
    const doomed = join(cacheRoot(home), `${model.id.slice(0, 64)}.pruning-${randomBytes(4).toString('hex')}`);
    await rename(model.path, doomed);
    if (model.kind === 'cached') await rm(entryUsers(base), { recursive: true, force: true });
    await release();
    await rm(doomed, { recursive: true, force: true });
    return undefined;
  } finally {
    await release();
  }
}

/** User files of processes that are gone, and user folders of entries that are gone. */
async function forgetGoneUsers(home: string, dryRun: boolean): Promise<void> {
  if (dryRun) return;
  const root = cacheRoot(home);
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const match = /^([0-9a-f]{64})\.users$/.exec(name);
    if (match === null) continue;
    const base = join(root, match[1]!);
    if (!existsSync(base)) {
      if ((await tryLockEntry(base).then(async (release) => (release === undefined ? false : (await release(), true)))) === true) {
        await rm(entryUsers(base), { recursive: true, force: true });
      }
      continue;
    }
    for (const user of await users(base)) if (!alive(user.pid)) await rm(user.file, { force: true });
  }
}

// ---- flags ------------------------------------------------------------------------------------

const UNITS: Record<string, number> = {
  b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** `10GB`, `500MB`, `1.5GiB`, `2048` (bytes): decimal units as `storage ls` prints them, binary with `i`. */
export function parseSize(text: string, field: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = UNITS[(match?.[2] ?? '').toLowerCase() || 'b'];
  if (match === null || unit === undefined) throw new TrantorError('BAD_MANIFEST', `${field} ${JSON.stringify(text)}: expected a size such as 10GB, 500MB or 1.5GiB`);
  return Math.floor(Number(match[1]) * unit);
}

const PERIODS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `30d`, `12h`, `90m`, `2w`, `45s`. */
export function parseAge(text: string, field: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (match === null) throw new TrantorError('BAD_MANIFEST', `${field} ${JSON.stringify(text)}: expected an age such as 30d, 12h, 90m or 2w`);
  return Number(match[1]) * (PERIODS[match[2]!.toLowerCase()] ?? 0);
}
