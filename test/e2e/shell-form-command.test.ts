/**
 * A Dockerfile's shell-form CMD runs unchanged: `sh -c "seldon-core-microservice $MODEL_NAME …"`
 * with the Dockerfile's ENV as the container's env finds Trantor's seldon-core-microservice on
 * the component's PATH, as it finds Seldon's in the image.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const dir = mkdtempSync(join(tmpdir(), 'trantor-shell-form-'));

// The seed's Dockerfile: ENV MODEL_NAME MLScore … CMD seldon-core-microservice $MODEL_NAME $API_TYPE …
const MANIFEST = `apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: shell-form
spec:
  predictors:
  - name: default
    graph:
      name: classifier
      type: MODEL
    componentSpecs:
    - spec:
        containers:
        - name: classifier
          command: [sh, -c, 'seldon-core-microservice $MODEL_NAME $API_TYPE --service-type $SERVICE_TYPE --persistence $PERSISTENCE']
          workingDir: ${JSON.stringify(join(ROOT, 'examples', 'ml-score', 'seldon-ml-score-component'))}
          env:
          - {name: MODEL_NAME, value: MLScore}
          - {name: API_TYPE, value: REST}
          - {name: SERVICE_TYPE, value: MODEL}
          - {name: PERSISTENCE, value: '0'}
`;

before(async () => {
  writeFileSync(join(dir, 'shell-form.yaml'), MANIFEST);
  await trantor.up();
  trantor.applyAndWait(join(dir, 'shell-form.yaml'));
});
after(async () => {
  await trantor.close();
  rmSync(dir, { recursive: true, force: true });
});

test('sh -c "seldon-core-microservice $MODEL_NAME …" serves the class', async () => {
  const res = await postJson(trantor.url('default', 'shell-form'), '{"data":{"tensor":{"shape":[1,2],"values":[3,4]}}}');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual((res.body as { data: unknown }).data, { names: ['t:0', 't:1'], tensor: { shape: [1, 2], values: [3, 4] } });
});
