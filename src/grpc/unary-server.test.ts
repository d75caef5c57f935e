import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { passBytes } from './definition.ts';
import { createUnaryServer, type UnaryCall, type UnaryReply, type UnaryServer } from './unary-server.ts';

const MAX = 64 * 1024;
/** The calls the handlers saw, in order. */
const seen: UnaryCall[] = [];
/** Replies held back by `/t.T/Hold` until a test lets them go. */
const held: UnaryReply[] = [];

let server: UnaryServer;
let others: grpc.Server;
let port: number;
let client: grpc.Client;

before(async () => {
  others = new grpc.Server();
  const echoOther: grpc.MethodDefinition<Buffer, Buffer> = { path: '/t.Other/Echo', requestStream: false, responseStream: false, requestSerialize: passBytes, requestDeserialize: passBytes, responseSerialize: passBytes, responseDeserialize: passBytes };
  others.addService({ Echo: echoOther }, { Echo: ((call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.concat([Buffer.from('other:'), call.request]))) as grpc.UntypedHandleCall });
  server = createUnaryServer({
    maxMessageBytes: MAX,
    others,
    unary: new Map([
      ['/t.T/Echo', (call, reply) => {
        seen.push(call);
        reply.ok(call.request, { 'x-echo': call.headers['x-in'] ?? 'none' });
      }],
      ['/t.T/Fail', (call, reply) => {
        seen.push(call);
        reply.fail(grpc.status.INVALID_ARGUMENT, 'data.ndarray: expected 100% numbers, got "é"', { 'x-why': 'because' });
      }],
      ['/t.T/Hold', (call, reply) => {
        seen.push(call);
        held.push(reply);
      }],
    ]),
  });
  port = await server.listen('127.0.0.1', 0);
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(async () => {
  client.close();
  await server.close(1000);
  others.forceShutdown();
});

interface Answer {
  error: grpc.ServiceError | null;
  value: Buffer | undefined;
  metadata: grpc.Metadata | undefined;
}

/** A call's answer, and the call (to cancel it). */
function call(path: string, request: Buffer, options: grpc.CallOptions = {}, metadata = new grpc.Metadata(), on: grpc.Client = client): Promise<Answer> & { call: grpc.ClientUnaryCall } {
  let initial: grpc.Metadata | undefined;
  let resolveAnswer: (answer: Answer) => void = () => undefined;
  const answer = new Promise<Answer>((resolve) => (resolveAnswer = resolve));
  const made = on.makeUnaryRequest(path, passBytes, passBytes, request, metadata, options, (error, value) => resolveAnswer({ error, value, metadata: initial }));
  made.on('metadata', (m: grpc.Metadata) => (initial = m));
  return Object.assign(answer, { call: made });
}

test('a unary call gets its answer and initial metadata; the handler sees the request whole, its metadata and no deadline', async () => {
  const metadata = new grpc.Metadata();
  metadata.set('x-in', 'hello');
  const { error, value, metadata: initial } = await call('/t.T/Echo', Buffer.from('ping'), {}, metadata);
  assert.equal(error, null);
  assert.equal(value?.toString(), 'ping');
  assert.deepEqual(initial?.get('x-echo'), ['hello']);
  const last = seen.at(-1)!;
  assert.equal(last.path, '/t.T/Echo');
  assert.equal(last.headers['x-in'], 'hello');
  assert.equal(last.headers[':authority'], `127.0.0.1:${port}`);
  assert.equal(last.deadline, Infinity);
  // An empty message is a message.
  assert.equal((await call('/t.T/Echo', Buffer.alloc(0))).value?.length, 0);
});

test('a failure carries its status, its message (any characters) and the initial metadata', async () => {
  const { error, metadata } = await call('/t.T/Fail', Buffer.from('x'));
  assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(error?.details, 'data.ndarray: expected 100% numbers, got "é"');
  assert.deepEqual(metadata?.get('x-why'), ['because']);
});

test('a message in many frames arrives whole; one over the limit is RESOURCE_EXHAUSTED without reaching the handler', async () => {
  const big = Buffer.alloc(MAX, 'abcdefgh');
  assert.ok((await call('/t.T/Echo', big)).value?.equals(big));
  const before = seen.length;
  const { error } = await call('/t.T/Echo', Buffer.alloc(MAX + 1));
  assert.equal(error?.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(error?.details ?? '', new RegExp(`larger than max \\(${MAX + 1} vs\\. ${MAX}\\)`));
  assert.equal(seen.length, before);
});

test('the deadline comes from grpc-timeout', async () => {
  const deadline = Date.now() + 5_000;
  await call('/t.T/Echo', Buffer.from('x'), { deadline });
  const seenDeadline = seen.at(-1)!.deadline;
  assert.ok(Math.abs(seenDeadline - deadline) < 1_000, `deadline ${seenDeadline - deadline} ms off`);
});

test('a gzip-compressed request is decompressed', async () => {
  const gzip = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': 2 });
  try {
    const text = Buffer.from('compress me '.repeat(100));
    const { error, value } = await call('/t.T/Echo', text, {}, new grpc.Metadata(), gzip);
    assert.equal(error, null);
    assert.ok(value?.equals(text));
  } finally {
    gzip.close();
  }
});

test('other paths are grpc-js\'s: its methods answer, an unknown one is UNIMPLEMENTED', async () => {
  assert.equal((await call('/t.Other/Echo', Buffer.from('x'))).value?.toString(), 'other:x');
  const { error } = await call('/t.T/Nothing', Buffer.from('x'));
  assert.equal(error?.code, grpc.status.UNIMPLEMENTED);
});

test('a request that is not gRPC is refused with 415; one with two messages is refused naming why', async () => {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/t.T/Echo', 'content-type': 'application/json' });
      stream.on('response', (headers) => resolve(headers[':status']));
      stream.on('error', reject);
      stream.end('{}');
    });
    assert.equal(status, 415);
    const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': '/t.T/Echo', 'content-type': 'application/grpc', te: 'trailers' });
      stream.on('trailers', (headers: Record<string, unknown>) => resolve(headers));
      stream.on('error', reject);
      stream.resume();
      const one = Buffer.from([0, 0, 0, 0, 1, 65]);
      stream.end(Buffer.concat([one, one]));
    });
    assert.equal(trailers['grpc-status'], String(grpc.status.UNIMPLEMENTED));
    assert.match(decodeURI(String(trailers['grpc-message'])), /is unary: expected one request message, got more than one request message/);
  } finally {
    session.close();
  }
});

test('a cancelled call reads as cancelled and its late answer goes nowhere; close waits for calls in flight', async () => {
  const cancelled = call('/t.T/Hold', Buffer.from('x'));
  while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
  cancelled.call.cancel();
  assert.equal((await cancelled).error?.code, grpc.status.CANCELLED);
  const reply = held.shift()!;
  while (!reply.cancelled) await new Promise((resolve) => setImmediate(resolve));
  reply.ok(Buffer.from('late'));

  const own = createUnaryServer({ maxMessageBytes: MAX, others, unary: new Map([['/t.T/Hold', (_call: UnaryCall, r: UnaryReply) => held.push(r)]]) });
  const ownPort = await own.listen('127.0.0.1', 0);
  const ownClient = new grpc.Client(`127.0.0.1:${ownPort}`, grpc.credentials.createInsecure());
  try {
    const inFlight = call('/t.T/Hold', Buffer.from('x'), {}, new grpc.Metadata(), ownClient);
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    let closed = false;
    const closing = own.close(10_000).then(() => (closed = true));
    // The client hears the GOAWAY: the server has begun closing, with the call still open.
    const channel = ownClient.getChannel();
    while (channel.getConnectivityState(false) === grpc.connectivityState.READY) {
      await new Promise<void>((resolve) => channel.watchConnectivityState(grpc.connectivityState.READY, Date.now() + 5_000, () => resolve()));
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'close waited for the call in flight');
    held.shift()!.ok(Buffer.from('done'));
    assert.equal((await inFlight).value?.toString(), 'done');
    await closing;
  } finally {
    ownClient.close();
  }
});
