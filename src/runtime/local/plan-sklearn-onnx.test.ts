import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeldonDeployment } from '../../manifest/index.ts';
import { planDeployment } from './plan.ts';
import type { PlanOptions } from './plan.ts';
import { SKLEARN_ONNX_PYTHON_ENV, sklearnOnnxClass } from './plan-sklearn-onnx.ts';
import { failure, graphNode, seldonDeployment } from './testing.ts';

const base = mkdtempSync(join(tmpdir(), 'trantor-plan-onnx-'));
mkdirSync(join(base, 'iris'));
writeFileSync(join(base, 'iris', 'model.joblib'), '');
mkdirSync(join(base, 'with-onnx'));
writeFileSync(join(base, 'with-onnx', 'model.joblib'), '');
writeFileSync(join(base, 'with-onnx', 'model.onnx'), '');

/** Pythons by what they can import: /opt/sklearn has scikit-learn only, /opt/onnx skl2onnx too. */
function pythons(available: Record<string, readonly string[]>): NonNullable<PlanOptions['python']> {
  return (modules) => {
    const found = Object.entries(available).find(([, has]) => modules.every((m) => has.includes(m)));
    return found === undefined ? null : { executable: found[0], modules: new Set(modules) };
  };
}
const SKLEARN = ['numpy', 'sklearn', 'joblib'];
const options: PlanOptions = {
  home: mkdtempSync(join(tmpdir(), 'trantor-plan-onnx-home-')),
  env: { PATH: '/usr/bin' },
  python: pythons({ '/opt/sklearn': SKLEARN, '/opt/onnx': [...SKLEARN, 'skl2onnx'] }),
  nodeHost: ['/opt/node', '/pkg/node-host.js'],
};

function iris(annotations: { metadata?: Record<string, string>; predictor?: Record<string, string> }, modelUri = join(base, 'iris')): SeldonDeployment {
  const sdep = seldonDeployment({ baseDir: base, graph: graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri }) });
  Object.assign(sdep.metadata.annotations, annotations.metadata ?? {});
  Object.assign(sdep.spec.predictors[0]!.annotations, annotations.predictor ?? {});
  return sdep;
}

test('the annotation serves SKLEARN_SERVER with the Node host and the ONNX class, naming a Python with skl2onnx', () => {
  const [launch] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' } }), options);
  assert.ok(launch);
  assert.equal(launch.command, '/opt/node');
  assert.deepEqual(launch.args, ['/pkg/node-host.js', sklearnOnnxClass(), '--service-type', 'MODEL']);
  assert.match(sklearnOnnxClass(), /servers\/sklearn-onnx\.(ts|js):SklearnOnnxServer$/);
  assert.equal(launch.env[SKLEARN_ONNX_PYTHON_ENV], '/opt/onnx');
  assert.deepEqual(JSON.parse(launch.env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [{ name: 'model_uri', value: join(base, 'iris'), type: 'STRING' }]);
  assert.equal(launch.replicas, 1);
  assert.equal(launch.inProcess, undefined);
});

test("on a predictor's annotations it applies to that predictor; without it, or false, the Python host serves", () => {
  const [onPredictor] = planDeployment(iris({ predictor: { 'trantor.io/sklearn-onnx': 'true' } }), options);
  assert.equal(onPredictor?.command, '/opt/node');
  const [python] = planDeployment(iris({}), options);
  assert.equal(python?.command, '/opt/sklearn');
  const [off] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' }, predictor: { 'trantor.io/sklearn-onnx': 'false' } }), options);
  assert.equal(off?.command, '/opt/sklearn');
});

test('a value other than true or false is refused, naming where it is', () => {
  const err = failure(() => planDeployment(iris({ predictor: { 'trantor.io/sklearn-onnx': 'yes' } }), options));
  assert.equal(err.code, 'BAD_MANIFEST');
  assert.match(err.message, /spec\.predictors\[0\]\.annotations\["trantor\.io\/sklearn-onnx"\]: expected "true" or "false", got "yes"/);
});

test('a model.onnx beside the model needs scikit-learn only; converting needs skl2onnx, and its absence names the pip line', () => {
  const sklearnOnly = { ...options, python: pythons({ '/opt/sklearn': SKLEARN }) };
  const [beside] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' } }, join(base, 'with-onnx')), sklearnOnly);
  assert.equal(beside?.env[SKLEARN_ONNX_PYTHON_ENV], '/opt/sklearn');
  const err = failure(() => planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' } }), sklearnOnly));
  assert.equal(err.code, 'NOT_SUPPORTED');
  assert.match(err.message, /spec\.predictors\[0\]\.graph\.implementation SKLEARN_SERVER with metadata\.annotations\["trantor\.io\/sklearn-onnx"\]: no Python 3 with numpy, sklearn, joblib, skl2onnx/);
  assert.match(err.message, /pip install numpy scikit-learn joblib skl2onnx/);
});

test('with trantor.io/in-process too, the class is loaded in the control plane, its Python passed as a parameter', () => {
  const [launch] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true', 'trantor.io/in-process': 'true' } }), options);
  assert.ok(launch);
  assert.equal(launch.inProcess, true);
  assert.equal(launch.replicas, 0);
  assert.equal(launch.command, 'trantor-node-microservice');
  assert.deepEqual(launch.args, [sklearnOnnxClass(), '--service-type', 'MODEL']);
  assert.deepEqual(JSON.parse(launch.env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [
    { name: 'model_uri', value: join(base, 'iris'), type: 'STRING' },
    { name: 'python', value: '/opt/onnx', type: 'STRING' },
  ]);
});

test('a remote modelUri is fetched before the Node host starts; in process it is refused with the fix', () => {
  const uri = 'gs://seldon-models/sklearn/iris';
  const [launch] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' } }, uri), options);
  assert.deepEqual(launch?.remoteModel, { uri, field: 'spec.predictors[0].graph.modelUri' });
  assert.equal(launch?.command, '/opt/node');
  const err = failure(() => planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true', 'trantor.io/in-process': 'true' } }, uri), options));
  assert.equal(err.code, 'NOT_SUPPORTED');
  assert.match(err.message, /spec\.predictors\[0\]\.graph\.modelUri gs:\/\/seldon-models\/sklearn\/iris: a model served in process .*must be in a local folder.*remove the trantor\.io\/in-process annotation/);
});

test('the launch changes fingerprint with the annotation, so applying it restarts the node', () => {
  const [python] = planDeployment(iris({}), options);
  const [onnx] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' } }), options);
  assert.notEqual(python?.fingerprint, onnx?.fingerprint);
  const [again] = planDeployment(iris({ metadata: { 'trantor.io/sklearn-onnx': 'true' } }), options);
  assert.equal(onnx?.fingerprint, again?.fingerprint);
});
