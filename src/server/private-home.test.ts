import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tightenHome, usePrivateHome } from './private-home.ts';

test('a home made with 0755 folders and 0644 files is made private, and so is all that is written after', () => {
  const outside = mkdtempSync(join(tmpdir(), 'trantor-outside-'));
  const home = mkdtempSync(join(tmpdir(), 'trantor-home-'));
  const umask = process.umask();
  try {
    chmodSync(home, 0o755);
    mkdirSync(join(home, 'manifests', 'seldondeployments', 'seldon'), { recursive: true, mode: 0o755 });
    writeFileSync(join(home, 'manifests', 'seldondeployments', 'seldon', 'iris.json'), '{}', { mode: 0o644 });
    writeFileSync(join(home, 'control-plane.json'), '{}', { mode: 0o644 });
    writeFileSync(join(outside, 'shared.txt'), 'x', { mode: 0o644 });
    symlinkSync(join(outside, 'shared.txt'), join(home, 'link'));
    usePrivateHome(home);
    tightenHome(home, (w) => assert.fail(w));
    assert.equal(statSync(home).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'manifests')).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'manifests', 'seldondeployments', 'seldon')).mode & 0o777, 0o700);
    assert.equal(statSync(join(home, 'manifests', 'seldondeployments', 'seldon', 'iris.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'control-plane.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(outside, 'shared.txt')).mode & 0o777, 0o644, 'a symlink\'s target outside the home is left alone');
    writeFileSync(join(home, 'new.json'), '{}');
    mkdirSync(join(home, 'new-folder'));
    assert.equal(statSync(join(home, 'new.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'new-folder')).mode & 0o777, 0o700);
  } finally {
    process.umask(umask);
    rmSync(home, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test('a home that does not exist yet is made 0700', () => {
  const parent = mkdtempSync(join(tmpdir(), 'trantor-parent-'));
  const umask = process.umask();
  try {
    usePrivateHome(join(parent, 'a', 'home'));
    assert.equal(statSync(join(parent, 'a', 'home')).mode & 0o777, 0o700);
  } finally {
    process.umask(umask);
    rmSync(parent, { recursive: true, force: true });
  }
});
