import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TrantorError } from '../../protocol/index.ts';
import { PACKAGE_ROOT, planDeployment, withModelFolder } from './plan.ts';
import type { PlanOptions } from './plan.ts';
import { PYTHON_PACKAGE_DIR } from './python.ts';
import { container, failure, graphNode, seldonDeployment } from './testing.ts';

const base = mkdtempSync(join(tmpdir(), 'trantor-plan-'));
mkdirSync(join(base, 'component'));
mkdirSync(join(base, 'iris'));
writeFileSync(join(base, 'iris', 'model.joblib'), '');

const fakePython = (modules: readonly string[]): { executable: string; modules: ReadonlySet<string> } => ({
  executable: '/opt/python3',
  modules: new Set(modules),
});
const options: PlanOptions = { home: mkdtempSync(join(tmpdir(), 'trantor-plan-home-')), env: { PATH: '/usr/bin', PYTHONPATH: '/site' }, python: fakePython, nodeHost: ['/opt/node', '/pkg/node-host.js'] };


test('seldon-core-microservice runs the Python host in the working folder, resolved against the manifest folder', () => {
  const sdep = seldonDeployment({
    baseDir: base,
    graph: graphNode({ name: 'classifier', parameters: [{ name: 'threshold', value: '0.5', type: 'FLOAT' }] }),
    componentSpecs: [
      { containers: [container({ name: 'classifier', image: 'x/y:1', command: ['seldon-core-microservice', 'MLScore'], args: ['--service-type', 'MODEL'], workingDir: './component' })] },
    ],
  });
  const [launch] = planDeployment(sdep, options);
  assert.ok(launch);
  assert.equal(launch.command, '/opt/python3');
  assert.deepEqual(launch.args, ['-m', 'trantor_runtime.microservice', 'MLScore', '--service-type', 'MODEL']);
  assert.equal(launch.cwd, join(base, 'component'));
  assert.equal(launch.env['PYTHONPATH'], `${PYTHON_PACKAGE_DIR}:/site`);
  assert.equal(launch.env['PREDICTIVE_UNIT_ID'], 'classifier');
  assert.equal(launch.env['PREDICTOR_ID'], 'default');
  assert.equal(launch.env['SELDON_DEPLOYMENT_ID'], 'sample');
  assert.equal(launch.env['PREDICTIVE_UNIT_IMAGE'], 'x/y:1');
  assert.equal(launch.env['PYTHONUNBUFFERED'], '1');
  assert.deepEqual(JSON.parse(launch.env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [{ name: 'threshold', value: '0.5', type: 'FLOAT' }]);
});

test('a user class prefers a Python with scikit-learn, unless TRANTOR_PYTHON names one', () => {
  const pythons: Record<string, string[]> = { '/usr/bin/python3': ['numpy', 'sklearn', 'joblib'], '/pyenv/python3': ['numpy'] };
  const python = (modules: readonly string[], env: NodeJS.ProcessEnv): { executable: string; modules: ReadonlySet<string> } | null => {
    const order = env['TRANTOR_PYTHON'] !== undefined ? [env['TRANTOR_PYTHON']] : ['/pyenv/python3', '/usr/bin/python3'];
    const executable = order.find((p) => modules.every((m) => pythons[p]?.includes(m)));
    return executable === undefined ? null : { executable, modules: new Set(modules) };
  };
  const sdep = (env: { name: string; value: string }[]): ReturnType<typeof seldonDeployment> =>
    seldonDeployment({ baseDir: base, componentSpecs: [{ containers: [container({ name: 'model', command: ['seldon-core-microservice', 'MLScore'], env })] }] });
  assert.equal(planDeployment(sdep([]), { ...options, python })[0]?.command, '/usr/bin/python3');
  assert.equal(planDeployment(sdep([{ name: 'TRANTOR_PYTHON', value: '/pyenv/python3' }]), { ...options, python })[0]?.command, '/pyenv/python3');
});

test('trantor-node-microservice runs the Node host with the rest of the command', () => {
  const sdep = seldonDeployment({
    baseDir: base,
    componentSpecs: [{ containers: [container({ name: 'model', command: ['trantor-node-microservice', 'Model.js'] })] }],
  });
  const [launch] = planDeployment(sdep, options);
  assert.equal(launch?.command, '/opt/node');
  assert.deepEqual(launch?.args, ['/pkg/node-host.js', 'Model.js']);
  assert.equal(launch?.cwd, base);
});

test('a relative command path resolves against the working folder; a bare name is left to PATH', () => {
  const relative = seldonDeployment({
    baseDir: base,
    componentSpecs: [{ containers: [container({ name: 'model', command: ['./serve.sh'], workingDir: 'component' })] }],
  });
  assert.equal(planDeployment(relative, options)[0]?.command, join(base, 'component', 'serve.sh'));
  const bare = seldonDeployment({ baseDir: base, componentSpecs: [{ containers: [container({ name: 'model', command: ['uvicorn', 'app:api'] })] }] });
  assert.equal(planDeployment(bare, options)[0]?.command, 'uvicorn');
});

test('container env goes on top of the contract', () => {
  const sdep = seldonDeployment({
    baseDir: base,
    componentSpecs: [{ containers: [container({ name: 'model', command: ['serve'], env: [{ name: 'PREDICTOR_ID', value: 'mine' }, { name: 'EMPTY' }] })] }],
  });
  const [launch] = planDeployment(sdep, options);
  assert.equal(launch?.env['PREDICTOR_ID'], 'mine');
  assert.equal(launch?.env['EMPTY'], '');
});

test('a replica inherits the control plane\'s environment but never its API token', () => {
  const inherited = { ...options, env: { ...options.env, HOME: '/home/u', TRANTOR_API_TOKEN: 'secret-token-0123456789' } };
  const custom = seldonDeployment({ baseDir: base, componentSpecs: [{ containers: [container({ name: 'model', command: ['serve'] })] }] });
  const sklearn = seldonDeployment({ baseDir: base, graph: graphNode({ name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: join(base, 'iris') }) });
  for (const launch of [...planDeployment(custom, inherited), ...planDeployment(sklearn, inherited)]) {
    assert.equal(launch.env['HOME'], '/home/u');
    assert.equal('TRANTOR_API_TOKEN' in launch.env, false, `${launch.node}: TRANTOR_API_TOKEN leaked into the replica's environment`);
  }
});

test('SKLEARN_SERVER gets the model folder as an absolute model_uri before the node parameters', () => {
  const sdep = seldonDeployment({
    baseDir: base,
    graph: graphNode({
      name: 'classifier',
      implementation: 'SKLEARN_SERVER',
      modelUri: './iris',
      parameters: [{ name: 'method', value: 'predict', type: 'STRING' }],
    }),
  });
  const [launch] = planDeployment(sdep, options);
  assert.ok(launch);
  assert.equal(launch.command, '/opt/python3');
  assert.deepEqual(launch.args, ['-m', 'trantor_runtime.microservice', 'trantor_runtime.servers.sklearn.SKLearnServer', '--service-type', 'MODEL']);
  assert.deepEqual(JSON.parse(launch.env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [
    { name: 'model_uri', value: join(base, 'iris'), type: 'STRING' },
    { name: 'method', value: 'predict', type: 'STRING' },
  ]);
});

test('a file:// modelUri is read as a local path', () => {
  const uri = pathToFileURL(join(base, 'iris')).href;
  const sdep = seldonDeployment({ graph: graphNode({ implementation: 'SKLEARN_SERVER', modelUri: uri }) });
  const [launch] = planDeployment(sdep, options);
  const parameters = JSON.parse(launch?.env['PREDICTIVE_UNIT_PARAMETERS'] ?? '[]') as { value: string }[];
  assert.equal(parameters[0]?.value, join(base, 'iris'));
});

test('a remote modelUri plans a launch whose model the supervisor fetches first, with the node\'s secret', () => {
  const node = graphNode({ implementation: 'SKLEARN_SERVER', modelUri: 'gs://seldon-models/v1.11.0-dev/sklearn/iris' });
  node.envSecretRefName = 'gcs-creds';
  const [launch] = planDeployment(seldonDeployment({ graph: node }), options);
  assert.deepEqual(launch?.remoteModel, { uri: 'gs://seldon-models/v1.11.0-dev/sklearn/iris', field: 'spec.predictors[0].graph.modelUri', secretRefName: 'gcs-creds' });
  const fetched = withModelFolder(launch, '/cache/iris');
  assert.equal(fetched.remoteModel, undefined);
  const parameters = JSON.parse(fetched.env['PREDICTIVE_UNIT_PARAMETERS'] ?? '[]') as { name: string; value: string }[];
  assert.equal(parameters.find((p) => p.name === 'model_uri')?.value, '/cache/iris');
});

test("a mirror maps the seed's gs:// iris to the local example folder, served in place", () => {
  const local = join(PACKAGE_ROOT, 'examples', 'iris', 'model');
  const env = { ...options.env, TRANTOR_STORAGE_MIRRORS: `gs://seldon-models/v1.11.0-dev/sklearn/iris=${local}` };
  const sdep = seldonDeployment({ graph: graphNode({ implementation: 'SKLEARN_SERVER', modelUri: 'gs://seldon-models/v1.11.0-dev/sklearn/iris' }) });
  const [launch] = planDeployment(sdep, { ...options, env });
  assert.equal(launch?.remoteModel, undefined);
  assert.match(launch?.env['PREDICTIVE_UNIT_PARAMETERS'] ?? '', /examples\/iris\/model/);
});

test('a modelUri with a scheme Trantor does not fetch is refused naming the field', () => {
  const sdep = seldonDeployment({ graph: graphNode({ implementation: 'SKLEARN_SERVER', modelUri: 'ftp://host/models/income' }) });
  const err = failure(() => planDeployment(sdep, options));
  assert.equal(err.code, 'BAD_MANIFEST');
  assert.match(err.message, /^spec\.predictors\[0\]\.graph\.modelUri ftp:\/\/host\/models\/income: the scheme ftp:\/\/ is not one Trantor fetches/);
});

test('a modelUri that does not exist names the path it looked at', () => {
  const sdep = seldonDeployment({ baseDir: base, graph: graphNode({ implementation: 'SKLEARN_SERVER', modelUri: 'nope' }) });
  assert.match(failure(() => planDeployment(sdep, options)).message, new RegExp(`modelUri nope: ${join(base, 'nope')} does not exist`));
});

test('a container that names only an image says which fields to add', () => {
  const sdep = seldonDeployment({
    graph: graphNode({ name: 'classifier' }),
    componentSpecs: [{ containers: [container({ name: 'classifier', image: 'x/y:latest' })] }],
  });
  assert.match(
    failure(() => planDeployment(sdep, options)).message,
    /container "classifier" names only an image \(x\/y:latest\); to run it locally add command \(e\.g\. \[seldon-core-microservice, MLScore\]\) and workingDir$/,
  );
});

test('XGBOOST_SERVER and MLFLOW_SERVER are planned as SKLEARN_SERVER is, each with its class and the modules it needs', () => {
  const asked: string[][] = [];
  const python = (modules: readonly string[]): { executable: string; modules: ReadonlySet<string> } => {
    asked.push([...modules]);
    return fakePython(modules);
  };
  const cases = [
    ['XGBOOST_SERVER', 'trantor_runtime.servers.xgboost.XGBoostServer', ['numpy', 'xgboost', 'sklearn']],
    ['MLFLOW_SERVER', 'trantor_runtime.servers.mlflow.MLFlowServer', ['numpy', 'pandas', 'mlflow']],
  ] as const;
  for (const [implementation, className, modules] of cases) {
    const graph = graphNode({ name: 'm', implementation, modelUri: './iris', parameters: [{ name: 'xtype', value: 'DataFrame', type: 'STRING' }] });
    const [launch] = planDeployment(seldonDeployment({ baseDir: base, graph }), { ...options, python });
    assert.ok(launch);
    assert.deepEqual(launch.args, ['-m', 'trantor_runtime.microservice', className, '--service-type', 'MODEL']);
    assert.deepEqual(JSON.parse(launch.env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [
      { name: 'model_uri', value: join(base, 'iris'), type: 'STRING' },
      { name: 'xtype', value: 'DataFrame', type: 'STRING' },
    ]);
    assert.deepEqual(asked.pop(), modules);
  }
});

test('MLFLOW_SERVER runs the Python TRANTOR_MLFLOW_PYTHON names, before TRANTOR_PYTHON', () => {
  const pythons: Record<string, string[]> = { '/venv/mlflow/bin/python': ['numpy', 'pandas', 'mlflow'], '/usr/bin/python3': ['numpy', 'sklearn', 'joblib'] };
  const python = (modules: readonly string[], env: NodeJS.ProcessEnv): { executable: string; modules: ReadonlySet<string> } | null => {
    const executable = [env['TRANTOR_PYTHON'], '/usr/bin/python3'].find((p) => p !== undefined && modules.every((m) => pythons[p]?.includes(m)));
    return executable === undefined ? null : { executable, modules: new Set(modules) };
  };
  const sdep = seldonDeployment({ baseDir: base, graph: graphNode({ implementation: 'MLFLOW_SERVER', modelUri: './iris' }) });
  const env = { ...options.env, TRANTOR_PYTHON: '/usr/bin/python3', TRANTOR_MLFLOW_PYTHON: '/venv/mlflow/bin/python' };
  assert.equal(planDeployment(sdep, { ...options, env, python })[0]?.command, '/venv/mlflow/bin/python');
  const err = failure(() => planDeployment(sdep, { ...options, env: { ...env, TRANTOR_MLFLOW_PYTHON: '' }, python }));
  assert.equal(err.code, 'NOT_SUPPORTED');
  assert.equal(
    err.message,
    'spec.predictors[0].graph.implementation MLFLOW_SERVER: no Python 3 with numpy, pandas, mlflow was found (tried TRANTOR_MLFLOW_PYTHON, TRANTOR_PYTHON, python3, /usr/bin/python3). ' +
      'Install them with: python3 -m pip install numpy pandas mlflow-skinny (in a virtualenv: python3 -m venv --system-site-packages <dir>; <dir>/bin/pip install numpy pandas mlflow-skinny), ' +
      'or point TRANTOR_MLFLOW_PYTHON at a Python that has them.',
  );
});

test('no Python with xgboost names the Debian packages to install', () => {
  const sdep = seldonDeployment({ baseDir: base, graph: graphNode({ implementation: 'XGBOOST_SERVER', modelUri: './iris' }) });
  const err = failure(() => planDeployment(sdep, { ...options, python: () => null }));
  assert.match(err.message, /XGBOOST_SERVER: no Python 3 with numpy, xgboost, sklearn was found .*sudo apt-get install -y python3-numpy python3-xgboost python3-sklearn .*pip install numpy xgboost scikit-learn/);
});

test('a prepackaged server without modelUri is refused naming what the folder must hold', () => {
  const sdep = seldonDeployment({ baseDir: base, graph: graphNode({ name: 'b', implementation: 'XGBOOST_SERVER' }) });
  assert.equal(
    failure(() => planDeployment(sdep, options)).message,
    'spec.predictors[0].graph.modelUri is required for XGBOOST_SERVER (node "b"): the folder holding model.bst, model.json or model.ubj',
  );
});

test('TENSORFLOW_SERVER and HUGGINGFACE_SERVER are refused naming what to use instead', () => {
  const refusal = (implementation: 'TENSORFLOW_SERVER' | 'HUGGINGFACE_SERVER'): TrantorError =>
    failure(() => planDeployment(seldonDeployment({ baseDir: base, graph: graphNode({ name: 'n', implementation, modelUri: './iris' }) }), options));
  const tensorflow = refusal('TENSORFLOW_SERVER');
  assert.equal(tensorflow.code, 'NOT_SUPPORTED');
  assert.match(tensorflow.message, /^spec\.predictors\[0\]\.graph\.implementation TENSORFLOW_SERVER \(node "n"\): Trantor does not run TensorFlow Serving/);
  assert.match(tensorflow.message, /tf2onnx\.convert .*<model>\/1\/model\.onnx\) and use implementation TRITON_SERVER/);
  const huggingface = refusal('HUGGINGFACE_SERVER');
  assert.equal(huggingface.code, 'NOT_SUPPORTED');
  assert.match(huggingface.message, /transformers\.pipeline\(<task>, model=<model>\)/);
  assert.match(huggingface.message, /containers: \[\{name: <node>, command: \[seldon-core-microservice, <Class>\], workingDir: /);
});

test('a node with neither implementation nor container is refused', () => {
  const sdep = seldonDeployment({ graph: graphNode({ name: 'lonely' }) });
  assert.match(failure(() => planDeployment(sdep, options)).message, /graph node "lonely" has no implementation and no container named "lonely"/);
});

test('a missing working folder is refused before anything starts', () => {
  const sdep = seldonDeployment({ baseDir: base, componentSpecs: [{ containers: [container({ name: 'model', command: ['serve'], workingDir: 'absent' })] }] });
  assert.match(failure(() => planDeployment(sdep, options)).message, /workingDir absent: .*absent is not a folder/);
});

test('no suitable Python gives the install advice', () => {
  const sdep = seldonDeployment({ baseDir: base, graph: graphNode({ implementation: 'SKLEARN_SERVER', modelUri: 'iris' }) });
  const err = failure(() => planDeployment(sdep, { ...options, python: () => null }));
  assert.match(err.message, /no Python 3 with numpy, sklearn, joblib was found/);
});

test('componentSpec replicas override the predictor replicas, and 0 means no process', () => {
  const sdep = seldonDeployment({
    baseDir: base,
    replicas: 2,
    graph: graphNode({ name: 'a', children: [graphNode({ name: 'b' })] }),
    componentSpecs: [{ containers: [container({ name: 'a', command: ['serve'] })] }, { replicas: 0, containers: [container({ name: 'b', command: ['serve'] })] }],
  });
  assert.deepEqual(
    planDeployment(sdep, options).map((l) => [l.node, l.replicas]),
    [
      ['a', 2],
      ['b', 0],
    ],
  );
});

test('nodes the executor answers itself need no process', () => {
  const sdep = seldonDeployment({
    baseDir: base,
    graph: graphNode({ name: 'ab', implementation: 'RANDOM_ABTEST', children: [graphNode({ name: 'model' })] }),
    componentSpecs: [{ containers: [container({ name: 'model', command: ['serve'] })] }],
  });
  assert.deepEqual(
    planDeployment(sdep, options).map((l) => l.node),
    ['model'],
  );
});

test('the fingerprint changes with a parameter and not otherwise', () => {
  const make = (value: string): string | undefined =>
    planDeployment(
      seldonDeployment({
        baseDir: base,
        graph: graphNode({ parameters: [{ name: 'p', value, type: 'STRING' }] }),
        componentSpecs: [{ containers: [container({ name: 'model', command: ['serve'] })] }],
      }),
      options,
    )[0]?.fingerprint;
  assert.equal(make('1'), make('1'));
  assert.notEqual(make('1'), make('2'));
});
