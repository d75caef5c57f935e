/**
 * The gRPC transport against a real peer: Seldon Core 1.18.2's Python wrapper
 * (`seldon-core-microservice`, in the python TRANTOR_SELDON_PYTHON names) serving an echo model on
 * both its REST and gRPC ports. Each payload kind is sent to Predict over our transport and to
 * `POST /predict` over REST; the two answers must be the same message. Skipped, with the reason,
 * when that python is absent outside CI; a failure in CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonLossless } from '../../protocol/index.ts';
import type { SeldonMessage } from '../../protocol/index.ts';
import { StaticEndpoints } from '../testing.ts';
import type { UnitKey } from './endpoints.ts';
import { GrpcTransport } from './grpc.ts';

const SELDON_PYTHON = process.env['TRANTOR_SELDON_PYTHON'] ?? '';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';
const unit: UnitKey = Object.freeze({ namespace: 'seldon', deployment: 'echo', predictor: 'default', node: 'echo' });

/** A model that answers what it was given: the wrapper turns it back into the request's payload kind. */
const ECHO_MODEL = ['class Echo:', '    def predict(self, X, features_names=None, **kwargs):', "        if X == 'boom':", "            raise ValueError('boom asked for')", '        return X', ''].join('\n');

const PAYLOADS: Record<string, SeldonMessage> = {
  ndarray: { data: { names: ['a', 'b'], ndarray: [[1, 2.5], [-3, 0.125]] } },
  tensor: { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [1, 2, 3.25, -4] } } },
  strData: { strData: 'héllo ✓' },
  jsonData: { jsonData: { a: [1, 'b', null], n: { deep: true } } },
};

/** A message without its meta and column names. */
function payloadOf(message: SeldonMessage): unknown {
  const { meta: _meta, data, ...rest } = message;
  if (data === undefined) return rest;
  const { names: _names, ...values } = data;
  return { ...rest, data: values };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let child: ChildProcess | undefined;
let workdir = '';
let restUrl = '';
let grpcPort = 0;
const output: string[] = [];

before(async () => {
  if (SELDON_PYTHON === '') return;
  workdir = mkdtempSync(join(tmpdir(), 'trantor-grpc-seldon-'));
  writeFileSync(join(workdir, 'Echo.py'), ECHO_MODEL);
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  restUrl = `http://127.0.0.1:${http}`;
  grpcPort = grpc;
  child = spawn(join(dirname(SELDON_PYTHON), 'seldon-core-microservice'), ['Echo', '--service-type', 'MODEL', '--http-port', String(http), '--grpc-port', String(grpc), '--metrics-port', String(metrics)], {
    cwd: workdir,
    env: { ...process.env, PYTHONPATH: workdir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Seldon's wrapper exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      if ((await fetch(`${restUrl}/health/ping`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Seldon's wrapper did not answer /health/ping in 90 s:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

after(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise<void>((done) => child!.once('exit', () => done()));
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-child!.pid!, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  if (workdir !== '') rmSync(workdir, { recursive: true, force: true });
});

test("Predict over our gRPC transport answers as Seldon's wrapper answers POST /predict, for every payload kind", { timeout: 180_000 }, async (t) => {
  if (SELDON_PYTHON === '') {
    if (CI) assert.fail("Seldon's wrapper is not installed: .ci/run installs it and sets TRANTOR_SELDON_PYTHON");
    t.skip("Seldon's wrapper is not installed (set TRANTOR_SELDON_PYTHON to a python with seldon-core==1.18.2, or run .ci/run once)");
    return;
  }
  const endpoints = new StaticEndpoints();
  endpoints.set(unit.node, [{ id: 'seldon', host: '127.0.0.1', port: grpcPort }]);
  // The wrapper starts its gRPC server beside gunicorn: the first call may wait for it, within the retry window.
  const transport = new GrpcTransport({ endpoints, retryWindowMs: 60_000 });
  try {
    for (const [kind, message] of Object.entries(PAYLOADS)) {
      const overGrpc = await transport.predict(unit, message, { idempotent: true, timeoutMs: 60_000 });
      assert.equal(overGrpc.failure, undefined, `${kind}: ${overGrpc.failure?.message ?? ''}`);
      const rest = await fetch(`${restUrl}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
      assert.equal(rest.status, 200, kind);
      const overRest = parseJsonLossless(await rest.text()) as SeldonMessage;
      assert.deepEqual(overGrpc.message, overRest, kind);
      // An echo: the payload itself comes back (the wrapper names an answer's columns t:0, t:1 …).
      assert.deepEqual(payloadOf(overGrpc.message), payloadOf(message), kind);
    }
    // A model that raises: gRPC's UNKNOWN status, a 500 as over REST, with Python's message.
    const failed = await transport.predict(unit, { strData: 'boom' }, { idempotent: true, timeoutMs: 60_000 });
    const rest = await fetch(`${restUrl}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"strData":"boom"}' });
    assert.equal(failed.status, rest.status);
    assert.equal(failed.failure?.code, 'COMPONENT_FAILURE');
    assert.match(failed.failure.message, /boom asked for/);
  } finally {
    await transport.close();
  }
});
