import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, test } from 'node:test';
import { request } from 'undici';
import { TrantorError } from '../protocol/index.ts';
import { ClientGone, closer, createHttpServer, listen, readBody, sendFailure, sendJson } from './index.ts';
import { rawExchange, truncatedPost } from './testing.ts';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

interface Seen {
  errors: unknown[];
}

/** A server that echoes bodies up to 64 bytes, with a 1 s request timeout. */
async function echoServer(): Promise<{ port: number; seen: Seen; close: () => Promise<void> }> {
  const seen: Seen = { errors: [] };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req, { limitBytes: 64, what: 'the test body' }).then(
      (body) => sendJson(res, 200, { echo: body.toString('utf8') }),
      (err: unknown) => {
        seen.errors.push(err);
        sendFailure(req, res, err);
      },
    );
  };
  const server = createHttpServer({ requestTimeoutMs: 1_000, keepAliveTimeoutMs: 5_000 }, handler);
  const port = await listen(server, 0, '127.0.0.1');
  return { port, seen, close: closer(server, 500) };
}

const served = await echoServer();
after(() => served.close());

async function until(what: string, check: () => boolean, deadlineMs = 5_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a whole body is read and answered', async () => {
  const res = await request(`http://127.0.0.1:${served.port}/`, { method: 'POST', body: 'hello' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(await res.body.json(), { echo: 'hello' });
});

test('a client that aborts mid-body rejects the reader with ClientGone, never an unhandled rejection', async () => {
  const before = served.seen.errors.length;
  const result = await rawExchange(served.port, truncatedPost(served.port, '/', 60, '{"a":1}'), { closeAfterWrite: true });
  assert.equal(result.text, '');
  await until('the reader to reject', () => served.seen.errors.length > before);
  assert.ok(served.seen.errors.at(-1) instanceof ClientGone);
  assert.deepEqual(unhandled, []);
  const res = await request(`http://127.0.0.1:${served.port}/`, { method: 'POST', body: 'still here' });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
});

test('a body announced over the limit is refused at once with 413 naming the limit, and the connection closed', async () => {
  const result = await rawExchange(served.port, truncatedPost(served.port, '/', 1_000_000, 'x'));
  assert.ok(result.closedByServer, 'the server closes the connection rather than read the rest');
  assert.match(result.text, /^HTTP\/1\.1 413 /);
  assert.match(result.text, /Connection: close/i);
  assert.match(result.text, /the test body is larger than the limit of 64 bytes/);
});

test('a chunked body that grows over the limit is refused with 413', async () => {
  const chunk = 'x'.repeat(40);
  const bytes = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n${chunk}\r\n28\r\n${chunk}\r\n`;
  const result = await rawExchange(served.port, bytes);
  assert.match(result.text, /^HTTP\/1\.1 413 /);
  assert.match(result.text, /"code":413/);
});

test('an incomplete body gets 408 once the request timeout passes, on time, and the connection is closed', async () => {
  const result = await rawExchange(served.port, truncatedPost(served.port, '/', 50, '{"a":'));
  assert.match(result.text, /^HTTP\/1\.1 408 /);
  assert.match(result.text, /REQUEST_TIMEOUT/);
  assert.ok(result.closedByServer);
  // 1 s configured; node checks every 50 ms here. Generous margin for a loaded machine, but far
  // below the 30 s check interval that made a 30 s limit answer after 54 s.
  assert.ok(result.ms >= 900, `answered after ${result.ms} ms, before the timeout`);
  assert.ok(result.ms < 3_000, `answered after ${result.ms} ms`);
  await until('the reader to see the connection gone', () => served.seen.errors.some((e) => e instanceof ClientGone));
  assert.deepEqual(unhandled, []);
});

test('headers that never end get 408 too', async () => {
  const result = await rawExchange(served.port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  assert.match(result.text, /^HTTP\/1\.1 408 /);
  assert.ok(result.ms < 3_000, `answered after ${result.ms} ms`);
});

test('a request node cannot parse gets a JSON 400, oversized headers a 431', async () => {
  const garbage = await rawExchange(served.port, 'BREW / HTCPCP/1.0\r\n\r\n');
  assert.match(garbage.text, /^HTTP\/1\.1 400 /);
  assert.match(garbage.text, /"status":"FAILURE"/);
  const huge = await rawExchange(served.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(huge.text, /^HTTP\/1\.1 431 /);
  assert.match(huge.text, /HEADERS_TOO_LARGE/);
});

test('sendFailure leaves an exchange alone once it is answered', async () => {
  const server = createHttpServer({ requestTimeoutMs: 5_000, keepAliveTimeoutMs: 1_000 }, (req, res) => {
    sendJson(res, 200, { ok: true });
    assert.equal(sendFailure(req, res, new TrantorError('BAD_PAYLOAD', 'too late')), undefined);
  });
  const port = await listen(server, 0, '127.0.0.1');
  try {
    const res = await request(`http://127.0.0.1:${port}/`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { ok: true });
  } finally {
    await closer(server)();
  }
});

test('close waits for a request in flight, then cuts it after the grace time', async () => {
  const server = createHttpServer({ requestTimeoutMs: 30_000, keepAliveTimeoutMs: 1_000 }, () => {
    // never answers
  });
  const port = await listen(server, 0, '127.0.0.1');
  let arrived = false;
  server.once('request', () => (arrived = true));
  const pending = rawExchange(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await until('the request to arrive', () => arrived);
  const started = Date.now();
  await closer(server, 300)();
  const waited = Date.now() - started;
  assert.ok(waited >= 250, `closed after ${waited} ms, before the grace time`);
  assert.ok((await pending).closedByServer);
});

test('a client still uploading when refused reads its 413: the server lingers instead of resetting', async () => {
  // 8 MiB sent by another process (as the CLI is): far more than the kernel buffers, so a server
  // that closed with unread bytes would reset the connection before the client read the answer.
  const client = `
    const body = 'x'.repeat(8 * 1024 * 1024);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(process.argv[1], { method: 'POST', body }).catch((err) => ({ status: String(err.cause ?? err) }));
      console.log(res.status);
      if (res.text !== undefined) await res.text();
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', client, `http://127.0.0.1:${served.port}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  assert.deepEqual(out.trim().split('\n'), ['413', '413', '413']);
});
