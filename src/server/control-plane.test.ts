import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { HttpV2Transport, type Transport, type V2Transport } from '../executor/index.ts';
import type { Runtime } from '../manifest/index.ts';
import { TrantorError } from '../protocol/index.ts';
import { ControlPlane } from './control-plane.ts';
import { ObjectEventLog } from './object-events.ts';
import { ManifestStore } from './store.ts';

const home = mkdtempSync(join(tmpdir(), 'trantor-control-plane-'));
after(() => rmSync(home, { recursive: true, force: true }));
let opened = 0;

function controlPlane(v2Transport?: V2Transport, events?: ObjectEventLog): ControlPlane {
  const runtime: Runtime = { apply: async () => {}, remove: async () => {}, status: () => undefined, logs: () => [], watch: () => () => {}, close: async () => {} };
  return new ControlPlane({
    runtime,
    transport: {} as Transport,
    ...(v2Transport === undefined ? {} : { v2Transport }),
    ...(events === undefined ? {} : { events }),
    store: new ManifestStore(join(home, String(opened++))),
    logger: pino({ level: 'silent' }),
    requestTimeoutMs: 1000,
    gatewayUrl: () => 'http://127.0.0.1:9',
  });
}

const V2_DEPLOYMENT = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris-v2, namespace: seldon}
spec:
  protocol: kfserving
  predictors:
  - {name: default, graph: {name: classifier, implementation: SIMPLE_MODEL}}
`;

test("a protocol: v2 deployment's executors get the deployment's protocol and a V2 face", async () => {
  const plane = controlPlane(new HttpV2Transport({ call: () => Promise.reject(new Error('not called')) }));
  await plane.apply(V2_DEPLOYMENT, 'iris-v2.yaml', home);
  const executor = plane.lookup('seldon', 'iris-v2')?.executors[0];
  assert.equal(executor?.protocol, 'v2');
  const answer = await executor.v2!.infer('classifier', undefined, { message: { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', data: [1] }] }, tensors: [{ name: 'x', shape: [1], datatype: 'FP64', values: Float64Array.of(1) }] }, 'p');
  assert.equal(answer.message.outputs[0]?.name, 'predict');
});

test('a control plane without a V2 transport refuses a protocol: v2 deployment before storing anything', async () => {
  const plane = controlPlane();
  await assert.rejects(plane.apply(V2_DEPLOYMENT, 'iris-v2.yaml', home), (err: unknown) => err instanceof TrantorError && err.code === 'NOT_SUPPORTED' && /seldon\/iris-v2.*protocol: v2/.test(err.message));
  assert.deepEqual(plane.list(), []);
});

test('a protocol: v2 deployment asking for in-process components is refused: V2 nodes are called over the network', async () => {
  const plane = controlPlane(new HttpV2Transport({ call: () => Promise.reject(new Error('not called')) }));
  const inProcess = V2_DEPLOYMENT.replace('metadata: {name: iris-v2, namespace: seldon}', "metadata: {name: iris-v2, namespace: seldon, annotations: {trantor.io/in-process: 'true'}}");
  await assert.rejects(plane.apply(inProcess, 'iris-v2.yaml', home), /protocol: v2 components run as processes; remove the trantor.io\/in-process annotation/);
  assert.deepEqual(plane.list(), []);
});

const MISSPELT = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris, namespace: seldon}
spec:
  predictors:
  - {name: default, replica: 2, graph: {name: classifier, implementation: SIMPLE_MODEL}}
`;

test('a dry run answers what applying would do and stores nothing; then a real apply, then a dry run says unchanged', async () => {
  const plane = controlPlane();
  assert.deepEqual((await plane.apply(MISSPELT, 'iris.yaml', home, { dryRun: true })).applied, [{ kind: 'SeldonDeployment', namespace: 'seldon', name: 'iris', action: 'created' }]);
  assert.equal(plane.get('seldon', 'iris'), undefined);
  await plane.apply(MISSPELT, 'iris.yaml', home);
  const again = await plane.apply(MISSPELT, 'iris.yaml', home, { dryRun: true });
  assert.equal(again.dryRun, true);
  assert.equal(again.applied[0]?.action, 'unchanged');
});

test('unknown fields come back as warnings; strict refuses them and stores nothing', async () => {
  const plane = controlPlane();
  await assert.rejects(plane.apply(MISSPELT, 'iris.yaml', home, { fieldValidation: 'Strict' }), (err: unknown) => err instanceof TrantorError && err.code === 'BAD_MANIFEST' && /iris\.yaml: SeldonDeployment iris: spec\.predictors\[0\]\.replica: unknown field; did you mean replicas\?/.test(err.message));
  assert.equal(plane.get('seldon', 'iris'), undefined);
  const answer = await plane.apply(MISSPELT, 'iris.yaml', home);
  assert.deepEqual(answer.warnings, ['SeldonDeployment iris: spec.predictors[0].replica: unknown field; did you mean replicas?']);
  assert.equal((await plane.apply(MISSPELT, 'iris.yaml', home, { fieldValidation: 'Ignore' })).warnings, undefined);
});

test('apply records Created, then Updated for a change and nothing for an unchanged object; delete records Deleted; events() lists them', async () => {
  const plane = controlPlane(undefined, new ObjectEventLog({ maxEvents: 10, maxAgeMs: 60_000 }));
  const simple = (replicas: number): string => `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: simple, namespace: seldon}
spec:
  predictors:
  - {name: default, replicas: ${replicas}, graph: {name: model, implementation: SIMPLE_MODEL}}
`;
  await plane.apply(simple(1), 'simple.yaml', home);
  await plane.apply(simple(1), 'simple.yaml', home);
  await plane.apply(simple(2), 'simple.yaml', home);
  await plane.remove('seldon', 'simple');
  assert.deepEqual(
    plane.events({ kind: 'SeldonDeployment', name: 'simple' }).map((e) => [e.type, e.reason, e.message, e.source]),
    [
      ['Normal', 'Created', 'SeldonDeployment simple created from simple.yaml', 'control-plane'],
      ['Normal', 'Updated', 'SeldonDeployment simple configured from simple.yaml', 'control-plane'],
      ['Normal', 'Deleted', 'SeldonDeployment simple deleted', 'control-plane'],
    ],
  );
  assert.deepEqual(plane.events({ namespace: 'elsewhere' }), []);
});
