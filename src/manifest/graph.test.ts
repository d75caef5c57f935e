import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphNodes, loadManifests, nodeSettings, settingsOf } from './index.ts';

const AB_BATCHED = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: ab}
spec:
  predictors:
  - name: default
    graph:
      name: ab
      implementation: RANDOM_ABTEST
      parameters: [{name: ratioA, value: "0.25", type: FLOAT}]
      children:
      - name: a
        implementation: SKLEARN_SERVER
        modelUri: ./a
        parameters: [{name: batch_max_size, value: "16", type: INT}, {name: batch_max_wait_ms, value: "1.5", type: FLOAT}]
      - name: b
        implementation: SKLEARN_SERVER
        modelUri: ./b
        parameters: [{name: batch_max_size, value: "8", type: INT}]
`;

test('the reader types the parameters the executor reads, once: ratioA a number, batching its size and wait', () => {
  const [deployment] = loadManifests(AB_BATCHED).deployments;
  const [ab, a, b] = graphNodes(deployment!.spec.predictors[0]!);
  assert.deepEqual(nodeSettings(ab!), { ratioA: 0.25, batch: undefined });
  assert.deepEqual(nodeSettings(a!).batch, { maxSize: 16, maxWaitMs: 1.5 });
  // No wait given: the executor's default applies.
  assert.deepEqual(nodeSettings(b!).batch, { maxSize: 8, maxWaitMs: undefined });
  assert.equal(nodeSettings(a!), nodeSettings(a!));
  assert.ok(Object.isFrozen(nodeSettings(a!)));
  // The typed view is not part of the manifest: it is not written back.
  assert.doesNotMatch(JSON.stringify(deployment), /maxSize|ratioA":/);
});

test('parameters of a node built in code: values the reader would refuse leave the setting at its default', () => {
  assert.deepEqual(settingsOf([]), { ratioA: 0.5, batch: undefined });
  assert.equal(settingsOf([{ name: 'ratioA', value: 'x', type: 'STRING' }]).ratioA, 0.5);
  assert.equal(settingsOf([{ name: 'ratioA', value: '1.5', type: 'FLOAT' }]).ratioA, 1);
  assert.equal(settingsOf([{ name: 'batch_max_size', value: '1', type: 'INT' }]).batch, undefined);
  assert.equal(settingsOf([{ name: 'batch_max_size', value: 'many', type: 'STRING' }]).batch, undefined);
  assert.equal(settingsOf([{ name: 'batch_max_size', value: '4', type: 'INT' }, { name: 'batch_max_wait_ms', value: '-1', type: 'FLOAT' }]).batch, undefined);
});
