/**
 * `gs://bucket/prefix` — Google Cloud Storage through its JSON API: a listing
 * (`/storage/v1/b/<bucket>/o?prefix=`, paged by `pageToken`) and media downloads (`alt=media`,
 * pinned to the listed `generation`, `Range` to resume). Credentials are Google's Application
 * Default Credentials (`../credentials/gcs.ts`): GOOGLE_APPLICATION_CREDENTIALS (a file, or the
 * JSON itself as a Secret's value), gcloud's ADC file, the metadata server; anonymous when none
 * has any (public buckets). A service account's key is exchanged for a read-only OAuth2 token by
 * the JWT grant. STORAGE_EMULATOR_HOST points every request at an emulator, as Google's own
 * libraries do (`host:port` is taken as http).
 *
 * fetch-level code over node:http plus `google-auth-library` for the tokens (the part with
 * cryptography and Google-specific rules): `@google-cloud/storage` would bring its own retry and
 * stream layers for two GET requests.
 */
import type { IncomingMessage } from 'node:http';
import { JWT } from 'google-auth-library';
import { TrantorError } from '../../protocol/index.ts';
import { credentialsFile, fileToken, metadataServer, metadataToken, READ_ONLY_SCOPE, type GoogleCredentialsFile, type MetadataServer } from '../credentials/gcs.ts';
import type { ProviderContext, ProviderFactory, ReadOptions, StorageProvider, StoredObject } from '../provider.ts';
import { rangeHeader, rangedBody, readText, send } from './cloud-http.ts';
import { bucketPath, objectName, objectsNamed, type ListedObject } from './cloud-objects.ts';

type Env = ProviderContext['env'];

export interface GcsSettings {
  /** `https://storage.googleapis.com`, or the emulator's origin. */
  readonly endpoint: URL;
  readonly emulated: boolean;
  /** The service account, when the credentials file is one. */
  readonly account: { readonly email: string; readonly key: string; readonly keyId: string | undefined; readonly from: string } | undefined;
  /** Another credentials file (a user's refresh token, workload identity federation). */
  readonly file: GoogleCredentialsFile | undefined;
  /** The metadata server to ask when there is no file; undefined with METADATA_SERVER_DETECTION=none. */
  readonly metadata: MetadataServer | undefined;
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
  const file = credentialsFile(env);
  let account: GcsSettings['account'];
  if (file?.type === 'service_account') {
    const { client_email: email, private_key: key, private_key_id: keyId } = file.json as { client_email: string; private_key: string; private_key_id?: unknown };
    account = { email, key, keyId: typeof keyId === 'string' ? keyId : undefined, from: file.from };
  }
  return {
    endpoint,
    emulated: emulator !== undefined && emulator !== '',
    account,
    file: account === undefined ? file : undefined,
    metadata: file === undefined ? metadataServer(env) : undefined,
  };
}

/** Test seams: where the token grant of a user's refresh token goes. */
export interface GsOptions {
  readonly oauth2TokenUrl?: string;
}

/** Where the request's token came from: for messages when the store refuses it. */
interface Authorization {
  readonly headers: Record<string, string>;
  /** `GOOGLE_APPLICATION_CREDENTIALS=…`, `the metadata server at …`; undefined when anonymous. */
  readonly source: string | undefined;
}

export const gsProvider: ProviderFactory = (context) => gsProviderWith({})(context);

export function gsProviderWith(options: GsOptions): ProviderFactory {
  return (context) => {
    let settings: GcsSettings | undefined;
    let jwt: JWT | undefined;
    // Resolved on first use: a bad GCS variable must not stop an s3:// or https:// model from loading.
    const resolved = (): GcsSettings => (settings ??= gcsSettings(context.env));

    async function authorization(gcs: GcsSettings, uri: URL, signal: AbortSignal): Promise<Authorization> {
      if (gcs.account !== undefined) {
        jwt ??= new JWT({ email: gcs.account.email, key: gcs.account.key, ...(gcs.account.keyId === undefined ? {} : { keyId: gcs.account.keyId }), scopes: [READ_ONLY_SCOPE] });
        try {
          const { token } = await jwt.getAccessToken();
          if (token === null || token === undefined) throw new Error('no access token in the answer');
          return { headers: { authorization: `Bearer ${token}` }, source: `${gcs.account.from}, service account ${gcs.account.email}` };
        } catch (err) {
          throw tokenFailure(err, `the service account key from ${gcs.account.from} (${gcs.account.email})`, uri);
        }
      }
      if (gcs.file !== undefined) {
        try {
          return { headers: { authorization: `Bearer ${await fileToken(gcs.file, options.oauth2TokenUrl)}` }, source: `${gcs.file.from} (${gcs.file.type})` };
        } catch (err) {
          throw tokenFailure(err, `the ${gcs.file.type} credential from ${gcs.file.from}`, uri);
        }
      }
      if (gcs.metadata === undefined) return { headers: {}, source: undefined };
      let token: string | undefined;
      try {
        token = await metadataToken(gcs.metadata, signal);
      } catch (err) {
        if (!(err instanceof TrantorError)) throw err;
        throw new TrantorError(err.code, `${uri.href}: ${err.message}`, { cause: err });
      }
      if (token === undefined) return { headers: {}, source: undefined };
      return { headers: { authorization: `Bearer ${token}` }, source: `the metadata server at ${gcs.metadata.origin} (the default service account)` };
    }

    async function get(gcs: GcsSettings, url: URL, headers: Record<string, string>, uri: URL, signal: AbortSignal): Promise<{ response: IncomingMessage; auth: Authorization }> {
      const auth = await authorization(gcs, uri, signal);
      return { response: await send(url, { headers: { ...headers, ...auth.headers }, signal, uri }), auth };
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
          const { response, auth } = await get(gcs, url, {}, uri, signal);
          if (response.statusCode !== 200) return failure(gcs, auth, uri, bucket, response);
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
        const { response, auth } = await get(gcs, url, rangeHeader(options.offset), uri, options.signal);
        return rangedBody(response, options.offset, uri, (r) => failure(gcs, auth, uri, bucket, r, name));
      },
    } satisfies StorageProvider;
  };
}

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

async function failure(gcs: GcsSettings, auth: Authorization, uri: URL, bucket: string, response: IncomingMessage, name?: string): Promise<never> {
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
    const looked = gcs.metadata === undefined ? 'the metadata server is off (METADATA_SERVER_DETECTION=none)' : `no metadata server answered at ${gcs.metadata.origin}`;
    const advice =
      auth.source === undefined
        ? `no credentials were found (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud application default credentials, ${looked}), so the request was anonymous; set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or its JSON) in the secret the node names in envSecretRefName`
        : `the token came from ${auth.source}; give that account read access (roles/storage.objectViewer) to bucket ${bucket}`;
    throw new TrantorError('UNAUTHORIZED', `${uri.href}: Cloud Storage${where(gcs)} refused access (${said}); ${advice}`);
  }
  throw new TrantorError('UNAVAILABLE', `${uri.href}: Cloud Storage${where(gcs)} answered ${said}; try again later`);
}

/** Why a token grant failed: credentials that cannot sign or a refused grant (UNAUTHORIZED), or no way to reach Google. */
function tokenFailure(err: unknown, what: string, uri: URL): TrantorError {
  const error = err as { code?: unknown; message?: string; response?: { status?: number; data?: unknown } };
  const network = typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code) && error.response === undefined;
  if (network) {
    return new TrantorError('UNAVAILABLE', `${uri.href}: cannot reach Google's token endpoint (${String(error.code)}) to exchange ${what}; check the network`, { cause: err });
  }
  const detail = error.response?.data === undefined ? error.message ?? String(err) : JSON.stringify(error.response.data);
  return new TrantorError(
    'UNAUTHORIZED',
    `${uri.href}: ${what} was not accepted (${detail}); renew them (a new service account key, or gcloud auth application-default login) and set GOOGLE_APPLICATION_CREDENTIALS in the secret the node names in envSecretRefName`,
    { cause: err },
  );
}
