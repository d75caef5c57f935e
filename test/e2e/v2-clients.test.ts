/**
 * Journey J5 on the Open Inference Protocol: real V2 clients from PyPI — tritonclient's HTTP and
 * gRPC clients, KServe's InferenceRESTClient — against `protocol: v2` deployments behind the
 * gateway of `trantor up`: the iris example (FP32 in, MLServer's `predict`/`predict_proba` out) and
 * a Python user class that returns its input (BYTES in and out). Each client's answer must equal
 * plain V2 REST's for the same input, and iris's must equal scikit-learn's own.
 *
 * The clients live in virtualenvs .ci/run makes: TRANTOR_TRITON_PYTHON (tritonclient[http,grpc])
 * and TRANTOR_KSERVE_PYTHON (kserve). Outside CI a missing one skips its tests with the reason;
 * in CI it fails them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT, Trantor, postJson, sklearnPredictProba } from './harness.ts';

const CI = process.env['CI'] === 'true';
const TRITON_PYTHON = process.env['TRANTOR_TRITON_PYTHON'] ?? '';
const KSERVE_PYTHON = process.env['TRANTOR_KSERVE_PYTHON'] ?? '';
const TRITON_SKIP = TRITON_PYTHON === '' && !CI ? 'TRANTOR_TRITON_PYTHON is not set (a python with tritonclient[http,grpc]; .ci/run makes one)' : false;
const KSERVE_SKIP = KSERVE_PYTHON === '' && !CI ? 'TRANTOR_KSERVE_PYTHON is not set (a python with kserve; .ci/run makes one)' : false;

const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [1, 2, 3, 4],
];
const WORDS = ['alpha', 'βeta', ''];

const trantor = new Trantor();
let hostPort = '';

before(async () => {
  await trantor.up();
  hostPort = new URL(trantor.gateway).host;
  trantor.applyAndWait(join(ROOT, 'examples', 'iris', 'iris-v2.yaml'));
  const dir = mkdtempSync(join(tmpdir(), 'trantor-v2-echo-'));
  writeFileSync(join(dir, 'Echo.py'), 'class Echo:\n    def predict(self, X, features_names=None):\n        return X\n');
  writeFileSync(
    join(dir, 'echo.yaml'),
    [
      'apiVersion: machinelearning.seldon.io/v1',
      'kind: SeldonDeployment',
      'metadata: {name: echo-v2, namespace: seldon}',
      'spec:',
      '  protocol: v2',
      '  predictors:',
      '  - name: default',
      '    graph: {name: echo, type: MODEL}',
      '    componentSpecs:',
      '    - spec:',
      '        containers:',
      '        - name: echo',
      '          command: [seldon-core-microservice, Echo]',
      '          workingDir: .',
      '',
    ].join('\n'),
  );
  trantor.applyAndWait(join(dir, 'echo.yaml'));
});
after(() => trantor.close());

interface V2Output {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

/** The classes scikit-learn predicts for `rows`: the argmax of its own predict_proba. */
function sklearnClasses(rows: number[][]): number[] {
  return sklearnPredictProba(rows).map((p) => p.indexOf(Math.max(...p)));
}

async function restInfer(deployment: string, model: string, body: unknown): Promise<V2Output[]> {
  const res = await postJson(trantor.url('seldon', deployment, `v2/models/${model}/infer`), body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return (res.body as { outputs: V2Output[] }).outputs;
}

/** Runs `script` in `python` with `input` (JSON) on stdin; its stdout is JSON. */
function runPython(python: string, script: string, input: unknown): Record<string, unknown> {
  if (python === '') assert.fail('no client python: .ci/run installs it and sets its TRANTOR_*_PYTHON');
  const run = spawnSync(python, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `the client failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

const TRITON_SCRIPT = String.raw`
import json, sys
import numpy as np
import tritonclient.http as th
import tritonclient.grpc as tg
from tritonclient.utils import InferenceServerException

cfg = json.load(sys.stdin)
rows = np.array(cfg["rows"], dtype=np.float32)
words = np.array([w.encode() for w in cfg["words"]], dtype=np.object_)
out = {}

h = th.InferenceServerClient(url=cfg["http"] + "/seldon/seldon/iris-v2")
out["http_live"] = h.is_server_live()
out["http_ready"] = h.is_server_ready()
out["http_model_ready"] = h.is_model_ready("classifier")
out["http_metadata"] = h.get_model_metadata("classifier")
i = th.InferInput("predict", list(rows.shape), "FP32"); i.set_data_from_numpy(rows, binary_data=True)
r = h.infer("classifier", [i], outputs=[th.InferRequestedOutput("predict", binary_data=True)])
out["http_predict"] = r.as_numpy("predict").tolist()
i = th.InferInput("predict", list(rows.shape), "FP32"); i.set_data_from_numpy(rows, binary_data=False)
r = h.infer("classifier", [i], outputs=[th.InferRequestedOutput("predict_proba", binary_data=False)])
out["http_proba"] = r.as_numpy("predict_proba").tolist()
e = th.InferenceServerClient(url=cfg["http"] + "/seldon/seldon/echo-v2")
b = th.InferInput("text", [len(words)], "BYTES"); b.set_data_from_numpy(words, binary_data=True)
r = e.infer("echo", [b], outputs=[th.InferRequestedOutput("predict", binary_data=True)])
out["http_bytes"] = [x.decode() for x in r.as_numpy("predict").reshape(-1).tolist()]
try:
    i = th.InferInput("predict", [1, 5], "FP32"); i.set_data_from_numpy(np.ones((1, 5), dtype=np.float32))
    h.infer("classifier", [i])
    out["http_error"] = None
except InferenceServerException as err:
    out["http_error"] = {"status": str(err.status()), "message": err.message()}

md = [("seldon", "iris-v2"), ("namespace", "seldon")]
g = tg.InferenceServerClient(url=cfg["grpc"])
hd = dict(md)
out["grpc_live"] = g.is_server_live(headers=hd)
out["grpc_ready"] = g.is_server_ready(headers=hd)
out["grpc_model_ready"] = g.is_model_ready("classifier", headers=hd)
m = g.get_model_metadata("classifier", headers=hd, as_json=True)
out["grpc_metadata_name"] = m["name"]
i = tg.InferInput("predict", list(rows.shape), "FP32"); i.set_data_from_numpy(rows)
r = g.infer("classifier", [i], outputs=[tg.InferRequestedOutput("predict")], headers=hd)
out["grpc_predict"] = r.as_numpy("predict").tolist()
r = g.infer("classifier", [i], outputs=[tg.InferRequestedOutput("predict_proba")], headers=hd)
out["grpc_proba"] = r.as_numpy("predict_proba").tolist()
b = tg.InferInput("text", [len(words)], "BYTES"); b.set_data_from_numpy(words)
r = g.infer("echo", [b], headers={"seldon": "echo-v2", "namespace": "seldon"})
out["grpc_bytes"] = [x.decode() for x in r.as_numpy("predict").reshape(-1).tolist()]
try:
    i = tg.InferInput("predict", [1, 5], "FP32"); i.set_data_from_numpy(np.ones((1, 5), dtype=np.float32))
    g.infer("classifier", [i], headers=hd)
    out["grpc_error"] = None
except InferenceServerException as err:
    out["grpc_error"] = {"status": str(err.status()), "message": err.message()}
print(json.dumps(out))
`;

const KSERVE_SCRIPT = String.raw`
import asyncio, json, sys
from kserve import InferenceRESTClient, RESTConfig

cfg = json.load(sys.stdin)
base = "http://" + cfg["http"] + "/seldon/seldon/iris-v2"

async def main():
    client = InferenceRESTClient(RESTConfig(protocol="v2", retries=0, timeout=30))
    out = {}
    out["live"] = await client.is_server_live(base)
    out["ready"] = await client.is_server_ready(base)
    out["model_ready"] = await client.is_model_ready(base, "classifier")
    body = {"inputs": [{"name": "predict", "shape": [len(cfg["rows"]), 4], "datatype": "FP64", "data": cfg["rows"]}],
            "outputs": [{"name": "predict_proba"}]}
    res = await client.infer(base, body, model_name="classifier")
    out["proba"] = res.outputs[0].data if hasattr(res, "outputs") else res["outputs"][0]["data"]
    out["name"] = res.outputs[0].name if hasattr(res, "outputs") else res["outputs"][0]["name"]
    await client.close()
    print(json.dumps(out))

asyncio.run(main())
`;

function assertClose(actual: number[][], expected: number[][], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(v - expected[r]![c]!) <= tolerance, `${what} [${r}][${c}]: ${v} vs ${expected[r]![c]}`)));
}

test('V2 REST answers iris with scikit-learn\'s classes and probabilities, named as MLServer names them', async () => {
  const body = { inputs: [{ name: 'predict', shape: [ROWS.length, 4], datatype: 'FP32', data: ROWS.flat() }] };
  const [predict] = await restInfer('iris-v2', 'classifier', body);
  assert.equal(predict!.name, 'predict');
  assert.deepEqual(predict!.data, sklearnClasses(ROWS));
  const [proba] = await restInfer('iris-v2', 'classifier', { ...body, outputs: [{ name: 'predict_proba' }] });
  assert.equal(proba!.name, 'predict_proba');
  assert.deepEqual(proba!.shape, [ROWS.length, 3]);
});

test('tritonclient over HTTP and gRPC gets the answers V2 REST gives, through the gateway', { skip: TRITON_SKIP }, async () => {
  const out = runPython(TRITON_PYTHON, TRITON_SCRIPT, { http: hostPort, grpc: hostPort, rows: ROWS, words: WORDS });
  const restBody = { inputs: [{ name: 'predict', shape: [ROWS.length, 4], datatype: 'FP32', data: ROWS.flat() }] };
  const [restPredict] = await restInfer('iris-v2', 'classifier', restBody);
  const [restProba] = await restInfer('iris-v2', 'classifier', { ...restBody, outputs: [{ name: 'predict_proba' }] });
  const classes = (restPredict!.data as number[]).map((c) => [c]);
  const proba: number[][] = [];
  for (let r = 0; r < ROWS.length; r++) proba.push((restProba!.data as number[]).slice(r * 3, r * 3 + 3));

  for (const wire of ['http', 'grpc']) {
    assert.equal(out[`${wire}_live`], true, `${wire}: server live`);
    assert.equal(out[`${wire}_ready`], true, `${wire}: server ready`);
    assert.equal(out[`${wire}_model_ready`], true, `${wire}: model ready`);
    assert.deepEqual(out[`${wire}_predict`], classes, `${wire}: predict`);
    assertClose(out[`${wire}_proba`] as number[][], proba, 1e-6, `${wire}: predict_proba`);
    assert.deepEqual(out[`${wire}_bytes`], WORDS, `${wire}: BYTES echoed`);
    const error = out[`${wire}_error`] as { status: string; message: string } | null;
    assert.notEqual(error, null, `${wire}: five features must fail`);
    assert.match(error!.message, /4/, `${wire}: the error names the expected feature count`);
  }
  assert.equal((out['http_error'] as { status: string }).status, '400');
  assert.equal((out['grpc_error'] as { status: string }).status, 'StatusCode.INVALID_ARGUMENT');
  assert.equal((out['http_metadata'] as { name: string }).name, 'classifier');
  assert.equal(out['grpc_metadata_name'], 'classifier');
});

test("KServe's InferenceRESTClient gets the answers V2 REST gives, through the gateway", { skip: KSERVE_SKIP }, async () => {
  const out = runPython(KSERVE_PYTHON, KSERVE_SCRIPT, { http: hostPort, rows: ROWS });
  assert.equal(out['live'], true);
  assert.equal(out['ready'], true);
  assert.equal(out['model_ready'], true);
  assert.equal(out['name'], 'predict_proba');
  const body = { inputs: [{ name: 'predict', shape: [ROWS.length, 4], datatype: 'FP64', data: ROWS }], outputs: [{ name: 'predict_proba' }] };
  const [rest] = await restInfer('iris-v2', 'classifier', body);
  assert.deepEqual((out['proba'] as unknown[]).flat(), rest!.data.flat());
});
