/**
 * How long a replica may take to start: `trantor up --startup-timeout` for every deployment, a
 * container's startupProbe for its own replicas — so a model that loads slowly can run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trantor } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-startup-'));

// Listens (answering /health/ping) only after START_DELAY_MS, as a model that takes long to load.
const COMPONENT = `
import http from 'node:http';
setTimeout(() => http.createServer((req, res) => res.end(req.url === '/health/ping' ? 'pong' : '{}'))
  .listen(Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT), '127.0.0.1'), Number(process.env.START_DELAY_MS));
`;

function manifest(name: string, startDelayMs: number, startupProbe = ''): string {
  return `apiVersion: machinelearning.seldon.io/v1
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
          env: [{name: START_DELAY_MS, value: '${startDelayMs}'}]
${startupProbe === '' ? '' : `          startupProbe: ${startupProbe}\n`}`;
}

before(async () => {
  writeFileSync(join(dir, 'component.mjs'), COMPONENT);
  await trantor.up(['--startup-timeout', '1s']);
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

test('--startup-timeout 1s fails a replica that takes longer to answer, naming the limit', () => {
  writeFileSync(join(dir, 'slow.yaml'), manifest('slow', 60_000));
  const applied = trantor.cli(['apply', '-f', join(dir, 'slow.yaml'), '--wait', '--timeout', '60s']);
  assert.equal(applied.code, 1, applied.stdout + applied.stderr);
  assert.match(applied.stderr, /did not answer GET \/health\/ping with pong within 1 s/);
});

test("a container's startupProbe lets its slow replica start beyond --startup-timeout", () => {
  writeFileSync(join(dir, 'patient.yaml'), manifest('patient', 3_000, '{httpGet: {path: /health/ping}, periodSeconds: 2, failureThreshold: 30}'));
  const applied = trantor.cli(['apply', '-f', join(dir, 'patient.yaml'), '--wait', '--timeout', '90s']);
  assert.equal(applied.code, 0, applied.stdout + applied.stderr);
});
