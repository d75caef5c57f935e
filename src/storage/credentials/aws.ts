/**
 * AWS's default credential chain, in boto3's order (what Seldon's and KServe's storage initializers
 * use), as small HTTP calls instead of the AWS SDK:
 *
 * 1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (both or neither), AWS_SESSION_TOKEN;
 * 2. the shared files: the profile AWS_PROFILE (or AWS_DEFAULT_PROFILE, else `default`) in
 *    AWS_SHARED_CREDENTIALS_FILE (`~/.aws/credentials`, `[name]`), then in AWS_CONFIG_FILE
 *    (`~/.aws/config`, `[profile name]`), which also gives the region;
 * 3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (EKS's IRSA), exchanged by STS
 *    AssumeRoleWithWebIdentity (an unsigned call) at AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or
 *    `sts.<region>.amazonaws.com`;
 * 4. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
 *    AWS_CONTAINER_CREDENTIALS_FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) (ECS, EKS Pod Identity);
 * 5. EC2 instance metadata, IMDSv2 (a session token, then the role's credentials; IMDSv1 when the
 *    token call is refused as unknown), at AWS_EC2_METADATA_SERVICE_ENDPOINT, off with
 *    AWS_EC2_METADATA_DISABLED=true, each call bounded by AWS_METADATA_SERVICE_TIMEOUT seconds (1).
 *
 * The first link that has credentials wins. A link that is configured but broken (a profile
 * named but absent, STS refusing the token, the container endpoint failing) is an error, as in
 * boto3; instance metadata that does not answer is not (most machines are not on EC2). When no
 * link has any, the S3 provider sends unsigned requests (public buckets), as it did before.
 *
 * Temporary credentials (steps 3–5) are kept in this process until five minutes before they
 * expire; so is "no instance metadata here", for five minutes, so an offline machine pays the
 * probe's timeout once, not on every fetch.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TrantorError } from '../../protocol/index.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
  /** When temporary credentials stop working; undefined for long-lived keys. */
  readonly expiration: Date | undefined;
  /** Where they came from, for messages (`AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY`, `profile dev in /home/u/.aws/credentials`, …). */
  readonly source: string;
}

export interface AwsChainResult {
  readonly credentials: AwsCredentials | undefined;
  /** What was looked at and found empty, in order, for the message when the store refuses anonymous requests. */
  readonly tried: readonly string[];
}

/** Temporary credentials are used until this long before they expire. */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** How long "no instance metadata here" is remembered. */
const NO_METADATA_MS = 5 * 60_000;

const TRUE = new Set(['1', 'true', 'yes', 'on']);

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The credentials the chain finds for `env` (undefined when none: anonymous requests). */
export async function awsCredentials(env: Env, signal: AbortSignal): Promise<AwsChainResult> {
  const tried: string[] = [];
  const fromEnv = environmentCredentials(env);
  if (fromEnv !== undefined) return { credentials: fromEnv, tried };
  tried.push('AWS_ACCESS_KEY_ID');

  const profile = sharedProfile(env);
  if (profile.credentials !== undefined) return { credentials: profile.credentials, tried };
  tried.push(profile.looked);

  const identity = webIdentitySettings(env);
  if (identity !== undefined) return { credentials: await cached(`sts ${JSON.stringify(identity)}`, () => assumeRoleWithWebIdentity(identity, signal)), tried };
  tried.push('AWS_WEB_IDENTITY_TOKEN_FILE');

  const container = containerSettings(env);
  if (container !== undefined) return { credentials: await cached(`container ${JSON.stringify(container)}`, () => containerCredentials(container, signal)), tried };
  tried.push('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI');

  if (TRUE.has((value(env, 'AWS_EC2_METADATA_DISABLED') ?? '').toLowerCase())) {
    tried.push('instance metadata (AWS_EC2_METADATA_DISABLED)');
    return { credentials: undefined, tried };
  }
  const metadata = metadataSettings(env);
  const found = await cached(`imds ${JSON.stringify(metadata)}`, () => instanceCredentials(metadata, signal));
  if (found === undefined) tried.push(`instance metadata at ${metadata.endpoint.origin}`);
  return { credentials: found, tried };
}

/** Forgets every cached temporary credential (tests; a long-lived process never needs it). */
export function forgetAwsCredentials(): void {
  cache.clear();
}

// ---- 1. environment --------------------------------------------------------------------------

export function environmentCredentials(env: Env): AwsCredentials | undefined {
  const accessKeyId = value(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = value(env, 'AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new TrantorError(
      'UNAUTHORIZED',
      `S3 credentials are half set: ${accessKeyId === undefined ? 'AWS_SECRET_ACCESS_KEY without AWS_ACCESS_KEY_ID' : 'AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY'}; set both, or neither for a public bucket`,
    );
  }
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = value(env, 'AWS_SESSION_TOKEN');
  const used = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', ...(sessionToken === undefined ? [] : ['AWS_SESSION_TOKEN'])];
  return { accessKeyId, secretAccessKey, sessionToken, expiration: undefined, source: used.join(', ') };
}

// ---- 2. shared credentials and config files ---------------------------------------------------

type Ini = Map<string, Map<string, string>>;

/** `[section]` and `key = value` lines; `#`/`;` comments; indented lines (nested settings) skipped. */
export function parseIni(text: string): Ini {
  const sections: Ini = new Map();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw)) continue;
    const section = /^\s*\[\s*([^\]]+?)\s*\]\s*$/.exec(raw);
    if (section !== null) {
      current = sections.get(section[1]!) ?? new Map<string, string>();
      sections.set(section[1]!, current);
      continue;
    }
    if (/^\s/.test(raw) || current === undefined) continue;
    const pair = /^([^=]+?)\s*=\s*(.*?)\s*$/.exec(raw);
    if (pair !== null) current.set(pair[1]!.toLowerCase(), pair[2]!);
  }
  return sections;
}

function home(env: Env): string {
  return value(env, 'HOME') ?? homedir();
}

function expandHome(path: string, env: Env): string {
  return path.startsWith('~/') ? join(home(env), path.slice(2)) : path;
}

function readIni(path: string): Ini | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TrantorError('UNAUTHORIZED', `cannot read the AWS file ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseIni(text);
}

interface ProfileFiles {
  readonly name: string;
  /** Whether the profile was named (AWS_PROFILE/AWS_DEFAULT_PROFILE) rather than `default`. */
  readonly named: boolean;
  readonly credentialsFile: string;
  readonly configFile: string;
  /** The profile's section in each file, when there. */
  readonly inCredentials: Map<string, string> | undefined;
  readonly inConfig: Map<string, string> | undefined;
}

function profileFiles(env: Env): ProfileFiles {
  const named = value(env, 'AWS_PROFILE') ?? value(env, 'AWS_DEFAULT_PROFILE');
  const name = named ?? 'default';
  const credentialsFile = expandHome(value(env, 'AWS_SHARED_CREDENTIALS_FILE') ?? join(home(env), '.aws', 'credentials'), env);
  const configFile = expandHome(value(env, 'AWS_CONFIG_FILE') ?? join(home(env), '.aws', 'config'), env);
  const config = readIni(configFile);
  return {
    name,
    named: named !== undefined,
    credentialsFile,
    configFile,
    inCredentials: readIni(credentialsFile)?.get(name),
    inConfig: config?.get(`profile ${name}`) ?? (name === 'default' ? config?.get('default') : undefined),
  };
}

/** The profile's region from the config file, when it has one (the S3 provider's region after the env's). */
export function profileRegion(env: Env): string | undefined {
  const files = profileFiles(env);
  return files.inConfig?.get('region') || undefined;
}

/** What boto3 would do with a profile that Trantor does not: assume a role, run a process, SSO. */
const UNSUPPORTED_PROFILE_KEYS = ['role_arn', 'source_profile', 'credential_process', 'sso_session', 'sso_start_url', 'web_identity_token_file'];

function sharedProfile(env: Env): { credentials: AwsCredentials | undefined; looked: string } {
  const files = profileFiles(env);
  const looked = `profile ${files.name} in ${files.credentialsFile} and ${files.configFile}`;
  if (files.inCredentials === undefined && files.inConfig === undefined) {
    if (files.named) {
      throw new TrantorError(
        'UNAUTHORIZED',
        `AWS_PROFILE=${files.name}: no such profile in ${files.credentialsFile} ([${files.name}]) or ${files.configFile} ([profile ${files.name}]); add it, or unset AWS_PROFILE`,
      );
    }
    return { credentials: undefined, looked };
  }
  for (const [section, file] of [[files.inCredentials, files.credentialsFile], [files.inConfig, files.configFile]] as const) {
    if (section === undefined) continue;
    const accessKeyId = section.get('aws_access_key_id');
    const secretAccessKey = section.get('aws_secret_access_key');
    if (accessKeyId === undefined && secretAccessKey === undefined) continue;
    if (accessKeyId === undefined || secretAccessKey === undefined || accessKeyId === '' || secretAccessKey === '') {
      throw new TrantorError('UNAUTHORIZED', `profile ${files.name} in ${file}: needs both aws_access_key_id and aws_secret_access_key`);
    }
    const sessionToken = section.get('aws_session_token') || undefined;
    return { credentials: { accessKeyId, secretAccessKey, sessionToken, expiration: undefined, source: `profile ${files.name} in ${file}` }, looked };
  }
  const unsupported = UNSUPPORTED_PROFILE_KEYS.find((key) => files.inConfig?.has(key) === true || files.inCredentials?.has(key) === true);
  if (unsupported !== undefined) {
    throw new TrantorError(
      'NOT_SUPPORTED',
      `profile ${files.name} (${files.configFile}): ${unsupported} is not supported; give the profile aws_access_key_id and aws_secret_access_key, or use AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or the environment's keys`,
    );
  }
  return { credentials: undefined, looked };
}

// ---- shared by steps 3–5 ----------------------------------------------------------------------

const cache = new Map<string, { until: number; value: Promise<AwsCredentials | undefined> }>();

/** `fetch` once per key while what it got is fresh; a failure is not kept. */
function cached(key: string, fetchCredentials: () => Promise<AwsCredentials | undefined>): Promise<AwsCredentials | undefined> {
  const now = Date.now();
  const hit = cache.get(key);
  if (hit !== undefined && hit.until > now) return hit.value;
  const entry = { until: Number.POSITIVE_INFINITY, value: fetchCredentials() };
  cache.set(key, entry);
  entry.value.then(
    (credentials) => {
      if (credentials === undefined) entry.until = Date.now() + NO_METADATA_MS;
      else entry.until = credentials.expiration === undefined ? Date.now() + 15 * 60_000 : credentials.expiration.getTime() - REFRESH_BEFORE_MS;
      if (entry.until <= Date.now() && cache.get(key) === entry) cache.delete(key);
    },
    () => {
      if (cache.get(key) === entry) cache.delete(key);
    },
  );
  return entry.value;
}

function bounded(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}

function expirationOf(text: unknown, where: string): Date | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new TrantorError('UNAUTHORIZED', `${where}: the credentials' Expiration ${JSON.stringify(text)} is not a date`);
  return date;
}

/** `{AccessKeyId, SecretAccessKey, Token, Expiration}`, as the container and instance endpoints answer. */
function jsonCredentials(text: string, where: string, source: string): AwsCredentials {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new TrantorError('UNAUTHORIZED', `${where}: the answer is not JSON (${text.slice(0, 120)})`);
  }
  const { AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey, Token: token, Expiration: expiration } = json;
  if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string' || accessKeyId === '' || secretAccessKey === '') {
    throw new TrantorError('UNAUTHORIZED', `${where}: the answer has no AccessKeyId and SecretAccessKey (${JSON.stringify(json.Code ?? json.Message ?? Object.keys(json))})`);
  }
  return { accessKeyId, secretAccessKey, sessionToken: typeof token === 'string' && token !== '' ? token : undefined, expiration: expirationOf(expiration, where), source };
}

async function call(url: string, init: RequestInit, signal: AbortSignal, ms: number, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: bounded(signal, ms) });
  } catch (err) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : err;
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? ((err as Error).name === 'TimeoutError' ? `no answer in ${ms} ms` : (err as Error).message);
    throw new TrantorError('UNAVAILABLE', `cannot reach ${what} at ${new URL(url).origin} (${cause})`, { cause: err });
  }
}

// ---- 3. web identity --------------------------------------------------------------------------

interface WebIdentity {
  readonly tokenFile: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly endpoint: string;
}

function webIdentitySettings(env: Env): WebIdentity | undefined {
  const tokenFile = value(env, 'AWS_WEB_IDENTITY_TOKEN_FILE');
  const roleArn = value(env, 'AWS_ROLE_ARN');
  if (tokenFile === undefined && roleArn === undefined) return undefined;
  if (tokenFile === undefined || roleArn === undefined) {
    throw new TrantorError('UNAUTHORIZED', `web identity needs both AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN; ${tokenFile === undefined ? 'AWS_WEB_IDENTITY_TOKEN_FILE' : 'AWS_ROLE_ARN'} is not set`);
  }
  const region = value(env, 'AWS_REGION') ?? value(env, 'AWS_DEFAULT_REGION');
  const endpoint = value(env, 'AWS_ENDPOINT_URL_STS') ?? value(env, 'AWS_ENDPOINT_URL') ?? (region === undefined ? 'https://sts.amazonaws.com' : `https://sts.${region}.amazonaws.com`);
  if (!/^https?:\/\//i.test(endpoint)) throw new TrantorError('BAD_MANIFEST', `the STS endpoint ${endpoint} (AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL) is not an http(s) URL`);
  return { tokenFile, roleArn, sessionName: value(env, 'AWS_ROLE_SESSION_NAME') ?? `trantor-${process.pid}`, endpoint };
}

function xmlElement(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1]?.trim();
}

async function assumeRoleWithWebIdentity(identity: WebIdentity, signal: AbortSignal): Promise<AwsCredentials> {
  let token: string;
  try {
    token = readFileSync(identity.tokenFile, 'utf8').trim();
  } catch (err) {
    throw new TrantorError('UNAUTHORIZED', `AWS_WEB_IDENTITY_TOKEN_FILE=${identity.tokenFile}: cannot read the token (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const body = new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: identity.roleArn, RoleSessionName: identity.sessionName, WebIdentityToken: token });
  const what = `STS (AssumeRoleWithWebIdentity for AWS_ROLE_ARN=${identity.roleArn})`;
  const response = await call(identity.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'application/xml' }, body: body.toString() }, signal, 10_000, what);
  const xml = await response.text();
  if (response.status !== 200) {
    const code = xmlElement(xml, 'Code') ?? `HTTP ${response.status}`;
    const message = xmlElement(xml, 'Message');
    throw new TrantorError(
      'UNAUTHORIZED',
      `${what} at ${identity.endpoint} refused the token from ${identity.tokenFile} (${response.status} ${code}${message === undefined ? '' : `: ${message}`}); check the role's trust policy and the service account's annotation`,
    );
  }
  const credentials = xmlElement(xml, 'Credentials') ?? '';
  const accessKeyId = xmlElement(credentials, 'AccessKeyId');
  const secretAccessKey = xmlElement(credentials, 'SecretAccessKey');
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new TrantorError('UNAUTHORIZED', `${what} at ${identity.endpoint}: the answer has no Credentials (${xml.slice(0, 160)})`);
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken: xmlElement(credentials, 'SessionToken'),
    expiration: expirationOf(xmlElement(credentials, 'Expiration'), what),
    source: `web identity (AWS_ROLE_ARN=${identity.roleArn}, token ${identity.tokenFile})`,
  };
}

// ---- 4. container credentials -----------------------------------------------------------------

interface ContainerEndpoint {
  readonly url: string;
  readonly from: string;
  readonly token: string | undefined;
  readonly tokenFrom: string | undefined;
}

/** The hosts a plain-http FULL_URI may name (as the SDKs allow): loopback and the ECS/EKS agents. */
function allowedContainerHost(host: string): boolean {
  return host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '169.254.170.2' || host === '169.254.170.23' || host === '[fd00:ec2::23]';
}

function containerSettings(env: Env): ContainerEndpoint | undefined {
  const relative = value(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
  const full = value(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI');
  let url: string;
  let from: string;
  if (relative !== undefined) {
    url = `http://169.254.170.2${relative.startsWith('/') ? '' : '/'}${relative}`;
    from = 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI';
  } else if (full !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(full);
    } catch {
      throw new TrantorError('BAD_MANIFEST', `AWS_CONTAINER_CREDENTIALS_FULL_URI=${full} is not a URL`);
    }
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && allowedContainerHost(parsed.hostname))) {
      throw new TrantorError('BAD_MANIFEST', `AWS_CONTAINER_CREDENTIALS_FULL_URI=${full}: plain http is allowed to loopback, 169.254.170.2 and 169.254.170.23 only; use https`);
    }
    url = parsed.href;
    from = 'AWS_CONTAINER_CREDENTIALS_FULL_URI';
  } else {
    return undefined;
  }
  const tokenFile = value(env, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE');
  if (tokenFile !== undefined) {
    let token: string;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new TrantorError('UNAUTHORIZED', `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${tokenFile}: cannot read the token (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return { url, from, token, tokenFrom: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE' };
  }
  const token = value(env, 'AWS_CONTAINER_AUTHORIZATION_TOKEN');
  return { url, from, token, tokenFrom: token === undefined ? undefined : 'AWS_CONTAINER_AUTHORIZATION_TOKEN' };
}

async function containerCredentials(endpoint: ContainerEndpoint, signal: AbortSignal): Promise<AwsCredentials> {
  const what = `the container credentials endpoint (${endpoint.from})`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (endpoint.token !== undefined) headers['authorization'] = endpoint.token;
  const response = await call(endpoint.url, { headers }, signal, 5_000, what);
  const text = await response.text();
  if (response.status !== 200) {
    const token = endpoint.tokenFrom === undefined ? 'no authorization token was sent' : `the token came from ${endpoint.tokenFrom}`;
    throw new TrantorError('UNAUTHORIZED', `${what} ${endpoint.url} answered ${response.status} (${text.trim().slice(0, 160)}); ${token}`);
  }
  return jsonCredentials(text, `${what} ${endpoint.url}`, `container credentials (${endpoint.from})`);
}

// ---- 5. EC2 instance metadata -----------------------------------------------------------------

interface MetadataService {
  readonly endpoint: URL;
  readonly timeoutMs: number;
}

function metadataSettings(env: Env): MetadataService {
  const raw = value(env, 'AWS_EC2_METADATA_SERVICE_ENDPOINT') ?? 'http://169.254.169.254';
  let endpoint: URL;
  try {
    endpoint = new URL(raw);
  } catch {
    throw new TrantorError('BAD_MANIFEST', `AWS_EC2_METADATA_SERVICE_ENDPOINT=${raw} is not a URL`);
  }
  const seconds = Number(value(env, 'AWS_METADATA_SERVICE_TIMEOUT') ?? '1');
  if (!(seconds > 0)) throw new TrantorError('BAD_MANIFEST', `AWS_METADATA_SERVICE_TIMEOUT=${value(env, 'AWS_METADATA_SERVICE_TIMEOUT')}: expected a number of seconds above 0`);
  return { endpoint, timeoutMs: seconds * 1000 };
}

/** The instance role's credentials, or undefined when there is no metadata service or no role. */
async function instanceCredentials(service: MetadataService, signal: AbortSignal): Promise<AwsCredentials | undefined> {
  const at = (path: string): string => new URL(path, service.endpoint).href;
  const what = 'instance metadata';
  try {
    const tokenResponse = await call(at('/latest/api/token'), { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' } }, signal, service.timeoutMs, what);
    const tokenText = await tokenResponse.text();
    // 404/403/405: a service without IMDSv2 sessions (or behind a proxy that refuses PUT): IMDSv1.
    if (tokenResponse.status !== 200 && ![403, 404, 405].includes(tokenResponse.status)) return undefined;
    const headers: Record<string, string> = tokenResponse.status === 200 ? { 'x-aws-ec2-metadata-token': tokenText.trim() } : {};
    const roles = await call(at('/latest/meta-data/iam/security-credentials/'), { headers }, signal, service.timeoutMs, what);
    const roleText = await roles.text();
    const role = roleText.split('\n')[0]?.trim();
    if (roles.status !== 200 || role === undefined || role === '') return undefined;
    const answer = await call(at(`/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`), { headers }, signal, service.timeoutMs, what);
    const text = await answer.text();
    if (answer.status !== 200) return undefined;
    return jsonCredentials(text, `instance metadata at ${service.endpoint.origin} (role ${role})`, `the instance role ${role} (instance metadata at ${service.endpoint.origin})`);
  } catch (err) {
    if (signal.aborted) throw err;
    if (err instanceof TrantorError && err.code === 'UNAVAILABLE') return undefined; // not on EC2
    throw err;
  }
}
