/**
 * The control plane is its user's alone, checked against a real `trantor up`: the API answers
 * only with the token from `<home>/api-token` (another local user cannot read it), names in API
 * paths cannot reach outside the home, everything in the home is 0700/0600 after a real run,
 * and component processes never see the token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ROOT, Trantor } from './harness.ts';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function call(apiUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const res = await fetch(`${apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Polls `check` until it returns a value, or fails with `what` after the deadline. */
async function eventually<T>(check: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every path under `root` whose mode lets group or others in, with that mode. */
function openToOthers(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    const expected = stat.isDirectory() ? 0o700 : 0o600;
    if ((stat.mode & 0o777) !== expected) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(root);
  return found;
}

describe('a control plane with its token in the home', () => {
  const outside = mkdtempSync(join(tmpdir(), 'trantor-outside-'));
  // A home as an older version left it: open folders and files.
  const home = mkdtempSync(join(tmpdir(), 'trantor-e2e-'));
  chmodSync(home, 0o755);
  mkdirSync(join(home, 'logs'), { mode: 0o755 });
  writeFileSync(join(home, 'logs', 'old.log'), 'from an older version\n', { mode: 0o644 });
  const trantor = new Trantor(home);
  let token = '';
  let apiUrl = '';

  before(async () => {
    await trantor.up();
    token = existsSync(join(home, 'api-token')) ? readFileSync(join(home, 'api-token'), 'utf8').trim() : '';
    apiUrl = (JSON.parse(readFileSync(join(home, 'control-plane.json'), 'utf8')) as { apiUrl: string }).apiUrl;
  });

  after(async () => {
    await trantor.close();
    rmSync(outside, { recursive: true, force: true });
  });

  test('the API answers 401 without the token or with a wrong one, and 200 with the one in <home>/api-token', async () => {
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const missing = await call(apiUrl, 'GET', '/v1/health');
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.ok(missing.text.includes(join(home, 'api-token')), `the 401 says where the token is: ${missing.text}`);
    assert.ok(!missing.text.includes(token), 'the 401 never shows the token');
    const wrong = await call(apiUrl, 'GET', '/v1/deployments', { authorization: `Bearer ${token.slice(0, -1)}x` });
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.text.includes(token));
    const apply = await call(apiUrl, 'POST', '/v1/apply', { 'content-type': 'application/yaml' }, 'kind: SeldonDeployment');
    assert.equal(apply.status, 401, 'a manifest without the token is refused before it is read');
    const right = await call(apiUrl, 'GET', '/v1/health', { authorization: `Bearer ${token}` });
    assert.deepEqual([right.status, right.text], [200, '{"status":"ok"}']);
    assert.equal(trantor.cli(['get', 'sdep']).code, 0, 'the CLI sends the token itself');
  });

  test('another local user cannot read the token and gets 401', () => {
    const script = `
      const fs = require('node:fs');
      let read = 'read';
      try { fs.readFileSync(${JSON.stringify(join(home, 'api-token'))}, 'utf8'); } catch (err) { read = err.code; }
      fetch(${JSON.stringify(`${apiUrl}/v1/deployments`)}).then((res) => console.log(JSON.stringify({ uid: process.getuid(), read, status: res.status })));
    `;
    const result = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout) as unknown, { uid: 65534, read: 'EACCES', status: 401 });
  });

  test('names that decode to paths are refused with 400 before anything touches the disk', async () => {
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ url: 'http://127.0.0.1:9/' });
    const up = `..%2F..%2F..%2F..%2F${basename(outside)}`;
    // From <home>/manifests/sinks/<ns>/ four levels up is the temporary folder that holds `outside`.
    for (const path of [`/v1/sinks/default/${up}%2Fx`, `/v1/sinks/..%2F..%2F..%2F${basename(outside)}/x`]) {
      const put = await call(apiUrl, 'PUT', path, auth, body);
      assert.equal(put.status, 400, `${path}: ${put.text}`);
      const failure = (JSON.parse(put.text) as { status: { info: string; reason: string } }).status;
      assert.equal(failure.reason, 'BAD_REQUEST');
      assert.match(failure.info, /^\/v1\/sinks\/.*<(namespace|name)>: (namespace|name) "\.\.\/.*" is not a valid name/);
    }
    writeFileSync(join(outside, 'victim.json'), '{}');
    const removed = await call(apiUrl, 'DELETE', `/v1/sinks/default/${up}%2Fvictim`, auth);
    assert.equal(removed.status, 400, removed.text);
    const deployment = await call(apiUrl, 'GET', '/v1/deployments/seldon/..%2F..%2Fx', auth);
    assert.equal(deployment.status, 400, deployment.text);
    assert.deepEqual(readdirSync(outside), ['victim.json'], 'nothing was written or removed outside the home');
    const fine = await call(apiUrl, 'PUT', '/v1/sinks/default/event-display', auth, body);
    assert.equal(fine.status, 200, fine.text);
  });

  test('after a real run (iris applied, an event stored, a sink registered) every folder in the home is 0700 and every file 0600', async () => {
    trantor.applyAndWait(join(ROOT, 'examples', 'iris', 'iris.yaml'));
    const predicted = await fetch(trantor.url('seldon', 'iris-model'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":{"ndarray":[[1,2,3,4]]}}' });
    assert.equal(predicted.status, 200);
    const event = await fetch(`${trantor.gateway}/default/default`, {
      method: 'POST',
      headers: { 'ce-id': '1', 'ce-specversion': '1.0', 'ce-type': 'home.check', 'ce-source': 'test', 'content-type': 'application/json' },
      body: '{"secret":"payload"}',
    });
    assert.equal(event.status, 202);
    await eventually(() => (existsSync(join(home, 'broker', 'events.db-wal')) ? true : undefined), 'the broker WAL');
    await eventually(() => (readdirSync(join(home, 'logs'), { recursive: true }).some((f) => String(f).endsWith('.log') && String(f) !== 'old.log') ? true : undefined), 'a replica log');
    assert.deepEqual(openToOthers(home), []);
    for (const expected of ['api-token', 'control-plane.json', 'manifests', 'logs', 'broker']) assert.ok(existsSync(join(home, expected)), `${expected} exists`);
  });
});

describe('a control plane whose token file others could read', () => {
  const TOKEN = 'a-token-left-open-0123456789';
  const home = mkdtempSync(join(tmpdir(), 'trantor-e2e-'));
  writeFileSync(join(home, 'api-token'), `${TOKEN}\n`, { mode: 0o644 });
  const trantor = new Trantor(home);

  before(() => trantor.up());
  after(() => trantor.close());

  test('keeps the token, makes the file 0600 again and warns that it may have leaked', async () => {
    assert.match(trantor.output.join(''), /api-token was readable by other users \(mode 644\); its mode is now 600\. If others may have read it, delete it and restart/);
    assert.equal(lstatSync(join(home, 'api-token')).mode & 0o777, 0o600);
    const apiUrl = (JSON.parse(readFileSync(join(home, 'control-plane.json'), 'utf8')) as { apiUrl: string }).apiUrl;
    assert.equal((await call(apiUrl, 'GET', '/v1/health', { authorization: `Bearer ${TOKEN}` })).status, 200);
  });
});

describe('a control plane started with TRANTOR_API_TOKEN', () => {
  const TOKEN = 'scripted-token-0123456789-abcdef';
  const work = mkdtempSync(join(tmpdir(), 'trantor-envdump-'));
  class ScriptedTrantor extends Trantor {
    override get env(): NodeJS.ProcessEnv {
      return { ...super.env, TRANTOR_API_TOKEN: TOKEN };
    }
  }
  const trantor = new ScriptedTrantor();

  before(async () => {
    // A component that prints its whole environment, then serves Seldon's health check.
    writeFileSync(
      join(work, 'envdump.js'),
      `console.log('ENV ' + JSON.stringify(process.env));
require('node:http').createServer((req, res) => res.end(req.url === '/health/ping' ? 'pong' : '{}')).listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1');
`,
    );
    writeFileSync(
      join(work, 'envdump.yaml'),
      `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: envdump}
spec:
  predictors:
  - name: default
    graph: {name: envdump, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: envdump
          command: [${JSON.stringify(process.execPath)}, ./envdump.js]
`,
    );
    await trantor.up();
  });

  after(async () => {
    await trantor.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('the API takes that token and no file is made; the CLI uses it too', async () => {
    const apiUrl = (JSON.parse(readFileSync(join(trantor.home, 'control-plane.json'), 'utf8')) as { apiUrl: string }).apiUrl;
    assert.equal((await call(apiUrl, 'GET', '/v1/health', { authorization: `Bearer ${TOKEN}` })).status, 200);
    const refused = await call(apiUrl, 'GET', '/v1/health');
    assert.equal(refused.status, 401);
    assert.match(refused.text, /TRANTOR_API_TOKEN/);
    assert.equal(existsSync(join(trantor.home, 'api-token')), false);
    assert.equal(trantor.cli(['get', 'sdep']).code, 0);
  });

  test('a component process never receives the API token in its environment', async () => {
    trantor.applyAndWait(join(work, 'envdump.yaml'));
    const line = await eventually(() => trantor.cli(['logs', 'envdump']).stdout.split('\n').find((l) => l.includes('ENV {')), 'the component to print its environment');
    const env = JSON.parse(line.slice(line.indexOf('ENV ') + 4)) as Record<string, string>;
    assert.equal(env['PREDICTIVE_UNIT_ID'], 'envdump', 'the line is the component\'s environment');
    assert.equal(env['TRANTOR_API_TOKEN'], undefined);
    assert.ok(!line.includes(TOKEN), 'the token is nowhere in the environment');
  });
});
