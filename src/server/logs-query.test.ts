import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrantorError } from '../protocol/index.ts';
import { formatLogLine, parseLogsQuery, rfc3339Nano, rfc3339Time, selectLogLines } from './logs-query.ts';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const query = (text: string): ReturnType<typeof parseLogsQuery> => parseLogsQuery(new URLSearchParams(text), NOW);

function badQuery(text: string, message: RegExp): void {
  assert.throws(() => query(text), (err: unknown) => err instanceof TrantorError && err.code === 'BAD_QUERY' && message.test(err.message));
}

test("the logs query takes Kubernetes' names, today's tail, and defaults to 100 lines per replica", () => {
  assert.deepEqual(query(''), { tailLines: 100, timestamps: false, previous: false, follow: false });
  assert.equal(query('tail=3').tailLines, 3);
  assert.equal(query('tailLines=7&tail=3').tailLines, 7);
  assert.equal(query('tailLines=-1').tailLines, undefined, '-1 is every line kept');
  assert.deepEqual(query('container=model&timestamps=true&previous=1&follow=1'), { container: 'model', tailLines: 100, timestamps: true, previous: true, follow: true });
  assert.equal(query('sinceSeconds=300').since, NOW - 300_000);
  assert.equal(query('sinceTime=2024-05-01T11:00:00Z').since, NOW - 3_600_000);
});

test('a bad logs query value is refused, naming the parameter', () => {
  badQuery('tailLines=ten', /^tailLines=ten: expected a whole number of at least -1$/);
  badQuery('sinceSeconds=0', /^sinceSeconds=0: expected a whole number of at least 1$/);
  badQuery('sinceTime=yesterday', /^sinceTime=yesterday: expected an RFC 3339 time/);
  badQuery('sinceSeconds=5&sinceTime=2024-05-01T11:00:00Z', /give at most one/);
  badQuery('follow=yes', /^follow=yes: expected true or false$/);
  badQuery('container=', /name a graph node/);
});

test('RFC 3339 times parse with fractions and offsets, and nothing else does', () => {
  assert.equal(rfc3339Time('2024-05-01T12:00:00.5+02:00'), Date.parse('2024-05-01T10:00:00.5Z'));
  assert.equal(rfc3339Time('2024-05-01'), undefined);
  assert.equal(rfc3339Time('2024-13-01T12:00:00Z'), undefined);
});

test('selection keeps a node, lines since a time, and the last N of each replica', () => {
  const lines = [
    { replica: 'p/a/0', line: 'a0 old', time: NOW - 10_000 },
    { replica: 'p/b/0', line: 'b0 one', time: NOW - 5_000 },
    { replica: 'p/a/1', line: 'a1 one', time: NOW - 4_000 },
    { replica: 'p/a/0', line: 'a0 new', time: NOW - 3_000 },
    { replica: 'p/a/1', line: 'a1 two', time: NOW - 2_000 },
  ];
  const texts = (q: string): string[] => selectLogLines(lines, query(q)).map((l) => l.line);
  assert.deepEqual(texts('tailLines=1'), ['b0 one', 'a0 new', 'a1 two']);
  assert.deepEqual(texts('container=a&tailLines=-1'), ['a0 old', 'a1 one', 'a0 new', 'a1 two']);
  assert.deepEqual(texts('sinceSeconds=6'), ['b0 one', 'a1 one', 'a0 new', 'a1 two']);
  assert.deepEqual(texts('container=b&tailLines=0'), []);
});

test('lines print with their replica, and with --timestamps nine fraction digits', () => {
  assert.equal(rfc3339Nano(NOW + 123.25), '2024-05-01T12:00:00.123250000Z');
  assert.equal(rfc3339Nano(NOW), '2024-05-01T12:00:00.000000000Z');
  assert.equal(formatLogLine({ replica: 'p/a/0', line: 'hi', time: NOW }, false), '[p/a/0] hi\n');
  assert.equal(formatLogLine({ replica: 'p/a/0', line: 'hi', time: NOW }, true), '[p/a/0] 2024-05-01T12:00:00.000000000Z hi\n');
});
