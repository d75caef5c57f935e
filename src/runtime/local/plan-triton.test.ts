import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PACKAGE_ROOT, planDeployment, withModelFolder, type PlanOptions } from './plan.ts';
import { graphNode, seldonDeployment } from './testing.ts';

const base = mkdtempSync(join(tmpdir(), 'trantor-plan-triton-'));
mkdirSync(join(base, 'model-repository'));
const options: PlanOptions = { home: mkdtempSync(join(tmpdir(), 'trantor-plan-home-')), env: { PATH: '/usr/bin' }, nodeHost: ['/opt/node', '--import', 'tsx', '/pkg/node-host.ts'] };

function v2(graph: ReturnType<typeof graphNode>): ReturnType<typeof seldonDeployment> {
  const deployment = seldonDeployment({ baseDir: base, graph });
  deployment.spec.protocol = 'v2';
  return deployment;
}

test('TRITON_SERVER runs the Node host serving TritonOnnxServer, the repository as model_uri before the node parameters', () => {
  const node = graphNode({ name: 'iris', implementation: 'TRITON_SERVER', modelUri: './model-repository', parameters: [{ name: 'model_name', value: 'iris', type: 'STRING' }] });
  const [launch] = planDeployment(v2(node), options);
  assert.ok(launch);
  assert.equal(launch.command, '/opt/node');
  assert.deepEqual(launch.args, ['--import', 'tsx', '/pkg/node-host.ts', `${join(PACKAGE_ROOT, 'src', 'component', 'servers', 'triton', 'server.ts')}:TritonOnnxServer`, '--service-type', 'MODEL']);
  assert.deepEqual(JSON.parse(launch.env['PREDICTIVE_UNIT_PARAMETERS'] ?? ''), [
    { name: 'model_uri', value: join(base, 'model-repository'), type: 'STRING' },
    { name: 'model_name', value: 'iris', type: 'STRING' },
  ]);
  assert.equal(launch.env['PREDICTIVE_UNIT_ID'], 'iris');
});

test('a remote repository is fetched by the supervisor first', () => {
  const [launch] = planDeployment(v2(graphNode({ implementation: 'TRITON_SERVER', modelUri: 's3://models/triton' })), options);
  assert.deepEqual(launch?.remoteModel, { uri: 's3://models/triton', field: 'spec.predictors[0].graph.modelUri' });
  const parameters = JSON.parse(withModelFolder(launch, '/cache/triton').env['PREDICTIVE_UNIT_PARAMETERS'] ?? '[]') as { name: string; value: string }[];
  assert.equal(parameters.find((p) => p.name === 'model_uri')?.value, '/cache/triton');
});

test('TRITON_SERVER is refused on the Seldon protocol, and without a modelUri, naming the field', () => {
  const seldon = seldonDeployment({ baseDir: base, graph: graphNode({ name: 'iris', implementation: 'TRITON_SERVER', modelUri: './r' }) });
  assert.throws(() => planDeployment(seldon, options), /^TrantorError: spec\.protocol is seldon, but spec\.predictors\[0\]\.graph\.implementation is TRITON_SERVER \(node "iris"\), which Seldon serves over the Open Inference Protocol only: set spec\.protocol: v2/);
  assert.throws(() => planDeployment(v2(graphNode({ implementation: 'TRITON_SERVER' })), options), /spec\.predictors\[0\]\.graph\.modelUri is required for TRITON_SERVER/);
  assert.throws(() => planDeployment(v2(graphNode({ implementation: 'TRITON_SERVER', modelUri: './r' })), { ...options, nodeHost: null }), /needs the Node host .* run npm run build/);
});
