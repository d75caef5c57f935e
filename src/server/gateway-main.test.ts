import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY_PREDICTORS_ENV } from '../runtime/kubernetes/index.ts';
import { renderedContainers } from '../runtime/kubernetes/testing.ts';
import { parseGatewayPredictors, resolveGatewayConfig, type GatewayFlags } from './gateway-main.ts';

const MANIFEST = `
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: pair, namespace: models}
spec:
  predictors:
  - name: main
    traffic: 75
    graph: {name: a, implementation: SKLEARN_SERVER, modelUri: "gs://bucket/a"}
  - name: canary
    traffic: 25
    graph: {name: b, implementation: SKLEARN_SERVER, modelUri: "gs://bucket/b"}
  - name: mirror
    shadow: true
    graph: {name: c, implementation: SKLEARN_SERVER, modelUri: "gs://bucket/c"}
`;

/** Commander's spelling of `--flag value` pairs. */
function flagsOf(args: readonly string[]): GatewayFlags {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) flags[args[i]!.replace(/^--/, '')] = args[i + 1]!;
  return flags;
}

test("the rendered gateway container's arguments and environment are what the command reads", () => {
  const [container] = renderedContainers(MANIFEST, 'gateway');
  assert.ok(container !== undefined, 'render() made no gateway container');
  assert.deepEqual(container.command, ['trantor', 'gateway']);
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
  const config = resolveGatewayConfig(flagsOf(container.args), env);
  assert.equal(config.namespace, 'models');
  assert.equal(config.name, 'pair');
  assert.equal(config.port, 8000);
  assert.equal(config.host, '0.0.0.0');
  assert.deepEqual(
    config.predictors.map((p) => [p.name, p.traffic, p.shadow, p.url.href]),
    [
      ['main', 75, false, 'http://pair-main.models.svc.cluster.local:8000/'],
      ['canary', 25, false, 'http://pair-canary.models.svc.cluster.local:8000/'],
      ['mirror', 0, true, 'http://pair-mirror.models.svc.cluster.local:8000/'],
    ],
  );
  // Each graph's nodes, so feedback finds the predictor that made the prediction.
  assert.deepEqual(config.predictors.map((p) => p.nodes), [['a'], ['b'], ['c']]);
  assert.deepEqual(config.predictors.map((p) => p.protocol), ['seldon', 'seldon', 'seldon']);
  // gRPC is served on its own port too, beside the HTTP port.
  assert.deepEqual(config.ignored, []);
  assert.equal(config.grpcPort, 5001);
});

test("a protocol: v2 (or kfserving) deployment's gateway is told so, for every predictor", () => {
  for (const spelling of ['v2', 'kfserving']) {
    // Seldon's predictor_servers give SKLEARN_SERVER no V2 image: MLServer's, in componentSpecs.
    const manifest = MANIFEST.replace('spec:\n', `spec:\n  protocol: ${spelling}\n`).replace(
      /graph: \{name: (\w), implementation: SKLEARN_SERVER, modelUri: "gs:\/\/bucket\/\w"\}/g,
      'componentSpecs: [{spec: {containers: [{name: $1, image: "seldonio/mlserver:1.3.5"}]}}]\n    graph: {name: $1}',
    );
    const [container] = renderedContainers(manifest, 'gateway');
    assert.ok(container !== undefined, 'render() made no gateway container');
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    assert.deepEqual((JSON.parse(env[GATEWAY_PREDICTORS_ENV]!) as { protocol: string }[]).map((p) => p.protocol), ['v2', 'v2', 'v2']);
    const config = resolveGatewayConfig(flagsOf(container.args), env);
    assert.deepEqual(config.predictors.map((p) => p.protocol), ['v2', 'v2', 'v2']);
  }
});

test('optional fields take their defaults; node names are read when given', () => {
  const [spec] = parseGatewayPredictors('[{"name":"only","http":"http://127.0.0.5:9000","nodes":["t","m"]}]');
  assert.equal(spec!.traffic, 0);
  assert.equal(spec!.shadow, false);
  assert.deepEqual(spec!.nodes, ['t', 'm']);
  assert.equal(spec!.protocol, 'seldon');
});

test('the protocol is seldon or v2, and one for the whole deployment', () => {
  assert.equal(parseGatewayPredictors('[{"name":"p","http":"http://h:1","protocol":"v2"}]')[0]!.protocol, 'v2');
  assert.throws(
    () => parseGatewayPredictors('[{"name":"p","http":"http://h:1","protocol":"tensorflow"}]'),
    /^Error: TRANTOR_GATEWAY_PREDICTORS\[0\]\.protocol: "tensorflow": expected "seldon" or "v2" \(the SeldonDeployment's spec\.protocol\)$/,
  );
  assert.throws(() => parseGatewayPredictors('[{"name":"p","http":"http://h:1","protocol":2}]'), /\[0\]\.protocol: 2: expected "seldon" or "v2"/);
  assert.throws(
    () => parseGatewayPredictors('[{"name":"p","http":"http://h:1","protocol":"v2"},{"name":"q","http":"http://h:2"}]'),
    /^Error: TRANTOR_GATEWAY_PREDICTORS\[1\]\.protocol: "seldon", but TRANTOR_GATEWAY_PREDICTORS\[0\] is "v2": a deployment's predictors speak one protocol$/,
  );
});

test('a missing or malformed TRANTOR_GATEWAY_PREDICTORS stops the start, naming the variable and each problem', () => {
  assert.equal(GATEWAY_PREDICTORS_ENV, 'TRANTOR_GATEWAY_PREDICTORS');
  const flags: GatewayFlags = { sdep: 'pair', namespace: 'models' };
  assert.throws(() => resolveGatewayConfig(flags, {}), /^Error: TRANTOR_GATEWAY_PREDICTORS is not set/);
  assert.throws(() => resolveGatewayConfig(flags, { TRANTOR_GATEWAY_PREDICTORS: '[{"name":' }), /^Error: TRANTOR_GATEWAY_PREDICTORS: not JSON/);
  assert.throws(() => resolveGatewayConfig(flags, { TRANTOR_GATEWAY_PREDICTORS: '{}' }), /TRANTOR_GATEWAY_PREDICTORS: expected a non-empty JSON array/);
  assert.throws(() => resolveGatewayConfig(flags, { TRANTOR_GATEWAY_PREDICTORS: '[]' }), /expected a non-empty JSON array/);
  const text = JSON.stringify([{ name: 'a', http: 'https://x:1' }, { name: 'a', traffic: -1, shadow: 'yes', http: 'http://x:1', nodes: [1] }, 7, { name: 'b', http: 'not a url' }]);
  assert.throws(
    () => resolveGatewayConfig(flags, { TRANTOR_GATEWAY_PREDICTORS: text }),
    (err: Error) => {
      assert.deepEqual(err.message.split('\n'), [
        'TRANTOR_GATEWAY_PREDICTORS[0].http: https://x:1: expected a plain http:// URL',
        'TRANTOR_GATEWAY_PREDICTORS[1].name: "a" is listed twice',
        'TRANTOR_GATEWAY_PREDICTORS[1].traffic: expected a number ≥ 0',
        'TRANTOR_GATEWAY_PREDICTORS[1].shadow: expected true or false',
        'TRANTOR_GATEWAY_PREDICTORS[1].nodes: expected the graph\'s node names',
        'TRANTOR_GATEWAY_PREDICTORS[2]: expected an object',
        'TRANTOR_GATEWAY_PREDICTORS[3].http: expected the executor\'s URL, e.g. http://<predictor service>.<ns>.svc.cluster.local:8000',
      ]);
      return true;
    },
  );
});

test('flags are checked: the deployment is named, ports and levels are valid', () => {
  const env = { TRANTOR_GATEWAY_PREDICTORS: '[{"name":"p","http":"http://h:8000"}]' };
  assert.throws(() => resolveGatewayConfig({ namespace: 'models' }, env), /--sdep is required/);
  assert.throws(() => resolveGatewayConfig({ sdep: 'pair' }, env), /--namespace is required/);
  assert.throws(() => resolveGatewayConfig({ sdep: 'pair', namespace: 'm', http_port: '70000' }, env), /--http_port 70000/);
  assert.throws(() => resolveGatewayConfig({ sdep: 'pair', namespace: 'm', log_level: 'loud' }, env), /--log_level loud/);
  assert.throws(() => resolveGatewayConfig({ sdep: 'pair', namespace: 'm', set: ['gateway.bodyLimt=1kib'] }, env), /bodyLimit/);
  const config = resolveGatewayConfig({ sdep: 'pair', namespace: 'm', set: ['gateway.bodyLimit=1kib'] }, env, ['--extra', 'x']);
  assert.equal(config.options.gateway.bodyLimit, 1024);
  assert.deepEqual(config.ignored, ['--extra x']);
});
