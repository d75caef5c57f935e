import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { homeLayout } from '../manifest/index.ts';
import { apiTokenFromEnv, bearerMatches, loadApiToken } from './api-token.ts';

function withHome(fn: (home: string) => void): void {
  const home = mkdtempSync(join(tmpdir(), 'trantor-token-'));
  try {
    fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const quiet = (): void => undefined;

test('the first start makes a 32-byte base64url token with mode 0600, and later starts keep it', () => {
  withHome((home) => {
    const first = loadApiToken(home, undefined, quiet);
    const file = homeLayout.apiToken(home);
    assert.match(first.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(first.source, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(file, 'utf8').trim(), first.value);
    assert.equal(loadApiToken(home, undefined, quiet).value, first.value);
  });
});

test('a token file others could read gets mode 0600 back, with a warning that says how to rotate it', () => {
  withHome((home) => {
    const file = homeLayout.apiToken(home);
    writeFileSync(file, 'an-old-token-0123456789\n');
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    assert.equal(loadApiToken(home, undefined, (w) => warnings.push(w)).value, 'an-old-token-0123456789');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(warnings.join('\n'), /was readable by other users \(mode 644\); its mode is now 600\. .*delete it and restart/);
  });
});

test('a symbolic link or a malformed token at the token path is refused, not followed or used', () => {
  withHome((home) => {
    const file = homeLayout.apiToken(home);
    writeFileSync(join(home, 'elsewhere'), 'a-token-somewhere-else-0123\n');
    symlinkSync(join(home, 'elsewhere'), file);
    assert.throws(() => loadApiToken(home, undefined, quiet), /cannot use the API token file .*api-token: it is a symbolic link/);
    rmSync(file);
    writeFileSync(file, 'short\n', { mode: 0o600 });
    assert.throws(() => loadApiToken(home, undefined, quiet), /the token in it must be at least 16 characters/);
  });
});

test('TRANTOR_API_TOKEN replaces the file, which is then neither read nor made', () => {
  withHome((home) => {
    const token = loadApiToken(home, apiTokenFromEnv('a-token-from-the-environment'), quiet);
    assert.deepEqual(token, { value: 'a-token-from-the-environment', source: 'TRANTOR_API_TOKEN (as set when trantor up started)' });
    assert.equal(existsSync(homeLayout.apiToken(home)), false);
  });
  assert.equal(apiTokenFromEnv(''), undefined);
  assert.throws(() => apiTokenFromEnv('abc'), /TRANTOR_API_TOKEN must be at least 16 characters, got 3/);
  assert.throws(() => apiTokenFromEnv('has spaces in it, sixteen+'), /TRANTOR_API_TOKEN may hold only letters, digits/);
});

test('only "Bearer <the token>" matches', () => {
  const token = { value: 'the-right-token-0123456789', source: 'x' };
  assert.equal(bearerMatches(token, 'Bearer the-right-token-0123456789'), true);
  assert.equal(bearerMatches(token, 'bearer the-right-token-0123456789'), true);
  assert.equal(bearerMatches(token, 'Bearer the-right-token-012345678'), false);
  assert.equal(bearerMatches(token, 'Bearer the-right-token-0123456789x'), false);
  assert.equal(bearerMatches(token, 'Basic the-right-token-0123456789'), false);
  assert.equal(bearerMatches(token, 'the-right-token-0123456789'), false);
  assert.equal(bearerMatches(token, 'Bearer '), false);
  assert.equal(bearerMatches(token, undefined), false);
});
