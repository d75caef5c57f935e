import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEnvFile, readSecretEnv } from './secrets.ts';

test('an env file gives KEY=value pairs, quotes and export dropped, comments skipped', () => {
  const text = '# creds\nAWS_ACCESS_KEY_ID=minio\nexport AWS_SECRET_ACCESS_KEY="se=cret"\n\nS3_ENDPOINT = http://127.0.0.1:9000\n';
  assert.deepEqual(parseEnvFile(text, 'f.env'), { AWS_ACCESS_KEY_ID: 'minio', AWS_SECRET_ACCESS_KEY: 'se=cret', S3_ENDPOINT: 'http://127.0.0.1:9000' });
  assert.throws(() => parseEnvFile('A=1\nnot a pair\n', 'f.env'), /^TrantorError: f\.env:2: expected KEY=value$/);
});

test("a node's secret is read from <home>/secrets/<namespace>/<name>.env, and a missing one names the file", () => {
  const home = mkdtempSync(join(tmpdir(), 'trantor-secrets-'));
  mkdirSync(join(home, 'secrets', 'seldon'), { recursive: true });
  writeFileSync(join(home, 'secrets', 'seldon', 's3-creds.env'), 'AWS_ACCESS_KEY_ID=a\n');
  assert.deepEqual(readSecretEnv(home, 'seldon', 's3-creds', 'graph.envSecretRefName'), { AWS_ACCESS_KEY_ID: 'a' });
  assert.throws(() => readSecretEnv(home, 'other', 's3-creds', 'graph.envSecretRefName'), (err: Error) => err.message.includes(join(home, 'secrets', 'other', 's3-creds.env')));
  assert.throws(() => readSecretEnv(home, 'seldon', '../x', 'graph.envSecretRefName'), /not a valid Secret name/);
});
