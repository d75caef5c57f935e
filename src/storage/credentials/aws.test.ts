/**
 * AWS's default chain end to end: credentials got from real files in a temporary HOME, or from
 * real node:http servers answering as AWS documents STS, the container credentials endpoint and
 * EC2 instance metadata answer, then used to sign a real request to versitygw (which checks SigV4).
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import { s3Provider, s3Settings } from '../providers/s3.ts';
import { emulator, freePort, rejection, start, type Running } from '../providers/cloud-testing.ts';
import { awsCredentials, forgetAwsCredentials, parseIni } from './aws.ts';

const VERSITYGW = emulator('versitygw', 'TRANTOR_VERSITYGW', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0');
const IRIS = readFileSync(new URL('../../../examples/iris/model/model.joblib', import.meta.url));
const KEY = 'AKIATRANTORCHAIN';
const SECRET = 'trantor-chain-secret';
const REGION = 'eu-west-3';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** A real HTTP server on a free loopback port; every request is recorded. */
async function endpoint(handler: Handler): Promise<{ url: string; requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[]; server: Server }> {
  const requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, requests, server };
}

const inAnHour = (): string => new Date(Date.now() + 3600_000).toISOString();

describe('the AWS default credential chain, signing real requests to versitygw', { skip: VERSITYGW.skip }, () => {
  let root: string;
  let home: string;
  let server: Running;
  let s3: string;
  const servers: Server[] = [];
  /** The env every test starts from: the emulator, an empty HOME, no instance metadata. */
  const bare = (): Record<string, string> => ({ S3_ENDPOINT: s3, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' });
  const base = (): Record<string, string> => ({ ...bare(), AWS_DEFAULT_REGION: REGION });
  const list = (env: Record<string, string>): Promise<unknown> => s3Provider({ env }).list(new URL('s3://models/iris'), AbortSignal.timeout(10_000));
  const listsIris = async (env: Record<string, string>): Promise<void> => {
    const objects = (await list(env)) as { key: string; size: number }[];
    assert.deepEqual(objects.map((o) => [o.key, o.size]), [['model.joblib', IRIS.length]]);
  };
  const serve = async (handler: Handler): ReturnType<typeof endpoint> => {
    const made = await endpoint(handler);
    servers.push(made.server);
    return made;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'trantor-awschain-'));
    mkdirSync(join(root, 'data'));
    const port = await freePort();
    s3 = `http://127.0.0.1:${port}`;
    // Not the default region: a listing signed for the wrong one fails, so the profile's region is proven used.
    server = await start(VERSITYGW.path, ['--access', KEY, '--secret', SECRET, '--region', REGION, '--port', `127.0.0.1:${port}`, 'posix', join(root, 'data')], /listening on/);
    const client = new AwsClient({ accessKeyId: KEY, secretAccessKey: SECRET, service: 's3', region: REGION });
    for (const [path, body] of [['models', undefined], ['models/iris/model.joblib', IRIS]] as const) {
      const response = await client.fetch(`${s3}/${path}`, { method: 'PUT', ...(body === undefined ? {} : { body }) });
      assert.equal(response.status, 200, await response.text());
    }
  });
  beforeEach(() => {
    forgetAwsCredentials();
    home = mkdtempSync(join(root, 'home-'));
  });
  after(async () => {
    await server.stop();
    for (const s of servers) s.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('nothing anywhere: the request is anonymous, and the refusal lists every place looked at', async () => {
    const err = await rejection(list(bare()));
    assert.equal((err as { code?: string }).code, 'UNAUTHORIZED');
    assert.match(err.message, /no credentials were found \(looked at: AWS_ACCESS_KEY_ID; profile default in .*\.aws\/credentials and .*\.aws\/config; AWS_WEB_IDENTITY_TOKEN_FILE; AWS_CONTAINER_CREDENTIALS_RELATIVE_URI\/FULL_URI; instance metadata \(AWS_EC2_METADATA_DISABLED\)\), so the request was anonymous/);
  });

  test('the default profile in ~/.aws/credentials signs; the config file gives the region', async () => {
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'credentials'), `# keys\n[default]\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`);
    writeFileSync(join(home, '.aws', 'config'), `[default]\nregion = ${REGION}\ns3 =\n  addressing_style = path\n`);
    await listsIris(bare());
    assert.equal(s3Settings(bare()).region, REGION);
    assert.equal(s3Settings({ ...bare(), AWS_REGION: 'us-west-2' }).region, 'us-west-2');
  });

  test('AWS_PROFILE picks [profile x] in AWS_CONFIG_FILE; the environment\'s keys come first', async () => {
    const config = join(home, 'elsewhere.ini');
    writeFileSync(config, `[default]\naws_access_key_id = ${KEY}\naws_secret_access_key = WRONG\n[profile dev]\nregion = ${REGION}\naws_access_key_id = ${KEY}\naws_secret_access_key = ${SECRET}\n`);
    const env = { ...bare(), AWS_CONFIG_FILE: config, AWS_PROFILE: 'dev' };
    await listsIris(env);
    assert.equal(s3Settings(env).region, REGION);
    // The default profile's wrong key is refused, naming where it came from.
    const wrong = await rejection(list({ ...base(), AWS_CONFIG_FILE: config }));
    assert.equal((wrong as { code?: string }).code, 'UNAUTHORIZED');
    assert.match(wrong.message, /signed with profile default in .*elsewhere\.ini \(key /);
    // Keys in the environment win over the (wrong) default profile.
    await listsIris({ ...base(), AWS_CONFIG_FILE: config, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET });
  });

  test('AWS_PROFILE naming no profile, a half key, or a role profile: each refused, naming the file', async () => {
    const credentials = join(home, 'creds');
    writeFileSync(credentials, '[half]\naws_access_key_id = A\n[role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = half\n');
    const env = { ...base(), AWS_SHARED_CREDENTIALS_FILE: credentials };
    const missing = await rejection(list({ ...env, AWS_PROFILE: 'nope' }));
    assert.match(missing.message, /^s3:\/\/models\/iris: no S3 credentials: AWS_PROFILE=nope: no such profile in .*creds \(\[nope\]\) or .*\.aws\/config \(\[profile nope\]\)/);
    assert.match((await rejection(list({ ...env, AWS_PROFILE: 'half' }))).message, /profile half in .*creds: needs both aws_access_key_id and aws_secret_access_key/);
    const role = await rejection(list({ ...env, AWS_PROFILE: 'role' }));
    assert.equal((role as { code?: string }).code, 'NOT_SUPPORTED');
    assert.match(role.message, /profile role .*role_arn is not supported/);
  });

  // versitygw has no STS, so it refuses every session token (400 InvalidToken): the endpoints below
  // answer without one where the signed request must succeed, and with one where the test shows
  // that the token is sent.
  test('web identity: the token file is exchanged at STS (AssumeRoleWithWebIdentity), the answer signs, and is kept until near expiry', async () => {
    let expiration = inAnHour();
    let sessionToken = '';
    const sts = await serve((_req, body, res) => {
      const form = new URLSearchParams(body);
      if (form.get('WebIdentityToken') !== 'the-oidc-token') {
        res.writeHead(400, { 'content-type': 'text/xml' }).end('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Token is not valid</Message></Error></ErrorResponse>');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' }).end(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>` +
          `<AccessKeyId>${KEY}</AccessKeyId><SecretAccessKey>${SECRET}</SecretAccessKey>${sessionToken === '' ? '' : `<SessionToken>${sessionToken}</SessionToken>`}<Expiration>${expiration}</Expiration>` +
          `</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
      );
    });
    const tokenFile = join(home, 'token');
    writeFileSync(tokenFile, 'the-oidc-token\n');
    const env = { ...base(), AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/models', AWS_ROLE_SESSION_NAME: 'tests', AWS_ENDPOINT_URL_STS: sts.url };
    await listsIris(env);
    await listsIris(env);
    assert.equal(sts.requests.length, 1, 'the second fetch used the kept credentials');
    const form = new URLSearchParams(sts.requests[0]!.body);
    assert.equal(sts.requests[0]!.method, 'POST');
    assert.deepEqual([form.get('Action'), form.get('Version'), form.get('RoleArn'), form.get('RoleSessionName')], ['AssumeRoleWithWebIdentity', '2011-06-15', 'arn:aws:iam::123456789012:role/models', 'tests']);
    const got = await awsCredentials(env, AbortSignal.timeout(5000));
    assert.equal(got.credentials?.expiration?.toISOString(), new Date(expiration).toISOString());
    assert.match(got.credentials?.source ?? '', /^web identity \(AWS_ROLE_ARN=arn:aws:iam::123456789012:role\/models, token .*token\)$/);

    // The session token STS gives is sent with the request (versitygw refuses it: it has no STS).
    forgetAwsCredentials();
    sessionToken = 'sts-session';
    const withToken = await rejection(list(env));
    assert.equal((withToken as { code?: string }).code, 'UNAUTHORIZED');
    assert.match(withToken.message, /refused access \(400 InvalidToken.*signed with web identity .*temporary until/);
    sessionToken = '';

    // Credentials within five minutes of expiry are fetched again.
    forgetAwsCredentials();
    expiration = new Date(Date.now() + 120_000).toISOString();
    await awsCredentials(env, AbortSignal.timeout(5000));
    await awsCredentials(env, AbortSignal.timeout(5000));
    assert.equal(sts.requests.length, 4);

    writeFileSync(tokenFile, 'a-stale-token');
    forgetAwsCredentials();
    const refused = await rejection(list(env));
    assert.equal((refused as { code?: string }).code, 'UNAUTHORIZED');
    assert.match(refused.message, /STS \(AssumeRoleWithWebIdentity for AWS_ROLE_ARN=arn:aws:iam::123456789012:role\/models\) at http:\/\/127\.0\.0\.1:\d+ refused the token from .*token \(400 InvalidIdentityToken: Token is not valid\)/);
    const half = await rejection(list({ ...base(), AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile }));
    assert.match(half.message, /web identity needs both AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN; AWS_ROLE_ARN is not set/);
  });

  test('container credentials: FULL_URI with the token file as Authorization; a refused token is UNAUTHORIZED', async () => {
    const agent = await serve((req, _body, res) => {
      if (req.headers['authorization'] !== 'pod-identity-token') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ AccessKeyId: KEY, SecretAccessKey: SECRET, Expiration: inAnHour() }));
    });
    const tokenFile = join(home, 'pod-token');
    writeFileSync(tokenFile, 'pod-identity-token');
    const env = { ...base(), AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile };
    await listsIris(env);
    assert.equal(agent.requests[0]?.path, '/v1/credentials');
    forgetAwsCredentials();
    const refused = await rejection(list({ ...base(), AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'wrong' }));
    assert.match(refused.message, /container credentials endpoint \(AWS_CONTAINER_CREDENTIALS_FULL_URI\) http:\/\/127\.0\.0\.1:\d+\/v1\/credentials answered 401 .*the token came from AWS_CONTAINER_AUTHORIZATION_TOKEN/);
    const remote = await rejection(list({ ...base(), AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://example.com/creds' }));
    assert.match(remote.message, /plain http is allowed to loopback, 169\.254\.170\.2 and 169\.254\.170\.23 only/);
  });

  test('instance metadata (IMDSv2): a session token, the role, its credentials', async () => {
    const imds = await serve((req, _body, res) => {
      if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds'] === '21600') {
        res.writeHead(200).end('imds-session');
        return;
      }
      if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-session') {
        res.writeHead(401).end();
        return;
      }
      if (req.url === '/latest/meta-data/iam/security-credentials/') res.writeHead(200).end('model-reader');
      else if (req.url === '/latest/meta-data/iam/security-credentials/model-reader') {
        res.writeHead(200).end(JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: KEY, SecretAccessKey: SECRET, Expiration: inAnHour() }));
      } else res.writeHead(404).end();
    });
    const env = { S3_ENDPOINT: s3, HOME: home, AWS_DEFAULT_REGION: REGION, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url };
    await listsIris(env);
    await listsIris(env);
    assert.deepEqual(imds.requests.map((r) => `${r.method} ${r.path}`), ['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/', 'GET /latest/meta-data/iam/security-credentials/model-reader']);
  });

  test('instance metadata that never answers is given up after AWS_METADATA_SERVICE_TIMEOUT: anonymous', async () => {
    const silent = await serve(() => undefined); // accepts, never answers
    const env = { S3_ENDPOINT: s3, HOME: home, AWS_EC2_METADATA_SERVICE_ENDPOINT: silent.url, AWS_METADATA_SERVICE_TIMEOUT: '0.2' };
    const started = Date.now();
    const got = await awsCredentials(env, AbortSignal.timeout(10_000));
    assert.equal(got.credentials, undefined);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.match(got.tried.at(-1) ?? '', /^instance metadata at http:\/\/127\.0\.0\.1:\d+$/);
    // Remembered: the second look does not wait again.
    const again = Date.now();
    await awsCredentials(env, AbortSignal.timeout(10_000));
    assert.ok(Date.now() - again < 100);
    assert.equal(silent.requests.length, 1, 'one PUT for a session token, not one per look');
  });
});

describe('the shared files\' format', () => {
  test('sections, comments, spaces around =, nested settings skipped', () => {
    const ini = parseIni('; c\n[default]\nregion=eu-west-1\n# c\n[profile x]\n  nested = 1\nAWS_ACCESS_KEY_ID = k\ns3 =\n  max_concurrent_requests = 2\n');
    assert.equal(ini.get('default')?.get('region'), 'eu-west-1');
    assert.equal(ini.get('profile x')?.get('aws_access_key_id'), 'k');
    assert.equal(ini.get('profile x')?.has('nested'), false);
    assert.equal(ini.get('profile x')?.has('max_concurrent_requests'), false);
  });
});
