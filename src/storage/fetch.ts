/**
 * Fetching a remote `modelUri` into a folder a model server can read.
 *
 * The cache: `<TRANTOR_HOME>/models/<sha256 of the normalized URI>/` holds `model/` (what is
 * served) and `manifest.json` (each object's key, size and version). A fetch always lists again;
 * when every listed version equals the manifest's, nothing is downloaded.
 *
 * A download goes into `<entry>.partial/` beside the entry, objects in parallel (a small pool),
 * each resumed from the bytes already on disk after a broken transfer (a few tries with backoff,
 * and again by the next fetch when the listing has not changed), its size checked; an archive is
 * unpacked; only then is the folder renamed into place. A half-download is never served. One
 * process at a time writes an entry (`<entry>.lock`).
 *
 * Every fetch, downloaded or found, marks a use for `trantor storage prune` (`cache-admin.ts`):
 * the manifest's mtime becomes its "last used", and `<entry>.users/<pid>` says this process uses
 * the entry (a `trantor up` serving it) for as long as it runs. Both happen under the lock, which
 * prune takes too, so an entry is never removed between a fetch finding it and handing it out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { TrantorError } from '../protocol/index.ts';
import { archiveKind, escapes, unpack } from './archive.ts';
import type { ProviderContext, ProviderFactory, StorageProvider, StoredObject } from './provider.ts';
import { PROVIDERS } from './providers/index.ts';
import { normalizedUri } from './uri.ts';

export interface FetchProgress {
  /** Bytes on disk so far (resumed bytes included). */
  readonly bytes: number;
  /** Every object's size added up, when the store gave them all. */
  readonly total: number | undefined;
  /** Bytes per second downloaded by this fetch. */
  readonly rate: number;
}

export interface FetchOptions {
  /** The Trantor home; the cache is `<home>/models`. */
  readonly home: string;
  /** Credentials and endpoints for the providers (the process's env plus a node's secret). */
  readonly env: ProviderContext['env'];
  readonly providers?: readonly ProviderFactory[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: FetchProgress) => void;
  /** Downloads at once (default 4). */
  readonly concurrency?: number;
  /** Tries per object before giving up (default 4). */
  readonly attempts?: number;
  /** The first pause between tries; it doubles (default 250 ms). */
  readonly backoffMs?: number;
  /** Least time between two progress calls (default 250 ms); the last one always comes. */
  readonly progressIntervalMs?: number;
}

export interface FetchResult {
  /** The folder holding the model's files. */
  readonly folder: string;
  /** Whether nothing was downloaded because every version matched. */
  readonly fromCache: boolean;
  /** The model's size in bytes. */
  readonly bytes: number;
}

/** `<entry>/manifest.json`. */
export interface CacheManifest {
  uri: string;
  objects: StoredObject[];
  bytes: number;
  fetchedAt: string;
}

/** One download shared by the callers fetching the same URI with the same credentials at once. */
interface SharedFetch {
  readonly task: Promise<FetchResult>;
  readonly controller: AbortController;
  readonly listeners: Set<(progress: FetchProgress) => void>;
  users: number;
}

const inFlight = new Map<string, SharedFetch>();

/** The cache entry of `url` under `home`. */
export function cacheEntry(home: string, url: URL): string {
  return join(home, 'models', createHash('sha256').update(normalizedUri(url)).digest('hex'));
}

/**
 * `url` fetched into the cache (or found there). Concurrent fetches of one URI with the same
 * credentials share one download, which stops only when every caller's signal has aborted.
 */
export function fetchModel(url: URL, options: FetchOptions): Promise<FetchResult> {
  const entry = cacheEntry(options.home, url);
  const key = `${entry}\n${createHash('sha256').update(JSON.stringify(Object.entries(options.env).sort())).digest('hex')}`;
  let shared = inFlight.get(key);
  if (shared === undefined) {
    const controller = new AbortController();
    const listeners = new Set<(progress: FetchProgress) => void>();
    const task = fetchIntoCache(url, entry, { ...options, signal: controller.signal, onProgress: (p) => listeners.forEach((l) => l(p)) });
    const created: SharedFetch = { task, controller, listeners, users: 0 };
    void task.finally(() => inFlight.delete(key)).catch(() => undefined);
    inFlight.set(key, created);
    shared = created;
  }
  const { task, controller, listeners } = shared;
  const user = shared;
  user.users++;
  const onProgress = options.onProgress;
  if (onProgress !== undefined) listeners.add(onProgress);
  const signal = options.signal;
  if (signal === undefined) return task;
  return new Promise<FetchResult>((resolve, reject) => {
    const leave = (): void => {
      if (onProgress !== undefined) listeners.delete(onProgress);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      leave();
      if (--user.users === 0) controller.abort(signal.reason);
      reject(signal.reason as Error);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    task.then(
      (result) => {
        leave();
        resolve(result);
      },
      (err: unknown) => {
        leave();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The provider that serves `url`, or a NOT_SUPPORTED error naming the schemes there are. */
export function providerFor(url: URL, options: Pick<FetchOptions, 'env' | 'providers'>): StorageProvider {
  const providers = (options.providers ?? PROVIDERS).map((factory) => factory({ env: options.env }));
  const provider = providers.find((p) => p.matches(url));
  if (provider === undefined) {
    throw new TrantorError('NOT_SUPPORTED', `${url.href}: no storage provider serves this URI (there are: ${providers.map((p) => p.name).join(', ')})`);
  }
  return provider;
}

async function fetchIntoCache(url: URL, entry: string, options: FetchOptions): Promise<FetchResult> {
  const signal = options.signal ?? new AbortController().signal;
  const provider = providerFor(url, options);
  const objects = await listed(provider, url, signal);
  const folder = join(entry, 'model');
  const manifestFile = join(entry, 'manifest.json');
  await mkdir(dirname(entry), { recursive: true });
  const release = await lockEntry(entry, signal);
  try {
    const now = await readManifest(manifestFile);
    if (now !== undefined && existsSync(folder) && sameVersions(now.objects, objects)) {
      await markUser(entry, url);
      await touch(manifestFile);
      return { folder, fromCache: true, bytes: now.bytes };
    }
    const partial = `${entry}.partial`;
    const listing = JSON.stringify(objects);
    const before = await readFile(join(partial, 'objects.json'), 'utf8').catch(() => undefined);
    // What a broken fetch left is kept only while the listing (and so every version) is the same.
    if (before !== listing || objects.some((o) => o.version === undefined)) await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await writeFile(join(partial, 'objects.json'), listing);
    const bytes = await downloadInto(provider, url, objects, partial, options, signal);
    const manifest: CacheManifest = { uri: normalizedUri(url), objects, bytes, fetchedAt: new Date().toISOString() };
    await writeFile(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(join(partial, 'objects.json'));
    const old = `${entry}.old-${randomBytes(4).toString('hex')}`;
    if (existsSync(entry)) await rename(entry, old);
    await rename(partial, entry);
    await rm(old, { recursive: true, force: true });
    await markUser(entry, url);
    return { folder, fromCache: false, bytes };
  } finally {
    await release();
  }
}

/** The folder of an entry's users: one file per process using it, named by its pid. */
export function entryUsers(entry: string): string {
  return `${entry}.users`;
}

/** Records that this process uses `entry` (it stays in use while the process runs). */
async function markUser(entry: string, url: URL): Promise<void> {
  await mkdir(entryUsers(entry), { recursive: true });
  await writeFile(join(entryUsers(entry), String(process.pid)), `${JSON.stringify({ pid: process.pid, uri: normalizedUri(url), since: new Date().toISOString() })}\n`);
}

/** The manifest's mtime is the entry's "last used". */
async function touch(file: string): Promise<void> {
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
}

/**
 * `<entry>.lock`, created exclusively and holding this process's pid: one process at a time fetches
 * into an entry (`trantor up` and `trantor storage-init` share a home) or prunes it. A lock whose
 * process is gone is taken over; a live one is waited for.
 */
async function lockEntry(entry: string, signal: AbortSignal): Promise<() => Promise<void>> {
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    const release = await tryLockEntry(entry);
    if (release !== undefined) return release;
    await delay(wait, undefined, { signal });
  }
}

/** The entry's lock when no live process holds it (its release), else undefined. */
export async function tryLockEntry(entry: string): Promise<(() => Promise<void>) | undefined> {
  const lock = `${entry}.lock`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      heldLocks.add(lock);
      return async () => {
        heldLocks.delete(lock);
        await rm(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!(await staleLock(lock))) return undefined;
    await rm(lock, { force: true });
  }
  return undefined;
}

/** Locks this process holds (a lock naming this pid but not here is a previous process's). */
const heldLocks = new Set<string>();

async function staleLock(lock: string): Promise<boolean> {
  const text = await readFile(lock, 'utf8').catch(() => undefined);
  if (text === undefined) return false; // just released: try again
  if (text === '') {
    // Created, its pid not written yet, unless its process died in between.
    const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? 0);
    return age > 5_000;
  }
  const holder = Number(text);
  if (!Number.isInteger(holder) || holder <= 0) return true;
  if (holder === process.pid) return !heldLocks.has(lock);
  return !alive(holder);
}

/** Whether process `pid` runs (on this machine). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `url` fetched straight into `destination` (no cache), as `trantor storage-init --no-cache` does:
 * downloaded into `<destination>/.trantor-partial`, then its files moved into `destination`.
 */
export async function fetchModelTo(url: URL, destination: string, options: FetchOptions): Promise<FetchResult> {
  const signal = options.signal ?? new AbortController().signal;
  const provider = providerFor(url, options);
  const objects = await listed(provider, url, signal);
  const partial = join(destination, '.trantor-partial');
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const bytes = await downloadInto(provider, url, objects, partial, options, signal);
  await moveContents(join(partial, 'model'), destination);
  await rm(partial, { recursive: true, force: true });
  return { folder: destination, fromCache: false, bytes };
}

/** A cached (or local) model folder copied into `destination`, which may exist already. */
export async function copyModel(folder: string, destination: string): Promise<void> {
  await mkdir(destination, { recursive: true });
  const info = await stat(folder);
  if (info.isFile()) await cp(folder, join(destination, basename(folder)));
  else await cp(folder, destination, { recursive: true, dereference: true });
}

async function listed(provider: StorageProvider, url: URL, signal: AbortSignal): Promise<StoredObject[]> {
  const objects = await provider.list(url, signal);
  if (objects.length === 0) throw new TrantorError('NOT_FOUND', `${url.href}: nothing is stored there; check the modelUri`);
  for (const object of objects) {
    const why = object.key === '' ? undefined : escapes(object.key);
    if (why !== undefined) throw new TrantorError('BAD_MANIFEST', `${url.href}: the object ${object.key} ${why}; it cannot be fetched into a folder`);
  }
  return [...objects].sort((a, b) => a.key.localeCompare(b.key));
}

function sameVersions(cached: readonly StoredObject[], now: readonly StoredObject[]): boolean {
  if (cached.length !== now.length) return false;
  return now.every((o, i) => {
    const c = cached[i];
    return c !== undefined && o.version !== undefined && c.key === o.key && c.size === o.size && c.version === o.version;
  });
}

export async function readManifest(path: string): Promise<CacheManifest | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as CacheManifest;
  } catch {
    return undefined;
  }
}

/**
 * Downloads `objects` into `<work>/data`, then leaves the model in `<work>/model` (an archive
 * unpacked, else the files as they are); returns the bytes downloaded.
 */
async function downloadInto(
  provider: StorageProvider,
  url: URL,
  objects: readonly StoredObject[],
  work: string,
  options: FetchOptions,
  signal: AbortSignal,
): Promise<number> {
  const data = join(work, 'data');
  const single = objects.length === 1 && objects[0]?.key === '';
  const fileName = basename(decodeURIComponent(url.pathname)) || 'model';
  const pathOf = (object: StoredObject): string => (object.key === '' ? join(data, fileName) : join(data, ...object.key.split('/')));

  const sizes = objects.map((o) => o.size);
  const total = sizes.every((s) => s !== undefined) ? sizes.reduce<number>((a, s) => a + (s ?? 0), 0) : undefined;
  const started = Date.now();
  const onDisk = new Map<StoredObject, number>();
  let fresh = 0;
  let lastReport = 0;
  const interval = options.progressIntervalMs ?? 250;
  const report = (force: boolean): void => {
    const now = Date.now();
    if (options.onProgress === undefined || (!force && now - lastReport < interval)) return;
    lastReport = now;
    let bytes = 0;
    for (const n of onDisk.values()) bytes += n;
    options.onProgress({ bytes, total, rate: fresh / Math.max((now - started) / 1000, 0.001) });
  };

  const queue = [...objects];
  const worker = async (): Promise<void> => {
    for (let object = queue.shift(); object !== undefined; object = queue.shift()) {
      await downloadObject(provider, url, object, pathOf(object), options, signal, (n, isFresh) => {
        onDisk.set(object, n);
        if (isFresh > 0) fresh += isFresh;
        report(false);
      });
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 4, objects.length));
  await Promise.all(Array.from({ length: workers }, worker));
  report(true);

  let bytes = 0;
  for (const n of onDisk.values()) bytes += n;
  const model = join(work, 'model');
  await rm(model, { recursive: true, force: true });
  const kind = single ? archiveKind(fileName) : undefined;
  if (kind !== undefined) {
    await mkdir(model, { recursive: true });
    await unpack(join(data, fileName), model, kind, url.href);
    await rm(data, { recursive: true, force: true });
  } else {
    await mkdir(data, { recursive: true });
    await rename(data, model);
  }
  return bytes;
}

const RETRYABLE = new Set(['UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'INTERNAL']);

async function downloadObject(
  provider: StorageProvider,
  url: URL,
  object: StoredObject,
  path: string,
  options: FetchOptions,
  signal: AbortSignal,
  progress: (bytesOnDisk: number, freshBytes: number) => void,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const attempts = Math.max(1, options.attempts ?? 4);
  const name = object.key === '' ? url.href : `${url.href} (${object.key})`;
  for (let attempt = 1; ; attempt++) {
    let offset = (await stat(path).catch(() => undefined))?.size ?? 0;
    if (object.size !== undefined && offset > object.size) {
      await rm(path);
      offset = 0;
    }
    progress(offset, 0);
    try {
      if (object.size === undefined || offset < object.size || (offset === 0 && object.size === 0)) {
        const body = await provider.read(url, object, { offset, signal });
        let written = offset;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            written += chunk.byteLength;
            progress(written, chunk.byteLength);
            done(null, chunk);
          },
        });
        const out = createWriteStream(path, { flags: offset > 0 ? 'a' : 'w' });
        try {
          await pipeline(body, counter, out, { signal });
        } finally {
          // A write still in flight after a cut would land behind the next try's bytes: wait for it.
          if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
        }
      }
      const size = (await stat(path)).size;
      if (object.size !== undefined && size !== object.size) {
        throw new TrantorError('UNAVAILABLE', `${name}: got ${size} bytes of ${object.size}; the transfer was cut`);
      }
      progress(size, 0);
      return;
    } catch (err) {
      if (signal.aborted) throw err;
      const error = err instanceof TrantorError ? err : new TrantorError('UNAVAILABLE', `${name}: the transfer failed (${(err as Error).message})`, { cause: err });
      if (!RETRYABLE.has(error.code) || attempt >= attempts) {
        throw attempt > 1 ? new TrantorError(error.code, `${error.message} (after ${attempt} tries)`, { cause: err }) : error;
      }
      await delay((options.backoffMs ?? 250) * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}

async function moveContents(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    await rm(join(to, name), { recursive: true, force: true });
    await rename(join(from, name), join(to, name));
  }
}
