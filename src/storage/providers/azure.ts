/**
 * Azure Blob Storage — `https://<account>.blob.core.windows.net/<container>/<path>` — with the
 * credentials KServe's storage initializer reads that need no identity library:
 * AZURE_STORAGE_CONNECTION_STRING (its `BlobEndpoint` points at Azurite or a private endpoint;
 * `AccountKey` or `SharedAccessSignature` authorise), AZURE_STORAGE_ACCESS_KEY (the account's
 * shared key; AZURE_STORAGE_KEY as the Azure CLI names it), AZURE_STORAGE_SAS_TOKEN or a SAS in
 * the URI's query; a service principal — AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET
 * (or KServe's AZ_TENANT_ID, AZ_CLIENT_ID, AZ_CLIENT_SECRET), signed in by `@azure/identity`'s
 * ClientSecretCredential at AZURE_AUTHORITY_HOST (Microsoft Entra ID by default), whose token
 * (scope `https://storage.azure.com/.default`) the Blob service takes over https only;
 * anonymous for a public container. A connection string with only a BlobEndpoint (Azurite, a
 * private endpoint) combines with a service principal.
 *
 * Microsoft's `@azure/storage-blob` does the Shared Key signing, paging and ranged downloads
 * (with `If-Match` on the listed ETag, so a resumed read never splices two versions); its own
 * retries are off, since the fetcher resumes and retries itself.
 */
import type { TokenCredential } from '@azure/identity';
import { AnonymousCredential, ContainerClient, RestError, StorageSharedKeyCredential, newPipeline } from '@azure/storage-blob';
import { TrantorError } from '../../protocol/index.ts';
import type { ProviderContext, ProviderFactory, ReadOptions, StorageProvider, StoredObject } from '../provider.ts';
import { decodePath, objectName, objectsNamed, redacted, type ListedObject } from './cloud-objects.ts';

type Env = ProviderContext['env'];

const HOST = /^([a-z0-9]{3,24})\.blob\.core\.windows\.net$/i;

/** How to reach and authorise one account, from the URI and the environment. */
export interface AzureAccess {
  /** The Blob service endpoint (`https://acct.blob.core.windows.net`, or a connection string's BlobEndpoint). */
  readonly endpoint: string;
  readonly account: string;
  readonly sharedKey: string | undefined;
  /** A SAS query string without its leading `?`. */
  readonly sas: string | undefined;
  /** A service principal, signed in for a token. */
  readonly principal: ServicePrincipal | undefined;
  /** The variables used, for messages. */
  readonly from: readonly string[];
}

/** `https://acct.blob.core.windows.net/container/a/b` → account, container, prefix `a/b`. */
export function azurePath(uri: URL): { account: string; container: string; prefix: string } {
  const account = HOST.exec(uri.hostname)?.[1];
  const [container = '', ...rest] = uri.pathname.replace(/^\//, '').split('/');
  if (account === undefined || container === '') {
    throw new TrantorError('BAD_MANIFEST', `${uri.origin}${uri.pathname}: write Azure Blob URIs as https://<account>.blob.core.windows.net/<container>/<path>`);
  }
  return { account: account.toLowerCase(), container, prefix: decodePath(rest.join('/'), uri) };
}

export interface ServicePrincipal {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** AZURE_AUTHORITY_HOST, when set (another cloud, Azure Stack, a test). */
  readonly authorityHost: string | undefined;
  /** The variables it came from, for messages. */
  readonly from: readonly string[];
}

/** AZURE_* (azure-identity's names) or AZ_* (KServe's); all three or none. */
export function servicePrincipal(env: Env): ServicePrincipal | undefined {
  const from: string[] = [];
  const pick = (suffix: string): string | undefined => {
    for (const name of [`AZURE_${suffix}`, `AZ_${suffix}`]) {
      const v = env[name]?.trim();
      if (v !== undefined && v !== '') {
        from.push(name);
        return v;
      }
    }
    return undefined;
  };
  const tenantId = pick('TENANT_ID');
  const clientId = pick('CLIENT_ID');
  const clientSecret = pick('CLIENT_SECRET');
  if (tenantId === undefined && clientId === undefined && clientSecret === undefined) return undefined;
  if (tenantId === undefined || clientId === undefined || clientSecret === undefined) {
    const missing = [tenantId === undefined ? 'TENANT_ID' : '', clientId === undefined ? 'CLIENT_ID' : '', clientSecret === undefined ? 'CLIENT_SECRET' : ''].filter((n) => n !== '');
    throw new TrantorError(
      'UNAUTHORIZED',
      `an Azure service principal needs a tenant, a client ID and a client secret: ${from.join(', ')} set, AZURE_${missing.join(', AZURE_')} missing; a certificate or managed identity is not read, give a key or SAS instead`,
    );
  }
  const authorityHost = env['AZURE_AUTHORITY_HOST']?.trim() || undefined;
  if (authorityHost !== undefined && !/^https:\/\//i.test(authorityHost)) {
    throw new TrantorError('BAD_MANIFEST', `AZURE_AUTHORITY_HOST=${authorityHost}: expected an https:// URL (Microsoft Entra ID signs in over TLS only)`);
  }
  return { tenantId, clientId, clientSecret, authorityHost, from: authorityHost === undefined ? from : [...from, 'AZURE_AUTHORITY_HOST'] };
}

export function azureAccess(uri: URL, env: Env): AzureAccess {
  const { account } = azurePath(uri);
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const principal = servicePrincipal(env);
  const uriSas = uri.search.length > 1 ? uri.search.slice(1) : undefined;
  const connection = value('AZURE_STORAGE_CONNECTION_STRING');
  if (connection !== undefined) {
    const parts = new Map<string, string>();
    for (const pair of connection.split(';')) {
      const at = pair.indexOf('=');
      if (at > 0) parts.set(pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim());
    }
    const name = parts.get('accountname') ?? account;
    const protocol = parts.get('defaultendpointsprotocol') ?? 'https';
    const suffix = parts.get('endpointsuffix') ?? 'core.windows.net';
    const endpoint = parts.get('blobendpoint') ?? `${protocol}://${name}.blob.${suffix}`;
    if (!/^https?:\/\//i.test(endpoint)) {
      throw new TrantorError('BAD_MANIFEST', `AZURE_STORAGE_CONNECTION_STRING: BlobEndpoint ${endpoint} is not an http(s) URL`);
    }
    const sas = parts.get('sharedaccesssignature')?.replace(/^\?/, '') ?? uriSas;
    const sharedKey = parts.get('accountkey');
    // Only an endpoint in the string: a service principal, when there is one, signs in to it.
    const signIn = sharedKey === undefined && sas === undefined ? principal : undefined;
    const from = ['AZURE_STORAGE_CONNECTION_STRING', ...(signIn?.from ?? [])];
    if (signIn !== undefined && !/^https:/i.test(endpoint)) {
      throw new TrantorError('BAD_MANIFEST', `AZURE_STORAGE_CONNECTION_STRING: BlobEndpoint ${endpoint} is http, and a service principal's token (${signIn.from.join(', ')}) is sent over https only; use an https endpoint, or a key or SAS`);
    }
    return { endpoint: endpoint.replace(/\/+$/, ''), account: name, sharedKey, sas, principal: signIn, from };
  }
  const endpoint = `https://${account}.blob.core.windows.net`;
  const key = value('AZURE_STORAGE_ACCESS_KEY') ?? value('AZURE_STORAGE_KEY');
  if (key !== undefined) {
    return { endpoint, account, sharedKey: key, sas: undefined, principal: undefined, from: [value('AZURE_STORAGE_ACCESS_KEY') === undefined ? 'AZURE_STORAGE_KEY' : 'AZURE_STORAGE_ACCESS_KEY'] };
  }
  const sas = value('AZURE_STORAGE_SAS_TOKEN')?.replace(/^\?/, '');
  if (sas !== undefined) return { endpoint, account, sharedKey: undefined, sas, principal: undefined, from: ['AZURE_STORAGE_SAS_TOKEN'] };
  if (uriSas !== undefined) return { endpoint, account, sharedKey: undefined, sas: uriSas, principal: undefined, from: ['the SAS in the modelUri'] };
  return { endpoint, account, sharedKey: undefined, sas: undefined, principal, from: principal?.from ?? [] };
}

/** Microsoft's public authority hosts, which instance discovery knows; another host skips it. */
const KNOWN_AUTHORITIES = new Set(['login.microsoftonline.com', 'login.chinacloudapi.cn', 'login.microsoftonline.us', 'login.microsoftonline.de']);

/** One credential per principal, so its token is reused across fetches until it nears expiry. */
const principalCredentials = new Map<string, TokenCredential>();

/** `@azure/identity` (and MSAL under it) is loaded on the first sign-in only: a quarter second no other fetch should pay. */
function principalCredential(principal: ServicePrincipal): TokenCredential {
  const key = JSON.stringify([principal.tenantId, principal.clientId, principal.clientSecret, principal.authorityHost]);
  let credential = principalCredentials.get(key);
  if (credential === undefined) {
    const custom = principal.authorityHost !== undefined && !KNOWN_AUTHORITIES.has(new URL(principal.authorityHost).hostname);
    let loaded: Promise<TokenCredential> | undefined;
    const signIn = (): Promise<TokenCredential> =>
      (loaded ??= import('@azure/identity').then(
        ({ ClientSecretCredential }) =>
          new ClientSecretCredential(principal.tenantId, principal.clientId, principal.clientSecret, {
            ...(principal.authorityHost === undefined ? {} : { authorityHost: principal.authorityHost }),
            ...(custom ? { disableInstanceDiscovery: true } : {}),
          }),
        (err: unknown) => {
          throw new TrantorError('NOT_SUPPORTED', `service principal sign-in (${principal.from.join(', ')}) needs the @azure/identity package, which cannot be loaded (${(err as Error).message}); give a key or SAS instead`, { cause: err });
        },
      ));
    credential = { getToken: async (scopes, options) => (await signIn()).getToken(scopes, options) };
    principalCredentials.set(key, credential);
  }
  return credential;
}

function containerClient(access: AzureAccess, container: string): ContainerClient {
  const credential =
    access.sharedKey !== undefined
      ? new StorageSharedKeyCredential(access.account, access.sharedKey)
      : access.sas === undefined && access.principal !== undefined
        ? principalCredential(access.principal)
        : new AnonymousCredential();
  const url = `${access.endpoint}/${encodeURIComponent(container)}${access.sas === undefined ? '' : `?${access.sas}`}`;
  return new ContainerClient(url, newPipeline(credential, { retryOptions: { maxTries: 1 } }));
}

export const azureProvider: ProviderFactory = (context) => ({
  name: 'azure',
  matches: (uri) => uri.protocol === 'https:' && HOST.test(uri.hostname),
  async list(uri, signal) {
    const access = azureAccess(uri, context.env);
    const { container, prefix } = azurePath(uri);
    const listed: ListedObject[] = [];
    try {
      for await (const page of containerClient(access, container).listBlobsFlat({ prefix, abortSignal: signal }).byPage({ maxPageSize: 5000 })) {
        for (const blob of page.segment.blobItems) {
          listed.push({ name: blob.name, size: blob.properties.contentLength, version: blob.properties.etag });
        }
      }
    } catch (err) {
      throw failure(err, uri, access, container);
    }
    const shown = new URL(uri.pathname, uri.origin); // messages never carry a SAS from the query
    return objectsNamed(prefix, listed, shown, `container ${container} at ${access.endpoint}`);
  },
  async read(uri, object: StoredObject, options: ReadOptions) {
    const access = azureAccess(uri, context.env);
    const { container, prefix } = azurePath(uri);
    const name = objectName(prefix, object);
    try {
      const blob = containerClient(access, container).getBlobClient(name);
      const response = await blob.download(options.offset, undefined, {
        abortSignal: options.signal,
        maxRetryRequests: 0,
        ...(object.version === undefined ? {} : { conditions: { ifMatch: object.version } }),
      });
      if (response.readableStreamBody === undefined) throw new TrantorError('UNAVAILABLE', `${uri.href}: the Blob service sent no body for ${name}`);
      return response.readableStreamBody as AsyncIterable<Uint8Array>;
    } catch (err) {
      throw failure(err, uri, access, container, name);
    }
  },
} satisfies StorageProvider);

function failure(err: unknown, uri: URL, access: AzureAccess, container: string, name?: string): Error {
  if (err instanceof TrantorError || (err instanceof Error && err.name === 'AbortError')) return err;
  const at = `${access.endpoint}`;
  const shown = `${uri.origin}${uri.pathname}`; // never the SAS in the query
  const principal = access.sharedKey === undefined && access.sas === undefined ? access.principal : undefined;
  // @azure/identity's errors: AuthenticationError, AuthenticationRequiredError, CredentialUnavailableError.
  if (principal !== undefined && err instanceof Error && /^(Authentication(Required)?Error|CredentialUnavailableError|AggregateAuthenticationError)$/.test(err.name)) {
    const said = err.message.split('\n')[0]?.replace(/ - (Timestamp|Correlation ID|Trace ID): Not Available/g, '').slice(0, 300);
    return new TrantorError(
      'UNAUTHORIZED',
      `${shown}: the service principal ${principal.clientId} (tenant ${principal.tenantId}, from ${principal.from.join(', ')}) could not sign in at ${principal.authorityHost ?? 'https://login.microsoftonline.com'} (${said}); check the tenant, client ID and secret in the secret the node names in envSecretRefName`,
      { cause: err },
    );
  }
  if (!(err instanceof RestError) || err.statusCode === undefined) {
    const code = err instanceof RestError ? err.code : (err as NodeJS.ErrnoException).code;
    return new TrantorError('UNAVAILABLE', `${shown}: cannot reach ${at} (${code ?? (err as Error).message}); check the endpoint and that the store is up`, { cause: err });
  }
  const said = `${err.statusCode} ${err.code ?? ''}`.trim();
  const anonymous = access.sharedKey === undefined && access.sas === undefined && principal === undefined;
  const setCredentials = 'for a private container set AZURE_STORAGE_ACCESS_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING with a key or SAS';
  if (err.statusCode === 404) {
    const what = err.code === 'ContainerNotFound' || name === undefined ? `no container ${container}` : `no blob ${name} in container ${container}`;
    // Azure answers an anonymous request for a private container as if it did not exist.
    const hint = anonymous ? `; the request was anonymous, and a private container looks missing to it: ${setCredentials}` : '';
    return new TrantorError('NOT_FOUND', `${shown}: ${what} at ${at} (${said}); check the modelUri${hint}`, { cause: err });
  }
  if ((err.statusCode === 401 || err.statusCode === 403) && principal !== undefined) {
    return new TrantorError(
      'UNAUTHORIZED',
      `${shown}: the Blob service at ${at} refused the token of service principal ${principal.clientId} (tenant ${principal.tenantId}, from ${principal.from.join(', ')}) (${said}); give it a data role on the container (Storage Blob Data Reader)`,
      { cause: err },
    );
  }
  if (err.statusCode === 401 || err.statusCode === 403) {
    const used = anonymous
      ? `no key or SAS was set${access.from.length === 0 ? '' : ` (${access.from.join(', ')} has neither)`}, so the request was anonymous; ${setCredentials}`
      : `the request used ${access.from.join(', ')} (account ${access.account}${access.sharedKey === undefined ? '' : `, key ${redacted(access.sharedKey)}`}${access.sas === undefined ? '' : ', a SAS'}); check that value`;
    return new TrantorError('UNAUTHORIZED', `${shown}: the Blob service at ${at} refused access (${said}); ${used} in the secret the node names in envSecretRefName`, { cause: err });
  }
  if (err.statusCode === 412) {
    return new TrantorError('UNAVAILABLE', `${shown}: ${name ?? container} changed while it was being fetched (${said}); fetch it again`, { cause: err });
  }
  if (err.statusCode === 416) {
    return new TrantorError('UNAVAILABLE', `${shown}: the blob has no bytes from the asked offset (${said}); the object shrank, fetch it again`, { cause: err });
  }
  return new TrantorError('UNAVAILABLE', `${shown}: the Blob service at ${at} answered ${said}; try again later`, { cause: err });
}
