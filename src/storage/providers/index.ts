/**
 * The providers the fetcher chooses from, first match wins: add a store's `ProviderFactory` here.
 * Azure's comes before HTTP's (both match `https://`; HTTP's leaves `*.blob.core.windows.net` alone).
 */
import type { ProviderFactory } from '../provider.ts';
import { fileProvider } from './file.ts';
import { httpProvider } from './http.ts';

export const PROVIDERS: readonly ProviderFactory[] = [fileProvider, httpProvider];
