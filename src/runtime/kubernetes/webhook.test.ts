import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { renderConfig } from './config.ts';
import { admissionHandler, admissionReview, WEBHOOK_PATH, type AdmissionResult } from './webhook.ts';

const CONFIG = renderConfig();
const VERSIONS = ['v1', 'v1alpha2', 'v1alpha3'] as const;

function sdep(version: string, spec: unknown, metadata: Record<string, unknown> = { name: 'iris', namespace: 'models' }): unknown {
  return { apiVersion: `machinelearning.seldon.io/${version}`, kind: 'SeldonDeployment', metadata, spec };
}

const GOOD = { predictors: [{ name: 'default', replicas: 1, graph: { name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: 'gs://seldon-models/sklearn/iris' } }] };
/** Three problems in two predictors: a missing modelUri, a duplicate name, traffic not summing to 100. */
const BAD = {
  predictors: [
    { name: 'main', traffic: 60, graph: { name: 'classifier', implementation: 'SKLEARN_SERVER' } },
    { name: 'main', traffic: 30, replicas: -1, graph: { name: 'classifier', implementation: 'SKLEARN_SERVER', modelUri: 'gs://x/y' } },
  ],
};

function review(object: unknown, uid = 'c0ffee-1', operation = 'CREATE'): unknown {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, operation, namespace: 'models', name: 'iris', object } };
}

interface Answer {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; reason: string; message: string } };
}

describe('admissionReview', () => {
  for (const version of VERSIONS) {
    test(`a valid ${version} SeldonDeployment is allowed, the uid echoed`, () => {
      const verdict = admissionReview(review(sdep(version, GOOD), `uid-${version}`), CONFIG);
      assert.equal(verdict.httpStatus, 200);
      assert.equal(verdict.result, 'allowed');
      assert.deepEqual(verdict.body, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: `uid-${version}`, allowed: true } });
    });

    test(`an invalid ${version} SeldonDeployment is refused with every problem by field path`, () => {
      const verdict = admissionReview(review(sdep(version, BAD), 'uid-bad', 'UPDATE'), CONFIG);
      assert.equal(verdict.result, 'denied');
      const { response } = verdict.body as Answer;
      assert.equal(response.uid, 'uid-bad');
      assert.equal(response.allowed, false);
      assert.equal(response.status?.code, 422);
      assert.equal(response.status?.reason, 'Invalid');
      const message = response.status?.message ?? '';
      assert.match(message, /^SeldonDeployment models\/iris has \d+ problems:\n/);
      assert.match(message, /spec\.predictors\[0\]\.graph\.modelUri/);
      assert.match(message, /spec\.predictors\[1\]\.name/);
      assert.match(message, /spec\.predictors\[1\]\.replicas: expected a non-negative integer, got -1/);
      assert.match(message, /traffic/);
    });

    test(`a garbage ${version} review is answered 400 saying why, never thrown`, () => {
      const garbage: unknown[] = [
        null,
        'text',
        [],
        { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1beta1', request: { uid: 'u', object: sdep(version, GOOD) } },
        { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' },
        { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: { object: sdep(version, GOOD) } },
        { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: { uid: 'u', object: [sdep(version, GOOD)] } },
      ];
      for (const body of garbage) {
        const verdict = admissionReview(body, CONFIG);
        assert.equal(verdict.httpStatus, 400, JSON.stringify(body));
        assert.equal(verdict.result, 'malformed');
        assert.match((verdict.body as { message: string }).message, /^not an AdmissionReview: /);
      }
    });

    test(`a ${version} object that is no SeldonDeployment at all is refused, not crashed on`, () => {
      for (const object of [{}, sdep(version, 'a string'), sdep(version, { predictors: 'none' }), sdep(version, GOOD, {})]) {
        const verdict = admissionReview(review(object), CONFIG);
        assert.equal(verdict.result, 'denied', JSON.stringify(object));
        assert.ok(((verdict.body as Answer).response.status?.message ?? '').length > 0);
      }
    });
  }

  test('the namespace of a CREATE may be only the request’s, and a generateName’d object is judged by its spec', () => {
    const verdict = admissionReview(review(sdep('v1', GOOD, { generateName: 'iris-' })), CONFIG);
    assert.equal(verdict.result, 'allowed', JSON.stringify(verdict.body));
  });

  test('what is admitted but not acted on comes back as warnings, each by field path', () => {
    const spec = {
      replicas: 3,
      annotations: { 'seldon.io/engine-separate-pod': 'true' },
      predictors: [{ ...GOOD.predictors[0], explainer: { type: 'AnchorTabular', modelUri: 'gs://x/explainer' } }],
    };
    const { response } = admissionReview(review(sdep('v1', spec)), CONFIG).body as Answer & { response: { warnings?: string[] } };
    assert.equal(response.allowed, true);
    assert.deepEqual(response.warnings, [
      'spec.replicas: not applied yet; set spec.predictors[].replicas',
      'spec.annotations: seldon.io/engine-separate-pod is not supported yet and is ignored',
      'spec.predictors[0].explainer: kept, not run (Trantor runs no explainers yet)',
    ]);
    for (const warning of response.warnings ?? []) assert.ok(warning.length <= 120, warning);
  });

  test('a DELETE, which carries no object, is allowed', () => {
    const verdict = admissionReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'd', operation: 'DELETE', oldObject: sdep('v1', BAD) } }, CONFIG);
    assert.deepEqual((verdict.body as Answer).response, { uid: 'd', allowed: true });
  });

  test('what render refuses with the operator’s settings (a server with no image) is refused as the reconcile would', () => {
    const spec = { predictors: [{ name: 'p', graph: { name: 'model', implementation: 'TRITON_SERVER', modelUri: 'gs://x/y' } }] };
    const verdict = admissionReview(review(sdep('v1', spec)), CONFIG);
    assert.equal(verdict.result, 'denied');
    assert.match((verdict.body as Answer).response.status?.message ?? '', /^SeldonDeployment models\/iris: no image for implementation TRITON_SERVER with protocol seldon/);
  });
});

describe('admissionHandler over HTTP', () => {
  let server: Server;
  let base: string;
  const results: AdmissionResult[] = [];

  before(async () => {
    server = createServer(admissionHandler({ config: CONFIG, bodyLimit: 64 * 1024, onResult: (r) => results.push(r) }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = (body: string, path = WEBHOOK_PATH): Promise<Response> => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  test('a review round trip: valid allowed, invalid refused, with the uid', async () => {
    const allowed = (await (await post(JSON.stringify(review(sdep('v1alpha2', GOOD), 'one')))).json()) as Answer;
    assert.deepEqual(allowed.response, { uid: 'one', allowed: true });
    const refused = await post(JSON.stringify(review(sdep('v1alpha3', BAD), 'two')));
    assert.equal(refused.status, 200);
    const answer = (await refused.json()) as Answer;
    assert.equal(answer.response.uid, 'two');
    assert.equal(answer.response.allowed, false);
    assert.match(answer.response.status?.message ?? '', /spec\.predictors\[1\]\.name/);
  });

  test('a body that is not JSON is a 400 Status', async () => {
    const response = await post('{"kind": "AdmissionRev');
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /not JSON/);
  });

  test('a body over the limit is refused 413 without being read whole', async () => {
    const big = JSON.stringify(review(sdep('v1', { ...GOOD, annotations: { pad: 'x'.repeat(100 * 1024) } })));
    const response = await post(big);
    assert.equal(response.status, 413);
    await response.arrayBuffer();
  });

  test('another path is 404, another method 405', async () => {
    assert.equal((await post('{}', '/mutate')).status, 404);
    const get = await fetch(`${base}${WEBHOOK_PATH}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  test('every answer is counted by result', () => {
    assert.ok(results.includes('allowed') && results.includes('denied') && results.includes('malformed'), results.join(','));
  });
});
