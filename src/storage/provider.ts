/**
 * Where a model's files come from: one provider per kind of store (a local folder, HTTP, S3, GCS,
 * Azure Blob). The fetcher (`fetch.ts`) lists what a `modelUri` names, downloads each object into
 * the content-addressed cache (resuming from an offset after a broken transfer, checking sizes and
 * versions) and hands the folder to the model server; providers only list and read.
 */

/** One object under a URI: a single file (`key` '') or one of the files below a prefix. */
export interface StoredObject {
  /** Its path below the URI, `/`-separated, never absolute, never with `..`; '' when the URI is the object itself. */
  readonly key: string;
  /** Bytes, when the store says. */
  readonly size: number | undefined;
  /**
   * What changes when the content does (an ETag, a GCS generation, a file's mtime and size): the
   * cache serves a second fetch of the same URI without downloading while every version matches.
   */
  readonly version: string | undefined;
}

export interface ReadOptions {
  /** Start here (a resumed download); 0 for the whole object. */
  readonly offset: number;
  readonly signal: AbortSignal;
}

/**
 * Every failure is a TrantorError naming the URI, the cause and the fix (`NOT_FOUND` for a missing
 * object, `UNAUTHORIZED`/`FORBIDDEN` for a refused credential, `UNAVAILABLE` for an endpoint that
 * does not answer), so a deployment's Failed description can say it in plain words.
 */
export interface StorageProvider {
  /** A name for messages and docs: `s3`, `gs`, `azure`, `http`, `file`. */
  readonly name: string;
  /** Whether this provider serves `uri` (by scheme, or by host for Azure's `https://<account>.blob.core.windows.net`). */
  matches(uri: URL): boolean;
  /** The objects `uri` names: itself when it is one object, else every object below it as a prefix. */
  list(uri: URL, signal: AbortSignal): Promise<StoredObject[]>;
  /** One listed object's bytes from `options.offset` on. */
  read(uri: URL, object: StoredObject, options: ReadOptions): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * What a provider is made from: the environment its credentials and endpoints are read from (the
 * process's, plus a node's `envSecretRefName` values), as Seldon's storage initializer reads them.
 */
export interface ProviderContext {
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type ProviderFactory = (context: ProviderContext) => StorageProvider;
