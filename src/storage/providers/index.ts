/**
 * The providers the fetcher chooses from, first match wins: add a store's `ProviderFactory` here.
 * Azure's comes before HTTP's (both match `https://`; HTTP's leaves `*.blob.core.windows.net` alone).
 */
import type { ProviderFactory } from '../provider.ts';
import { azureProvider } from './azure.ts';
import { fileProvider } from './file.ts';
import { gsProvider } from './gs.ts';
import { httpProvider } from './http.ts';
import { s3Provider } from './s3.ts';

export const PROVIDERS: readonly ProviderFactory[] = [fileProvider, s3Provider, gsProvider, azureProvider, httpProvider];
