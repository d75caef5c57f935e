/**
 * How long a replica may take to start: `trantor up --startup-timeout` (or the named option
 * `runtime.startupTimeout`, which the flag overrides) for every deployment, a container's
 * startupProbe for its own replicas — so a model that loads slowly can run. The other `runtime.*`
 * options reach the replicas the same way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trantor } from './harness.ts';

const trantor = new Trantor();
const bySet = new Trantor();
const byConfig = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-startup-'));

// Listens (answering /health/ping) only after START_DELAY_MS, as a model that takes long to load;
// with MODE=fail prints three lines and exits.
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

/** Writes the manifest of deployment `name` and answers its path. */
function manifest(name: string, env: Record<string, string>, startupProbe = ''): string {
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
${startupProbe === '' ? '' : `          startupProbe: ${startupProbe}\n`}`,
  );
  return file;
}

before(async () => {
  writeFileSync(join(dir, 'component.mjs'), COMPONENT);
  writeFileSync(join(dir, 'trantor.yaml'), 'runtime:\n  startupTimeout: 1s\n');
  await Promise.all([
    trantor.up(['--startup-timeout', '1s']),
    bySet.up(['--set', 'runtime.startupTimeout=1s', '--set', 'runtime.failureLines=1']),
    byConfig.up(['--config', join(dir, 'trantor.yaml'), '--startup-timeout', '60s']),
  ]);
});
after(async () => {
  await Promise.all([trantor.close(), bySet.close(), byConfig.close()]);
  rmSync(dir, { recursive: true, force: true });
});

test('--startup-timeout 1s fails a replica that takes longer to answer, naming the limit', () => {
  const applied = trantor.cli(['apply', '-f', manifest('slow', { START_DELAY_MS: '60000' }), '--wait', '--timeout', '60s']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /did not answer GET \/health\/ping with pong within 1 s/);
});

test("a container's startupProbe lets its slow replica start beyond --startup-timeout", () => {
  const file = manifest('patient', { START_DELAY_MS: '3000' }, '{httpGet: {path: /health/ping}, periodSeconds: 2, failureThreshold: 30}');
  const applied = trantor.cli(['apply', '-f', file, '--wait', '--timeout', '90s']);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
});

test('--set runtime.startupTimeout=1s fails a replica that takes longer to answer, naming the limit', () => {
  const applied = bySet.cli(['apply', '-f', manifest('slow-set', { START_DELAY_MS: '60000' }), '--wait', '--timeout', '60s']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /did not answer GET \/health\/ping with pong within 1 s/);
});

test('--set runtime.failureLines=1 quotes only the last line of a failed replica', () => {
  const applied = bySet.cli(['apply', '-f', manifest('broken', { MODE: 'fail' }), '--wait', '--timeout', '60s']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /exited with code 3 before it was ready; its last output:\s+line three/);
  assert.doesNotMatch(applied.stderr, /line two/);
});

test('--startup-timeout wins over runtime.startupTimeout from --config', () => {
  const applied = byConfig.cli(['apply', '-f', manifest('loading', { START_DELAY_MS: '3000' }), '--wait', '--timeout', '90s']);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
});
