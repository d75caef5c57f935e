/**
 * Journey J2: the seed's MLScore class, in Python and in TypeScript, served from its folder
 * with no Docker, reached through the gateway as in the seed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, Trantor, postJson } from './harness.ts';

const trantor = new Trantor();
const SEED_REQUEST = '{"data":{"names":["a","b"],"tensor":{"shape":[2,2],"values":[0,0,1,1]}}}';

before(async () => {
  await trantor.up();
  for (const manifest of ['examples/ml-score/ml-score.yaml', 'examples/ml-score-ts/ml-score-ts.yaml']) {
    trantor.applyAndWait(join(ROOT, manifest));
  }
});
after(() => trantor.close());

interface TensorReply {
  data: { names: string[]; tensor: { shape: number[]; values: number[] } };
  meta: { puid: string; tags: object; routing: object; requestPath: Record<string, string>; metrics: unknown[] };
}

function assertSeedAnswer(reply: TensorReply): void {
  assert.deepEqual(reply.data, { names: ['t:0', 't:1'], tensor: { shape: [2, 2], values: [0, 0, 1, 1] } });
  assert.match(reply.meta.puid, /^[a-z0-9]{26}$/);
  assert.deepEqual(reply.meta.tags, {});
  assert.deepEqual(reply.meta.metrics, []);
}

test('the seed curl on api/v0.1 gets the tensor back with t:0, t:1 and meta', async () => {
  const res = await postJson(trantor.url('test-ml-seldon-app', 'test-ml-seldon-app', 'api/v0.1/predictions'), SEED_REQUEST);
  assert.equal(res.status, 200);
  const reply = res.body as TensorReply;
  assertSeedAnswer(reply);
  assert.equal(reply.meta.requestPath['classifier'], 'alexioannides/test-ml-score-seldon-api:latest');
});

test('api/v1.0 answers the same', async () => {
  const res = await postJson(trantor.url('test-ml-seldon-app', 'test-ml-seldon-app'), SEED_REQUEST);
  assert.equal(res.status, 200);
  assertSeedAnswer(res.body as TensorReply);
});

test('a form with json= is accepted at the gateway as by the wrapper', async () => {
  const res = await fetch(trantor.url('test-ml-seldon-app', 'test-ml-seldon-app'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `json=${encodeURIComponent(SEED_REQUEST)}`,
  });
  assert.equal(res.status, 200);
  assertSeedAnswer((await res.json()) as TensorReply);
});

test("the model's own print lines reach trantor logs", () => {
  const logs = trantor.cli(['logs', 'test-ml-seldon-app']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /Initializing/);
  assert.match(logs.stdout, /Predict called - will run identity function/);
});

test('the TypeScript MLScore answers the seed request the same way', async () => {
  const res = await postJson(trantor.url('default', 'ml-score-ts'), SEED_REQUEST);
  assert.equal(res.status, 200);
  assertSeedAnswer(res.body as TensorReply);
});
