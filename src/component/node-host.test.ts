import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveHostConfig } from './host-config.ts';
import { GRPC_READY_PREFIX, main, startNodeHost } from './node-host.ts';
import * as grpc from '@grpc/grpc-js';
import { fromProto, toProto, type SeldonMessage } from '../protocol/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const entry = join(here, 'node-host.ts');
const mlScoreDir = join(here, '..', '..', 'examples', 'ml-score-ts');

let fixtures: string;

before(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'trantor-node-host-'));
  writeFileSync(
    join(fixtures, 'Scaler.ts'),
    `export class Scaler {
  private readonly factor: number;
  constructor(params: { factor?: number }) { this.factor = params.factor ?? 1; }
  predict(X: number[][]): number[][] { return X.map((row) => row.map((v) => v * this.factor)); }
}
`,
  );
  writeFileSync(join(fixtures, 'plain.mjs'), 'export default class Plain { predict() { return "plain"; } }\n');
  writeFileSync(
    join(fixtures, 'Loader.ts'),
    `export class Loader {
  ready = false;
  async load(): Promise<void> { await new Promise((r) => setTimeout(r, 10)); this.ready = true; }
  predict(): string { return this.ready ? 'loaded' : 'not loaded'; }
}
`,
  );
});

after(() => {
  rmSync(fixtures, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

test('the host started as a command serves MLScore from its folder and answers the seed tensor request', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', entry, 'MLScore', '--service-type', 'MODEL'], {
    cwd: mlScoreDir,
    env: { ...process.env, PREDICTIVE_UNIT_HTTP_SERVICE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in 20 s; stdout: ${stdout} stderr: ${stderr}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('trantor node host: serving')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const lines = stdout.trim().split('\n');
    assert.ok(lines.includes(`trantor node host: serving MLScore on http://127.0.0.1:${port}`), stdout);
    assert.ok(lines.includes('Initializing'), stdout);

    const reply = await post(`http://127.0.0.1:${port}/predict`, { data: { names: ['a', 'b'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } } });
    assert.deepEqual(reply, { status: 200, body: { data: { names: ['t:0', 't:1'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } }, meta: {} } });

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stdout, /Predict called - will run identity function/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('the host passes PREDICTIVE_UNIT_PARAMETERS to the constructor as one object', async () => {
  const env = { PREDICTIVE_UNIT_PARAMETERS: '[{"name":"factor","value":"3","type":"INT"}]' };
  const host = await startNodeHost(resolveHostConfig(['Scaler', '--service-type', 'MODEL', '--http-port', '0'], env, fixtures));
  try {
    assert.deepEqual(await post(`${host.url}/predict`, { data: { ndarray: [[1, 2]] } }), {
      status: 200,
      body: { data: { names: ['t:0', 't:1'], ndarray: [[3, 6]] }, meta: {} },
    });
  } finally {
    await host.close();
  }
});

test('the host calls an async load() before serving', async () => {
  const host = await startNodeHost(resolveHostConfig(['Loader', '--http-port', '0'], {}, fixtures));
  try {
    assert.deepEqual((await post(`${host.url}/predict`, { strData: 'x' })).body, { strData: 'loaded', meta: {} });
  } finally {
    await host.close();
  }
});

test('a JavaScript file named by its path is served through its default export', async () => {
  const host = await startNodeHost(resolveHostConfig(['./plain.mjs', '--http-port', '0'], {}, fixtures));
  try {
    assert.deepEqual((await post(`${host.url}/predict`, { strData: 'x' })).body, { strData: 'plain', meta: {} });
  } finally {
    await host.close();
  }
});

test('main exits 1 with a clear message when the model file does not exist', async () => {
  const errors: string[] = [];
  const code = await main(['Missing', '--service-type', 'MODEL'], {}, { cwd: fixtures, stdout: () => {}, stderr: (l) => errors.push(l) });
  assert.equal(code, 1);
  assert.match(errors.join('\n'), /cannot find the model for Missing: none of .*Missing\.ts/);
});

test('main exits 1 when the file does not export the class', async () => {
  const errors: string[] = [];
  const code = await main(['./Scaler.ts:Nope'], {}, { cwd: fixtures, stdout: () => {}, stderr: (l) => errors.push(l) });
  assert.equal(code, 1);
  assert.match(errors.join('\n'), /has no export Nope \(it exports Scaler/);
});

test('main prints the ready line and exits 0 when stopped', async () => {
  const lines: string[] = [];
  const stop = new AbortController();
  const running = main(['Scaler', '--http-port', '0'], { TRANTOR_BIND_HOST: '127.0.0.1' }, {
    cwd: fixtures,
    stdout: (l) => {
      lines.push(l);
      stop.abort();
    },
    stderr: () => {},
    signal: stop.signal,
  });
  assert.equal(await running, 0);
  assert.match(lines[0] ?? '', /^trantor node host: serving Scaler on http:\/\/127\.0\.0\.1:\d+$/);
});

test("Seldon's flags the Node host cannot honour are refused with the reason, exit 2", async () => {
  for (const [args, reason] of [
    [['--workers', '2'], /--workers 2: the Node host serves with one process/],
    [['--threads', '4'], /--threads 4: the Node host answers on one event loop/],
    [['--metrics-port', '6000'], /--metrics-port 6000: the Node host serves no metrics port/],
    [['--tracing'], /--tracing: tracing is not supported/],
  ] as const) {
    const errors: string[] = [];
    const code = await main(['Scaler', ...args], {}, { cwd: fixtures, stdout: () => {}, stderr: (l) => errors.push(l) });
    assert.equal(code, 2, args.join(' '));
    assert.match(errors.join('\n'), reason);
  }
});

test('--grpc-port serves gRPC beside REST, named on a second ready line, until stopped', async () => {
  const lines: string[] = [];
  const stop = new AbortController();
  let grpcReady!: (line: string) => void;
  const grpcLine = new Promise<string>((resolve) => (grpcReady = resolve));
  const running = main(['Scaler', '--http-port', '0', '--grpc-port', '0', '--parameters', '[{"name":"factor","value":"2","type":"INT"}]'], {}, {
    cwd: fixtures,
    stdout: (l) => {
      lines.push(l);
      if (l.startsWith(GRPC_READY_PREFIX)) grpcReady(l);
    },
    stderr: () => {},
    signal: stop.signal,
  });
  try {
    const address = (await grpcLine).slice(`${GRPC_READY_PREFIX} on `.length);
    assert.match(lines[0] ?? '', /^trantor node host: serving Scaler on http:/);
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<unknown>((resolve, reject) => {
        client.makeUnaryRequest(
          '/seldon.protos.Model/Predict',
          (json: SeldonMessage) => Buffer.from(toProto('SeldonMessage', json)),
          (bytes: Buffer) => fromProto('SeldonMessage', bytes),
          { data: { ndarray: [[1, 2]] } },
          (err, value) => (err === null ? resolve(value) : reject(err)),
        );
      });
      assert.deepEqual(JSON.parse(JSON.stringify(reply)), { data: { names: ['t:0', 't:1'], ndarray: [[2, 4]] }, meta: {} });
    } finally {
      client.close();
    }
  } finally {
    stop.abort();
  }
  assert.equal(await running, 0);
});

/** Runs the command in this process until the test is done with it; resolves with its URL. */
async function runCommand(args: string[], env: Record<string, string>, t: { after(fn: () => Promise<unknown>): void }): Promise<string> {
  const stop = new AbortController();
  let ready!: (url: string) => void;
  const url = new Promise<string>((resolve) => (ready = resolve));
  const errors: string[] = [];
  const running = main(args, env, {
    cwd: fixtures,
    stdout: (line) => ready(line.slice(line.lastIndexOf(' ') + 1)),
    stderr: (line) => errors.push(line),
    signal: stop.signal,
  });
  t.after(async () => {
    stop.abort();
    await running;
  });
  return Promise.race([url, running.then((code) => Promise.reject(new Error(`exited ${code}: ${errors.join('\n')}`)))]);
}

test('--body-limit (or TRANTOR_COMPONENT_BODY_LIMIT) refuses a larger body with 413', async (t) => {
  const body = { strData: 'x'.repeat(2_000) };
  const byFlag = await runCommand(['./plain.mjs', '--http-port', '0', '--body-limit', '1kib'], {}, t);
  assert.equal((await post(`${byFlag}/predict`, body)).status, 413);
  assert.equal((await post(`${byFlag}/predict`, { strData: 'x' })).status, 200);
  const byEnv = await runCommand(['./plain.mjs', '--http-port', '0'], { TRANTOR_COMPONENT_BODY_LIMIT: '1kib' }, t);
  assert.equal((await post(`${byEnv}/predict`, body)).status, 413);
});

test('--keep-alive-timeout closes an idle kept-alive connection after that time', async (t) => {
  const url = new URL(await runCommand(['./plain.mjs', '--http-port', '0', '--keep-alive-timeout', '300ms'], {}, t));
  const socket = connect(Number(url.port), url.hostname);
  t.after(() => Promise.resolve(socket.destroy()));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write('GET /health/ping HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  // The default keeps the connection 65 s; closed within 20 s means the option was applied.
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still open after 20 s; received ${received}`)), 20_000).unref());
  await Promise.race([closed, deadline]);
  assert.match(received, /^HTTP\/1\.1 200 [\s\S]*pong$/);
});
