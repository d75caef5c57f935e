import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { PortAllocator } from './ports.ts';

function listen(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

test('an allocated port can be bound on 127.0.0.1', async () => {
  const port = await new PortAllocator().allocate();
  assert.ok(port > 0);
  await listen(port);
});

test('an allocator never hands out the same port twice while it is held', async () => {
  const allocator = new PortAllocator();
  const ports = await Promise.all(Array.from({ length: 100 }, () => allocator.allocate()));
  assert.equal(new Set(ports).size, ports.length);
  assert.equal(allocator.inUse, ports.length);
});

test('a released port is no longer counted as held', async () => {
  const allocator = new PortAllocator();
  const port = await allocator.allocate();
  allocator.release(port);
  assert.equal(allocator.inUse, 0);
});
