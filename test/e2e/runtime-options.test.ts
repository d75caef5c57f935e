/**
 * The runtime's named options reach the replicas: `--set runtime.…` (and `--config`) change how
 * long a replica may take to start and how much of a failed one's output is quoted, and
 * `--startup-timeout` wins over `runtime.startupTimeout`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trantor } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'trantor-runtime-options-'));
const strict = new Trantor();
const patient = new Trantor();

// Listens (answering /health/ping) only after START_DELAY_MS; with MODE=fail prints three lines and exits.
const COMPONENT = `
import http from 'node:http';
if (process.env.MODE === 'fail') {
  console.log('line one');
  console.log('line two');
  console.log('line three');
  process.exit(3);
}
setTimeout(() => http.createServer((req, res) => res.end(req.url === '/health/ping' ? 'pong' : '{}'))
  .listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1'), Number(process.env.START_DELAY_MS ?? 0));
`;

function manifest(name: string, env: Record<string, string>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: ${name}
spec:
  predictors:
  - name: default
    graph: {name: model, type: MODEL}
    componentSpecs:
    - spec:
        containers:
        - name: model
          command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'component.mjs'))}]
          env: [${Object.entries(env).map(([n, v]) => `{name: ${n}, value: '${v}'}`).join(', ')}]
`,
  );
  return file;
}

before(async () => {
  writeFileSync(join(dir, 'component.mjs'), COMPONENT);
  writeFileSync(join(dir, 'trantor.yaml'), 'runtime:\n  startupTimeout: 1s\n');
  await Promise.all([
    strict.up(['--set', 'runtime.startupTimeout=1s', '--set', 'runtime.failureLines=1']),
    patient.up(['--config', join(dir, 'trantor.yaml'), '--startup-timeout', '60s']),
  ]);
});
after(async () => {
  await Promise.all([strict.close(), patient.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test('--set runtime.startupTimeout=1s fails a replica that takes longer to answer, naming the limit', () => {
  const applied = strict.cli(['apply', '-f', manifest('slow', { START_DELAY_MS: '60000' }), '--wait', '--timeout', '60s']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /did not answer GET \/health\/ping with pong within 1 s/);
});

test('--set runtime.failureLines=1 quotes only the last line of a failed replica', () => {
  const applied = strict.cli(['apply', '-f', manifest('broken', { MODE: 'fail' }), '--wait', '--timeout', '60s']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /exited with code 3 before it was ready; its last output:\s+line three/);
  assert.doesNotMatch(applied.stderr, /line two/);
});

test('--startup-timeout wins over runtime.startupTimeout from --config', () => {
  const applied = patient.cli(['apply', '-f', manifest('loading', { START_DELAY_MS: '3000' }), '--wait', '--timeout', '90s']);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
});
