/**
 * Seldon's payload rules through the real `trantor up`, as a user meets them: `curl -F
 * strData=@file` and `-F binData=@file`, NaN and Infinity as Python sends them, numbers beyond a
 * double passed through exactly, and SIMPLE_MODEL served.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, Trantor } from './harness.ts';

const run = promisify(execFile);
const trantor = new Trantor();
const files = mkdtempSync(join(tmpdir(), 'trantor-payloads-'));

before(async () => {
  await trantor.up();
  trantor.applyAndWait(join(ROOT, 'test', 'e2e', 'payloads', 'payloads.yaml'));
  trantor.applyAndWait(join(ROOT, 'examples', 'noop-ts', 'noop-in-process.yaml'));
});
after(async () => {
  await trantor.close();
  rmSync(files, { recursive: true, force: true });
});

/** `curl -s -F …` to a deployment's predictions; the status and the body's text. */
async function curlForm(name: string, ...fields: string[]): Promise<{ status: number; body: string }> {
  const args = ['-s', '--max-time', '60', '-w', '\n%{http_code}', ...fields.flatMap((f) => ['-F', f]), trantor.url('payloads', name)];
  const { stdout } = await run('curl', args);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

async function postText(name: string, body: string, namespace = 'payloads'): Promise<{ status: number; body: string }> {
  const res = await fetch(trantor.url(namespace, name), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.text() };
}

/** The reply's text up to its `meta` member: the payload as the model wrote it. */
function payloadOf(body: string): string {
  const at = body.indexOf(',"meta":');
  return at === -1 ? body : `${body.slice(0, at)}}`;
}

test('curl -F strData=@file reaches a Python user class as its text, and comes back as strData', async () => {
  const file = join(files, 'review.txt');
  writeFileSync(file, 'a fine film, naïve and kind\n');
  const { status, body } = await curlForm('py-echo', `strData=@${file}`);
  assert.equal(status, 200, body);
  assert.equal((JSON.parse(body) as { strData?: string }).strData, 'a fine film, naïve and kind\n');
});

test('curl -F binData=@file reaches the model as the file\'s bytes, and comes back as base64 binData', async () => {
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x10, 0x80]);
  const file = join(files, 'image.png');
  writeFileSync(file, bytes);
  const { status, body } = await curlForm('py-echo', `binData=@${file}`);
  assert.equal(status, 200, body);
  assert.equal((JSON.parse(body) as { binData?: string }).binData, bytes.toString('base64'));
});

test('curl -F json=<message> is the whole message, as the form field json= is', async () => {
  const { status, body } = await curlForm('raw-echo', 'json={"data":{"ndarray":[[1,2]]}}');
  assert.equal(status, 200, body);
  assert.equal(payloadOf(body), '{"data":{"ndarray":[[1,2]]}}');
});

test('NaN, Infinity and -Infinity as Python sends them reach the model as those tokens and come back so', async () => {
  const { status, body } = await postText('raw-echo', '{"data": {"ndarray": [[NaN, Infinity, -Infinity, 1.5]]}}');
  assert.equal(status, 200, body);
  assert.equal(payloadOf(body), '{"data":{"ndarray":[[NaN,Infinity,-Infinity,1.5]]}}');
});

test('NaN and Infinity reach the in-process TypeScript no-op model and come back from it', async () => {
  const { status, body } = await postText('noop-in-process', '{"data":{"ndarray":[[NaN,Infinity,-Infinity,2]]}}', 'default');
  assert.equal(status, 200, body);
  assert.match(body, /"ndarray":\[\[NaN,Infinity,-Infinity,2\]\]/);
});

test('an integer above 2^53 and 1e400 go to the model and back exactly as sent', async () => {
  const sent = '{"data":{"ndarray":[[12345678901234567890,1e400]]}}';
  const { status, body } = await postText('raw-echo', sent);
  assert.equal(status, 200, body);
  assert.equal(payloadOf(body), sent);
});

test('SIMPLE_MODEL is Available and answers 200 with Seldon\'s fixed scores', async () => {
  const got = trantor.cli(['get', 'sdep', 'simple', '-n', 'payloads', '-o', 'json']);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /"state": ?"Available"/);
  const { status, body } = await postText('simple', '{"data":{"ndarray":[[1,2,3,4]]}}');
  assert.equal(status, 200, body);
  const reply = JSON.parse(body) as { data: unknown; meta: { requestPath: Record<string, string> } };
  assert.deepEqual(reply.data, { names: ['class0', 'class1', 'class2'], tensor: { shape: [1, 3], values: [0.1, 0.9, 0.5] } });
  assert.deepEqual(reply.meta.requestPath, { model: 'SIMPLE_MODEL' });
});
