/**
 * `trantor.io/sklearn-onnx` end to end: one `trantor up` serving the iris example three ways — the
 * Python host (iris.yaml), the Node host running its ONNX conversion (iris-onnx.yaml), and the same
 * inside the control plane (iris-onnx-in-process.yaml) — and the same request through the gateway
 * answered alike by all three. A model that cannot be served as ONNX is refused with skl2onnx's reason.
 *
 * Needs a Python with scikit-learn and skl2onnx: TRANTOR_ONNX_PYTHON (set by .ci/run), else
 * ~/.cache/trantor-ci/onnx-venv; skipped with the reason outside CI when there is none.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { ROOT, Trantor, postJson, waitFor } from './harness.ts';

const CANDIDATE = process.env['TRANTOR_ONNX_PYTHON'] ?? join(homedir(), '.cache', 'trantor-ci', 'onnx-venv', 'bin', 'python');
const PYTHON = existsSync(CANDIDATE) && spawnSync(CANDIDATE, ['-c', 'import sklearn, joblib, skl2onnx'], { encoding: 'utf8' }).status === 0 ? CANDIDATE : undefined;
const SKIP = PYTHON === undefined && process.env['CI'] !== 'true' ? `no Python with scikit-learn and skl2onnx (${CANDIDATE}); set TRANTOR_ONNX_PYTHON` : false;

/** `trantor up` whose components get the Python with skl2onnx. */
class OnnxTrantor extends Trantor {
  override get env(): NodeJS.ProcessEnv {
    return { ...super.env, TRANTOR_PYTHON: PYTHON ?? CANDIDATE };
  }
}

interface Reply {
  data: { names: string[]; ndarray: number[][] };
  meta: { requestPath: Record<string, string> };
}

const ROWS = [
  [1, 2, 3, 4],
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];

describe('SKLEARN_SERVER as ONNX through the gateway', { skip: SKIP }, () => {
  const trantor = new OnnxTrantor();

  let server: Server | undefined;
  let origin = '';

  before(async () => {
    // The iris model as an archive on a real HTTP server, for a remote modelUri.
    const archive = join(trantor.home, 'iris.tar.gz');
    await tar.c({ gzip: true, file: archive, cwd: join(ROOT, 'examples', 'iris', 'model') }, ['model.joblib']);
    const body = readFileSync(archive);
    server = createServer((req, res) => {
      if (req.url !== '/iris.tar.gz') res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': String(body.length) }).end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await trantor.up();
    trantor.applyAndWait(join(ROOT, 'examples', 'iris', 'iris.yaml'));
    trantor.applyAndWait(join(ROOT, 'bench', 'manifests', 'iris-onnx.yaml'));
    trantor.applyAndWait(join(ROOT, 'bench', 'manifests', 'iris-onnx-in-process.yaml'));
  });
  after(async () => {
    await trantor.close();
    server?.close();
  });

  function manifest(name: string, modelUri: string, annotations: string[]): string {
    const file = join(trantor.home, `${name}.yaml`);
    writeFileSync(
      file,
      [
        'apiVersion: machinelearning.seldon.io/v1',
        'kind: SeldonDeployment',
        `metadata: {name: ${name}, namespace: seldon, annotations: {${annotations.map((a) => `"${a}": "true"`).join(', ')}}}`,
        'spec:',
        '  predictors:',
        `  - graph: {implementation: SKLEARN_SERVER, modelUri: '${modelUri}', name: classifier}`,
        '    name: default',
        '',
      ].join('\n'),
    );
    return file;
  }

  test('the in-process deployment has no model process; the other runs the Node host with the ONNX class', () => {
    const status = (name: string): { state: string; replicas: { pid: number }[] } => {
      const got = trantor.cli(['get', 'sdep', name, '-o', 'json']);
      assert.equal(got.code, 0, got.stderr);
      return (JSON.parse(got.stdout) as { status: { state: string; replicas: { pid: number }[] } }).status;
    };
    const inProcess = status('iris-onnx-in-process');
    assert.equal(inProcess.state, 'Available');
    assert.deepEqual(inProcess.replicas, []);
    // The other one is a Node host process serving the ONNX class.
    const [replica] = status('iris-onnx').replicas;
    assert.ok(replica);
    const command = readFileSync(`/proc/${replica.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(command.some((arg) => /servers\/sklearn-onnx\.(ts|js):SklearnOnnxServer$/.test(arg)), command.join(' '));
  });

  test("the ONNX deployments answer the Python host's predict_proba for the same request, to float32's precision", async () => {
    const python = await postJson(trantor.url('seldon', 'iris-model'), { data: { ndarray: ROWS } });
    assert.equal(python.status, 200, JSON.stringify(python.body));
    const expected = python.body as Reply;
    for (const name of ['iris-onnx', 'iris-onnx-in-process']) {
      const res = await postJson(trantor.url('seldon', name), { data: { ndarray: ROWS } });
      assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.body)}`);
      const reply = res.body as Reply;
      assert.deepEqual(reply.data.names, ['t:0', 't:1', 't:2']);
      assert.deepEqual(reply.data.names, expected.data.names);
      reply.data.ndarray.forEach((row, r) =>
        row.forEach((p, c) => assert.ok(Math.abs(p - expected.data.ndarray[r]![c]!) <= 1e-6, `${name} row ${r} column ${c}: ${p} vs ${expected.data.ndarray[r]![c]}`)),
      );
    }
  });

  test('a tensor request gets a tensor reply, and five features a 400 that says four were expected', async () => {
    const res = await postJson(trantor.url('seldon', 'iris-onnx'), { data: { tensor: { shape: [1, 4], values: [1, 2, 3, 4] } } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual((res.body as { data: { tensor: { shape: number[] } } }).data.tensor.shape, [1, 3]);
    for (const name of ['iris-onnx', 'iris-onnx-in-process']) {
      const bad = await postJson(trantor.url('seldon', name), { data: { ndarray: [[1, 2, 3, 4, 5]] } });
      assert.equal(bad.status, 400, `${name}: ${JSON.stringify(bad.body)}`);
      assert.match(JSON.stringify(bad.body), /expected 4 features per row, got 5/);
    }
  });

  test("a model skl2onnx cannot convert is refused, and trantor shows skl2onnx's reason", async () => {
    const folder = join(trantor.home, 'label-spreading');
    mkdirSync(folder, { recursive: true });
    const made = spawnSync(
      PYTHON ?? CANDIDATE,
      [
        '-c',
        'import sys, joblib\nfrom sklearn.datasets import load_iris\nfrom sklearn.semi_supervised import LabelSpreading\nX, y = load_iris(return_X_y=True)\njoblib.dump(LabelSpreading().fit(X, y), sys.argv[1])',
        join(folder, 'model.joblib'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(made.status, 0, made.stderr);
    const manifest = join(folder, 'deployment.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: machinelearning.seldon.io/v1',
        'kind: SeldonDeployment',
        'metadata:',
        '  name: spreading',
        '  annotations:',
        '    trantor.io/sklearn-onnx: "true"',
        'spec:',
        '  predictors:',
        '  - name: default',
        '    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: ./}',
        '',
      ].join('\n'),
    );
    const applied = trantor.cli(['apply', '-f', manifest]);
    assert.equal(applied.code, 0, applied.stderr);
    let status = '';
    await waitFor(
      "the deployment's status to name skl2onnx's reason",
      () => {
        status = trantor.cli(['get', 'sdep', 'spreading', '-o', 'json']).stdout + trantor.cli(['logs', 'spreading']).stdout;
        return /skl2onnx cannot convert the LabelSpreading/.test(status);
      },
      60_000,
      () => status,
    );
    assert.match(status, /remove the trantor\.io\/sklearn-onnx annotation/);
  });

  test('a remote modelUri is fetched before the ONNX Node host starts; in process it is refused with the fix', async () => {
    const applied = await trantor.cliAsync(['apply', '-f', manifest('iris-onnx-http', `${origin}/iris.tar.gz`, ['trantor.io/sklearn-onnx']), '--wait', '--timeout', '120s']);
    assert.equal(applied.code, 0, applied.stderr);
    const python = await postJson(trantor.url('seldon', 'iris-model'), { data: { ndarray: ROWS } });
    const res = await postJson(trantor.url('seldon', 'iris-onnx-http'), { data: { ndarray: ROWS } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const expected = (python.body as Reply).data.ndarray;
    (res.body as Reply).data.ndarray.forEach((row, r) => row.forEach((p, c) => assert.ok(Math.abs(p - expected[r]![c]!) <= 1e-6)));

    const refused = await trantor.cliAsync(['apply', '-f', manifest('iris-onnx-http-in-process', `${origin}/iris.tar.gz`, ['trantor.io/sklearn-onnx', 'trantor.io/in-process']), '--wait', '--timeout', '60s']);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /spec\.predictors\[0\]\.graph\.modelUri http:\/\/127\.0\.0\.1:\d+\/iris\.tar\.gz: a model served in process .*must be in a local folder.*remove the trantor\.io\/in-process annotation/);
  });
});
