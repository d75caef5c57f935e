/**
 * The scikit-learn model served as ONNX, against scikit-learn itself: the repository's iris model
 * converted by skl2onnx (a real Python child process), answers compared with the estimator's own
 * run in the test; a disagreeing model.onnx and a model skl2onnx cannot convert are refused.
 *
 * Needs a Python with scikit-learn, skl2onnx and onnx: TRANTOR_ONNX_PYTHON (set by .ci/run), else
 * ~/.cache/trantor-ci/onnx-venv. Skipped with the reason outside CI when there is none.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroserviceError } from '../errors.ts';
import { SKLEARN_ONNX_CACHE_ENV, SKLEARN_ONNX_PYTHON_ENV, SklearnOnnxServer, largestDifference, sklearnV2Outputs, toRows } from './sklearn-onnx.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const IRIS = join(ROOT, 'examples', 'iris', 'model');
const CANDIDATE = process.env['TRANTOR_ONNX_PYTHON'] ?? join(homedir(), '.cache', 'trantor-ci', 'onnx-venv', 'bin', 'python');

function usable(python: string): boolean {
  const probe = spawnSync(python, ['-c', 'import sklearn, joblib, skl2onnx, onnx'], { encoding: 'utf8' });
  return probe.status === 0;
}
const PYTHON = existsSync(CANDIDATE) && usable(CANDIDATE) ? CANDIDATE : undefined;
const SKIP = PYTHON === undefined && process.env['CI'] !== 'true' ? `no Python with scikit-learn and skl2onnx (${CANDIDATE}); set TRANTOR_ONNX_PYTHON` : false;

/** Runs Python code with the test's Python; resolves with its stdout parsed as JSON. */
function python(code: string, ...args: string[]): unknown {
  assert.ok(PYTHON, `no Python with scikit-learn and skl2onnx: ${CANDIDATE}`);
  const result = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as unknown;
}

function sklearn(method: string, folder: string, rows: number[][]): unknown[] {
  const code = `import joblib, json, sys\nm = joblib.load(sys.argv[1])\nprint(json.dumps(getattr(m, sys.argv[2])(json.loads(sys.argv[3])).tolist()))`;
  return python(code, join(folder, 'model.joblib'), method, JSON.stringify(rows)) as unknown[];
}

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
  [1, 2, 3, 4],
  [0, 0, 0, 0],
];

let scratch = '';
let env: NodeJS.ProcessEnv = {};

function server(parameters: Record<string, unknown>): SklearnOnnxServer {
  return new SklearnOnnxServer(parameters, env);
}

describe('SklearnOnnxServer', { skip: SKIP }, () => {
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'trantor-sklearn-onnx-test-'));
    env = { [SKLEARN_ONNX_PYTHON_ENV]: PYTHON, [SKLEARN_ONNX_CACHE_ENV]: join(scratch, 'cache') };
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test("under V2 it answers MLServer's outputs: predict by default, predict_proba when asked, as scikit-learn does", async () => {
    const model = server({ model_uri: IRIS });
    await model.load();
    try {
      const input = { name: 'input-0', shape: [ROWS.length, 4], datatype: 'FP32' as const, values: Float32Array.from(ROWS.flat()) };
      const base = { model: 'classifier', inputs: [input] };
      const labels = await model.inferV2({ ...base, message: { inputs: [] } });
      assert.equal(labels.model_name, 'classifier');
      assert.deepEqual(labels.outputs.map((o) => [o.name, o.datatype, o.shape]), [['predict', 'INT64', [ROWS.length, 1]]]);
      assert.deepEqual(Array.from(labels.outputs[0]!.values as BigInt64Array, Number), sklearn('predict', IRIS, ROWS));
      const proba = await model.inferV2({ ...base, message: { inputs: [], outputs: [{ name: 'predict_proba' }] } });
      const expected = (sklearn('predict_proba', IRIS, ROWS) as number[][]).flat();
      const got = Array.from(proba.outputs[0]!.values as Float64Array);
      assert.deepEqual(proba.outputs[0]!.shape, [ROWS.length, 3]);
      got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `element ${i}: ${v} vs ${expected[i]}`));
      await assert.rejects(model.inferV2({ ...base, inputs: [input, input], message: { inputs: [] } }), /inputs: SKLEARN_SERVER takes one input of rows, got 2/);
      await assert.rejects(model.inferV2({ ...base, inputs: [{ ...input, shape: [1, 5], values: Float32Array.of(1, 2, 3, 4, 5) }], message: { inputs: [] } }), /expected 4 features per row, got 5/);
      // An empty input (shape [1, 0]) is refused, not split into rows of nothing forever.
      await assert.rejects(model.inferV2({ ...base, inputs: [{ ...input, shape: [1, 0], values: new Float32Array(0) }], message: { inputs: [] } }), /expected rows of 4 features, got none/);
    } finally {
      await model.close();
    }
  });

  test("the iris model answers scikit-learn's predict_proba to 1e-6, and writes nothing beside the model", async () => {
    const before = readdirSync(IRIS);
    const model = server({ model_uri: IRIS });
    await model.load();
    try {
      const got = (await model.predict(ROWS)) as number[][];
      const expected = sklearn('predict_proba', IRIS, ROWS) as number[][];
      assert.equal(got.length, ROWS.length);
      got.forEach((row, r) => row.forEach((p, c) => assert.ok(Math.abs(p - expected[r]![c]!) <= 1e-6, `row ${r} column ${c}: ${p} vs ${expected[r]![c]}`)));
      assert.deepEqual(readdirSync(IRIS), before);
      assert.equal(readdirSync(join(scratch, 'cache')).filter((f) => f.endsWith('.onnx')).length, 1);
      assert.match(model.exported?.rows_from ?? '', /uniform in \[-5, 5\) per feature, seed 0/);
      // One row given flat is one row, as SKLEARN_SERVER takes it.
      assert.equal(((await model.predict([1, 2, 3, 4])) as number[][]).length, 1);
    } finally {
      await model.close();
    }
  });

  test("method predict answers scikit-learn's labels", async () => {
    const model = server({ model_uri: `file://${IRIS}`, method: 'predict' });
    await model.load();
    try {
      assert.deepEqual(await model.predict(ROWS), sklearn('predict', IRIS, ROWS));
    } finally {
      await model.close();
    }
  });

  test('a wrong feature count, or not numbers, is a 400 that says what was expected', async () => {
    const model = server({ model_uri: IRIS });
    await model.load();
    try {
      await assert.rejects(model.predict([[1, 2, 3, 4, 5]]), (e: unknown) => e instanceof MicroserviceError && e.status === 400 && /expected 4 features per row, got 5/.test(e.message));
      await assert.rejects(model.predict([[1, 2, 'x', 4]]), /row 0, feature 2: expected a number, got "x"/);
      await assert.rejects(model.predict('text'), /expected rows of numbers/);
    } finally {
      await model.close();
    }
  });

  test('decision_function is refused: the converted model has no such output', async () => {
    await assert.rejects(server({ model_uri: IRIS, method: 'decision_function' }).load(), /parameter method decision_function: the ONNX model .* has no output for it .*set method to predict_proba or predict/);
  });

  test('a model.onnx beside model.joblib that disagrees with it is refused with the difference, the row and the fix', async () => {
    const folder = join(scratch, 'disagrees');
    python(
      [
        'import json, os, sys, joblib',
        'from sklearn.datasets import load_iris',
        'from sklearn.linear_model import LogisticRegression',
        'from skl2onnx import to_onnx',
        'from skl2onnx.common.data_types import FloatTensorType',
        'X, y = load_iris(return_X_y=True)',
        'other = LogisticRegression(C=0.01, max_iter=1000).fit(X, y)',
        'os.makedirs(sys.argv[1])',
        'onx = to_onnx(other, initial_types=[("X", FloatTensorType([None, 4]))], options={id(other): {"zipmap": False}})',
        'open(os.path.join(sys.argv[1], "model.onnx"), "wb").write(onx.SerializeToString())',
        'print("null")',
      ].join('\n'),
      folder,
    );
    copyFileSync(join(IRIS, 'model.joblib'), join(folder, 'model.joblib'));
    await assert.rejects(server({ model_uri: folder }).load(), (e: unknown) => {
      const message = e instanceof Error ? e.message : '';
      const measured = /differs from scikit-learn's by ([0-9.e+-]+) \(tolerance 0.00001\)/.exec(message);
      assert.ok(measured, message);
      assert.ok(Number(measured[1]) > 1e-5, message);
      assert.match(message, /on sample row \d+ \[/);
      assert.match(message, /ONNX from .*model\.onnx/);
      assert.match(message, /remove the trantor\.io\/sklearn-onnx annotation/);
      return true;
    });
  });

  test('the same model.onnx beside it, converted from the same model, is served', async () => {
    const folder = join(scratch, 'agrees');
    python(
      [
        'import os, sys, joblib',
        'from skl2onnx import to_onnx',
        'from skl2onnx.common.data_types import FloatTensorType',
        'm = joblib.load(sys.argv[2])',
        'os.makedirs(sys.argv[1])',
        'onx = to_onnx(m, initial_types=[("features", FloatTensorType([None, 4]))], options={id(m): {"zipmap": False}})',
        'open(os.path.join(sys.argv[1], "model.onnx"), "wb").write(onx.SerializeToString())',
        'print("null")',
      ].join('\n'),
      folder,
      join(IRIS, 'model.joblib'),
    );
    copyFileSync(join(IRIS, 'model.joblib'), join(folder, 'model.joblib'));
    const model = server({ model_uri: folder });
    await model.load();
    try {
      assert.equal(model.exported?.source, join(folder, 'model.onnx'));
      const got = (await model.predict(ROWS)) as number[][];
      const expected = sklearn('predict_proba', folder, ROWS) as number[][];
      got.forEach((row, r) => row.forEach((p, c) => assert.ok(Math.abs(p - expected[r]![c]!) <= 1e-6)));
    } finally {
      await model.close();
    }
  });

  test("a model skl2onnx cannot convert is refused with skl2onnx's reason", async () => {
    const folder = join(scratch, 'unconvertible');
    python(
      [
        'import os, sys, joblib',
        'from sklearn.datasets import load_iris',
        'from sklearn.semi_supervised import LabelSpreading',
        'X, y = load_iris(return_X_y=True)',
        'os.makedirs(sys.argv[1])',
        'joblib.dump(LabelSpreading().fit(X, y), os.path.join(sys.argv[1], "model.joblib"))',
        'print("null")',
      ].join('\n'),
      folder,
    );
    await assert.rejects(
      server({ model_uri: folder }).load(),
      /not served as ONNX: skl2onnx cannot convert the LabelSpreading in .*model\.joblib: MissingShapeCalculator: Unable to find a shape calculator.*remove the trantor\.io\/sklearn-onnx annotation/,
    );
  });

  test('a regressor (a pipeline) asked for predict_proba is refused as SKLEARN_SERVER refuses it; predict answers its values', async () => {
    const folder = join(scratch, 'regressor');
    python(
      [
        'import os, sys, joblib',
        'from sklearn.datasets import load_diabetes',
        'from sklearn.linear_model import Ridge',
        'from sklearn.pipeline import make_pipeline',
        'from sklearn.preprocessing import StandardScaler',
        'X, y = load_diabetes(return_X_y=True)',
        'os.makedirs(sys.argv[1])',
        'joblib.dump(make_pipeline(StandardScaler(), Ridge()).fit(X, y), os.path.join(sys.argv[1], "model.joblib"))',
        'print("null")',
      ].join('\n'),
      folder,
    );
    await assert.rejects(server({ model_uri: folder }).load(), /\(a Pipeline\) has no predict_proba method; set the parameter method to one it has \(predict\)/);
    const model = server({ model_uri: folder, method: 'predict' });
    await model.load();
    try {
      // Sample rows drawn around the scaler's statistics, where the model is used.
      assert.match(model.exported?.rows_from ?? '', /normal around StandardScaler's mean_ and scale_, seed 0/);
      const rows = [Array.from({ length: 10 }, (_, i) => (i - 5) / 100)];
      const got = (await model.predict(rows)) as number[];
      const expected = sklearn('predict', folder, rows) as number[];
      assert.ok(Math.abs(got[0]! - expected[0]!) / Math.max(1, Math.abs(expected[0]!)) <= 1e-5, `${got[0]} vs ${expected[0]}`);
    } finally {
      await model.close();
    }
  });

  test('a Python that does not exist is named', async () => {
    const model = new SklearnOnnxServer({ model_uri: IRIS, python: join(scratch, 'no-python') }, env);
    await assert.rejects(model.load(), /cannot run .*no-python .*does not exist/);
  });
});

test('bad parameters are refused before anything runs: method, a missing model, a remote modelUri', () => {
  assert.throws(() => new SklearnOnnxServer({ model_uri: IRIS, method: 'transform' }), /parameter method: expected one of predict_proba, predict, decision_function, got "transform"/);
  assert.throws(() => new SklearnOnnxServer({}), /parameter model_uri is missing/);
  assert.throws(() => new SklearnOnnxServer({ model_uri: join(tmpdir(), 'no-such-model-folder') }), /does not exist/);
  assert.throws(() => new SklearnOnnxServer({ model_uri: 'gs://bucket/iris' }), /modelUri gs:\/\/bucket\/iris: a remote model .*drop the trantor\.io\/in-process annotation/);
});

test('largestDifference finds the worst row, and a label that differs is an infinite difference', () => {
  assert.deepEqual(largestDifference('predict_proba', [[0.5, 0.5], [0.2, 0.8]], [[0.5, 0.5], [0.25, 0.75]]), {
    method: 'predict_proba',
    difference: Math.abs(0.8 - 0.75),
    row: 1,
    onnx: [0.2, 0.8],
    sklearn: [0.25, 0.75],
  });
  assert.equal(largestDifference('predict', ['a', 'b'], ['a', 'c']).difference, Infinity);
  assert.equal(largestDifference('predict', [1002], [1000]).difference, 2 / 1000);
  assert.equal(largestDifference('predict', [Number.NaN], [1]).difference, Number.NaN);
});

test('toRows reads rows of numbers', () => {
  assert.deepEqual(toRows([[1, 2], [3, 4]], 2), { rows: 2, data: [1, 2, 3, 4] });
  assert.throws(() => toRows([], 2), /got none/);
});

test("sklearnV2Outputs answers MLServer's outputs: predict by default, predict_proba on request, others refused", () => {
  const labels = { type: 'int64' as const, dims: [2], data: BigInt64Array.from([0n, 2n]) };
  const proba = { type: 'float32' as const, dims: [2, 3], data: Float32Array.from([0.5, 0.25, 0.25, 0, 0, 1]) };
  assert.deepEqual(sklearnV2Outputs([], { predict: labels }), [{ name: 'predict', shape: [2, 1], datatype: 'INT64', values: BigInt64Array.from([0n, 2n]) }]);
  assert.deepEqual(sklearnV2Outputs(['predict_proba'], { predict_proba: proba }), [
    { name: 'predict_proba', shape: [2, 3], datatype: 'FP64', values: Float64Array.from([0.5, 0.25, 0.25, 0, 0, 1]) },
  ]);
  assert.throws(() => sklearnV2Outputs(['scores'], {}), /outputs\[0\]\.name: SKLEARN_SERVER answers 'predict', 'predict_proba' and 'transform'.*got 'scores'/);
  assert.throws(() => sklearnV2Outputs(['predict', 'transform'], { predict: labels }), /outputs\[1\]\.name: this model served as ONNX does not answer 'transform'/);
});
