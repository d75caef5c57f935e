/**
 * `gs://bucket/prefix` — Google Cloud Storage through its JSON API: a listing
 * (`/storage/v1/b/<bucket>/o?prefix=`, paged by `pageToken`) and media downloads (`alt=media`,
 * pinned to the listed `generation`, `Range` to resume). Public buckets are read anonymously; a
 * service account's JSON key — a file named by GOOGLE_APPLICATION_CREDENTIALS, or that variable
 * holding the JSON itself, as a Secret's value does — is exchanged for a read-only OAuth2 token by
 * the JWT grant. STORAGE_EMULATOR_HOST points every request at an emulator, as Google's own
 * libraries do (`host:port` is taken as http).
 *
 * fetch-level code over node:http plus `google-auth-library` for the token (the one part with
 * cryptography and Google-specific rules): `@google-cloud/storage` would bring its own retry and
 * stream layers for two GET requests.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { JWT } from 'google-auth-library';
import { TrantorError } from '../../protocol/index.ts';
import type { ProviderContext, ProviderFactory, ReadOptions, StorageProvider, StoredObject } from '../provider.ts';
import { rangeHeader, rangedBody, readText, send } from './cloud-http.ts';
import { bucketPath, objectName, objectsNamed, type ListedObject } from './cloud-objects.ts';

type Env = ProviderContext['env'];

const READ_ONLY_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_only';

export interface GcsSettings {
  /** `https://storage.googleapis.com`, or the emulator's origin. */
  readonly endpoint: URL;
  readonly emulated: boolean;
  /** The service account, when credentials are set. */
  readonly account: { readonly email: string; readonly key: string; readonly keyId: string | undefined; readonly from: string } | undefined;
}

export function gcsSettings(env: Env): GcsSettings {
  const emulator = env['STORAGE_EMULATOR_HOST']?.trim();
  let endpoint = new URL('https://storage.googleapis.com');
  if (emulator !== undefined && emulator !== '') {
    const withScheme = /^https?:\/\//i.test(emulator) ? emulator : `http://${emulator}`;
    try {
      endpoint = new URL(withScheme.replace(/\/+$/, '').replace(/\/storage\/v1$/, ''));
    } catch {
      throw new TrantorError('BAD_MANIFEST', `STORAGE_EMULATOR_HOST=${emulator} is not host:port or an http(s) URL`);
    }
  }
  return { endpoint, emulated: emulator !== undefined && emulator !== '', account: serviceAccount(env) };
}

function serviceAccount(env: Env): GcsSettings['account'] {
  const value = env['GOOGLE_APPLICATION_CREDENTIALS']?.trim();
  if (value === undefined || value === '') return undefined;
  const inline = value.startsWith('{');
  const from = inline ? 'GOOGLE_APPLICATION_CREDENTIALS (the JSON itself)' : `GOOGLE_APPLICATION_CREDENTIALS=${value}`;
  let text = value;
  if (!inline) {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new TrantorError('UNAUTHORIZED', `${from}: cannot read the service account key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); mount the key file there, or put its JSON in the variable`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TrantorError('UNAUTHORIZED', `${from}: the service account key is not JSON; use the key file Google Cloud's console downloads (type "service_account")`);
  }
  const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const { type, client_email: email, private_key: key, private_key_id: keyId } = record;
  if (type !== 'service_account' || typeof email !== 'string' || typeof key !== 'string') {
    throw new TrantorError(
      'UNAUTHORIZED',
      `${from}: not a service account key (type ${JSON.stringify(type)}; needs "service_account" with client_email and private_key); Trantor reads service account keys only`,
    );
  }
  return { email, key, keyId: typeof keyId === 'string' ? keyId : undefined, from };
}

export const gsProvider: ProviderFactory = (context) => {
  let settings: GcsSettings | undefined;
  let jwt: JWT | undefined;
  // Resolved on first use: a bad GCS variable must not stop an s3:// or https:// model from loading.
  const resolved = (): GcsSettings => (settings ??= gcsSettings(context.env));

  async function authorization(gcs: GcsSettings, uri: URL): Promise<Record<string, string>> {
    if (gcs.account === undefined) return {};
    jwt ??= new JWT({ email: gcs.account.email, key: gcs.account.key, ...(gcs.account.keyId === undefined ? {} : { keyId: gcs.account.keyId }), scopes: [READ_ONLY_SCOPE] });
    try {
      const { token } = await jwt.getAccessToken();
      if (token === null || token === undefined) throw new Error('no access token in the answer');
      return { authorization: `Bearer ${token}` };
    } catch (err) {
      throw tokenFailure(err, gcs.account, uri);
    }
  }

  async function get(gcs: GcsSettings, url: URL, headers: Record<string, string>, uri: URL, signal: AbortSignal): Promise<IncomingMessage> {
    return send(url, { headers: { ...headers, ...(await authorization(gcs, uri)) }, signal, uri });
  }

  return {
    name: 'gs',
    matches: (uri) => uri.protocol === 'gs:',
    async list(uri, signal) {
      const gcs = resolved();
      const { bucket, prefix } = bucketPath(uri, 'GCS');
      const listed: ListedObject[] = [];
      let pageToken: string | undefined;
      do {
        const url = new URL(`/storage/v1/b/${encodeURIComponent(bucket)}/o`, gcs.endpoint);
        url.searchParams.set('prefix', prefix);
        url.searchParams.set('fields', 'items(name,size,generation),nextPageToken');
        if (pageToken !== undefined) url.searchParams.set('pageToken', pageToken);
        const response = await get(gcs, url, {}, uri, signal);
        if (response.statusCode !== 200) return failure(gcs, uri, bucket, response);
        const page = parsePage(await readText(response), uri);
        listed.push(...page.objects);
        pageToken = page.next;
      } while (pageToken !== undefined);
      return objectsNamed(prefix, listed, uri, `bucket ${bucket}${where(gcs)}`);
    },
    async read(uri, object: StoredObject, options: ReadOptions) {
      const gcs = resolved();
      const { bucket, prefix } = bucketPath(uri, 'GCS');
      const name = objectName(prefix, object);
      const url = new URL(`/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`, gcs.endpoint);
      url.searchParams.set('alt', 'media');
      // The listed generation, so a resumed read continues the same bytes or fails (404), never mixes two.
      if (object.version !== undefined) url.searchParams.set('generation', object.version);
      const response = await get(gcs, url, rangeHeader(options.offset), uri, options.signal);
      return rangedBody(response, options.offset, uri, (r) => failure(gcs, uri, bucket, r, name));
    },
  } satisfies StorageProvider;
};

function where(gcs: GcsSettings): string {
  return gcs.emulated ? ` at ${gcs.endpoint.origin} (STORAGE_EMULATOR_HOST)` : '';
}

/** One page of an objects listing: `{items: [{name, size, generation}], nextPageToken}`. */
export function parsePage(text: string, uri: URL): { objects: ListedObject[]; next: string | undefined } {
  let page: { items?: { name?: unknown; size?: unknown; generation?: unknown }[]; nextPageToken?: unknown };
  try {
    page = JSON.parse(text) as typeof page;
  } catch {
    throw new TrantorError('UNAVAILABLE', `${uri.href}: the store's listing is not JSON (${text.slice(0, 120)})`);
  }
  const objects: ListedObject[] = [];
  for (const item of page.items ?? []) {
    if (typeof item.name !== 'string') continue;
    objects.push({
      name: item.name,
      size: item.size === undefined ? undefined : Number(item.size),
      version: typeof item.generation === 'string' || typeof item.generation === 'number' ? String(item.generation) : undefined,
    });
  }
  const next = typeof page.nextPageToken === 'string' && page.nextPageToken !== '' ? page.nextPageToken : undefined;
  return { objects, next };
}

async function failure(gcs: GcsSettings, uri: URL, bucket: string, response: IncomingMessage, name?: string): Promise<never> {
  const status = response.statusCode ?? 0;
  const text = await readText(response, 64 * 1024);
  let said = `HTTP ${status}`;
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') said = `${status} ${message}`;
  } catch {
    if (text.trim() !== '') said = `${status} ${text.trim().slice(0, 200)}`;
  }
  if (status === 404) {
    const what = name === undefined ? `no bucket ${bucket}` : `no object ${name} (at the listed generation) in bucket ${bucket}`;
    throw new TrantorError('NOT_FOUND', `${uri.href}: ${what}${where(gcs)} (${said}); check the modelUri`);
  }
  if (status === 401 || status === 403) {
    const advice =
      gcs.account === undefined
        ? 'no credentials were set, so the request was anonymous; set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or its JSON) in the secret the node names in envSecretRefName'
        : `the token came from ${gcs.account.from}, service account ${gcs.account.email}; give that account read access (roles/storage.objectViewer) to bucket ${bucket}`;
    throw new TrantorError('UNAUTHORIZED', `${uri.href}: Cloud Storage${where(gcs)} refused access (${said}); ${advice}`);
  }
  throw new TrantorError('UNAVAILABLE', `${uri.href}: Cloud Storage${where(gcs)} answered ${said}; try again later`);
}

/** Why the JWT grant failed: a key that cannot sign or a refused grant (UNAUTHORIZED), or no way to reach Google. */
function tokenFailure(err: unknown, account: NonNullable<GcsSettings['account']>, uri: URL): TrantorError {
  const error = err as { code?: unknown; message?: string; response?: { status?: number; data?: unknown } };
  const network = typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code) && error.response === undefined;
  if (network) {
    return new TrantorError('UNAVAILABLE', `${uri.href}: cannot reach Google's token endpoint (oauth2.googleapis.com: ${String(error.code)}) to exchange the service account key from ${account.from}; check the network`, { cause: err });
  }
  const detail = error.response?.data === undefined ? error.message ?? String(err) : JSON.stringify(error.response.data);
  return new TrantorError(
    'UNAUTHORIZED',
    `${uri.href}: the service account key from ${account.from} (${account.email}) was not accepted (${detail}); download a new key for that account and set GOOGLE_APPLICATION_CREDENTIALS in the secret the node names in envSecretRefName`,
    { cause: err },
  );
}
