import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { passBytes } from './definition.ts';
import { UnaryChannel, type UnaryOutcome } from './unary-client.ts';
import { createUnaryServer } from './unary-server.ts';

/** A grpc-js server (the other side's implementation, not ours): echoes, fails, holds, answers big. */
let server: grpc.Server;
let port: number;
const seenMetadata: grpc.Metadata[] = [];
const held: (() => void)[] = [];

function method(path: string): grpc.MethodDefinition<Buffer, Buffer> {
  return { path, requestStream: false, responseStream: false, requestSerialize: passBytes, requestDeserialize: passBytes, responseSerialize: passBytes, responseDeserialize: passBytes };
}

type Handler = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void;

async function start(bindPort = 0): Promise<{ server: grpc.Server; port: number }> {
  const s = new grpc.Server();
  const handlers: Record<string, Handler> = {
    Echo: (call, callback) => {
      seenMetadata.push(call.metadata);
      callback(null, call.request);
    },
    Fail: (_call, callback) => callback(Object.assign(new Error('x'), { code: grpc.status.INVALID_ARGUMENT, details: 'data.ndarray: 100% wrong, "é"' })),
    Hold: (call, callback) => held.push(() => callback(null, call.request)),
    Big: (_call, callback) => callback(null, Buffer.alloc(2000)),
  };
  s.addService(Object.fromEntries(Object.keys(handlers).map((name) => [name, method(`/t.T/${name}`)])), handlers);
  const bound = await new Promise<number>((resolve, reject) => s.bindAsync(`127.0.0.1:${bindPort}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))));
  return { server: s, port: bound };
}

before(async () => {
  ({ server, port } = await start());
});

after(() => {
  server.forceShutdown();
});

const soon = (): number => Date.now() + 5_000;

function failure(outcome: UnaryOutcome): { code: grpc.status; details: string } {
  assert.ok('error' in outcome, `expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

test('a call answers with the answer\'s bytes; metadata and the deadline reach the server', async () => {
  const channel = new UnaryChannel(`127.0.0.1:${port}`, { maxMessageBytes: 1024 });
  try {
    const outcome = await channel.call('/t.T/Echo', Buffer.from('ping'), { 'seldon-puid': 'p1' }, soon());
    assert.ok('bytes' in outcome && outcome.bytes.toString() === 'ping');
    assert.deepEqual(seenMetadata.at(-1)!.get('seldon-puid'), ['p1']);
    // Empty both ways, and many calls at once on the one session.
    const empty = await channel.call('/t.T/Echo', Buffer.alloc(0), {}, Infinity);
    assert.ok('bytes' in empty && empty.bytes.length === 0);
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => channel.call('/t.T/Echo', Buffer.from(`m${i}`), {}, soon())));
    assert.deepEqual(many.map((o) => ('bytes' in o ? o.bytes.toString() : 'failed')), Array.from({ length: 50 }, (_, i) => `m${i}`));
  } finally {
    channel.close();
  }
});

test('a failure comes back with its status and details; an unknown method is UNIMPLEMENTED', async () => {
  const channel = new UnaryChannel(`127.0.0.1:${port}`, { maxMessageBytes: 1024 });
  try {
    assert.deepEqual(failure(await channel.call('/t.T/Fail', Buffer.from('x'), {}, soon())), { code: grpc.status.INVALID_ARGUMENT, details: 'data.ndarray: 100% wrong, "é"' });
    assert.equal(failure(await channel.call('/t.T/Nothing', Buffer.from('x'), {}, soon())).code, grpc.status.UNIMPLEMENTED);
  } finally {
    channel.close();
  }
});

test('the deadline ends a call DEADLINE_EXCEEDED; one already past is not sent', async () => {
  const channel = new UnaryChannel(`127.0.0.1:${port}`, { maxMessageBytes: 1024 });
  try {
    const outcome = await channel.call('/t.T/Hold', Buffer.from('x'), {}, Date.now() + 100);
    assert.equal(failure(outcome).code, grpc.status.DEADLINE_EXCEEDED);
    const waiting = held.length;
    assert.equal(failure(await channel.call('/t.T/Hold', Buffer.from('x'), {}, Date.now() - 1)).code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(held.length, waiting);
  } finally {
    channel.close();
    for (const release of held.splice(0)) release();
  }
});

test('messages over the limit are refused: sent ones before sending, answers as they arrive', async () => {
  const channel = new UnaryChannel(`127.0.0.1:${port}`, { maxMessageBytes: 1000 });
  try {
    const before = seenMetadata.length;
    assert.deepEqual(failure(await channel.call('/t.T/Echo', Buffer.alloc(1001), {}, soon())), { code: grpc.status.RESOURCE_EXHAUSTED, details: 'Sent message larger than max (1001 vs. 1000)' });
    assert.equal(seenMetadata.length, before);
    assert.deepEqual(failure(await channel.call('/t.T/Big', Buffer.from('x'), {}, soon())), { code: grpc.status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (2000 vs. 1000)' });
  } finally {
    channel.close();
  }
});

test('nothing listening: UNAVAILABLE, "No connection established" with the refusal; a server started later is reached', async () => {
  const free = await new Promise<number>((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as { port: number };
      probe.close(() => resolve(p));
    });
  });
  const channel = new UnaryChannel(`127.0.0.1:${free}`, { maxMessageBytes: 1024 });
  try {
    const refused = failure(await channel.call('/t.T/Echo', Buffer.from('x'), {}, soon()));
    assert.equal(refused.code, grpc.status.UNAVAILABLE);
    assert.match(refused.details, new RegExp(`^No connection established\\. Last error: connect ECONNREFUSED 127\\.0\\.0\\.1:${free}`));
    const again = await start(free);
    try {
      const outcome = await channel.call('/t.T/Echo', Buffer.from('back'), {}, soon());
      assert.ok('bytes' in outcome && outcome.bytes.toString() === 'back');
    } finally {
      again.server.forceShutdown();
    }
  } finally {
    channel.close();
  }
});

test('a server that goes away is reconnected to for the next call; a closed channel sends nothing', async () => {
  const own = await start();
  const channel = new UnaryChannel(`127.0.0.1:${own.port}`, { maxMessageBytes: 1024 });
  try {
    assert.ok('bytes' in (await channel.call('/t.T/Echo', Buffer.from('1'), {}, soon())));
    await new Promise<void>((resolve) => own.server.tryShutdown(() => resolve()));
    const back = await start(own.port);
    try {
      const outcome = await channel.call('/t.T/Echo', Buffer.from('2'), {}, soon());
      assert.ok('bytes' in outcome && outcome.bytes.toString() === '2', JSON.stringify(outcome));
    } finally {
      back.server.forceShutdown();
    }
  } finally {
    channel.close();
  }
  const closed = failure(await channel.call('/t.T/Echo', Buffer.from('3'), {}, soon()));
  assert.equal(closed.code, grpc.status.UNAVAILABLE);
  assert.match(closed.details, /^No connection established/);
});

test('with our unary server, a message of megabytes crosses whole both ways', async () => {
  const own = createUnaryServer({ maxMessageBytes: 8_000_000, others: new grpc.Server(), unary: new Map([['/t.T/Echo', (call, reply) => reply.ok(call.request)]]) });
  const ownPort = await own.listen('127.0.0.1', 0);
  const channel = new UnaryChannel(`127.0.0.1:${ownPort}`, { maxMessageBytes: 8_000_000 });
  try {
    const big = Buffer.alloc(3_000_000);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    const outcomes = await Promise.all([1, 2, 3].map(() => channel.call('/t.T/Echo', big, {}, soon())));
    for (const outcome of outcomes) assert.ok('bytes' in outcome && outcome.bytes.equals(big));
  } finally {
    channel.close();
    await own.close(1000);
  }
});
