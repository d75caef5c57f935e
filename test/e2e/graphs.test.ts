/**
 * Inference graphs: the examples in examples/graphs, each applied with the CLI and asked through
 * the gateway — a chain with input and output transformers, a RANDOM_ABTEST router, a combiner,
 * tags merged along a chain — and a router that answers a route its node does not have.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findPython } from '../../src/runtime/local/index.ts';
import { ROOT, Trantor, postJson, sklearnPredictProba } from './harness.ts';

const trantor = new Trantor();
const EXAMPLES = join(ROOT, 'examples', 'graphs');
const IRIS = ['setosa', 'versicolor', 'virginica'];
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
];

interface Reply {
  data?: { names?: string[]; ndarray?: number[][] };
  strData?: string;
  meta: { puid: string; tags: Record<string, unknown>; routing: Record<string, number>; requestPath: Record<string, string> };
  status?: { code: number; info: string; reason: string; status: string };
}

before(async () => {
  await trantor.up();
  for (const manifest of ['chain.yaml', 'abtest.yaml', 'ensemble.yaml', 'tags.yaml', 'bad-router.yaml']) {
    trantor.applyAndWait(join(EXAMPLES, manifest));
  }
});
after(() => trantor.close());

async function predict(name: string, ndarray: number[][]): Promise<{ status: number; body: Reply }> {
  const res = await postJson(trantor.url('default', name), { data: { ndarray } });
  return { status: res.status, body: res.body as Reply };
}

/** The iris model's class indices (`predict`), by scikit-learn itself. */
function sklearnPredict(rows: number[][]): number[] {
  return sklearnPredictProba(rows).map((p) => p.indexOf(Math.max(...p)));
}

test('chain: the transformer scales the input, the output transformer names the class, requestPath lists all three nodes', async () => {
  const millimetres = ROWS.map((row) => row.map((v) => Math.round(v * 10)));
  const { status, body } = await predict('iris-chain', millimetres);
  assert.equal(status, 200, JSON.stringify(body));
  const expected = sklearnPredict(ROWS).map((i) => IRIS[i]!);
  assert.deepEqual(expected, ['setosa', 'virginica']);
  assert.equal(body.strData, expected.join(','));
  assert.equal(body.data, undefined);
  assert.deepEqual(body.meta.tags, { predicted: expected });
  assert.deepEqual(Object.keys(body.meta.requestPath).sort(), ['class-name', 'classifier', 'scaler']);
  assert.equal(body.meta.requestPath['classifier'], 'SKLEARN_SERVER');
  assert.match(body.meta.requestPath['scaler']!, /FeatureScaler/);
  assert.match(body.meta.requestPath['class-name']!, /ClassName/);
});

test('abtest: over 200 requests RANDOM_ABTEST picks both children and meta.routing records each choice', async () => {
  const proba = sklearnPredictProba([ROWS[0]!])[0]!;
  const chosen = [0, 0];
  for (let batch = 0; batch < 10; batch++) {
    const replies = await Promise.all(Array.from({ length: 20 }, () => predict('iris-abtest', [ROWS[0]!])));
    for (const { status, body } of replies) {
      assert.equal(status, 200, JSON.stringify(body));
      const route = body.meta.routing['ab-test'];
      assert.ok(route === 0 || route === 1, `meta.routing: ${JSON.stringify(body.meta.routing)}`);
      chosen[route]! += 1;
      const child = route === 0 ? 'iris-proba' : 'iris-class';
      assert.deepEqual(Object.keys(body.meta.requestPath).sort(), ['ab-test', child].sort());
      if (route === 0) {
        // predict_proba: one row of three probabilities.
        const row = body.data?.ndarray?.[0];
        assert.equal(row?.length, 3);
        row.forEach((p, k) => assert.ok(Math.abs(p - proba[k]!) < 1e-9));
      } else {
        // predict: the class index of each row, as scikit-learn returns it (1-D).
        assert.deepEqual(body.data?.ndarray, [0]);
      }
    }
  }
  assert.equal(chosen[0]! + chosen[1]!, 200);
  assert.ok(chosen[0]! > 0 && chosen[1]! > 0, `routes chosen: ${chosen.join(' / ')}`);
});

test("ensemble: the combiner answers the average of its two children's answers", async () => {
  const { status, body } = await predict('iris-ensemble', ROWS);
  assert.equal(status, 200, JSON.stringify(body));
  const expected = sklearnPredictProba(ROWS).map((row) => row.map((p) => (p + 1 / 3) / 2));
  const got = body.data?.ndarray;
  assert.equal(got?.length, expected.length);
  got.forEach((row, i) => {
    assert.equal(row.length, 3);
    row.forEach((v, k) => assert.ok(Math.abs(v - expected[i]![k]!) < 1e-9, `[${i}][${k}]: ${v} vs ${expected[i]![k]}`));
  });
  assert.deepEqual(Object.keys(body.meta.requestPath).sort(), ['average', 'classifier', 'uniform']);
});

test('tags: the tags of a chain merge, the later node winning', async () => {
  const { status, body } = await predict('tag-chain', [[1, 2]]);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body.meta.tags, { common: 2, 'model-1': 'yes', 'model-2': 'yes' });
  assert.deepEqual(body.data?.ndarray, [[1, 2]]);
});

test('a router answering route 5 for two children gets an error naming the router and the route, and the deployment stays up', async () => {
  for (let i = 0; i < 2; i++) {
    const { status, body } = await predict('bad-router', [ROWS[0]!]);
    assert.ok(status >= 400 && status <= 599, `status ${status}`);
    assert.equal(body.status?.status, 'FAILURE');
    assert.match(body.status.info, /router "router"/);
    assert.match(body.status.info, /route 5/);
    assert.match(body.status.info, /0\.\.1/);
  }
  const got = trantor.cli(['get', 'sdep', 'bad-router', '-n', 'default']);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /Available/);
  // The other deployments are unaffected.
  assert.equal((await predict('tag-chain', [[1, 2]])).status, 200);
});

// The Python components work outside Trantor too: a direct check of the combiner and router classes.
test('the example classes keep the wrapper contract', () => {
  const python = findPython(['numpy'], process.env)?.executable;
  assert.ok(python !== undefined, 'no Python with numpy');
  const script = [
    'import sys; sys.path.insert(0, sys.argv[1])',
    'from Average import Average; from BadRouter import BadRouter; from Tagger import Tagger',
    'print(Average().aggregate([[[1.0, 2.0]], [[3.0, 4.0]]], [[], []]).tolist(), BadRouter().route([[1]], []), Tagger("m", 3).tags())',
  ].join('\n');
  const result = spawnSync(python, ['-c', script, join(EXAMPLES, 'components')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "[[2.0, 3.0]] 5 {'common': 3, 'm': 'yes'}");
});
