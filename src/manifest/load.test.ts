import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrantorError } from '../protocol/index.ts';
import { containerFor, deploymentKey, graphNodes, loadManifests, ManifestError } from './index.ts';

const IRIS = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: iris-model
  namespace: seldon
spec:
  name: iris
  predictors:
  - graph:
      implementation: SKLEARN_SERVER
      modelUri: gs://seldon-models/v1.19.0-dev/sklearn/iris
      name: classifier
    name: default
    replicas: 1
`;

const ML_SCORE = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: ml-score
spec:
  predictors:
  - name: default
    componentSpecs:
    - spec:
        containers:
        - name: ml-score
          image: ml-score:0.1
          command: [seldon-core-microservice, MLScore]
          args: ["--service-type", MODEL]
          workingDir: ./seldon-ml-score-component
          env:
          - name: GUNICORN_WORKERS
            value: "1"
          - name: FROM_SECRET
            valueFrom: {secretKeyRef: {name: s, key: k}}
    graph:
      name: ml-score
      parameters:
      - {name: threshold, value: 0.5, type: FLOAT}
      - {name: epochs, value: 3, type: INT}
      - {name: verbose, value: true, type: BOOL}
      - {name: config, value: {a: 1}, type: JSON}
`;

/** The message of the BAD_MANIFEST error `fn` throws. */
function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${String(err)}`);
    assert.ok(err instanceof TrantorError);
    assert.equal(err.code, 'BAD_MANIFEST');
    assert.equal(err.status, 400);
    return err.message;
  }
  assert.fail('expected loadManifests to throw');
}

/** A one-predictor deployment whose predictor is `predictor` (YAML, indented 2). */
function withPredictors(predictors: string, spec = ''): string {
  return `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: d}
spec:
${spec}  predictors:
${predictors}`;
}

test('the seed iris manifest loads with Seldon defaults filled in', () => {
  const { deployments } = loadManifests(IRIS, { source: 'sample.yaml', baseDir: '/models' });
  assert.equal(deployments.length, 1);
  assert.deepEqual(deployments[0], {
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name: 'iris-model', namespace: 'seldon', labels: {}, annotations: {} },
    spec: {
      name: 'iris',
      protocol: 'seldon',
      transport: 'rest',
      annotations: {},
      predictors: [
        {
          name: 'default',
          graph: {
            name: 'classifier',
            type: 'MODEL',
            implementation: 'SKLEARN_SERVER',
            modelUri: 'gs://seldon-models/v1.19.0-dev/sklearn/iris',
            endpoint: { type: 'REST' },
            parameters: [],
            children: [],
          },
          componentSpecs: [],
          replicas: 1,
          traffic: 100,
          shadow: false,
          labels: {},
          annotations: {},
        },
      ],
    },
    baseDir: '/models',
  });
});

test('namespace defaults to "default" and spec.name to metadata.name', () => {
  const [d] = loadManifests(ML_SCORE, {}).deployments;
  assert.equal(d?.metadata.namespace, 'default');
  assert.equal(d?.spec.name, 'ml-score');
  assert.equal(d && deploymentKey(d), 'default/ml-score');
  assert.equal(d?.baseDir, undefined);
  assert.equal(Object.hasOwn(d ?? {}, 'baseDir'), false);
});

test('a componentSpecs container keeps command, args, workingDir and env, and its node becomes a MODEL', () => {
  const [d] = loadManifests(ML_SCORE, {}).deployments;
  const predictor = d!.spec.predictors[0]!;
  assert.equal(predictor.graph.type, 'MODEL');
  assert.equal(predictor.graph.implementation, undefined);
  assert.deepEqual(containerFor(predictor, 'ml-score'), {
    name: 'ml-score',
    image: 'ml-score:0.1',
    command: ['seldon-core-microservice', 'MLScore'],
    args: ['--service-type', 'MODEL'],
    workingDir: './seldon-ml-score-component',
    env: [{ name: 'GUNICORN_WORKERS', value: '1' }, { name: 'FROM_SECRET' }],
  });
  assert.equal(containerFor(predictor, 'nope'), undefined);
});

test("a container's readinessProbe and livenessProbe keep their timings, httpGet path and tcpSocket", () => {
  const text = ML_SCORE.replace(
    '          workingDir: ./seldon-ml-score-component\n',
    '          workingDir: ./seldon-ml-score-component\n' +
      '          readinessProbe: {tcpSocket: {port: http}, periodSeconds: 2}\n' +
      '          livenessProbe: {httpGet: {path: /health/ping, port: http}, initialDelaySeconds: 60, periodSeconds: 5, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1}\n',
  );
  const container = containerFor(loadManifests(text, {}).deployments[0]!.spec.predictors[0]!, 'ml-score');
  assert.deepEqual(container?.readinessProbe, { tcpSocket: {}, periodSeconds: 2 });
  assert.deepEqual(container?.livenessProbe, {
    httpGet: { path: '/health/ping' },
    initialDelaySeconds: 60,
    periodSeconds: 5,
    timeoutSeconds: 1,
    failureThreshold: 3,
    successThreshold: 1,
  });
  assert.match(problemOf(() => loadManifests(text.replace('periodSeconds: 2', 'periodSeconds: 0'), {})), /readinessProbe\.periodSeconds: expected an integer of at least 1, got 0/);
});

test("a container's startupProbe keeps its timings", () => {
  const text = ML_SCORE.replace('          workingDir: ./seldon-ml-score-component\n', '          workingDir: ./seldon-ml-score-component\n          startupProbe: {httpGet: {path: /health/ping}, periodSeconds: 10, failureThreshold: 30}\n');
  const container = containerFor(loadManifests(text, {}).deployments[0]!.spec.predictors[0]!, 'ml-score');
  assert.deepEqual(container?.startupProbe, { httpGet: { path: '/health/ping' }, periodSeconds: 10, failureThreshold: 30 });
});

test('parameter values written as YAML numbers, booleans and mappings become strings', () => {
  const [d] = loadManifests(ML_SCORE, {}).deployments;
  assert.deepEqual(d!.spec.predictors[0]!.graph.parameters, [
    { name: 'threshold', value: '0.5', type: 'FLOAT' },
    { name: 'epochs', value: '3', type: 'INT' },
    { name: 'verbose', value: 'true', type: 'BOOL' },
    { name: 'config', value: '{"a":1}', type: 'JSON' },
  ]);
});

test('several documents load in order, empty documents are skipped', () => {
  const text = `---\n${IRIS}\n---\n# nothing here\n---\n${ML_SCORE}\n---\n`;
  const { deployments } = loadManifests(text, {});
  assert.deepEqual(deployments.map(deploymentKey), ['seldon/iris-model', 'default/ml-score']);
});

test('a v1alpha2 manifest loads and keeps its apiVersion', () => {
  const text = IRIS.replace('machinelearning.seldon.io/v1', 'machinelearning.seldon.io/v1alpha2');
  const [d] = loadManifests(text, {}).deployments;
  assert.equal(d?.apiVersion, 'machinelearning.seldon.io/v1alpha2');
  const v3 = loadManifests(IRIS.replace('machinelearning.seldon.io/v1', 'machinelearning.seldon.io/v1alpha3'), {});
  assert.equal(v3.deployments[0]?.apiVersion, 'machinelearning.seldon.io/v1alpha3');
});

test('a JSON manifest loads', () => {
  const json = JSON.stringify({
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name: 'iris-json' },
    spec: { predictors: [{ name: 'p', graph: { name: 'm', implementation: 'SIMPLE_MODEL' } }] },
  });
  const [d] = loadManifests(json, {}).deployments;
  assert.equal(d?.metadata.name, 'iris-json');
  assert.equal(d?.spec.predictors[0]?.graph.type, 'MODEL');
});

test('a kind: List document loads its items', () => {
  const list = { apiVersion: 'v1', kind: 'List', items: [loadManifests(IRIS, {}).deployments[0]] };
  const { deployments } = loadManifests(JSON.stringify(list), {});
  assert.deepEqual(deployments.map(deploymentKey), ['seldon/iris-model']);
});

test('graphNodes lists every node depth-first, parents first', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: router
      implementation: RANDOM_ABTEST
      parameters: [{name: ratioA, value: "0.5", type: FLOAT}]
      children:
      - name: a
        implementation: SIMPLE_MODEL
        children:
        - {name: a-out, implementation: SIMPLE_MODEL}
      - {name: b, implementation: SIMPLE_MODEL}
`);
  const predictor = loadManifests(text, {}).deployments[0]!.spec.predictors[0]!;
  assert.deepEqual(graphNodes(predictor).map((n) => n.name), ['router', 'a', 'a-out', 'b']);
  assert.equal(predictor.graph.type, 'ROUTER');
});

test('node types follow the implementation: AVERAGE_COMBINER is a COMBINER, SIMPLE_ROUTER a ROUTER', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: combine
      implementation: AVERAGE_COMBINER
      children:
      - name: route
        implementation: SIMPLE_ROUTER
        children: [{name: m, implementation: SIMPLE_MODEL}]
`);
  const graph = loadManifests(text, {}).deployments[0]!.spec.predictors[0]!.graph;
  assert.equal(graph.type, 'COMBINER');
  assert.equal(graph.children[0]?.type, 'ROUTER');
  assert.equal(graph.children[0]?.children[0]?.type, 'MODEL');
});

test('an explicit type is kept, and a node with methods only keeps no type', () => {
  const text = withPredictors(`  - name: p
    componentSpecs: [{spec: {containers: [{name: t, image: x}, {name: m, image: y}]}}]
    graph:
      name: t
      type: TRANSFORMER
      children:
      - {name: m, methods: [TRANSFORM_INPUT, SEND_FEEDBACK], type: UNKNOWN_TYPE}
`);
  const graph = loadManifests(text, {}).deployments[0]!.spec.predictors[0]!.graph;
  assert.equal(graph.type, 'TRANSFORMER');
  assert.equal(graph.children[0]?.type, 'UNKNOWN_TYPE');
  assert.deepEqual(graph.children[0]?.methods, ['TRANSFORM_INPUT', 'SEND_FEEDBACK']);
});

test('endpoint type defaults to GRPC under transport grpc, REST otherwise', () => {
  const text = withPredictors(`  - {name: p, graph: {name: m, implementation: SIMPLE_MODEL}}\n`, '  transport: grpc\n');
  const d = loadManifests(text, {}).deployments[0]!;
  assert.equal(d.spec.transport, 'grpc');
  assert.deepEqual(d.spec.predictors[0]?.graph.endpoint, { type: 'GRPC' });
});

test('protocol kfserving is read as v2', () => {
  const text = withPredictors(`  - {name: p, graph: {name: m, implementation: SIMPLE_MODEL}}\n`, '  protocol: kfserving\n');
  assert.equal(loadManifests(text, {}).deployments[0]?.spec.protocol, 'v2');
});

test('a protocol: v2 graph chains models and transformers: a router or combiner is refused at its path', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: router
      implementation: RANDOM_ABTEST
      children:
      - name: t
        type: TRANSFORMER
        implementation: SIMPLE_MODEL
        children:
        - {name: c, type: COMBINER, implementation: SIMPLE_MODEL}
      - {name: b, implementation: SIMPLE_MODEL}
`, '  protocol: v2\n');
  assert.throws(() => loadManifests(text, {}), (err: Error) => {
    assert.match(err.message, /spec\.predictors\[0\]\.graph: node "router" is a router, but a protocol: v2 graph chains models and transformers only/);
    assert.match(err.message, /spec\.predictors\[0\]\.graph\.children: node "router" has 2 children, but a protocol: v2 graph is a chain/);
    assert.match(err.message, /spec\.predictors\[0\]\.graph\.children\[0\]\.children\[0\]: node "c" is a combiner/);
    assert.match(err.message, /use protocol: seldon for routers and combiners/);
    return true;
  });
});

test('a protocol: v2 chain of transformer, model and output transformer loads; the same graph under seldon has no v2 check', () => {
  const chain = `  - name: p
    graph:
      name: pre
      type: TRANSFORMER
      implementation: SIMPLE_MODEL
      children:
      - name: m
        implementation: SIMPLE_MODEL
        children:
        - {name: post, type: OUTPUT_TRANSFORMER, implementation: SIMPLE_MODEL}
`;
  assert.equal(loadManifests(withPredictors(chain, '  protocol: kfserving\n'), {}).deployments[0]?.spec.protocol, 'v2');
  const routed = withPredictors(`  - {name: p, graph: {name: r, implementation: SIMPLE_ROUTER, children: [{name: a, implementation: SIMPLE_MODEL}]}}\n`);
  assert.equal(loadManifests(routed, {}).deployments[0]?.spec.protocol, 'seldon');
});

test('logger mode defaults to all', () => {
  const text = withPredictors(`  - {name: p, graph: {name: m, implementation: SIMPLE_MODEL, logger: {url: "http://log"}}}\n`);
  assert.deepEqual(loadManifests(text, {}).deployments[0]?.spec.predictors[0]?.graph.logger, { url: 'http://log', mode: 'all' });
});

test('two predictors whose traffic sums to 100 keep their shares; a shadow gets 0', () => {
  const text = withPredictors(`  - {name: a, traffic: 75, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: b, traffic: 25, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: s, shadow: true, graph: {name: m, implementation: SIMPLE_MODEL}}
`);
  const predictors = loadManifests(text, {}).deployments[0]!.spec.predictors;
  assert.deepEqual(
    predictors.map((p) => [p.name, p.traffic, p.shadow]),
    [['a', 75, false], ['b', 25, false], ['s', 0, true]],
  );
});

test('a single live predictor beside a shadow gets all the traffic', () => {
  const text = withPredictors(`  - {name: main, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: shadow, shadow: true, graph: {name: m, implementation: SIMPLE_MODEL}}
`);
  const predictors = loadManifests(text, {}).deployments[0]!.spec.predictors;
  assert.deepEqual(predictors.map((p) => p.traffic), [100, 0]);
});

test('componentSpec replicas is kept beside the predictor replicas', () => {
  const text = withPredictors(`  - name: p
    replicas: 2
    componentSpecs: [{replicas: 3, spec: {containers: [{name: m, image: x}]}}]
    graph: {name: m}
`);
  const p = loadManifests(text, {}).deployments[0]!.spec.predictors[0]!;
  assert.equal(p.replicas, 2);
  assert.equal(p.componentSpecs[0]?.replicas, 3);
});

test('a missing graph node name is reported with its path', () => {
  const text = withPredictors(`  - {name: default, graph: {implementation: SIMPLE_MODEL}}\n`);
  assert.equal(problemOf(() => loadManifests(text, {})), 'spec.predictors[0].graph.name: required');
});

test('the source starts the message when given', () => {
  const text = withPredictors(`  - {name: default, graph: {implementation: SIMPLE_MODEL}}\n`);
  assert.equal(problemOf(() => loadManifests(text, { source: 'sample.yaml' })), 'sample.yaml: spec.predictors[0].graph.name: required');
});

test('metadata.name is required and must be a DNS-1123 label', () => {
  const missing = IRIS.replace('  name: iris-model\n', '');
  assert.equal(problemOf(() => loadManifests(missing, {})), 'metadata.name: required');
  assert.match(problemOf(() => loadManifests(IRIS.replace('name: iris-model', 'name: Iris_Model'), {})), /^metadata\.name: "Iris_Model" is not a valid name: .*DNS-1123/);
  const long = 'a'.repeat(64);
  assert.equal(problemOf(() => loadManifests(IRIS.replace('name: iris-model', `name: ${long}`), {})), 'metadata.name: must be at most 63 characters, got 64');
  assert.match(problemOf(() => loadManifests(IRIS.replace('namespace: seldon', 'namespace: Seldon'), {})), /^metadata\.namespace: "Seldon" is not a valid name/);
});

test('spec and spec.predictors are required; predictors must not be empty', () => {
  const base = 'apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: d}\n';
  assert.equal(problemOf(() => loadManifests(base, {})), 'spec: required');
  assert.equal(problemOf(() => loadManifests(`${base}spec: {}`, {})), 'spec.predictors: required');
  assert.equal(problemOf(() => loadManifests(`${base}spec: {predictors: []}`, {})), 'spec.predictors: expected at least one predictor');
  assert.equal(problemOf(() => loadManifests(`${base}spec: {predictors: {a: 1}}`, {})), 'spec.predictors: expected a list, got a mapping');
});

test('predictor names are required, DNS-1123 labels and unique', () => {
  assert.equal(problemOf(() => loadManifests(withPredictors(`  - {graph: {name: m, implementation: SIMPLE_MODEL}}\n`), {})), 'spec.predictors[0].name: required');
  assert.match(problemOf(() => loadManifests(withPredictors(`  - {name: My_P, graph: {name: m, implementation: SIMPLE_MODEL}}\n`), {})), /^spec\.predictors\[0\]\.name: "My_P" is not a valid name/);
  const dup = withPredictors(`  - {name: a, traffic: 50, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: a, traffic: 50, graph: {name: m, implementation: SIMPLE_MODEL}}
`);
  assert.equal(problemOf(() => loadManifests(dup, {})), 'spec.predictors[1].name: duplicate predictor name "a" (also at spec.predictors[0])');
});

test('graph is required', () => {
  assert.equal(problemOf(() => loadManifests(withPredictors(`  - {name: p}\n`), {})), 'spec.predictors[0].graph: required');
});

test('node names are unique within a predictor', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: m
      implementation: SIMPLE_MODEL
      children: [{name: m, implementation: SIMPLE_MODEL}]
`);
  assert.equal(problemOf(() => loadManifests(text, {})), 'spec.predictors[0].graph.children[0].name: duplicate node name "m" in this predictor (also at spec.predictors[0].graph)');
});

test('graph node names are DNS-1123 labels, so none can become a path outside its folder', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: ../../x
      implementation: SIMPLE_MODEL
      children: [{name: a/b, implementation: SIMPLE_MODEL}, {name: Upper_Case, implementation: SIMPLE_MODEL}]
`);
  const lines = problemOf(() => loadManifests(text, {})).split('\n');
  assert.equal(lines[0], 'the manifest has 3 problems:');
  assert.match(lines[1] ?? '', /^spec\.predictors\[0\]\.graph\.name: "\.\.\/\.\.\/x" is not a valid name: .*DNS-1123 label/);
  assert.match(lines[2] ?? '', /^spec\.predictors\[0\]\.graph\.children\[0\]\.name: "a\/b" is not a valid name/);
  assert.match(lines[3] ?? '', /^spec\.predictors\[0\]\.graph\.children\[1\]\.name: "Upper_Case" is not a valid name/);
});

test('container names are DNS-1123 labels', () => {
  const text = withPredictors(`  - name: p
    componentSpecs: [{spec: {containers: [{name: ../m, command: [x]}]}}]
    graph: {name: m, implementation: SIMPLE_MODEL}
`);
  assert.match(problemOf(() => loadManifests(text, {})), /^spec\.predictors\[0\]\.componentSpecs\[0\]\.spec\.containers\[0\]\.name: "\.\.\/m" is not a valid name/);
});

test('type, implementation, methods and endpoint.type must be known values', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: m
      type: MODLE
      implementation: SKLEARN
      methods: [PREDICT]
      endpoint: {type: HTTP}
`);
  const lines = problemOf(() => loadManifests(text, {})).split('\n');
  assert.deepEqual(lines, [
    'the manifest has 4 problems:',
    'spec.predictors[0].graph.type: must be one of MODEL, TRANSFORMER, OUTPUT_TRANSFORMER, ROUTER, COMBINER, UNKNOWN_TYPE, got "MODLE"',
    'spec.predictors[0].graph.implementation: must be one of UNKNOWN_IMPLEMENTATION, SIMPLE_MODEL, SIMPLE_ROUTER, RANDOM_ABTEST, AVERAGE_COMBINER, SKLEARN_SERVER, XGBOOST_SERVER, TENSORFLOW_SERVER, MLFLOW_SERVER, TRITON_SERVER, HUGGINGFACE_SERVER, got "SKLEARN"',
    'spec.predictors[0].graph.endpoint.type: must be one of REST, GRPC, got "HTTP"',
    'spec.predictors[0].graph.methods[0]: must be one of TRANSFORM_INPUT, TRANSFORM_OUTPUT, ROUTE, AGGREGATE, SEND_FEEDBACK, got "PREDICT"',
  ]);
});

test('children must be a list', () => {
  const text = withPredictors(`  - {name: p, graph: {name: m, implementation: SIMPLE_MODEL, children: {name: x}}}\n`);
  assert.equal(problemOf(() => loadManifests(text, {})), 'spec.predictors[0].graph.children: expected a list, got a mapping');
});

test('a node with neither implementation nor container is named with its path', () => {
  const text = withPredictors(`  - name: p
    componentSpecs: [{spec: {containers: [{name: m, image: x}]}}]
    graph:
      name: m
      children: [{name: x}]
`);
  assert.equal(problemOf(() => loadManifests(text, {})), 'spec.predictors[0].graph.children[0]: node "x" has no implementation and no container named "x" in componentSpecs');
  const unknown = withPredictors(`  - {name: p, graph: {name: x, implementation: UNKNOWN_IMPLEMENTATION}}\n`);
  assert.equal(problemOf(() => loadManifests(unknown, {})), 'spec.predictors[0].graph: node "x" has no implementation and no container named "x" in componentSpecs');
});

test('a prepackaged server needs modelUri', () => {
  const text = IRIS.replace(/ {6}modelUri: .*\n/, '');
  assert.equal(problemOf(() => loadManifests(text, {})), 'spec.predictors[0].graph.modelUri: required for implementation SKLEARN_SERVER: where the saved model is');
});

test('parameters need name, type and value, and the value must parse as the type', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: m
      implementation: SIMPLE_MODEL
      parameters:
      - {name: a, value: "x1", type: INT}
      - {name: b, value: "fast", type: FLOAT}
      - {name: c, value: "yes", type: BOOL}
      - {name: d, value: "{", type: JSON}
      - {name: e, value: "1", type: LONG}
      - {value: "1", type: STRING}
      - {name: g, type: STRING}
      - {name: h, value: "1"}
      - {name: a, value: "2", type: INT}
`);
  const lines = problemOf(() => loadManifests(text, {})).split('\n').slice(1);
  const at = 'spec.predictors[0].graph.parameters';
  assert.equal(lines[0], `${at}[0].value: "x1" is not an INT`);
  assert.equal(lines[1], `${at}[1].value: "fast" is not a FLOAT`);
  assert.equal(lines[2], `${at}[2].value: "yes" is not a BOOL (use true or false)`);
  assert.match(lines[3] ?? '', /^spec\.predictors\[0\]\.graph\.parameters\[3\]\.value: "\{" is not JSON \(/);
  assert.equal(lines[4], `${at}[4].type: must be one of INT, FLOAT, DOUBLE, STRING, BOOL, JSON, got "LONG"`);
  assert.equal(lines[5], `${at}[5].name: required`);
  assert.equal(lines[6], `${at}[6].value: required`);
  assert.equal(lines[7], `${at}[7].type: required`);
  assert.equal(lines[8], `${at}[8].name: duplicate parameter name "a"`);
  assert.equal(lines.length, 9);
});

test('replicas must be a non-negative integer and traffic an integer from 0 to 100', () => {
  const text = withPredictors(`  - {name: a, replicas: -1, traffic: 101, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: b, replicas: 1.5, traffic: 50, graph: {name: m, implementation: SIMPLE_MODEL}}
`);
  const lines = problemOf(() => loadManifests(text, {})).split('\n');
  assert.deepEqual(lines.slice(1, 4), [
    'spec.predictors[0].replicas: expected a non-negative integer, got -1',
    'spec.predictors[0].traffic: expected an integer from 0 to 100, got 101',
    'spec.predictors[1].replicas: expected a non-negative integer, got 1.5',
  ]);
});

test('traffic of two live predictors must sum to 100, and the message gives the sum', () => {
  const text = withPredictors(`  - {name: a, traffic: 60, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: b, traffic: 30, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: s, shadow: true, traffic: 10, graph: {name: m, implementation: SIMPLE_MODEL}}
`);
  assert.equal(
    problemOf(() => loadManifests(text, {})),
    'spec.predictors: traffic of the predictors that are not shadows must sum to 100, got 90 (a: 60, b: 30)',
  );
});

test('at most one shadow, and not only shadows', () => {
  const two = withPredictors(`  - {name: a, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: s1, shadow: true, graph: {name: m, implementation: SIMPLE_MODEL}}
  - {name: s2, shadow: true, graph: {name: m, implementation: SIMPLE_MODEL}}
`);
  assert.equal(problemOf(() => loadManifests(two, {})), 'spec.predictors: at most one predictor may be a shadow, got 2 (s1, s2)');
  const only = withPredictors(`  - {name: s, shadow: true, graph: {name: m, implementation: SIMPLE_MODEL}}\n`);
  assert.match(problemOf(() => loadManifests(only, {})), /^spec\.predictors: at least one predictor must not be a shadow/);
});

test('the only live predictor may not claim part of the traffic', () => {
  const text = withPredictors(`  - {name: a, traffic: 30, graph: {name: m, implementation: SIMPLE_MODEL}}\n`);
  assert.equal(
    problemOf(() => loadManifests(text, {})),
    'spec.predictors[0].traffic: the only predictor that is not a shadow takes all the traffic: set 100 or leave it out, got 30',
  );
});

test('containers need a name; env items a name; command and args must be strings', () => {
  const text = withPredictors(`  - name: p
    componentSpecs:
    - spec:
        containers:
        - name: m
          command: [python, 3]
          args: "--port 9000"
          env:
          - {value: "1"}
          - {name: PORT, value: 9000}
        - {image: x}
        - {name: m, image: y}
    graph: {name: m}
`);
  const lines = problemOf(() => loadManifests(text, {})).split('\n').slice(1);
  const at = 'spec.predictors[0].componentSpecs[0].spec.containers';
  assert.deepEqual(lines, [
    `${at}[0].env[0].name: required`,
    `${at}[0].env[1].value: expected a string, got 9000 (quote it: "9000")`,
    `${at}[0].command[1]: expected a string, got 3 (quote it: "3")`,
    `${at}[0].args: expected a list, got "--port 9000"`,
    `${at}[1].name: required`,
    `${at}[2].name: duplicate container name "m" in this predictor (also at ${at}[0])`,
  ]);
});

test('label keys with dots and slashes are shown in brackets', () => {
  const text = IRIS.replace('  namespace: seldon\n', '  namespace: seldon\n  labels: {app.kubernetes.io/name: 3}\n');
  assert.equal(problemOf(() => loadManifests(text, {})), 'metadata.labels["app.kubernetes.io/name"]: expected a string, got 3 (quote it: "3")');
});

test('RANDOM_ABTEST needs two children and a ratioA from 0 to 1', () => {
  const text = withPredictors(`  - name: p
    graph:
      name: ab
      implementation: RANDOM_ABTEST
      children: [{name: a, implementation: SIMPLE_MODEL}]
`);
  assert.deepEqual(problemOf(() => loadManifests(text, {})).split('\n').slice(1), [
    'spec.predictors[0].graph.children: RANDOM_ABTEST needs exactly 2 children, got 1',
    'spec.predictors[0].graph.parameters: RANDOM_ABTEST needs a parameter ratioA (type FLOAT, from 0 to 1): the share of requests sent to the first child',
  ]);
  const ratio = withPredictors(`  - name: p
    graph:
      name: ab
      implementation: RANDOM_ABTEST
      parameters: [{name: ratioA, value: 1.5, type: FLOAT}]
      children: [{name: a, implementation: SIMPLE_MODEL}, {name: b, implementation: SIMPLE_MODEL}]
`);
  assert.equal(problemOf(() => loadManifests(ratio, {})), 'spec.predictors[0].graph.parameters: ratioA must be from 0 to 1, got 1.5');
});

test('every problem of every document is listed, each prefixed by its document', () => {
  const bad1 = IRIS.replace('      name: classifier\n', '');
  const bad2 = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: two}
spec:
  predictors:
  - {name: p, replicas: -2, graph: {name: m}}
`;
  const err = (() => {
    try {
      loadManifests(`${bad1}---\n${ML_SCORE}---\n${bad2}`, { source: 'many.yaml' });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof ManifestError);
  assert.deepEqual(err.problems, [
    'document 1 (SeldonDeployment iris-model): spec.predictors[0].graph.name: required',
    'document 3 (SeldonDeployment two): spec.predictors[0].replicas: expected a non-negative integer, got -2',
    'document 3 (SeldonDeployment two): spec.predictors[0].graph: node "m" has no implementation and no container named "m" in componentSpecs',
  ]);
  assert.equal(err.message, ['many.yaml has 3 problems:', ...err.problems].join('\n'));
});

test('an unsupported kind names the document and the supported kinds', () => {
  const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: settings}\n';
  assert.equal(
    problemOf(() => loadManifests(`${IRIS}---\n${secret}`, {})),
    'document 2 (kind Secret): kind Secret is not supported yet; supported: SeldonDeployment (machinelearning.seldon.io/v1, v1alpha2, v1alpha3), ' +
      'Broker (eventing.knative.dev/v1), Trigger (eventing.knative.dev/v1, v1beta1, v1alpha1), Service (v1), Deployment (apps/v1), ConfigMap (v1)',
  );
});

test('an unsupported apiVersion, a missing kind, and a document that is not a mapping are reported', () => {
  assert.equal(
    problemOf(() => loadManifests(IRIS.replace('machinelearning.seldon.io/v1', 'machinelearning.seldon.io/v2'), {})),
    'apiVersion: "machinelearning.seldon.io/v2" is not supported for kind SeldonDeployment; supported: machinelearning.seldon.io/v1, v1alpha2, v1alpha3',
  );
  assert.match(problemOf(() => loadManifests(IRIS.replace('kind: SeldonDeployment\n', ''), {})), /^kind: required; supported: SeldonDeployment/);
  assert.equal(problemOf(() => loadManifests('- a\n- b\n', {})), 'expected a mapping with apiVersion, kind, metadata and spec, got a list');
});

test('the same deployment twice in one text is reported', () => {
  assert.equal(
    problemOf(() => loadManifests(`${IRIS}---\n${IRIS}`, {})),
    'document 2 (SeldonDeployment iris-model): metadata.name: SeldonDeployment seldon/iris-model is defined twice (also by document 1)',
  );
});

test('a YAML syntax error gives its line and column, and nothing is returned', () => {
  const text = `${IRIS}---\napiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: x\nspec: {}\n`;
  const message = problemOf(() => loadManifests(text, {}));
  assert.match(message, /^document 2 \(SeldonDeployment x\): YAML syntax error at line 20, column 1 \(at spec\): Flow map in block collection/);
  const single = problemOf(() => loadManifests('a: b: c\n', {}));
  assert.match(single, /^YAML syntax error at line 1, column 4 \(at a.b\): /);
});

test('an empty text is an error', () => {
  assert.equal(problemOf(() => loadManifests('\n# just a comment\n', { source: 'empty.yaml' })), 'empty.yaml: no manifest found: the text is empty or holds only comments');
});

test('batching parameters that cannot work are refused with the node path', () => {
  const text = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: batched}
spec:
  predictors:
  - name: default
    graph:
      name: model
      implementation: SKLEARN_SERVER
      modelUri: ./model
      parameters:
      - {name: batch_max_size, value: "1", type: INT}
      - {name: batch_max_wait_ms, value: "-2", type: FLOAT}
`;
  assert.throws(
    () => loadManifests(text),
    (err: Error) =>
      /spec\.predictors\[0\]\.graph\.parameters: batch_max_size must have type INT and be 2 or more, got "1"/.test(err.message) &&
      /batch_max_wait_ms must be a number of milliseconds/.test(err.message),
  );
});

const REPLICAS = (predictor: number, component: number): string => `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: many}
spec:
  predictors:
  - name: default
    replicas: ${predictor}
    componentSpecs: [{replicas: ${component}, spec: {containers: [{name: m, command: [python, m.py]}]}}]
    graph: {name: m}
`;

test('replicas above the limit are refused with the field path and the limit', () => {
  assert.throws(
    () => loadManifests(REPLICAS(1_000_000_000, 65)),
    (err: unknown) =>
      err instanceof ManifestError &&
      err.code === 'BAD_MANIFEST' &&
      err.problems.includes('spec.predictors[0].replicas: 1000000000 is more than the 64 replicas allowed (each is a process on this machine); ask for at most 64, or raise the limit with trantor up --max-replicas N') &&
      err.problems.some((p) => p.startsWith('spec.predictors[0].componentSpecs[0].replicas: 65 is more than the 64')),
  );
  assert.equal(loadManifests(REPLICAS(64, 64)).deployments[0]?.spec.predictors[0]?.replicas, 64);
});

test('the replicas limit is an option', () => {
  assert.throws(() => loadManifests(REPLICAS(5, 1), { maxReplicas: 4 }), /spec\.predictors\[0\]\.replicas: 5 is more than the 4 replicas allowed/);
  assert.equal(loadManifests(REPLICAS(200, 200), { maxReplicas: 200 }).deployments[0]?.spec.predictors[0]?.componentSpecs[0]?.replicas, 200);
});

test('a 1 MiB anchor named 300 times is refused before it is expanded', () => {
  let text = `apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: bomb}\nspec:\n  annotations:\n    a: &big "${'x'.repeat(2 ** 20)}"\n`;
  for (let i = 0; i < 300; i++) text += `    k${i}: *big\n`;
  text += '  predictors:\n  - name: default\n    graph: {name: m, implementation: SIMPLE_MODEL}\n';
  assert.throws(() => loadManifests(text, { source: 'bomb.yaml' }), /^ManifestError: bomb\.yaml: the manifest expands to more than \d+ bytes through its YAML aliases/);
});

test('nested aliases (billion laughs) are refused by their expanded size', () => {
  const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++) {
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  }
  assert.throws(() => loadManifests(lines.join('\n')), /expands to more than 1048576 bytes through its YAML aliases/);
});

test('a few small aliases are still accepted', () => {
  const text = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: shared, labels: &labels {team: ml, tier: web}}
spec:
  predictors:
  - name: default
    labels: *labels
    graph: {name: m, implementation: SIMPLE_MODEL}
`;
  assert.deepEqual(loadManifests(text).deployments[0]?.spec.predictors[0]?.labels, { team: 'ml', tier: 'web' });
});
