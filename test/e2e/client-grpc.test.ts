/**
 * The TypeScript client over gRPC against `trantor up`: the gateway's `seldon.protos.Seldon` on the
 * REST host:port answers what REST answers; and V2 (the iris example with `protocol: v2`) over
 * REST, JSON and binary, and over gRPC. Each part is skipped, saying why, while the gateway lacks
 * it: gRPC while it answers the HTTP/2 preface as HTTP/1, V2 while its paths are not routed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SeldonClient, SeldonClientError } from '../../src/client/index.ts';
import { Trantor, sklearnPredictProba } from './harness.ts';

const trantor = new Trantor();
let rest: SeldonClient;
let grpc: SeldonClient;
/** Why the gRPC tests cannot run here, or undefined when the gateway speaks gRPC. */
let noGrpc: string | undefined;

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, -3.0, 0.125, 2.3],
];

before(async () => {
  await trantor.up();
  trantor.applyAndWait(join(import.meta.dirname, 'fixtures', 'client-grpc', 'scale.yaml'));
  trantor.applyAndWait(join(import.meta.dirname, 'fixtures', 'client-grpc', 'iris-v2.yaml'));
  rest = new SeldonClient({ gatewayEndpoint: trantor.gateway, deploymentName: 'scale' });
  grpc = new SeldonClient({ gatewayEndpoint: trantor.gateway, deploymentName: 'scale', transport: 'grpc', timeoutMs: 10_000 });
  try {
    await grpc.predict({ data: ROWS });
  } catch (err) {
    // An HTTP/1 server answers the HTTP/2 preface with an error grpc-js calls a protocol error.
    if (err instanceof SeldonClientError && err.code === 'CONNECTION' && /Protocol error|http1/i.test(err.message)) {
      noGrpc = `the gateway answers gRPC as HTTP/1 (${err.message}): its gRPC face is not built in`;
    }
  }
});
/** Why V2 cannot be asked here, or undefined when the gateway routes it. */
async function noV2(): Promise<string | undefined> {
  try {
    await rest.infer('classifier', [IRIS_INPUT], { deploymentName: 'iris-v2' });
    return undefined;
  } catch (err) {
    if (err instanceof SeldonClientError && err.status === 404 && /no such path/.test(err.info ?? '')) return `the gateway routes no V2 paths yet (${err.message})`;
    return undefined;
  }
}

const IRIS_ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];
const IRIS_INPUT = { name: 'input-0', shape: [2, 4], datatype: 'FP64' as const, data: IRIS_ROWS.flat() };

after(async () => {
  await Promise.allSettled([rest?.close(), grpc?.close()]);
  await trantor.close();
});

test('predict over gRPC answers what REST answers', async (t) => {
  if (noGrpc !== undefined) return t.skip(noGrpc);
  for (const payloadType of ['ndarray', 'tensor'] as const) {
    const [overRest, overGrpc] = await Promise.all([rest.predict({ data: ROWS, payloadType }), grpc.predict({ data: ROWS, payloadType })]);
    assert.deepEqual(overGrpc.data, overRest.data);
    assert.deepEqual(overGrpc.meta?.requestPath, overRest.meta?.requestPath);
    assert.match(overGrpc.puid ?? '', /^[a-z0-9]+$/);
  }
  const { data } = await grpc.predict({ data: ROWS });
  assert.deepEqual(data?.ndarray, ROWS.map((row) => row.map((v) => v * 3)));
});

test('feedback and metadata over gRPC', async (t) => {
  if (noGrpc !== undefined) return t.skip(noGrpc);
  const request = { data: { ndarray: ROWS } };
  const response = await grpc.predict({ data: ROWS });
  const answer = await grpc.feedback({ request, response, reward: 1 });
  assert.equal(typeof answer, 'object');
  const model = await grpc.metadata({ model: 'scale' });
  assert.equal(model.name, 'scale');
});

test("a failure over gRPC carries REST's words and status", async (t) => {
  if (noGrpc !== undefined) return t.skip(noGrpc);
  const failure = async (client: SeldonClient): Promise<SeldonClientError> => {
    try {
      await client.predict({ data: ROWS, deploymentName: 'no-such-deployment' });
    } catch (err) {
      assert.ok(err instanceof SeldonClientError);
      return err;
    }
    assert.fail('expected a failure');
  };
  const [overRest, overGrpc] = await Promise.all([failure(rest), failure(grpc)]);
  assert.equal(overGrpc.code, 'FAILURE');
  assert.equal(overGrpc.status, overRest.status);
  assert.equal(overGrpc.info, overRest.info);
});

test('trantor predict --grpc prints what the REST form prints, but the puid', (t) => {
  if (noGrpc !== undefined) return t.skip(noGrpc);
  const overRest = trantor.cli(['predict', 'scale', '--data', JSON.stringify(ROWS)]);
  const overGrpc = trantor.cli(['predict', 'scale', '--grpc', '--data', JSON.stringify(ROWS)]);
  assert.equal(overRest.code, 0, overRest.stderr);
  assert.equal(overGrpc.code, 0, overGrpc.stderr);
  const data = (text: string): unknown => (JSON.parse(text) as { data: unknown }).data;
  assert.deepEqual(data(overGrpc.stdout), data(overRest.stdout));
});

test('V2 infer over REST, JSON and binary, gives the classes scikit-learn predicts; readiness and metadata', async (t) => {
  const why = await noV2();
  if (why !== undefined) return t.skip(why);
  const classes = sklearnPredictProba(IRIS_ROWS).map((p) => p.indexOf(Math.max(...p)));
  const json = await rest.infer('classifier', [IRIS_INPUT], { deploymentName: 'iris-v2' });
  const binary = await rest.infer('classifier', [IRIS_INPUT], { deploymentName: 'iris-v2', binary: true });
  assert.equal(json.response.model_name, 'classifier');
  assert.deepEqual(binary.response.outputs, json.response.outputs);
  assert.deepEqual(json.response.outputs[0]?.data?.map(Number), classes);
  assert.equal(await rest.modelReady('classifier', { deploymentName: 'iris-v2' }), true);
  assert.equal(await rest.serverReady({ deploymentName: 'iris-v2' }), true);
  assert.equal((await rest.modelMetadata('classifier', { deploymentName: 'iris-v2' })).name, 'classifier');
  // The CLI sends rows as one FP64 input named input-0, to the graph's root node.
  const cli = trantor.cli(['predict', 'iris-v2', '--protocol', 'v2', '--data', JSON.stringify(IRIS_ROWS)]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.deepEqual((JSON.parse(cli.stdout) as { outputs: unknown }).outputs, json.response.outputs);
});

test('V2 infer over gRPC answers what REST answers', async (t) => {
  const why = noGrpc ?? (await noV2());
  if (why !== undefined) return t.skip(why);
  const overRest = await rest.infer('classifier', [IRIS_INPUT], { deploymentName: 'iris-v2' });
  const overGrpc = await grpc.infer('classifier', [IRIS_INPUT], { deploymentName: 'iris-v2' });
  assert.deepEqual(overGrpc.response.outputs, overRest.response.outputs);
  assert.equal(await grpc.modelReady('classifier', { deploymentName: 'iris-v2' }), true);
});
