/**
 * What a `modelUri` names, decided before anything is fetched: a folder on this machine (a plain
 * path, relative to the manifest's folder; `file://`; `pvc://<claim>/<path>`, which locally is a
 * folder under `<TRANTOR_HOME>/pvc/<claim>`) or a remote store (`gs://`, `s3://`, `http(s)://`,
 * Azure Blob's `https://<account>.blob.core.windows.net/<container>/<path>`).
 *
 * Mirrors (`prefix → replacement`, for sites with no way out) rewrite the URI first, so a seed's
 * `gs://seldon-models/…` can be served from a local folder or a local store unchanged.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrantorError } from '../protocol/index.ts';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const REMOTE_SCHEMES = new Set(['gs', 's3', 'http', 'https']);

/** Where a model is: a local folder (used in place) or a remote URI the fetcher downloads. */
export type ModelLocation =
  | { readonly kind: 'local'; readonly path: string; readonly uri: string }
  | { readonly kind: 'remote'; readonly url: URL; readonly uri: string };

/** One `prefix → replacement` rewrite; the longest matching prefix wins. */
export interface Mirror {
  readonly prefix: string;
  readonly replacement: string;
}

export interface LocateOptions {
  /** The folder relative paths resolve against (the manifest's). */
  readonly baseDir: string;
  /** Where `pvc://<claim>/…` folders live locally (`<TRANTOR_HOME>/pvc`). */
  readonly pvcRoot: string;
  readonly mirrors?: readonly Mirror[];
  /** Whether a local path must exist (true for `trantor up`; the message names the field). */
  readonly mustExist?: boolean;
}

/**
 * Where `uri` is, after the mirrors; throws BAD_MANIFEST naming `field` for anything else.
 * A local path that does not exist is refused when `mustExist` (the default).
 */
export function locateModel(uri: string, field: string, options: LocateOptions): ModelLocation {
  const original = uri.trim();
  if (original === '') throw new TrantorError('BAD_MANIFEST', `${field} is empty; give a folder, file:// URI, or a gs://, s3://, https:// or pvc:// URI`);
  const rewritten = applyMirrors(original, options.mirrors ?? []);
  const via = rewritten === original ? '' : ` (mirrored from ${original})`;
  const scheme = SCHEME.exec(rewritten)?.[1]?.toLowerCase();
  let path: string;
  if (scheme === undefined) {
    path = resolve(options.baseDir, rewritten);
  } else if (scheme === 'file') {
    try {
      path = fileURLToPath(rewritten);
    } catch (err) {
      throw new TrantorError('BAD_MANIFEST', `${field} ${rewritten}${via}: not a valid file:// URI (${(err as Error).message})`);
    }
  } else if (scheme === 'pvc') {
    path = pvcPath(rewritten, field, options.pvcRoot);
  } else if (REMOTE_SCHEMES.has(scheme)) {
    return { kind: 'remote', url: parseRemote(rewritten, field + via), uri: rewritten };
  } else {
    throw new TrantorError(
      'BAD_MANIFEST',
      `${field} ${rewritten}${via}: the scheme ${scheme}:// is not one Trantor fetches; use a local folder, file://, pvc://, gs://, s3://, http:// or https://`,
    );
  }
  if ((options.mustExist ?? true) && !existsSync(path)) {
    throw new TrantorError('BAD_MANIFEST', `${field} ${original}${via}: ${path} does not exist`);
  }
  return { kind: 'local', path, uri: rewritten };
}

function parseRemote(uri: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TrantorError('BAD_MANIFEST', `${field} ${uri}: not a valid URI`);
  }
  if (url.hostname === '') {
    const what = url.protocol === 'gs:' || url.protocol === 's3:' ? 'a bucket' : 'a host';
    throw new TrantorError('BAD_MANIFEST', `${field} ${uri}: names no ${what} (expected ${url.protocol}//<${what.slice(2)}>/<path>)`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new TrantorError('BAD_MANIFEST', `${field}: a modelUri must not carry credentials; put them in the node's envSecretRefName`);
  }
  return url;
}

/** `pvc://<claim>/<path>` → `<pvcRoot>/<claim>/<path>`, refusing paths that climb out of the claim. */
function pvcPath(uri: string, field: string, pvcRoot: string): string {
  const rest = uri.slice('pvc://'.length);
  const [claim = '', ...parts] = rest.split('/');
  if (claim === '' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(claim)) {
    throw new TrantorError('BAD_MANIFEST', `${field} ${uri}: expected pvc://<claim>/<path> with a claim name of lowercase letters, digits, '-' and '.'`);
  }
  if (parts.some((part) => part === '..')) throw new TrantorError('BAD_MANIFEST', `${field} ${uri}: the path must not contain '..'`);
  return join(pvcRoot, claim, ...parts.filter((part) => part !== '' && part !== '.'));
}

/** `uri` with the longest matching mirror prefix replaced; unchanged when none matches. */
export function applyMirrors(uri: string, mirrors: readonly Mirror[]): string {
  let best: Mirror | undefined;
  for (const mirror of mirrors) {
    if (uri.startsWith(mirror.prefix) && (best === undefined || mirror.prefix.length > best.prefix.length)) best = mirror;
  }
  return best === undefined ? uri : best.replacement + uri.slice(best.prefix.length);
}

/**
 * Mirrors from `TRANTOR_STORAGE_MIRRORS` (`prefix=replacement` pairs separated by commas or
 * newlines), then from `<home>/storage.json`'s `mirrors` object; the environment's win on the
 * same prefix. A replacement that is a relative path resolves against the home.
 */
export function loadMirrors(home: string, env: Readonly<Record<string, string | undefined>>): Mirror[] {
  const byPrefix = new Map<string, string>();
  const file = join(home, 'storage.json');
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new TrantorError('BAD_MANIFEST', `${file}: not valid JSON (${(err as Error).message})`);
    }
    const mirrors = (parsed as { mirrors?: unknown } | null)?.mirrors;
    if (mirrors !== undefined) {
      if (typeof mirrors !== 'object' || mirrors === null || Array.isArray(mirrors)) {
        throw new TrantorError('BAD_MANIFEST', `${file}: mirrors must be an object of "prefix": "replacement"`);
      }
      for (const [prefix, replacement] of Object.entries(mirrors)) {
        if (typeof replacement !== 'string') throw new TrantorError('BAD_MANIFEST', `${file}: mirrors["${prefix}"] must be a string`);
        byPrefix.set(prefix, replacement);
      }
    }
  }
  for (const mirror of parseMirrors(env['TRANTOR_STORAGE_MIRRORS'] ?? '', 'TRANTOR_STORAGE_MIRRORS')) byPrefix.set(mirror.prefix, mirror.replacement);
  return [...byPrefix].map(([prefix, replacement]) => ({
    prefix,
    replacement: SCHEME.test(replacement) || isAbsolute(replacement) ? replacement : resolve(home, replacement) + (replacement.endsWith('/') ? '/' : ''),
  }));
}

/** `prefix=replacement` pairs separated by commas or newlines; the first '=' splits a pair. */
export function parseMirrors(text: string, where: string): Mirror[] {
  const out: Mirror[] = [];
  for (const item of text.split(/[,\n]/)) {
    const pair = item.trim();
    if (pair === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new TrantorError('BAD_MANIFEST', `${where}: "${pair}" is not prefix=replacement`);
    out.push({ prefix: pair.slice(0, at).trim(), replacement: pair.slice(at + 1).trim() });
  }
  return out;
}

/**
 * The URI as the cache keys it: scheme and host lowercased (by URL), no trailing slash, no
 * fragment, so `gs://b/m/` and `gs://b/m` share one cache entry.
 */
export function normalizedUri(url: URL): string {
  const path = `${url.pathname}${url.search}`.replace(/\/+$/, '');
  return `${url.protocol.toLowerCase()}//${url.host.toLowerCase()}${path}`;
}
