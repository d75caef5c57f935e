/**
 * `s3://bucket/prefix` — Amazon S3 and the S3-compatible stores (MinIO, Ceph, versitygw), read as
 * Seldon's and KServe's storage initializers read them: credentials from AWS's default chain
 * (`../credentials/aws.ts`: the environment's keys, the shared files' profile, web identity,
 * container credentials, instance metadata), AWS_DEFAULT_REGION or AWS_REGION (else the profile's
 * region), an endpoint from AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or S3_ENDPOINT (host:port, with
 * S3_USE_HTTPS=0 for http), S3_VERIFY_SSL=0 to accept any certificate; unsigned (anonymous)
 * requests when the chain finds nothing. A custom endpoint is addressed path-style
 * (`endpoint/bucket/key`), AWS itself virtual-hosted.
 *
 * Two calls only — ListObjectsV2 (paged by continuation token) and GetObject (with `Range` to
 * resume and `If-Match` on the listed ETag, so a resumed read never splices two versions) — so a
 * SigV4 signer (`aws4fetch`: 90 kB, no dependencies, kept) over node:http does what
 * `@aws-sdk/client-s3` would, without loading the SDK's middleware stack (dozens of `@aws-sdk` and
 * `@smithy` packages) and with nothing between the socket and the cache.
 */
import { AwsV4Signer } from 'aws4fetch';
import type { IncomingMessage } from 'node:http';
import { TrantorError } from '../../protocol/index.ts';
import { awsCredentials, environmentCredentials, profileRegion, type AwsChainResult, type AwsCredentials } from '../credentials/aws.ts';
import type { ProviderContext, ProviderFactory, ReadOptions, StorageProvider, StoredObject } from '../provider.ts';
import { rangeHeader, rangedBody, readText, send } from './cloud-http.ts';
import { bucketPath, encodeSegments, objectName, objectsNamed, redacted, type ListedObject } from './cloud-objects.ts';

type Env = ProviderContext['env'];

/** What the environment says about reaching S3, resolved on first use. */
export interface S3Settings {
  /** A custom endpoint (`http://127.0.0.1:7070`), or undefined for AWS. */
  readonly endpoint: URL | undefined;
  readonly region: string;
  readonly verifyTls: boolean;
  /** The variables the settings came from, for messages. */
  readonly from: readonly string[];
}

const OFF = new Set(['0', 'false', 'no', 'off']);

export function s3Settings(env: Env): S3Settings {
  const from: string[] = [];
  const pick = (...names: string[]): string | undefined => {
    for (const name of names) {
      const value = env[name]?.trim();
      if (value !== undefined && value !== '') {
        from.push(name);
        return value;
      }
    }
    return undefined;
  };
  const rawEndpoint = pick('AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'S3_ENDPOINT');
  const useHttps = pick('S3_USE_HTTPS');
  let endpoint: URL | undefined;
  if (rawEndpoint !== undefined) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawEndpoint)
      ? rawEndpoint
      : `${useHttps !== undefined && OFF.has(useHttps.toLowerCase()) ? 'http' : 'https'}://${rawEndpoint}`;
    try {
      endpoint = new URL(withScheme);
    } catch {
      throw new TrantorError('BAD_MANIFEST', `the S3 endpoint ${JSON.stringify(rawEndpoint)} (${from.join(', ')}) is not a URL or host:port`);
    }
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
      throw new TrantorError('BAD_MANIFEST', `the S3 endpoint ${rawEndpoint} is not http:// or https://`);
    }
  }
  environmentCredentials(env); // a half-set key is refused before anything is sent
  const region = pick('AWS_DEFAULT_REGION', 'AWS_REGION') ?? profileRegion(env) ?? 'us-east-1';
  const verify = pick('S3_VERIFY_SSL');
  return {
    endpoint,
    region,
    verifyTls: verify === undefined || !OFF.has(verify.toLowerCase()),
    from,
  };
}

export const s3Provider: ProviderFactory = (context) => {
  let settings: S3Settings | undefined;
  // Resolved on first use: a bad S3 variable must not stop a gs:// or https:// model from loading.
  const resolved = (): S3Settings => (settings ??= s3Settings(context.env));
  // The chain is walked once per fetch (this provider), again only when its credentials near expiry.
  let found: { chain: AwsChainResult } | undefined;
  const credentials = async (signal: AbortSignal): Promise<AwsChainResult> => {
    const expiration = found?.chain.credentials?.expiration?.getTime();
    if (found !== undefined && (expiration === undefined || expiration - Date.now() > 60_000)) return found.chain;
    found = { chain: await awsCredentials(context.env, signal) };
    return found.chain;
  };
  const signedGet = async (s3: S3Settings, url: URL, headers: Record<string, string>, uri: URL, signal: AbortSignal): Promise<{ response: IncomingMessage; chain: AwsChainResult }> => {
    let chain: AwsChainResult;
    try {
      chain = await credentials(signal);
    } catch (err) {
      if (!(err instanceof TrantorError)) throw err;
      throw new TrantorError(err.code, `${uri.href}: no S3 credentials: ${err.message}`, { cause: err });
    }
    return { response: await sendSigned(s3, chain.credentials, url, headers, uri, signal), chain };
  };

  return {
    name: 's3',
    matches: (uri) => uri.protocol === 's3:',
    async list(uri, signal) {
      const s3 = resolved();
      const { bucket, prefix } = bucketPath(uri, 'S3');
      const listed: ListedObject[] = [];
      let token: string | undefined;
      do {
        const url = bucketUrl(s3, bucket, '');
        url.searchParams.set('list-type', '2');
        url.searchParams.set('prefix', prefix);
        if (token !== undefined) url.searchParams.set('continuation-token', token);
        const { response, chain } = await signedGet(s3, url, {}, uri, signal);
        if (response.statusCode !== 200) return failure(s3, chain, uri, bucket, response);
        const page = parseListPage(await readText(response), uri);
        listed.push(...page.objects);
        token = page.next;
      } while (token !== undefined);
      return objectsNamed(prefix, listed, uri, `bucket ${bucket}${where(s3)}`);
    },
    async read(uri, object: StoredObject, options: ReadOptions) {
      const s3 = resolved();
      const { bucket, prefix } = bucketPath(uri, 'S3');
      const headers: Record<string, string> = rangeHeader(options.offset);
      if (object.version !== undefined) headers['if-match'] = object.version;
      const url = bucketUrl(s3, bucket, objectName(prefix, object));
      const { response, chain } = await signedGet(s3, url, headers, uri, options.signal);
      return rangedBody(response, options.offset, uri, (r) => failure(s3, chain, uri, bucket, r, objectName(prefix, object)));
    },
  } satisfies StorageProvider;
};

function where(s3: S3Settings): string {
  return s3.endpoint === undefined ? '' : ` at ${s3.endpoint.origin}`;
}

/** Path-style on a custom endpoint; virtual-hosted on AWS when the bucket name allows it. */
function bucketUrl(s3: S3Settings, bucket: string, key: string): URL {
  const path = key === '' ? '' : encodeSegments(key);
  if (s3.endpoint !== undefined) {
    const base = s3.endpoint.href.replace(/\/+$/, '');
    return new URL(`${base}/${encodeURIComponent(bucket)}/${path}`);
  }
  if (bucket.includes('.')) return new URL(`https://s3.${s3.region}.amazonaws.com/${encodeURIComponent(bucket)}/${path}`);
  return new URL(`https://${bucket}.s3.${s3.region}.amazonaws.com/${path}`);
}

async function sendSigned(s3: S3Settings, credentials: AwsCredentials | undefined, url: URL, headers: Record<string, string>, uri: URL, signal: AbortSignal): Promise<IncomingMessage> {
  const tlsAdvice = 'for a store with a self-signed certificate set S3_VERIFY_SSL=0';
  if (credentials === undefined) return send(url, { headers, signal, verifyTls: s3.verifyTls, uri, tlsAdvice });
  const signer = new AwsV4Signer({
    url: url.href,
    method: 'GET',
    headers,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    service: 's3',
    region: s3.region,
  });
  const signed = await signer.sign();
  return send(new URL(signed.url), { headers: Object.fromEntries(signed.headers.entries()), signal, verifyTls: s3.verifyTls, uri, tlsAdvice });
}

/** One ListObjectsV2 page: its objects and the token for the next, if any. */
export function parseListPage(xml: string, uri: URL): { objects: ListedObject[]; next: string | undefined } {
  if (!/<ListBucketResult[\s>]/.test(xml)) {
    throw new TrantorError('UNAVAILABLE', `${uri.href}: the store's listing is not a ListBucketResult (${xml.slice(0, 120)})`);
  }
  const objects: ListedObject[] = [];
  for (const [, body] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const name = element(body ?? '', 'Key');
    if (name === undefined) continue;
    const size = element(body ?? '', 'Size');
    objects.push({ name, size: size === undefined ? undefined : Number(size), version: element(body ?? '', 'ETag') });
  }
  const truncated = element(xml, 'IsTruncated') === 'true';
  const next = truncated ? element(xml, 'NextContinuationToken') : undefined;
  if (truncated && next === undefined) {
    throw new TrantorError('UNAVAILABLE', `${uri.href}: the store's listing is truncated without a NextContinuationToken`);
  }
  return { objects, next };
}

function element(xml: string, name: string): string | undefined {
  const text = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];
  return text === undefined ? undefined : unescapeXml(text);
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return named[entity.toLowerCase()] ?? '';
  });
}

/** An S3 error answer as the TrantorError that says what to do. */
async function failure(s3: S3Settings, chain: AwsChainResult, uri: URL, bucket: string, response: IncomingMessage, key?: string): Promise<never> {
  const status = response.statusCode ?? 0;
  const body = await readText(response, 64 * 1024);
  const code = element(body, 'Code') ?? (status === 404 ? (key === undefined ? 'NoSuchBucket' : 'NoSuchKey') : `HTTP ${status}`);
  const message = element(body, 'Message');
  const said = message === undefined ? code : `${code}: ${message}`;
  if (status === 404) {
    const what = code === 'NoSuchBucket' ? `no bucket ${bucket}` : `no object ${key ?? ''} in bucket ${bucket}`;
    throw new TrantorError('NOT_FOUND', `${uri.href}: ${what}${where(s3)} (${said}); check the modelUri`);
  }
  // A session token the store does not take, or one past its expiry, is a 400 on S3.
  if (status === 401 || status === 403 || code === 'InvalidToken' || code === 'ExpiredToken') {
    throw new TrantorError('UNAUTHORIZED', `${uri.href}: the S3 store${where(s3)} refused access (${status} ${said}); ${credentialAdvice(s3, chain)}`);
  }
  if (status === 301 || code === 'AuthorizationHeaderMalformed' || code === 'PermanentRedirect') {
    const region = response.headers['x-amz-bucket-region'];
    throw new TrantorError(
      'BAD_MANIFEST',
      `${uri.href}: bucket ${bucket} is not in region ${s3.region}${typeof region === 'string' ? ` but in ${region}` : ''} (${said}); set AWS_DEFAULT_REGION`,
    );
  }
  if (status === 400) {
    throw new TrantorError('BAD_MANIFEST', `${uri.href}: the S3 store${where(s3)} refused the request (400 ${said}); check the bucket and path in the modelUri`);
  }
  if (status === 412) {
    throw new TrantorError('UNAVAILABLE', `${uri.href}: ${key ?? bucket} changed while it was being fetched (412 ${said}); fetch it again`);
  }
  throw new TrantorError('UNAVAILABLE', `${uri.href}: the S3 store${where(s3)} answered ${status} (${said}); try again later`);
}

function credentialAdvice(s3: S3Settings, chain: AwsChainResult): string {
  const { credentials } = chain;
  if (credentials === undefined) {
    return `no credentials were found (looked at: ${chain.tried.join('; ')}), so the request was anonymous; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) in the secret the node names in envSecretRefName`;
  }
  const expiry = credentials.expiration === undefined ? '' : `, temporary until ${credentials.expiration.toISOString()}`;
  return `the request was signed with ${credentials.source} (key ${redacted(credentials.accessKeyId)}, region ${s3.region}${expiry}); check those credentials (the secret the node names in envSecretRefName, or where they came from), and that they may read the bucket`;
}
