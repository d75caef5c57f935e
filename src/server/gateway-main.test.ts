import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { v2StandIn } from '../executor/testing.ts';
import { decodeModelInferResponse, decodeV2Response, encodeModelInferRequest, encodeV2Request } from '../protocol/index.ts';
import { GATEWAY_PREDICTORS_ENV } from '../runtime/kubernetes/index.ts';
import { renderedContainers } from '../runtime/kubernetes/testing.ts';
import { resolveExecutorConfig, startPodExecutor } from './executor-main.ts';
import { parseGatewayPredictors, resolveGatewayConfig, startGatewayProcess, type GatewayFlags } from './gateway-main.ts';

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

/** A V2 gRPC call with raw bytes both ways, routed by the `seldon` and `namespace` headers. */
function grpcCall(client: grpc.Client, method: string, request: Uint8Array, metadata: Record<string, string>): Promise<Buffer> {
  const headers = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) headers.set(key, value);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(`/inference.GRPCInferenceService/${method}`, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(request), headers, { deadline: Date.now() + 10_000 }, (err, value) => {
      if (err !== null) reject(err);
      else resolve(value!);
    });
  });
}

test("protocol: v2 through trantor gateway: a real pod executor's V2 chain over REST JSON, binary data and gRPC", async () => {
  const closing: (() => Promise<void> | void)[] = [];
  const models = await v2StandIn();
  closing.push(() => models.close());
  const logger = pino({ level: 'silent' });
  const endpoint = { type: 'REST', service_host: '127.0.0.1', service_port: models.port, httpPort: models.port };
  const predictor = {
    name: 'main',
    graph: { name: 'double', type: 'MODEL', endpoint, children: [{ name: 'plus', type: 'MODEL', endpoint, children: [] }] },
    componentSpecs: [{ spec: { containers: [{ name: 'double', image: 'example/double' }, { name: 'plus', image: 'example/plus' }] } }],
    labels: { version: 'main' },
  };
  try {
    const pod = await startPodExecutor(
      resolveExecutorConfig({ sdep: 'pair', namespace: 'models', predictor: 'main', http_port: '0', host: '127.0.0.1', protocol: 'v2' }, { ENGINE_PREDICTOR: Buffer.from(JSON.stringify(predictor)).toString('base64') }),
      logger,
    );
    closing.push(() => pod.close());
    const predictors = JSON.stringify([{ name: 'main', traffic: 100, http: pod.gateway.url, nodes: ['double', 'plus'], protocol: 'v2' }]);
    const running = await startGatewayProcess(resolveGatewayConfig({ sdep: 'pair', namespace: 'models', http_port: '0', host: '127.0.0.1' }, { [GATEWAY_PREDICTORS_ENV]: predictors }), logger);
    closing.push(() => running.close());
    const client = new grpc.Client(`127.0.0.1:${running.gateway.port}`, grpc.credentials.createInsecure());
    closing.push(() => client.close());
    const base = `${running.gateway.url}/seldon/models/pair`;
    // REST JSON: (x * 2) + 1 through the chain, the puid both ways.
    const res = await fetch(`${base}/v2/models/double/infer`, { method: 'POST', body: '{"id":"j1","inputs":[{"name":"x","shape":[3],"datatype":"FP64","data":[1,2.5,-3]}]}', headers: { 'seldon-puid': 'gw-v2-1' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('seldon-puid'), 'gw-v2-1');
    const answer = (await res.json()) as { id: string; outputs: { name: string; data: number[] }[] };
    assert.deepEqual([answer.id, answer.outputs[0]!.name, answer.outputs[0]!.data], ['j1', 'x', [3, 6, -5]]);
    assert.ok(models.received.filter((r) => r.path === '/v2/models/double/infer').every((r) => r.headers['seldon-puid'] === 'gw-v2-1'), 'the puid reaches the components');
    // Binary data in, binary data out.
    const encoded = encodeV2Request({ outputs: [{ name: 'x', parameters: { binary_data: true } }] }, [{ name: 'x', datatype: 'FP32', shape: [2], values: new Float32Array([0.25, 4]) }]);
    const binary = await fetch(`${base}/v2/models/double/infer`, { method: 'POST', body: encoded.body, headers: { 'inference-header-content-length': String(encoded.headerLength) } });
    assert.equal(binary.status, 200);
    const decoded = decodeV2Response(new Uint8Array(await binary.arrayBuffer()), Number(binary.headers.get('inference-header-content-length')));
    assert.deepEqual([...(decoded.tensors[0]!.values as Float32Array)], [1.5, 9]);
    // Readiness, metadata, and an unknown model's 404 from the pod.
    assert.deepEqual(await (await fetch(`${base}/v2/health/ready`)).json(), { ready: true });
    assert.deepEqual(await (await fetch(`${base}/v2/models/plus/ready`)).json(), { name: 'plus', ready: true });
    assert.equal(((await (await fetch(`${base}/v2/models/plus`)).json()) as { platform: string }).platform, 'trantor-test');
    const unknown = await fetch(`${base}/v2/models/nothing/ready`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: string }).error, /no model named "nothing"/);
    // gRPC at the gateway, forwarded to the pod over REST.
    const V2 = { seldon: 'pair', namespace: 'models' };
    const request = encodeModelInferRequest({ name: 'double' }, { id: 'g1' }, [{ name: 'x', datatype: 'FP64', shape: [2], values: new Float64Array([0.5, 10]) }]);
    const reply = decodeModelInferResponse(await grpcCall(client, 'ModelInfer', request, { ...V2, 'seldon-puid': 'gw-v2-grpc' }));
    assert.equal(reply.message.id, 'g1');
    assert.deepEqual([...(reply.tensors[0]!.values as Float64Array)], [2, 21]);
    assert.ok(models.received.some((r) => r.headers['seldon-puid'] === 'gw-v2-grpc'));
  } finally {
    for (const close of closing.reverse()) await close();
  }
});
