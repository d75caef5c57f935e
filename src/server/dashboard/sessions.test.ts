import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DashboardSessions } from './sessions.ts';

test('a login code opens one session, once, within its time', () => {
  let now = 1_000_000;
  const sessions = new DashboardSessions({ codeTtlMs: 60_000, now: () => now });
  const { code, expiresAt } = sessions.mintCode();
  assert.equal(expiresAt, now + 60_000);
  const session = sessions.redeem(code);
  assert.ok(session !== undefined && session.length >= 40);
  assert.equal(sessions.redeem(code), undefined, 'spent');
  assert.ok(sessions.admits(session));

  const late = sessions.mintCode().code;
  now += 60_001;
  assert.equal(sessions.redeem(late), undefined, 'expired');
  assert.equal(sessions.redeem('made-up'), undefined);
});

test('a session ends when ended, when idle too long, and when too many newer ones open', () => {
  let now = 0;
  const sessions = new DashboardSessions({ idleMs: 1000, maxSessions: 2, now: () => now });
  const open = (): string => sessions.redeem(sessions.mintCode().code)!;
  const a = open();
  assert.ok(sessions.end(a));
  assert.equal(sessions.admits(a), false);

  const b = open();
  now += 999;
  assert.ok(sessions.admits(b), 'used in time: still open, and its idle time starts again');
  now += 999;
  assert.ok(sessions.admits(b));
  now += 1001;
  assert.equal(sessions.admits(b), false, 'idle too long');

  const c = open();
  const d = open();
  assert.ok(sessions.admits(c), 'c is now the most recently used');
  const e = open();
  assert.equal(sessions.admits(d), false, 'the least recently used went first');
  assert.ok(sessions.admits(c) && sessions.admits(e));
});
