/**
 * Google's Application Default Credentials, in the order Google's client libraries (and so
 * KServe's storage initializer, through google-cloud-storage) look:
 *
 * 1. GOOGLE_APPLICATION_CREDENTIALS: a credentials file's path, or (as a Secret's value) its JSON;
 * 2. gcloud's ADC file, `$CLOUDSDK_CONFIG/application_default_credentials.json` (by default
 *    `~/.config/gcloud/`), which `gcloud auth application-default login` writes;
 * 3. the metadata server of a GCE VM, a GKE node or Workload Identity (GCE_METADATA_HOST or
 *    GCE_METADATA_IP, else 169.254.169.254), unless METADATA_SERVER_DETECTION=none;
 *
 * and, when none has credentials, anonymous requests (public buckets such as gs://seldon-models,
 * as gsutil reads public objects).
 *
 * A file is read by type: `service_account` (the JWT grant, `gs.ts`), `authorized_user` (a refresh
 * token) and the federation types (`external_account`, `impersonated_service_account`,
 * `external_account_authorized_user`) by google-auth-library's own clients. The metadata server is
 * one bounded GET here rather than google-auth-library's Compute client: that client reads
 * `process.env` (not a node's envSecretRefName values) and its probe waits 3 s off Google Cloud
 * (without any limit when the BIOS says Google). Here the first call waits at most 1 s, and "no
 * metadata server" is remembered for five minutes; a token is kept until five minutes before it
 * expires.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { GoogleAuth, UserRefreshClient, type AuthClient } from 'google-auth-library';
import { TrantorError } from '../../protocol/index.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const READ_ONLY_SCOPE = 'https://www.googleapis.com/auth/devstorage.read_only';

/** A credentials file from step 1 or 2. */
export interface GoogleCredentialsFile {
  readonly type: string;
  readonly json: Readonly<Record<string, unknown>>;
  /** Where it came from, for messages. */
  readonly from: string;
}

export interface MetadataServer {
  readonly origin: string;
  /** Named by GCE_METADATA_HOST or GCE_METADATA_IP (rather than the default address). */
  readonly named: boolean;
}

const FILE_TYPES = ['service_account', 'authorized_user', 'external_account', 'impersonated_service_account', 'external_account_authorized_user'];

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** Step 1, else step 2; undefined when neither is there. */
export function credentialsFile(env: Env): GoogleCredentialsFile | undefined {
  const named = value(env, 'GOOGLE_APPLICATION_CREDENTIALS');
  if (named !== undefined) {
    const inline = named.startsWith('{');
    const from = inline ? 'GOOGLE_APPLICATION_CREDENTIALS (the JSON itself)' : `GOOGLE_APPLICATION_CREDENTIALS=${named}`;
    let text = named;
    if (!inline) {
      try {
        text = readFileSync(named, 'utf8');
      } catch (err) {
        throw new TrantorError('UNAUTHORIZED', `${from}: cannot read the credentials file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); mount the key file there, or put its JSON in the variable`);
      }
    }
    return parseCredentials(text, from);
  }
  const gcloud = value(env, 'CLOUDSDK_CONFIG') ?? join(value(env, 'HOME') ?? homedir(), '.config', 'gcloud');
  const adc = join(gcloud, 'application_default_credentials.json');
  if (!existsSync(adc)) return undefined;
  let text: string;
  try {
    text = readFileSync(adc, 'utf8');
  } catch (err) {
    throw new TrantorError('UNAUTHORIZED', `gcloud's application default credentials ${adc}: cannot read them (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseCredentials(text, `gcloud's application default credentials ${adc}`);
}

function parseCredentials(text: string, from: string): GoogleCredentialsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TrantorError('UNAUTHORIZED', `${from}: the credentials are not JSON; use the key file Google Cloud's console downloads, or what gcloud auth application-default login writes`);
  }
  const record = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const type = record['type'];
  if (typeof type !== 'string' || !FILE_TYPES.includes(type)) {
    throw new TrantorError('UNAUTHORIZED', `${from}: credentials of type ${JSON.stringify(type)} are not read; the types are ${FILE_TYPES.join(', ')}`);
  }
  const needs: Record<string, string[]> = { service_account: ['client_email', 'private_key'], authorized_user: ['client_id', 'client_secret', 'refresh_token'] };
  const missing = (needs[type] ?? []).filter((field) => typeof record[field] !== 'string' || record[field] === '');
  if (missing.length > 0) throw new TrantorError('UNAUTHORIZED', `${from}: ${type} credentials need ${missing.join(', ')}; download or write them again`);
  return { type, json: record, from };
}

/** Step 3's server, or undefined when METADATA_SERVER_DETECTION=none. */
export function metadataServer(env: Env): MetadataServer | undefined {
  const detection = value(env, 'METADATA_SERVER_DETECTION')?.toLowerCase();
  if (detection === 'none') return undefined;
  const host = value(env, 'GCE_METADATA_HOST') ?? value(env, 'GCE_METADATA_IP');
  const origin = `http://${host ?? '169.254.169.254'}`;
  try {
    return { origin: new URL(origin).origin, named: host !== undefined };
  } catch {
    throw new TrantorError('BAD_MANIFEST', `GCE_METADATA_HOST=${host}: expected host or host:port`);
  }
}

// ---- tokens -----------------------------------------------------------------------------------

const clients = new Map<string, AuthClient>();

/**
 * The access token of a non-service-account file (a library client per file, kept so its token is
 * reused until it nears expiry). `oauth2TokenUrl` replaces Google's token endpoint (tests).
 */
export async function fileToken(file: GoogleCredentialsFile, oauth2TokenUrl: string | undefined): Promise<string> {
  const key = `${file.from}\n${JSON.stringify(file.json)}\n${oauth2TokenUrl ?? ''}`;
  let client = clients.get(key);
  if (client === undefined) {
    if (file.type === 'authorized_user') {
      const { client_id: clientId, client_secret: clientSecret, refresh_token: refreshToken } = file.json as { client_id: string; client_secret: string; refresh_token: string };
      client = new UserRefreshClient({ clientId, clientSecret, refreshToken, ...(oauth2TokenUrl === undefined ? {} : { endpoints: { oauth2TokenUrl } }) });
    } else {
      client = new GoogleAuth({ scopes: [READ_ONLY_SCOPE] }).fromJSON(file.json);
    }
    clients.set(key, client);
  }
  const { token } = await client.getAccessToken();
  if (token === null || token === undefined || token === '') throw new Error('no access token in the answer');
  return token;
}

const metadataTokens = new Map<string, { until: number; value: Promise<string | undefined> }>();
const REFRESH_BEFORE_MS = 5 * 60_000;
const ABSENT_MS = 5 * 60_000;
const PROBE_MS = 1000;

/** The default service account's token from the metadata server, or undefined when there is none. */
export function metadataToken(server: MetadataServer, signal: AbortSignal): Promise<string | undefined> {
  const hit = metadataTokens.get(server.origin);
  if (hit !== undefined && hit.until > Date.now()) return hit.value;
  const entry = { until: Number.POSITIVE_INFINITY, value: askMetadata(server, signal) };
  metadataTokens.set(server.origin, entry);
  entry.value.then(
    (token) => {
      if (token === undefined) entry.until = Date.now() + ABSENT_MS;
    },
    () => metadataTokens.delete(server.origin),
  );
  return entry.value;
}

/** Forgets kept tokens and clients (tests). */
export function forgetGoogleCredentials(): void {
  metadataTokens.clear();
  clients.clear();
}

async function askMetadata(server: MetadataServer, signal: AbortSignal): Promise<string | undefined> {
  const url = `${server.origin}/computeMetadata/v1/instance/service-accounts/default/token`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { 'metadata-flavor': 'Google' }, signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_MS)]) });
  } catch (err) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : err;
    return undefined; // no metadata server here: not on Google Cloud
  }
  const text = await response.text();
  if (response.status === 404 || response.headers.get('metadata-flavor') !== 'Google') return undefined;
  if (response.status !== 200) {
    throw new TrantorError('UNAUTHORIZED', `the metadata server at ${server.origin} refused a token for the default service account (${response.status} ${text.trim().slice(0, 160)}); check the VM's or the node pool's service account and its scopes`);
  }
  let answer: { access_token?: unknown; expires_in?: unknown };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new TrantorError('UNAUTHORIZED', `the metadata server at ${server.origin}: the token answer is not JSON (${text.slice(0, 120)})`);
  }
  if (typeof answer.access_token !== 'string' || answer.access_token === '') {
    throw new TrantorError('UNAUTHORIZED', `the metadata server at ${server.origin}: the answer has no access_token`);
  }
  const lifetime = typeof answer.expires_in === 'number' ? answer.expires_in * 1000 : 0;
  const entry = metadataTokens.get(server.origin);
  if (entry !== undefined) entry.until = Date.now() + lifetime - REFRESH_BEFORE_MS;
  return answer.access_token;
}
