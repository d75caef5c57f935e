/**
 * The two ways a model reaches a folder, for the two callers: `trantor up` (a local folder used in
 * place, a remote one fetched into the cache) and `trantor storage-init SRC DEST` (KServe's
 * storage-initializer contract: whatever SRC is, its files end up in DEST).
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { copyModel, fetchModel, fetchModelTo, type FetchOptions, type FetchProgress, type FetchResult } from './fetch.ts';
import { loadMirrors, locateModel } from './uri.ts';

export interface ModelOptions extends Omit<FetchOptions, 'env'> {
  /** The process environment: mirrors (`TRANTOR_STORAGE_MIRRORS`) and provider credentials. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Extra provider credentials (a node's `envSecretRefName`); they win over `env`. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** The folder relative paths resolve against. */
  readonly baseDir: string;
}

/** Where `<home>/pvc/<claim>` folders stand in for `pvc://<claim>` locally. */
export const pvcRoot = (home: string): string => join(home, 'pvc');

/** The folder to serve `uri` from: a local one in place, a remote one through the cache. */
export async function modelFolder(uri: string, field: string, options: ModelOptions): Promise<FetchResult> {
  const location = locateModel(uri, field, { baseDir: options.baseDir, pvcRoot: pvcRoot(options.home), mirrors: loadMirrors(options.home, options.env) });
  if (location.kind === 'local') return { folder: location.path, fromCache: true, bytes: 0 };
  return fetchModel(location.url, { ...options, env: { ...options.env, ...options.secretEnv } });
}

/** KServe's `[src, dest]`: SRC's files in DEST, through the cache unless `noCache`. */
export async function initializeStorage(src: string, dest: string, options: ModelOptions & { readonly noCache?: boolean }): Promise<FetchResult> {
  const location = locateModel(src, 'SRC', { baseDir: options.baseDir, pvcRoot: pvcRoot(options.home), mirrors: loadMirrors(options.home, options.env) });
  const fetchOptions = { ...options, env: { ...options.env, ...options.secretEnv } };
  const url = location.kind === 'local' ? pathToFileURL(location.path) : location.url;
  if (options.noCache === true || location.kind === 'local') return fetchModelTo(url, dest, fetchOptions);
  const cached = await fetchModel(url, fetchOptions);
  await copyModel(cached.folder, dest);
  return { ...cached, folder: dest };
}

/** `12.3 MB`: a byte count for people. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `downloading gs://… 12.3 MB of 40.0 MB (8.1 MB/s)`. */
export function describeProgress(uri: string, progress: FetchProgress): string {
  const of = progress.total === undefined ? '' : ` of ${formatBytes(progress.total)}`;
  return `downloading ${uri} ${formatBytes(progress.bytes)}${of} (${formatBytes(progress.rate)}/s)`;
}
