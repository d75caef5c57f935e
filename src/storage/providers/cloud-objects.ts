/**
 * What a bucket URI names, the same way for S3, GCS and Azure: the object whose name is the URI's
 * path when there is one, else every object below it as a folder (`models/iris` takes
 * `models/iris/model.joblib`, not `models/iris2/…`). Keys that would leave the model's folder
 * (`..`, empty segments, a leading `/`) are refused rather than written somewhere else.
 */
import { TrantorError } from '../../protocol/index.ts';
import type { StoredObject } from '../provider.ts';

/** One object as a listing gives it: its full name in the bucket or container. */
export interface ListedObject {
  readonly name: string;
  readonly size: number | undefined;
  readonly version: string | undefined;
}

/** A bucket URI's parts: `s3://bucket/a/b` → bucket `bucket`, prefix `a/b`. */
export interface BucketPath {
  readonly bucket: string;
  readonly prefix: string;
}

/** `scheme://bucket/prefix` split, the bucket required. */
export function bucketPath(uri: URL, store: string): BucketPath {
  const bucket = uri.hostname;
  if (bucket === '') throw new TrantorError('BAD_MANIFEST', `${uri.href}: no bucket; write ${uri.protocol}//<bucket>/<path> (${store})`);
  return { bucket, prefix: decodePath(uri.pathname.replace(/^\//, ''), uri) };
}

export function decodePath(path: string, uri: URL): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw new TrantorError('BAD_MANIFEST', `${uri.href}: the path is not valid percent-encoding`);
  }
}

/** The listing narrowed to what `prefix` names; NOT_FOUND when that is nothing. */
export function objectsNamed(prefix: string, listed: readonly ListedObject[], uri: URL, where: string): StoredObject[] {
  const exact = listed.find((object) => object.name === prefix && prefix !== '' && !prefix.endsWith('/'));
  if (exact !== undefined) return [{ key: '', size: exact.size, version: exact.version }];
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const objects: StoredObject[] = [];
  for (const object of listed) {
    if (!object.name.startsWith(folder) || object.name.endsWith('/')) continue; // another prefix, or a folder marker
    const key = object.name.slice(folder.length);
    const segments = key.split('/');
    if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
      throw new TrantorError(
        'BAD_MANIFEST',
        `${uri.href}: the object ${JSON.stringify(object.name)} has an empty, '.' or '..' path segment; Trantor writes only below the model's folder, rename the object`,
      );
    }
    objects.push({ key, size: object.size, version: object.version });
  }
  if (objects.length === 0) {
    throw new TrantorError('NOT_FOUND', `${uri.href}: no object is named ${JSON.stringify(prefix)} or lies below it in ${where}; check the modelUri`);
  }
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The full name in the bucket of a listed object. */
export function objectName(prefix: string, object: StoredObject): string {
  if (object.key === '') return prefix;
  return prefix === '' || prefix.endsWith('/') ? prefix + object.key : `${prefix}/${object.key}`;
}

/** A path's segments percent-encoded, its slashes kept: `a b/c` → `a%20b/c`. */
export function encodeSegments(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

/** A value for messages: the first and last few characters of a key ID, never a secret. */
export function redacted(value: string): string {
  return value.length <= 8 ? `${value.slice(0, 2)}…` : `${value.slice(0, 4)}…${value.slice(-2)}`;
}
