import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { DeploymentState, ObjectEventRecord, Probe, SeldonDeployment, DeploymentStatus } from '../../manifest/index.ts';
import { LocalSupervisor } from './supervisor.ts';
import type { LocalSupervisorOptions } from './supervisor.ts';
import { PACKAGE_ROOT } from './plan.ts';
import { findPython } from './python.ts';
import { container, graphNode, seldonDeployment } from './testing.ts';

// A tiny Seldon-style component: answers /health/ping with pong on PREDICTIVE_UNIT_HTTP_SERVICE_PORT.
// MODE=fail exits at once; MODE=silent never listens; START_DELAY_MS delays the listen;
// PID_DIR gets a file named after its pid; IGNORE_TERM=1 ignores SIGTERM.
const COMPONENT = `
import http from 'node:http';
import { writeFileSync } from 'node:fs';
const port = Number(process.env.PREDICTIVE_UNIT_HTTP_SERVICE_PORT);
const mode = process.env.MODE ?? 'serve';
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
if (process.env.PID_DIR) writeFileSync(process.env.PID_DIR + '/' + process.pid, '');
console.log('starting ' + process.env.PREDICTIVE_UNIT_ID);
if (mode === 'fail') {
  console.error('cannot load model: weights.bin is missing');
  process.exit(3);
}
if (mode === 'silent') {
  setInterval(() => {}, 1000);
} else {
  const server = http.createServer((req, res) => {
    if (req.url === '/health/ping') return res.end('pong');
    if (req.url === '/env') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ pid: process.pid, env: process.env }));
    }
    if (req.url === '/predict') {
      console.log('predict called');
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify({ data: { ndarray: [[1]] } }));
    }
    res.statusCode = 404;
    res.end();
  });
  setTimeout(() => server.listen(port, '127.0.0.1', () => console.log('listening on ' + port)), Number(process.env.START_DELAY_MS ?? 0));
}
`;

let dir = '';
let script = '';
const logger = pino({ level: 'silent' });
const supervisors: LocalSupervisor[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'trantor-supervisor-'));
  script = join(dir, 'component.mjs');
  writeFileSync(script, COMPONENT);
});

after(async () => {
  await Promise.all(supervisors.map((s) => s.close()));
});

function supervisor(options: Partial<LocalSupervisorOptions> = {}): LocalSupervisor {
  const s = new LocalSupervisor({ home: mkdtempSync(join(tmpdir(), 'trantor-home-')), logger, env: process.env, ...options });
  supervisors.push(s);
  return s;
}

interface ComponentOptions {
  name?: string;
  replicas?: number;
  env?: Record<string, string>;
  command?: string[];
  livenessProbe?: Probe;
  startupProbe?: Probe;
}

function componentDeployment(options: ComponentOptions = {}): SeldonDeployment {
  return seldonDeployment({
    name: options.name ?? 'sample',
    baseDir: dir,
    replicas: options.replicas ?? 1,
    graph: graphNode({ name: 'model', parameters: [{ name: 'threshold', value: '0.5', type: 'FLOAT' }] }),
    componentSpecs: [
      {
        containers: [
          container({
            name: 'model',
            image: 'example/model:1',
            command: options.command ?? [process.execPath, script],
            env: Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value })),
            ...(options.livenessProbe === undefined ? {} : { livenessProbe: options.livenessProbe }),
            ...(options.startupProbe === undefined ? {} : { startupProbe: options.startupProbe }),
          }),
        ],
      },
    ],
  });
}

const unit = (name = 'sample') => ({ namespace: 'seldon', deployment: name, predictor: 'default', node: 'model' });

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function waitForState(s: LocalSupervisor, state: DeploymentState, name = 'sample'): Promise<DeploymentStatus> {
  return waitFor(`${name} to be ${state} (now ${JSON.stringify(s.status('seldon', name))})`, () => {
    const status = s.status('seldon', name);
    return status?.state === state ? status : undefined;
  });
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

function pidsOf(status: DeploymentStatus): number[] {
  return status.replicas.map((r) => r.pid).filter((pid): pid is number => pid !== undefined);
}

test('a deployment with 2 replicas becomes Available with each replica on its own port', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ replicas: 2 }));
  const status = await waitForState(s, 'Available');
  assert.equal(status.replicas.length, 2);
  assert.deepEqual(
    status.replicas.map((r) => [r.id, r.state]),
    [
      ['default/model/0', 'Ready'],
      ['default/model/1', 'Ready'],
    ],
  );
  const ports = status.replicas.map((r) => r.port);
  assert.equal(new Set(ports).size, 2);
  assert.equal(status.description, undefined);
});

test('replicasOf lists every ready replica of the node', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ replicas: 2 }));
  const status = await waitForState(s, 'Available');
  const addresses = s.replicasOf(unit());
  assert.deepEqual(
    addresses.map((a) => [a.id, a.host, a.port]),
    status.replicas.map((r) => [r.id, '127.0.0.1', r.port]),
  );
  // Each replica was given a gRPC port of its own (PREDICTIVE_UNIT_GRPC_SERVICE_PORT): a GRPC node is called there.
  for (const a of addresses) assert.ok(a.grpcPort !== undefined && a.grpcPort !== a.port, `replica ${a.id} has its own gRPC port`);
  assert.equal(s.replicasOf(unit()), addresses, 'the same array until something changes');
  assert.deepEqual(s.replicasOf({ ...unit(), node: 'other' }), []);
});

test('replicasOf is empty until the deployment is Available', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ env: { START_DELAY_MS: '300' } }));
  assert.equal(s.status('seldon', 'sample')?.state, 'Creating');
  assert.deepEqual(s.replicasOf(unit()), []);
  await waitForState(s, 'Available');
  assert.equal(s.replicasOf(unit()).length, 1);
});

test('each replica gets Seldon environment contract with the container env on top', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ env: { GREETING: 'hello', PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '9000' } }));
  const status = await waitForState(s, 'Available');
  const port = status.replicas[0]?.port ?? 0;
  const { env } = JSON.parse(await get(port, '/env')) as { env: Record<string, string> };
  assert.equal(env['PREDICTIVE_UNIT_HTTP_SERVICE_PORT'], String(port), 'the port Trantor assigned wins');
  assert.equal(env['PREDICTIVE_UNIT_SERVICE_PORT'], String(port));
  assert.equal(env['PREDICTIVE_UNIT_ID'], 'model');
  assert.equal(env['PREDICTOR_ID'], 'default');
  assert.equal(env['SELDON_DEPLOYMENT_ID'], 'sample');
  assert.equal(env['PREDICTIVE_UNIT_IMAGE'], 'example/model:1');
  assert.equal(env['PYTHONUNBUFFERED'], '1');
  assert.equal(env['GREETING'], 'hello');
  assert.deepEqual(JSON.parse(env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [{ name: 'threshold', value: '0.5', type: 'FLOAT' }]);
  assert.notEqual(env['PREDICTIVE_UNIT_GRPC_SERVICE_PORT'], env['PREDICTIVE_UNIT_METRICS_SERVICE_PORT']);
});

test('a replica killed with SIGKILL leaves replicasOf at once and is restarted', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ replicas: 2 }));
  const before = await waitForState(s, 'Available');
  const victim = before.replicas[0];
  assert.ok(victim?.pid !== undefined);
  process.kill(victim.pid, 'SIGKILL');

  const during = await waitFor('the killed replica to leave replicasOf', () => (s.replicasOf(unit()).length === 1 ? s.replicasOf(unit()) : undefined));
  assert.deepEqual(
    during.map((a) => a.id),
    ['default/model/1'],
  );
  const crashed = s.status('seldon', 'sample');
  assert.equal(crashed?.state, 'Available', 'another replica of the node is still ready');
  assert.equal(crashed?.replicas[0]?.state, 'Crashed');
  assert.match(crashed?.replicas[0]?.message ?? '', /was killed by SIGKILL; restarting in 0.5 s/);

  await waitFor('the replica to come back', () => s.replicasOf(unit()).length === 2);
  const after = s.status('seldon', 'sample');
  assert.equal(after?.replicas[0]?.restarts, 1);
  assert.equal(after?.replicas[0]?.state, 'Ready');
  assert.notEqual(after?.replicas[0]?.pid, victim.pid);
  assert.equal(after?.replicas[1]?.restarts, 0);
});

test('a crash is recorded as Events on the SeldonDeployment (Started, Crashed with the signal, BackOff) and kept as the last exit', async () => {
  const recorded: ObjectEventRecord[] = [];
  const s = supervisor({ options: { restartBackoff: 200 }, recorder: { record: (e) => recorded.push(e) } });
  await s.apply(componentDeployment());
  const before = await waitForState(s, 'Available');
  assert.equal(before.replicas[0]?.name, 'sample-default-model-0');
  assert.ok(before.replicas[0]?.createdAt !== undefined && before.replicas[0]?.startedAt !== undefined);
  process.kill(before.replicas[0]?.pid ?? 0, 'SIGKILL');
  const back = await waitFor('the replica to be restarted', () => {
    const replica = s.status('seldon', 'sample')?.replicas[0];
    return replica?.state === 'Ready' && replica.restarts === 1 ? replica : undefined;
  });
  assert.equal(back.lastExit?.reason, 'was killed by SIGKILL');
  assert.equal(back.lastExit?.signal, 'SIGKILL');
  assert.equal(back.lastExit?.exitCode, undefined);
  assert.equal(back.createdAt, before.replicas[0]?.createdAt, 'a restart keeps the replica\'s age');
  assert.deepEqual(
    recorded.map((e) => `${e.type} ${e.reason}`),
    ['Normal Started', 'Warning Crashed', 'Warning BackOff', 'Normal Started'],
  );
  const crashed = recorded[1]!;
  assert.deepEqual(crashed.involvedObject, { kind: 'SeldonDeployment', namespace: 'seldon', name: 'sample', replica: 'sample-default-model-0', fieldPath: 'spec.predictors{default}.graph{model}' });
  assert.match(crashed.message, /^Replica was killed by SIGKILL; its last output:\n/);
  assert.equal(recorded[2]?.message, 'Back-off restarting failed replica sample-default-model-0');
});

test('a replica that exits before it is ready is recorded as a Failed Event with its exit code and output', async () => {
  const recorded: ObjectEventRecord[] = [];
  const s = supervisor({ recorder: { record: (e) => recorded.push(e) } });
  await s.apply(componentDeployment({ env: { MODE: 'fail' } }));
  await waitForState(s, 'Failed');
  const failed = await waitFor('the Failed event', () => recorded.find((e) => e.reason === 'Failed'));
  assert.equal(failed.type, 'Warning');
  assert.match(failed.message, /^Replica exited with code 3 before it was ready; its last output:\n(.*\n)*cannot load model: weights.bin is missing$/);
});

// ---- probes of ready replicas ----------------------------------------------------------------

/** Probes quick enough for a test; liveness as given. */
function quickProbes(livenessFailures: number): NonNullable<LocalSupervisorOptions['options']> {
  return { readinessPeriod: 100, readinessTimeout: 300, livenessPeriod: 100, livenessTimeout: 300, livenessFailureThreshold: livenessFailures };
}

/** Stopped process groups, let go again after the tests so nothing stays frozen. */
const frozen = new Set<number>();
after(() => {
  for (const pid of frozen) {
    try {
      process.kill(-pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
});

function freeze(pid: number): void {
  frozen.add(pid);
  process.kill(-pid, 'SIGSTOP');
}

test('a frozen replica (SIGSTOP) leaves replicasOf at its first failed readiness probe', async () => {
  const s = supervisor({ options: quickProbes(1_000_000) });
  await s.apply(componentDeployment({ replicas: 2 }));
  const before = await waitForState(s, 'Available');
  const victim = before.replicas[0]!;
  freeze(victim.pid!);
  const during = await waitFor('the frozen replica to leave replicasOf', () => (s.replicasOf(unit()).length === 1 ? s.replicasOf(unit()) : undefined));
  assert.deepEqual(
    during.map((a) => a.id),
    ['default/model/1'],
  );
  const status = s.status('seldon', 'sample')!;
  assert.equal(status.state, 'Available');
  assert.equal(status.replicas[0]?.state, 'Unready');
  assert.match(status.replicas[0]?.message ?? '', /^not ready: GET \/health\/ping within 300 ms failed 1 time in a row$/);

  process.kill(-victim.pid!, 'SIGCONT');
  await waitFor('the replica to be ready again', () => s.replicasOf(unit()).length === 2);
  const after = s.status('seldon', 'sample')!;
  assert.equal(after.replicas[0]?.state, 'Ready');
  assert.equal(after.replicas[0]?.pid, victim.pid, 'the same process: readiness does not restart');
  assert.equal(after.replicas[0]?.restarts, 0);
});

test('a frozen replica failing its liveness probe is killed with SIGKILL and restarted', async () => {
  const s = supervisor({ options: quickProbes(3) });
  await s.apply(componentDeployment({ replicas: 2 }));
  const before = await waitForState(s, 'Available');
  const victim = before.replicas[0]!;
  freeze(victim.pid!);
  const restarted = await waitFor('the frozen replica to be replaced', () => {
    const r = s.status('seldon', 'sample')?.replicas[0];
    return r?.state === 'Ready' && r.restarts === 1 ? r : undefined;
  });
  assert.notEqual(restarted.pid, victim.pid);
  assert.ok(!running(victim.pid!), 'the frozen process is gone');
  assert.equal(s.replicasOf(unit()).length, 2);
  assert.match(await get(restarted.port!, '/health/ping'), /pong/);
});

test("a container's livenessProbe (periodSeconds, timeoutSeconds, failureThreshold) is honoured", async () => {
  const s = supervisor({ options: quickProbes(1_000_000) });
  await s.apply(componentDeployment({ replicas: 2, livenessProbe: { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 } }));
  const before = await waitForState(s, 'Available');
  const victim = before.replicas[0]!;
  freeze(victim.pid!);
  const crashed = await waitFor('the frozen replica to be killed', () => {
    const r = s.status('seldon', 'sample')?.replicas[0];
    return r !== undefined && r.restarts + (r.state === 'Crashed' ? 1 : 0) >= 1 ? r : undefined;
  });
  assert.match(crashed.message ?? '', /failed its liveness probe \(GET \/health\/ping within 1000 ms\) 1 times? in a row/);
});

test('a deployment whose only replica crashed is Creating with "restarting" until it is back', async () => {
  const s = supervisor({ options: { restartBackoff: 300 } });
  await s.apply(componentDeployment());
  const before = await waitForState(s, 'Available');
  process.kill(before.replicas[0]?.pid ?? 0, 'SIGKILL');
  const during = await waitForState(s, 'Creating');
  assert.match(during.description ?? '', /^restarting default\/model\/0 \(was killed by SIGKILL; restarting in 0.3 s\)/);
  assert.deepEqual(s.replicasOf(unit()), []);
  await waitForState(s, 'Available');
});

test('a replica that exits at start fails the deployment with its exit code and output', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ env: { MODE: 'fail' } }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', /^replica default\/model\/0 \(.*component\.mjs\) exited with code 3 before it was ready; its last output:\n/);
  assert.match(status.description ?? '', /starting model\ncannot load model: weights.bin is missing$/);
  assert.equal(status.replicas[0]?.state, 'Crashed');
});

test('a command that does not exist fails the deployment saying so', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ command: ['trantor-no-such-command-here'] }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', /command "trantor-no-such-command-here" was not found on PATH/);
});

test('a replica that never answers its health check fails the deployment after the timeout', async () => {
  const s = supervisor({ options: { startupTimeout: 500 } });
  await s.apply(componentDeployment({ env: { MODE: 'silent' } }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', /did not answer GET \/health\/ping with pong within 0.5 s before it was ready/);
});

test("a container's startupProbe gives a slow replica longer than the startup timeout", async () => {
  const s = supervisor({ options: { startupTimeout: 500 } });
  await s.apply(componentDeployment({ env: { START_DELAY_MS: '1500' }, startupProbe: { periodSeconds: 1, failureThreshold: 30 } }));
  const status = await waitForState(s, 'Available');
  assert.equal(status.replicas[0]?.restarts, 0);
});

test("a container's startupProbe (initialDelaySeconds + failureThreshold × periodSeconds) bounds its start", async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ env: { MODE: 'silent' }, startupProbe: { initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 } }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', /did not answer GET \/health\/ping with pong within 2 s before it was ready/);
});

test('a container that names only an image fails the deployment with the fields to add', async () => {
  const s = supervisor();
  const sdep = seldonDeployment({
    graph: graphNode({ name: 'classifier' }),
    componentSpecs: [{ containers: [container({ name: 'classifier', image: 'x/y:latest' })] }],
  });
  await s.apply(sdep);
  const status = s.status('seldon', 'sample');
  assert.equal(status?.state, 'Failed');
  assert.match(
    status?.description ?? '',
    /container "classifier" names only an image \(x\/y:latest\); to run it locally add command \(e\.g\. \[seldon-core-microservice, MLScore\]\) and workingDir/,
  );
});

test('a remote modelUri that is missing fails the deployment naming the field, the URI and the cause', async () => {
  const server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/missing/iris.tar.gz`;
  try {
    const recorded: ObjectEventRecord[] = [];
    const s = supervisor({ python: () => ({ executable: '/usr/bin/python3', modules: new Set<string>() }), recorder: { record: (e) => recorded.push(e) } });
    await s.apply(seldonDeployment({ graph: graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: uri }) }));
    assert.equal(s.status('seldon', 'sample')?.state, 'Creating');
    assert.equal(s.status('seldon', 'sample')?.description, `fetching ${uri}`);
    const status = await waitForState(s, 'Failed');
    const reason = `spec.predictors[0].graph.modelUri: cannot fetch the model of node "classifier": ${uri}: no such file (404 Not Found); check the modelUri`;
    assert.equal(status.description, reason);
    // The download's start and its failure are Events at the node, as kubectl shows an image pull.
    assert.deepEqual(
      recorded.map((e) => [e.type, e.reason, e.message, e.involvedObject.fieldPath]),
      [
        ['Normal', 'Pulling', `Downloading model ${uri} (spec.predictors[0].graph.modelUri)`, 'spec.predictors{default}.graph{classifier}'],
        ['Warning', 'Failed', reason, 'spec.predictors{default}.graph{classifier}'],
      ],
    );
  } finally {
    server.close();
  }
});

test('a model store that cannot be reached fails the deployment, saying how to serve a local copy instead', async () => {
  const closed = createServer();
  await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
  const uri = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/iris.tar.gz`;
  await new Promise<void>((ok) => closed.close(() => ok()));
  const s = supervisor({ python: () => ({ executable: '/usr/bin/python3', modules: new Set<string>() }) });
  await s.apply(seldonDeployment({ graph: graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: uri }) }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', new RegExp(`cannot fetch the model of node "classifier": ${uri.replaceAll('.', '\\.')}: .*without network access, map the URI to a local copy with TRANTOR_STORAGE_MIRRORS`));
});

test('while a remote model downloads the deployment is Creating with the bytes so far and the total', async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((ok) => (release = ok));
  const body = Buffer.alloc(2_000_000, 1);
  const server = createServer((req, res) => {
    res.writeHead(200, { etag: '"m"', 'content-length': String(body.length) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write(body.subarray(0, 1_000_000));
    void held.then(() => res.end(body.subarray(1_000_000)));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.bin`;
  try {
    // No Python can start: the deployment fails after the download, which is all this test needs.
    const s = supervisor({ python: () => ({ executable: '/nonexistent/python3', modules: new Set<string>() }) });
    await s.apply(seldonDeployment({ graph: graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: uri }) }));
    const downloading = await waitFor('a download description', () => {
      const status = s.status('seldon', 'sample');
      return status?.description?.startsWith(`downloading ${uri} `) === true ? status : undefined;
    });
    assert.equal(downloading.state, 'Creating');
    assert.match(downloading.description ?? '', / of 2\.0 MB \([\d.]+ [kMG]?B\/s\)$/);
    release();
    await waitFor('the download to end', () => s.status('seldon', 'sample')?.description?.startsWith('downloading') === false);
  } finally {
    release();
    server.close();
  }
});

test('a node naming an envSecretRefName with no secret file fails saying where to write it', async () => {
  const home = mkdtempSync(join(tmpdir(), 'trantor-home-'));
  const s = supervisor({ home, python: () => ({ executable: '/usr/bin/python3', modules: new Set<string>() }) });
  const node = graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: 's3://bucket/iris' });
  node.envSecretRefName = 'aws-creds';
  await s.apply(seldonDeployment({ graph: node }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', new RegExp(`envSecretRefName aws-creds: no secret file ${join(home, 'secrets', 'seldon', 'aws-creds.env')}`));
});

test('remove stops the processes, including children of a shell wrapper', async () => {
  const s = supervisor();
  const pidDir = mkdtempSync(join(tmpdir(), 'trantor-pids-'));
  const wrapper = ['/bin/sh', '-c', `"${process.execPath}" "${script}" & wait`];
  await s.apply(componentDeployment({ replicas: 2, command: wrapper, env: { PID_DIR: pidDir } }));
  const status = await waitForState(s, 'Available');
  const pids = [...pidsOf(status), ...readdirSync(pidDir).map(Number)];
  assert.equal(pids.length, 4, 'two shells and their two node children');
  for (const pid of pids) assert.ok(running(pid));
  await s.remove('seldon', 'sample');
  for (const pid of pids) assert.equal(running(pid), false, `pid ${pid} still runs`);
  assert.equal(s.status('seldon', 'sample'), undefined);
  assert.deepEqual(s.replicasOf(unit()), []);
});

test('a replica that ignores SIGTERM is killed once runtime.stopGrace has passed', async () => {
  const s = supervisor({ options: { stopGrace: 300 } });
  await s.apply(componentDeployment({ env: { IGNORE_TERM: '1' } }));
  const [pid] = pidsOf(await waitForState(s, 'Available'));
  const began = Date.now();
  await s.remove('seldon', 'sample');
  assert.equal(running(pid!), false);
  // The default grace is 5 s; 300 ms plus the exit's bookkeeping stays well under it.
  assert.ok(Date.now() - began < 3_000, `remove took ${Date.now() - began} ms`);
});

test('close stops every deployment', async () => {
  const s = new LocalSupervisor({ home: mkdtempSync(join(tmpdir(), 'trantor-home-')), logger, env: process.env });
  await s.apply(componentDeployment({ name: 'one' }));
  await s.apply(componentDeployment({ name: 'two' }));
  const pids = [...pidsOf(await waitForState(s, 'Available', 'one')), ...pidsOf(await waitForState(s, 'Available', 'two'))];
  await s.close();
  for (const pid of pids) assert.equal(running(pid), false);
});

test('an identical re-apply leaves the replicas alone', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ replicas: 2 }));
  const first = await waitForState(s, 'Available');
  await s.apply(componentDeployment({ replicas: 2 }));
  const second = s.status('seldon', 'sample');
  assert.equal(second?.state, 'Available');
  assert.deepEqual(pidsOf(second), pidsOf(first));
});

test('a rolling update replaces the replicas without a moment with no ready replica', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ replicas: 2 }));
  const old = await waitForState(s, 'Available');
  const oldPids = pidsOf(old);

  let emptySeen = false;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if (s.replicasOf(unit()).length === 0) emptySeen = true;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  await s.apply(componentDeployment({ replicas: 2, env: { START_DELAY_MS: '300', VERSION: '2' } }));
  const rolling = s.status('seldon', 'sample');
  assert.equal(rolling?.state, 'Creating');
  assert.match(rolling?.description ?? '', /^rolling update: 0 of 2 new replicas ready; the previous version keeps serving/);
  assert.deepEqual(
    s.replicasOf(unit()).map((a) => a.port),
    old.replicas.map((r) => r.port),
  );

  const updated = await waitForState(s, 'Available');
  await waitFor('the old replicas to stop', () => oldPids.every((pid) => !running(pid)));
  sampling = false;
  await sampler;
  assert.equal(emptySeen, false);
  const newPorts = updated.replicas.map((r) => r.port);
  assert.deepEqual(
    s.replicasOf(unit()).map((a) => a.port),
    newPorts,
  );
  for (const port of newPorts) assert.ok(!old.replicas.some((r) => r.port === port));
  const { env } = JSON.parse(await get(newPorts[0] ?? 0, '/env')) as { env: Record<string, string> };
  assert.equal(env['VERSION'], '2');
});

test('an update that cannot start keeps the previous version serving and reports Failed', async () => {
  const s = supervisor();
  await s.apply(componentDeployment());
  const old = await waitForState(s, 'Available');
  await s.apply(componentDeployment({ env: { MODE: 'fail' } }));
  const status = await waitForState(s, 'Failed');
  assert.match(status.description ?? '', /^update failed: replica default\/model\/0 .* exited with code 3 before it was ready/);
  assert.match(status.description ?? '', /the previous version keeps serving$/);
  assert.deepEqual(
    s.replicasOf(unit()).map((a) => a.port),
    [old.replicas[0]?.port],
  );
  assert.equal(await get(old.replicas[0]?.port ?? 0, '/health/ping'), 'pong');
});

test('replica output is kept in memory, written to its log file, and followed', async () => {
  const s = supervisor();
  await s.apply(componentDeployment({ replicas: 2 }));
  const status = await waitForState(s, 'Available');
  await waitFor('both "listening" lines', () => s.logs('seldon', 'sample').filter((l) => l.line.startsWith('listening on')).length === 2);
  const lines = s.logs('seldon', 'sample');
  for (const replica of status.replicas) {
    assert.ok(lines.some((l) => l.replica === replica.id && l.line === `listening on ${replica.port}` && l.stream === 'stdout'));
  }
  // tail counts per replica, as kubectl's --tail per container.
  assert.deepEqual(s.logs('seldon', 'sample', { tail: 1 }).map((l) => l.replica).sort(), status.replicas.map((r) => r.id).sort());

  const file = join(s.logDir('seldon', 'sample'), 'default.model.0.log');
  assert.ok(existsSync(file));
  assert.match(readFileSync(file, 'utf8'), new RegExp(`starting model\\nlistening on ${status.replicas[0]?.port}\\n`));

  const controller = new AbortController();
  const followed = (async () => {
    for await (const event of s.follow('seldon', 'sample', { signal: controller.signal })) {
      if (event.line === 'predict called') return event;
    }
    return undefined;
  })();
  await new Promise((resolve) => setImmediate(resolve));
  await get(status.replicas[1]?.port ?? 0, '/predict');
  const event = await followed;
  controller.abort();
  assert.equal(event?.replica, 'default/model/1');
  assert.equal(event?.namespace, 'seldon');
});

test('status events report the way from Creating to Available', async () => {
  const s = supervisor();
  const states: string[] = [];
  s.on('status', (event) => {
    if (event.name === 'sample' && states.at(-1) !== event.status.state) states.push(event.status.state);
  });
  await s.apply(componentDeployment());
  await waitForState(s, 'Available');
  assert.deepEqual(states, ['Creating', 'Available']);
});

const ML_SCORE_DIR = join(PACKAGE_ROOT, 'examples', 'ml-score', 'seldon-ml-score-component');
const PYTHON_HOST = join(PACKAGE_ROOT, 'python', 'trantor_runtime', 'microservice.py');
const pythonSkip = !existsSync(PYTHON_HOST)
  ? `the Python host (${PYTHON_HOST}) is not there yet`
  : !existsSync(ML_SCORE_DIR)
    ? `the MLScore example (${ML_SCORE_DIR}) is not there yet`
    : findPython(['numpy'], process.env) === null
      ? 'no Python 3 with numpy on this machine'
      : false;

test('the seed MLScore class runs through [seldon-core-microservice, MLScore]', { skip: pythonSkip }, async () => {
  const s = supervisor();
  const sdep = seldonDeployment({
    baseDir: join(ML_SCORE_DIR, '..'),
    graph: graphNode({ name: 'classifier' }),
    componentSpecs: [
      {
        containers: [
          container({
            name: 'classifier',
            command: ['seldon-core-microservice', 'MLScore'],
            args: ['--service-type', 'MODEL'],
            workingDir: './seldon-ml-score-component',
          }),
        ],
      },
    ],
  });
  await s.apply(sdep);
  const status = await waitForState(s, 'Available');
  const [address] = s.replicasOf({ ...unit(), node: 'classifier' });
  assert.equal(address?.port, status.replicas[0]?.port);
  assert.equal((await get(address?.port ?? 0, '/health/ping')).trim(), 'pong');
});

const IRIS_MODEL = join(PACKAGE_ROOT, 'examples', 'iris', 'model', 'model.joblib');
const SKLEARN_HOST = join(PACKAGE_ROOT, 'python', 'trantor_runtime', 'servers', 'sklearn.py');
const sklearnSkip = !existsSync(SKLEARN_HOST)
  ? `the scikit-learn server (${SKLEARN_HOST}) is not there yet`
  : !existsSync(IRIS_MODEL)
    ? `the iris model (${IRIS_MODEL}) is not there yet`
    : findPython(['numpy', 'sklearn', 'joblib'], process.env) === null
      ? 'no Python 3 with numpy, sklearn and joblib on this machine'
      : false;

test('SKLEARN_SERVER serves a local model folder', { skip: sklearnSkip }, async () => {
  const s = supervisor();
  await s.apply(
    seldonDeployment({
      baseDir: join(PACKAGE_ROOT, 'examples', 'iris'),
      graph: graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: './model' }),
    }),
  );
  const status = await waitForState(s, 'Available');
  assert.equal(status.replicas[0]?.state, 'Ready');
  assert.equal(s.replicasOf({ ...unit(), node: 'classifier' }).length, 1);
});

const NOOP_DIR = join(PACKAGE_ROOT, 'examples', 'noop-ts');
const nodeHostSkip = !existsSync(join(PACKAGE_ROOT, 'src', 'component', 'node-host.ts'))
  ? 'the Node host (src/component/node-host.ts) is not there yet'
  : !existsSync(join(NOOP_DIR, 'NoopModel.ts'))
    ? `the no-op example (${NOOP_DIR}) is not there yet`
    : false;

test('[trantor-node-microservice, NoopModel] runs a TypeScript class in the Node host', { skip: nodeHostSkip }, async () => {
  const s = supervisor();
  await s.apply(
    seldonDeployment({
      baseDir: NOOP_DIR,
      graph: graphNode({ name: 'noop' }),
      componentSpecs: [{ containers: [container({ name: 'noop', command: ['trantor-node-microservice', 'NoopModel'], args: ['--service-type', 'MODEL'], workingDir: './' })] }],
    }),
  );
  const status = await waitForState(s, 'Available');
  assert.equal((await get(status.replicas[0]?.port ?? 0, '/health/ping')).trim(), 'pong');
});
