/**
 * A model at an `http://` or `https://` address: one file (an archive — `.tar.gz`, `.tgz`,
 * `.zip` — is unpacked by the fetcher once downloaded). Redirects are followed; a resumed read asks
 * for `Range: bytes=<offset>-` and, from a server that ignores ranges, skips what it already has.
 * The version is the ETag, else Last-Modified with the length. Azure Blob addresses are left to the
 * Azure provider.
 */
import { TrantorError } from '../../protocol/index.ts';
import type { ProviderFactory, ReadOptions, StorageProvider, StoredObject } from '../provider.ts';

const AZURE_BLOB_HOST = /\.blob\.core\.windows\.net$/i;
/** The bytes as stored: a `.tar.gz` sent with `Content-Encoding: gzip` must not be unzipped on the way (sizes and ranges count stored bytes). */
const IDENTITY: Record<string, string> = { 'accept-encoding': 'identity' };

export const httpProvider: ProviderFactory = (): StorageProvider => ({
  name: 'http',
  matches: (uri) => (uri.protocol === 'http:' || uri.protocol === 'https:') && !AZURE_BLOB_HOST.test(uri.hostname),
  async list(uri, signal) {
    const response = await request(uri, { method: 'HEAD', headers: IDENTITY, signal });
    if (response.status === 405 || response.status === 501) return [{ key: '', size: undefined, version: undefined }];
    refuse(uri, response);
    const length = response.headers.get('content-length');
    const size = length === null ? undefined : Number(length);
    const tag = response.headers.get('etag') ?? undefined;
    const modified = response.headers.get('last-modified');
    const version = tag ?? (modified === null ? undefined : `${modified}-${length ?? ''}`);
    return [{ key: '', size: Number.isFinite(size) ? size : undefined, version }];
  },
  async read(uri, _object: StoredObject, options: ReadOptions) {
    const headers: Record<string, string> = options.offset > 0 ? { ...IDENTITY, range: `bytes=${options.offset}-` } : IDENTITY;
    const response = await request(uri, { method: 'GET', headers, signal: options.signal });
    refuse(uri, response);
    const body = response.body;
    if (body === null) throw new TrantorError('UNAVAILABLE', `${uri.href}: the server answered ${response.status} with no body; try again`);
    if (options.offset > 0 && response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
      if (start !== undefined && Number(start) !== options.offset) {
        throw new TrantorError('UNAVAILABLE', `${uri.href}: asked for bytes from ${options.offset}, the server sent from ${start}`);
      }
      return body;
    }
    return options.offset > 0 ? skip(body, options.offset) : body;
  },
});

async function request(uri: URL, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  try {
    return await fetch(uri, { ...init, redirect: 'follow' });
  } catch (err) {
    if (init.signal.aborted) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new TrantorError('UNAVAILABLE', `${uri.href}: cannot reach ${uri.host} (${cause?.code ?? cause?.message ?? (err as Error).message}); check the address and that the server is up`, {
      cause: err,
    });
  }
}

/** Throws the TrantorError a refused request means; returns for 2xx. */
function refuse(uri: URL, response: Response): void {
  if (response.ok) return;
  void response.body?.cancel().catch(() => undefined);
  const status = `${response.status} ${response.statusText}`.trim();
  if (response.status === 404 || response.status === 410) {
    throw new TrantorError('NOT_FOUND', `${uri.href}: no such file (${status}); check the modelUri`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new TrantorError('UNAUTHORIZED', `${uri.href}: the server refused access (${status}); the address needs credentials Trantor does not send, serve it without or use a store with credentials`);
  }
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    throw new TrantorError('UNAVAILABLE', `${uri.href}: the server answered ${status}; try again later`);
  }
  throw new TrantorError('BAD_MANIFEST', `${uri.href}: the server answered ${status}; check the modelUri`);
}

/** The stream without its first `count` bytes (a server that answered a range request with 200). */
async function* skip(body: AsyncIterable<Uint8Array>, count: number): AsyncGenerator<Uint8Array> {
  let left = count;
  for await (const chunk of body) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
