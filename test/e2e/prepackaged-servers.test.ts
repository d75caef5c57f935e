/**
 * XGBOOST_SERVER and MLFLOW_SERVER through `trantor up` and the gateway, with the examples'
 * manifests and models unchanged: each answer equals what the model gives in its own library.
 *
 * xgboost comes from Debian (python3-xgboost) and mlflow from its virtualenv (TRANTOR_MLFLOW_PYTHON,
 * made by .ci/run); without them the tests that need them are skipped saying so, except in CI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findPython } from '../../src/runtime/local/index.ts';
import { ROOT, Trantor, postJson } from './harness.ts';

const IN_CI = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const XGBOOST = join(ROOT, 'examples', 'xgboost');
const MLFLOW = join(ROOT, 'examples', 'mlflow');
const COLUMNS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];

const xgboostPython = findPython(['numpy', 'xgboost', 'sklearn'], process.env)?.executable;
const mlflowPython = ((): string | undefined => {
  const candidate = process.env['TRANTOR_MLFLOW_PYTHON'] || join(homedir(), '.cache', 'trantor-ci', 'mlflow-venv', 'bin', 'python');
  if (!existsSync(candidate)) return undefined;
  return spawnSync(candidate, ['-c', 'import mlflow.pyfunc, pandas, sklearn']).status === 0 ? candidate : undefined;
})();
// `trantor up` inherits this process's environment: the plan finds the mlflow Python through it.
if (mlflowPython !== undefined) process.env['TRANTOR_MLFLOW_PYTHON'] = mlflowPython;

const skipXgboost = xgboostPython === undefined && !IN_CI ? 'no Python with xgboost and scikit-learn (apt-get install python3-xgboost python3-sklearn)' : false;
const skipMlflow = mlflowPython === undefined && !IN_CI ? 'no Python with mlflow (set TRANTOR_MLFLOW_PYTHON, or run .ci/run once)' : false;

/** What `script` prints as JSON, run by `python` with `args`. */
function pythonJson(python: string | undefined, script: string, ...args: string[]): unknown {
  assert.ok(python !== undefined, 'the Python for this test is missing (CI installs it with .ci/run)');
  const result = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '');
}

function assertClose(actual: unknown, expected: unknown, where: string): void {
  const a = (actual as number[] | number[][]).flat();
  const e = (expected as number[] | number[][]).flat();
  assert.equal(a.length, e.length, `${where}: ${a.length} values, expected ${e.length}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]!) <= 1e-6, `${where}[${i}]: ${v} vs ${e[i]}`));
}

const trantor = new Trantor();

/** `trantor apply --wait`; a failure shows what the replicas printed. */
function apply(file: string, name: string): void {
  try {
    trantor.applyAndWait(file);
  } catch (err) {
    const logs = trantor.cli(['logs', name, '-n', 'seldon']);
    throw new Error(`${(err as Error).message}\n${logs.stdout}${logs.stderr}\n${trantor.output.join('\n').slice(-4000)}`);
  }
}

before(async () => {
  await trantor.up();
  if (!skipXgboost) {
    apply(join(XGBOOST, 'xgboost.yaml'), 'xgboost');
    apply(join(XGBOOST, 'xgboost-v2.yaml'), 'xgboost-v2');
  }
  if (!skipMlflow) {
    apply(join(MLFLOW, 'mlflow.yaml'), 'mlflow');
    apply(join(MLFLOW, 'mlflow-v2.yaml'), 'mlflow-v2');
  }
});
after(() => trantor.close());

test("the XGBoost example answers the booster's own predict on a DMatrix of the rows", { skip: skipXgboost }, async () => {
  const res = await postJson(trantor.url('seldon', 'xgboost'), { data: { ndarray: ROWS } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const reply = res.body as { data: { names: string[]; ndarray: number[][] }; meta: { requestPath: Record<string, string> } };
  assert.deepEqual(reply.data.names, ['t:0', 't:1', 't:2']);
  assert.equal(reply.meta.requestPath['classifier'], 'XGBOOST_SERVER');
  const expected = pythonJson(
    xgboostPython,
    'import json, sys, numpy, xgboost\nb = xgboost.Booster(model_file=sys.argv[1])\nprint(json.dumps(b.predict(xgboost.DMatrix(numpy.array(json.loads(sys.argv[2])))).tolist()))',
    join(XGBOOST, 'model', 'model.json'),
    JSON.stringify(ROWS),
  );
  assertClose(reply.data.ndarray, expected, 'data.ndarray');
});

test("the XGBoost example on V2 answers the classifier's predict and predict_proba", { skip: skipXgboost }, async () => {
  const body = {
    inputs: [{ name: 'input-0', datatype: 'FP32', shape: [3, 4], data: ROWS.flat() }],
    outputs: [{ name: 'predict' }, { name: 'predict_proba' }],
  };
  const res = await postJson(trantor.url('seldon', 'xgboost-v2', 'v2/models/classifier/infer'), body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const outputs = (res.body as { outputs: { name: string; shape: number[]; data: number[] }[] }).outputs;
  assert.deepEqual(outputs.map((o) => [o.name, o.shape]), [['predict', [3, 1]], ['predict_proba', [3, 3]]]);
  const expected = pythonJson(
    xgboostPython,
    'import json, sys, numpy, xgboost\nm = xgboost.XGBClassifier()\nm.load_model(sys.argv[1])\nX = numpy.array(json.loads(sys.argv[2]), dtype=numpy.float32)\n' +
      'print(json.dumps([m.predict(X).tolist(), m.predict_proba(X).tolist()]))',
    join(XGBOOST, 'model', 'model.json'),
    JSON.stringify(ROWS),
  ) as [number[], number[][]];
  assert.deepEqual(outputs[0]!.data, expected[0]);
  assertClose(outputs[1]!.data, expected[1], 'outputs[1].data');
});

test('the MLflow example answers the pyfunc model with the request names as DataFrame columns', { skip: skipMlflow }, async () => {
  const res = await postJson(trantor.url('seldon', 'mlflow'), { data: { names: COLUMNS, ndarray: ROWS } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const expected = pythonJson(
    mlflowPython,
    'import json, sys, mlflow.pyfunc, pandas\nm = mlflow.pyfunc.load_model(sys.argv[1])\n' +
      'print(json.dumps(m.predict(pandas.DataFrame(json.loads(sys.argv[2]), columns=json.loads(sys.argv[3]))).tolist()))',
    join(MLFLOW, 'model'),
    JSON.stringify(ROWS),
    JSON.stringify(COLUMNS),
  );
  assertClose((res.body as { data: { ndarray: number[][] } }).data.ndarray, expected, 'data.ndarray');
  const wrong = await postJson(trantor.url('seldon', 'mlflow'), { data: { names: ['a', 'b', 'c', 'd'], ndarray: ROWS } });
  assert.equal(wrong.status, 400);
  assert.match(JSON.stringify(wrong.body), /the model's signature rejected the input/);
});

test('the MLflow example on V2 takes an input per column and answers output-1', { skip: skipMlflow }, async () => {
  const inputs = COLUMNS.map((name, i) => ({ name, datatype: 'FP64', shape: [ROWS.length], data: ROWS.map((row) => row[i]) }));
  const res = await postJson(trantor.url('seldon', 'mlflow-v2', 'v2/models/classifier/infer'), { inputs });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const outputs = (res.body as { outputs: { name: string; shape: number[]; data: number[] }[] }).outputs;
  assert.deepEqual(outputs.map((o) => [o.name, o.shape]), [['output-1', [3, 3]]]);
  const expected = pythonJson(
    mlflowPython,
    'import json, sys, mlflow.pyfunc, pandas\nm = mlflow.pyfunc.load_model(sys.argv[1])\n' +
      'print(json.dumps(m.predict(pandas.DataFrame(json.loads(sys.argv[2]), columns=json.loads(sys.argv[3]))).tolist()))',
    join(MLFLOW, 'model'),
    JSON.stringify(ROWS),
    JSON.stringify(COLUMNS),
  );
  assertClose(outputs[0]!.data, expected, 'outputs[0].data');
});
