import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Listeners, Ring } from './ring.ts';

test('a ring keeps the last `capacity` items, in either order', () => {
  const ring = new Ring<number>(3, 'item');
  assert.deepEqual([...ring.oldestFirst()], []);
  assert.equal(ring.size, 0);
  ring.push(1);
  ring.push(2);
  assert.deepEqual([...ring.oldestFirst()], [1, 2]);
  assert.deepEqual([...ring.newestFirst()], [2, 1]);
  for (let n = 3; n <= 7; n++) ring.push(n);
  assert.equal(ring.size, 3);
  assert.deepEqual([...ring.oldestFirst()], [5, 6, 7]);
  assert.deepEqual([...ring.newestFirst()], [7, 6, 5]);
});

test('a ring that could keep nothing is refused, naming what it keeps', () => {
  assert.throws(() => new Ring(0, 'attempt'), /a journal keeps at least 1 attempt, got 0/);
  assert.throws(() => new Ring(1.5, 'request'), /a journal keeps at least 1 request, got 1.5/);
});

test('listeners hear each item until removed; one that throws does not stop the others', () => {
  const listeners = new Listeners<number>();
  const heard: string[] = [];
  const removeA = listeners.add((n) => heard.push(`a${n}`));
  listeners.add(() => {
    throw new Error('boom');
  });
  listeners.add((n) => heard.push(`c${n}`));
  assert.equal(listeners.size, 3);
  listeners.tell(1);
  removeA();
  listeners.tell(2);
  assert.deepEqual(heard, ['a1', 'c1', 'c2']);
  assert.equal(listeners.size, 2);
});
