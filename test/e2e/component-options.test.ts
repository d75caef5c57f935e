/**
 * The Node host's named options set with `trantor up --set component.<option>=…` reach its replicas,
 * and a container's own `TRANTOR_COMPONENT_<OPTION>` wins for that component.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-component-options-'));

/** A SeldonDeployment whose one component is the Node host serving Echo.mjs (JSON is YAML too). */
function deployment(name: string, env: { name: string; value: string }[] = []): string {
  const container = { name: 'model', command: ['trantor-node-microservice', 'Echo'], workingDir: dir, env };
  const graph = { name: 'model', type: 'MODEL' };
  return JSON.stringify({
    apiVersion: 'machinelearning.seldon.io/v1',
    kind: 'SeldonDeployment',
    metadata: { name },
    spec: { predictors: [{ name: 'default', graph, componentSpecs: [{ spec: { containers: [container] } }] }] },
  });
}

before(async () => {
  writeFileSync(join(dir, 'Echo.mjs'), 'export class Echo { predict(X) { return X; } }\n');
  writeFileSync(join(dir, 'limited.yaml'), deployment('limited'));
  writeFileSync(join(dir, 'own-limit.yaml'), deployment('own-limit', [{ name: 'TRANTOR_COMPONENT_BODY_LIMIT', value: '1mib' }]));
  await trantor.up(['--set', 'component.bodyLimit=1kib']);
  trantor.applyAndWait(join(dir, 'limited.yaml'));
  trantor.applyAndWait(join(dir, 'own-limit.yaml'));
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

// 2,000 bytes: under the gateway's limit, over the 1 KiB given to the components.
const LARGE = { strData: 'x'.repeat(2_000) };

test('--set component.bodyLimit reaches a Node host replica: a larger body is refused with 413', async () => {
  assert.equal((await postJson(trantor.url('default', 'limited'), { strData: 'x' })).status, 200);
  const res = await postJson(trantor.url('default', 'limited'), LARGE);
  assert.equal(res.status, 413, JSON.stringify(res.body));
});

test("a container's TRANTOR_COMPONENT_BODY_LIMIT wins over trantor up's", async () => {
  const res = await postJson(trantor.url('default', 'own-limit'), LARGE);
  assert.equal(res.status, 200, JSON.stringify(res.body));
});
