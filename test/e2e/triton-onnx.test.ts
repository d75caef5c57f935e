/**
 * TRITON_SERVER with an ONNX model under `trantor up`: the example's Triton model repository
 * (examples/onnx) applied as a `protocol: v2` deployment, asked through the gateway with plain V2
 * REST and with tritonclient's HTTP and gRPC clients (FP32 in; model metadata; readiness). The
 * answers must equal ONNX Runtime's own in Python on the same rows, to 1e-6.
 *
 * Pythons from .ci/run: TRANTOR_ONNX_PYTHON (onnxruntime) and TRANTOR_TRITON_PYTHON
 * (tritonclient[http,grpc]). Outside CI a missing one skips with the reason; in CI it fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, Trantor, postJson } from './harness.ts';

const CI = process.env['CI'] === 'true';
const ONNX_PYTHON = process.env['TRANTOR_ONNX_PYTHON'] ?? '';
const TRITON_PYTHON = process.env['TRANTOR_TRITON_PYTHON'] ?? '';
const SKIP = ONNX_PYTHON === '' && !CI ? 'TRANTOR_ONNX_PYTHON is not set (a python with onnxruntime; .ci/run makes one)' : false;
const TRITON_SKIP = TRITON_PYTHON === '' && !CI ? 'TRANTOR_TRITON_PYTHON is not set (a python with tritonclient[http,grpc]; .ci/run makes one)' : false;

const EXAMPLE = join(ROOT, 'examples', 'onnx');
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];

interface Expected {
  label: number[];
  probabilities: number[][];
}

/** Runs `script` in `python` with `input` as JSON on stdin; its stdout is JSON. */
function runPython<T>(python: string, script: string, input: unknown): T {
  if (python === '') assert.fail('no python for this step: .ci/run makes it and sets its TRANTOR_*_PYTHON');
  const run = spawnSync(python, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, `python failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

const ORT_SCRIPT = String.raw`
import json, sys, numpy as np, onnxruntime as ort
cfg = json.load(sys.stdin)
session = ort.InferenceSession(cfg["model"])
label, probabilities = session.run(["label", "probabilities"], {"float_input": np.array(cfg["rows"], dtype=np.float32)})
print(json.dumps({"label": label.tolist(), "probabilities": probabilities.astype(float).tolist()}))
`;

const TRITON_SCRIPT = String.raw`
import json, sys
import numpy as np
import tritonclient.http as th
import tritonclient.grpc as tg
from tritonclient.utils import InferenceServerException

cfg = json.load(sys.stdin)
rows = np.array(cfg["rows"], dtype=np.float32)
out = {}

h = th.InferenceServerClient(url=cfg["address"] + "/seldon/seldon/iris-triton")
out["http_ready"] = h.is_model_ready("iris")
out["http_metadata"] = h.get_model_metadata("iris")
i = th.InferInput("float_input", list(rows.shape), "FP32"); i.set_data_from_numpy(rows, binary_data=True)
r = h.infer("iris", [i], outputs=[th.InferRequestedOutput("probabilities", binary_data=True), th.InferRequestedOutput("label", binary_data=False)])
out["http_probabilities"] = r.as_numpy("probabilities").astype(float).tolist()
out["http_label"] = r.as_numpy("label").tolist()
try:
    i = th.InferInput("float_input", [1, 3], "FP32"); i.set_data_from_numpy(np.ones((1, 3), dtype=np.float32))
    h.infer("iris", [i])
    out["http_error"] = None
except InferenceServerException as err:
    out["http_error"] = err.message()

hd = {"seldon": "iris-triton", "namespace": "seldon"}
g = tg.InferenceServerClient(url=cfg["address"])
out["grpc_ready"] = g.is_model_ready("iris", headers=hd)
m = g.get_model_metadata("iris", headers=hd, as_json=True)
out["grpc_metadata"] = {"name": m["name"], "platform": m["platform"], "versions": m.get("versions", [])}
i = tg.InferInput("float_input", list(rows.shape), "FP32"); i.set_data_from_numpy(rows)
r = g.infer("iris", [i], headers=hd)
out["grpc_probabilities"] = r.as_numpy("probabilities").astype(float).tolist()
out["grpc_label"] = r.as_numpy("label").tolist()
print(json.dumps(out))
`;

function assertClose(actual: number[][], expected: number[][], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(v - expected[r]![c]!) <= 1e-6, `${what}[${r}][${c}]: ${v} vs ${expected[r]![c]}`)));
}

function rowsOf(flat: number[], width: number): number[][] {
  return Array.from({ length: flat.length / width }, (_, r) => flat.slice(r * width, (r + 1) * width));
}

describe('TRITON_SERVER serving the example ONNX repository', { skip: SKIP }, () => {
  const trantor = new Trantor();
  let expected: Expected;
  before(async () => {
    expected = runPython<Expected>(ONNX_PYTHON, ORT_SCRIPT, { model: join(EXAMPLE, 'model-repository', 'iris', '1', 'model.onnx'), rows: ROWS });
    await trantor.up();
    trantor.applyAndWait(join(EXAMPLE, 'iris-triton.yaml'));
  });
  after(() => trantor.close());

  it("answers V2 REST through the gateway with ONNX Runtime's own outputs, and Triton's metadata and readiness", async () => {
    const res = await postJson(trantor.url('seldon', 'iris-triton', 'v2/models/iris/infer'), {
      id: 'q1',
      inputs: [{ name: 'float_input', shape: [ROWS.length, 4], datatype: 'FP32', data: ROWS }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as { model_name: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    assert.equal(body.id, 'q1');
    assert.deepEqual(body.outputs.map((o) => [o.name, o.datatype, o.shape]), [
      ['label', 'INT64', [3]],
      ['probabilities', 'FP32', [3, 3]],
    ]);
    assert.deepEqual(body.outputs[0]!.data, expected.label);
    assertClose(rowsOf(body.outputs[1]!.data, 3), expected.probabilities, 'REST probabilities');

    const metadata = await fetch(trantor.url('seldon', 'iris-triton', 'v2/models/iris'));
    assert.equal(metadata.status, 200);
    assert.deepEqual(await metadata.json(), {
      name: 'iris',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    assert.equal((await fetch(trantor.url('seldon', 'iris-triton', 'v2/models/iris/ready'))).status, 200);

    const refused = await postJson(trantor.url('seldon', 'iris-triton', 'v2/models/iris/infer'), { inputs: [{ name: 'float_input', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4] }] });
    assert.equal(refused.status, 400);
    assert.match((refused.body as { error: string }).error, /inference input 'float_input' data-type is 'FP64', but model 'iris' expects 'FP32'/);
  });

  it('is refused on the Seldon protocol when applied, saying to set spec.protocol: v2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trantor-triton-seldon-'));
    const manifest = join(dir, 'iris-seldon.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: machinelearning.seldon.io/v1',
        'kind: SeldonDeployment',
        'metadata: {name: iris-seldon, namespace: seldon}',
        'spec:',
        '  predictors:',
        '  - name: default',
        `    graph: {name: iris, implementation: TRITON_SERVER, modelUri: ${JSON.stringify(join(EXAMPLE, 'model-repository'))}}`,
        '',
      ].join('\n'),
    );
    const applied = trantor.cli(['apply', '-f', manifest, '--wait', '--timeout', '60s']);
    assert.equal(applied.code, 1, applied.stdout);
    assert.match(applied.stderr, /spec\.protocol is seldon, but .*TRITON_SERVER .*: set spec\.protocol: v2/);
  });

  it('answers tritonclient over HTTP and gRPC with the same outputs', { skip: TRITON_SKIP }, () => {
    const out = runPython<Record<string, unknown>>(TRITON_PYTHON, TRITON_SCRIPT, { address: new URL(trantor.gateway).host, rows: ROWS });
    for (const wire of ['http', 'grpc']) {
      assert.equal(out[`${wire}_ready`], true, `${wire}: model ready`);
      assert.deepEqual(out[`${wire}_label`], expected.label, `${wire}: label`);
      assertClose(out[`${wire}_probabilities`] as number[][], expected.probabilities, `${wire} probabilities`);
    }
    const metadata = out['http_metadata'] as { platform: string; versions: string[]; inputs: unknown[] };
    assert.equal(metadata.platform, 'onnxruntime_onnx');
    assert.deepEqual(metadata.versions, ['1']);
    assert.deepEqual(metadata.inputs, [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }]);
    assert.deepEqual(out['grpc_metadata'], { name: 'iris', platform: 'onnxruntime_onnx', versions: ['1'] });
    assert.match(String(out['http_error']), /unexpected shape for input 'float_input' for model 'iris'\. Expected \[-1,4\], got \[1,3\]/);
  });
});
