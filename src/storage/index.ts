/**
 * Storage: fetching a `modelUri` into a local folder — schemes, credentials, cache, mirrors.
 */
export type { ProviderContext, ProviderFactory, ReadOptions, StorageProvider, StoredObject } from './provider.ts';
export { applyMirrors, loadMirrors, locateModel, normalizedUri, parseMirrors } from './uri.ts';
export type { LocateOptions, Mirror, ModelLocation } from './uri.ts';
export { cacheEntry, copyModel, fetchModel, fetchModelTo, providerFor } from './fetch.ts';
export type { FetchOptions, FetchProgress, FetchResult } from './fetch.ts';
export { archiveKind, unpack } from './archive.ts';
export { PROVIDERS } from './providers/index.ts';
export { parseEnvFile, readSecretEnv, secretFile } from './secrets.ts';
export { cacheRoot, listCache, parseAge, parseSize, pruneCache } from './cache-admin.ts';
export type { CachedModel, PruneOptions, PruneResult } from './cache-admin.ts';
export { describeProgress, formatBytes, initializeStorage, modelFolder, pvcRoot } from './model.ts';
export type { ModelOptions } from './model.ts';
