/**
 * TritonOnnxServer against the example's iris model (examples/onnx, trained by its train.py):
 * its answers equal ONNX Runtime's in Python on the same input to 1e-6 — computed here, by
 * running $TRANTOR_ONNX_PYTHON (a Python with onnxruntime and numpy; .ci/run makes one). Then
 * Triton's checks and messages, a batched configuration with reshapes, the host's V2 REST (JSON
 * and binary) and gRPC faces serving it natively, and an event loop that stays free while a big
 * batch runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  decodeModelInferResponse,
  decodeModelMetadataResponse,
  decodeV2Message,
  decodeV2Response,
  encodeModelInferRequest,
  encodeV2Message,
  encodeV2Request,
  type V2InferenceRequest,
  type V2Tensor,
} from '../../../protocol/index.ts';
import { createDispatcher } from '../../dispatch.ts';
import { v2GrpcMethods } from '../../grpc-v2.ts';
import { serveComponent, type ComponentServer } from '../../server.ts';
import { TritonOnnxServer } from './server.ts';

const CI = process.env['CI'] === 'true';
const PYTHON = process.env['TRANTOR_ONNX_PYTHON'] ?? '';
const SKIP = PYTHON === '' && !CI ? 'TRANTOR_ONNX_PYTHON is not set (a python with onnxruntime; .ci/run makes one)' : false;

const REPOSITORY = fileURLToPath(new URL('../../../../examples/onnx/model-repository', import.meta.url));
const MODEL_FILE = join(REPOSITORY, 'iris', '1', 'model.onnx');
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.0, 5.2, 2.3],
  [5.9, 3.0, 4.2, 1.5],
];

/** ONNX Runtime's answer in Python for `rows` (float32), as plain lists. */
function pythonAnswer(rows: number[][]): { label: number[]; probabilities: number[][] } {
  const script = [
    'import json, sys, numpy as np, onnxruntime as ort',
    'session = ort.InferenceSession(sys.argv[1])',
    'label, probabilities = session.run(["label", "probabilities"], {"float_input": np.array(json.load(sys.stdin), dtype=np.float32)})',
    'print(json.dumps({"label": label.tolist(), "probabilities": probabilities.astype(float).tolist()}))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script, MODEL_FILE], { input: JSON.stringify(rows), encoding: 'utf8' })) as { label: number[]; probabilities: number[][] };
}

function input(rows: number[][], name = 'float_input'): V2Tensor {
  return { name, shape: [rows.length, rows[0]!.length], datatype: 'FP32', values: Float32Array.from(rows.flat()) };
}

function request(inputs: V2Tensor[], extra: Partial<V2InferenceRequest> = {}): { model: string; message: V2InferenceRequest; inputs: V2Tensor[] } {
  return { model: 'iris', message: { inputs: inputs.map(({ name, shape, datatype }) => ({ name, shape, datatype })), ...extra }, inputs };
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], where: string): void {
  assert.equal(actual.length, expected.length, where);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= 1e-6, `${where}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

const scratch = mkdtempSync(join(tmpdir(), 'triton-server-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A repository holding the iris model under `config` (none when undefined). */
function repositoryWith(config: string | undefined, name = 'iris'): string {
  const dir = mkdtempSync(join(scratch, 'repo-'));
  mkdirSync(join(dir, name, '1'), { recursive: true });
  copyFileSync(MODEL_FILE, join(dir, name, '1', 'model.onnx'));
  if (config !== undefined) writeFileSync(join(dir, name, 'config.pbtxt'), config);
  return dir;
}

describe('TritonOnnxServer on the example iris model', { skip: SKIP }, () => {
  const server = new TritonOnnxServer({ model_uri: REPOSITORY });
  before(() => server.load());
  after(() => server.close());

  it('answers as ONNX Runtime in Python does, to 1e-6, every output named as the model names it', async () => {
    const expected = pythonAnswer(ROWS);
    const answer = await server.inferV2(request([input(ROWS)]));
    assert.equal(answer.model_name, 'iris');
    assert.equal(answer.model_version, '1');
    assert.deepEqual(answer.outputs.map((o) => [o.name, o.datatype, o.shape]), [
      ['label', 'INT64', [3]],
      ['probabilities', 'FP32', [3, 3]],
    ]);
    assert.deepEqual([...(answer.outputs[0]!.values as BigInt64Array)].map(Number), expected.label);
    assertClose(answer.outputs[1]!.values as Float32Array, expected.probabilities.flat(), 'probabilities');
  });

  it('answers only the requested outputs', async () => {
    const answer = await server.inferV2(request([input(ROWS)], { outputs: [{ name: 'probabilities' }] }));
    assert.deepEqual(answer.outputs.map((o) => o.name), ['probabilities']);
  });

  it('tells its metadata and readiness as Triton does', () => {
    assert.deepEqual(server.metadataV2('iris'), {
      name: 'iris',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    assert.equal(server.readyV2('iris', '1'), true);
    assert.throws(() => server.readyV2('iris', '2'), /Request for unknown model: 'iris' version 2 is not found; versions served: 1/);
    assert.throws(() => server.metadataV2('other'), /Request for unknown model: 'other' is not found; this server serves 'iris'/);
  });

  it("refuses what the model does not take, in Triton's words, naming the input and what was expected", async () => {
    const cases: [ReturnType<typeof request>, RegExp][] = [
      [request([{ ...input(ROWS), datatype: 'FP64', values: Float64Array.from(ROWS.flat()) }]), /inference input 'float_input' data-type is 'FP64', but model 'iris' expects 'FP32'/],
      [request([input([[1, 2, 3]])]), /unexpected shape for input 'float_input' for model 'iris'\. Expected \[-1,4\], got \[1,3\]/],
      [request([input(ROWS, 'x')]), /unexpected inference input 'x' for model 'iris'; its inputs: float_input/],
      [request([input(ROWS), input(ROWS)]), /input 'float_input' is given twice/],
      [request([input(ROWS)], { outputs: [{ name: 'proba' }] }), /unexpected inference output 'proba' for model 'iris'; its outputs: label, probabilities/],
      [{ ...request([input(ROWS)]), model: 'setosa' }, /Request for unknown model: 'setosa' is not found/],
    ];
    for (const [asked, pattern] of cases) {
      await assert.rejects(server.inferV2(asked), (err: Error & { status?: number }) => {
        assert.match(err.message, pattern);
        assert.ok(err.status === 400 || err.status === 404, String(err.status));
        return true;
      });
    }
    await assert.rejects(server.inferV2(request([])), /expected 1 inputs but got 0 inputs for model 'iris'\. Got input\(s\) \[\], but missing required input\(s\) \['float_input'\]/);
  });
});

describe('TritonOnnxServer configurations', { skip: SKIP }, () => {
  it('batches with max_batch_size, reshapes outputs as configured, and refuses a batch too big', async () => {
    const config = `
      name: "iris"
      platform: "onnxruntime_onnx"
      max_batch_size: 4
      input [ { name: "float_input", data_type: TYPE_FP32, dims: [ 4 ] } ]
      output [
        { name: "label", data_type: TYPE_INT64, dims: [ 1 ], reshape: { shape: [ ] } },
        { name: "probabilities", data_type: TYPE_FP32, dims: [ 3 ] }
      ]`;
    const server = new TritonOnnxServer({ model_uri: repositoryWith(config) });
    await server.load();
    try {
      const answer = await server.inferV2(request([input(ROWS)]));
      assert.deepEqual(answer.outputs.map((o) => o.shape), [[3, 1], [3, 3]]);
      assert.deepEqual([...(answer.outputs[0]!.values as BigInt64Array)].map(Number), pythonAnswer(ROWS).label);
      assert.deepEqual(server.metadataV2('iris').inputs, [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }]);
      await assert.rejects(server.inferV2(request([input([...ROWS, ...ROWS])])), /inference request batch-size must be <= 4 for 'iris' \(input 'float_input' has 6\)/);
    } finally {
      await server.close();
    }
  });

  it('completes a missing config from the model, as Triton auto-completes an ONNX model', async () => {
    const server = new TritonOnnxServer({ model_uri: repositoryWith(undefined, 'flowers') });
    await server.load();
    try {
      assert.equal(server.name, 'flowers');
      assert.deepEqual(server.config.inputs, [{ name: 'float_input', datatype: 'FP32', dims: [-1, 4] }]);
      const answer = await server.inferV2({ ...request([input(ROWS)]), model: 'flowers' });
      assertClose(answer.outputs[1]!.values as Float32Array, pythonAnswer(ROWS).probabilities.flat(), 'probabilities');
    } finally {
      await server.close();
    }
  });

  it('refuses a config that does not describe the model, naming the tensor', async () => {
    const cases: [string, RegExp][] = [
      ['input [ { name: "x", data_type: TYPE_FP32, dims: [ -1, 4 ] } ]', /input 'x' is not a tensor input of the model \(its inputs: float_input\)/],
      ['input [ { name: "float_input", data_type: TYPE_FP64, dims: [ -1, 4 ] } ]', /input 'float_input' is configured as FP64, but the model's is FP32/],
      ['input [ { name: "float_input", data_type: TYPE_FP32, dims: [ -1, 5 ] } ]', /input 'float_input' has dims \[-1,5\], but the model's shape is \[-1,4\]/],
      ['max_batch_size: 2 input [ { name: "float_input", data_type: TYPE_FP32, dims: [ -1, 4 ] } ]', /has dims \[-1,-1,4\] \(with the batch dimension\), but the model's shape is \[-1,4\]/],
    ];
    for (const [config, pattern] of cases) {
      const server = new TritonOnnxServer({ model_uri: repositoryWith(config) });
      await assert.rejects(server.load(), (err: Error) => {
        assert.match(err.message, pattern);
        assert.match(err.message, /config\.pbtxt: /);
        return true;
      });
    }
    assert.throws(() => new TritonOnnxServer({}), /parameter model_uri is required/);
  });
});

/** Says when an inference has reached the model (its request read and decoded). */
class Watched extends TritonOnnxServer {
  inferring = 0;

  override async inferV2(asked: Parameters<TritonOnnxServer['inferV2']>[0]): ReturnType<TritonOnnxServer['inferV2']> {
    this.inferring++;
    try {
      return await super.inferV2(asked);
    } finally {
      this.inferring--;
    }
  }
}

describe('the Node host serving TritonOnnxServer natively', { skip: SKIP }, () => {
  const model = new Watched({ model_uri: REPOSITORY });
  let http: ComponentServer;
  let url: string;
  before(async () => {
    await model.load();
    http = await serveComponent(model, { host: '127.0.0.1' });
    url = `http://127.0.0.1:${http.port}`;
  });
  after(async () => {
    await http.close();
    await model.close();
  });

  it('answers V2 REST in JSON, and in binary when asked', async () => {
    const expected = pythonAnswer(ROWS);
    const json = await fetch(`${url}/v2/models/iris/versions/1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'r1', inputs: [{ name: 'float_input', shape: [3, 4], datatype: 'FP32', data: ROWS.flat() }] }),
    });
    assert.equal(json.status, 200);
    const body = (await json.json()) as { id: string; model_name: string; model_version: string; outputs: { name: string; data: number[] }[] };
    assert.equal(body.id, 'r1');
    assert.equal(body.model_version, '1');
    assert.deepEqual(body.outputs[0]!.data, expected.label);
    assertClose(body.outputs[1]!.data, expected.probabilities.flat(), 'json probabilities');

    const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [input(ROWS)]);
    const binary = await fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(encoded.headerLength) },
      body: encoded.body,
    });
    assert.equal(binary.status, 200);
    const decoded = decodeV2Response(new Uint8Array(await binary.arrayBuffer()), Number(binary.headers.get(INFERENCE_HEADER_CONTENT_LENGTH)));
    assertClose(decoded.tensors[1]!.values as Float32Array, expected.probabilities.flat(), 'binary probabilities');

    const refused = await fetch(`${url}/v2/models/iris/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'float_input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }) });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /unexpected shape for input 'float_input' for model 'iris'\. Expected \[-1,4\], got \[1,3\]/);
    const metadata = (await (await fetch(`${url}/v2/models/iris`)).json()) as { platform: string; versions: string[] };
    assert.deepEqual([metadata.platform, metadata.versions], ['onnxruntime_onnx', ['1']]);
    assert.equal((await fetch(`${url}/v2/models/iris/versions/1/ready`)).status, 200);
    assert.equal((await fetch(`${url}/v2/models/iris/versions/9/ready`)).status, 404);
  });

  it('answers V2 gRPC with the same outputs', async () => {
    const methods = v2GrpcMethods(createDispatcher(model), 'MODEL', 'iris');
    const call = (name: string, bytes: Uint8Array): Promise<Uint8Array> => methods.get(`/inference.GRPCInferenceService/${name}`)!(Buffer.from(bytes));
    const answer = decodeModelInferResponse(await call('ModelInfer', encodeModelInferRequest({ name: 'iris' }, {}, [input(ROWS)])));
    assert.equal(answer.message.model_version, '1');
    assertClose(answer.tensors[1]!.values as Float32Array, pythonAnswer(ROWS).probabilities.flat(), 'grpc probabilities');
    assert.equal(decodeModelMetadataResponse(await call('ModelMetadata', encodeV2Message('ModelMetadataRequest', { name: 'iris' }))).platform, 'onnxruntime_onnx');
    assert.equal(decodeV2Message('ModelReadyResponse', await call('ModelReady', encodeV2Message('ModelReadyRequest', { name: 'iris', version: '1' })))['ready'], true);
    await assert.rejects(call('ModelInfer', encodeModelInferRequest({ name: 'iris', version: '5' }, {}, [input(ROWS)])), /version 5 is not found/);
  });

  it('keeps answering /health/ping while a big batch runs', async () => {
    const rows = 1_000_000;
    const values = new Float32Array(rows * 4);
    for (let i = 0; i < values.length; i++) values[i] = (i % 17) / 3;
    const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'float_input', shape: [rows, 4], datatype: 'FP32', values }]);
    let settled = false;
    const big = fetch(`${url}/v2/models/iris/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(encoded.headerLength) },
      body: encoded.body,
    }).finally(() => {
      settled = true;
    });
    // Pings answered while the model runs the batch (its request already read and decoded).
    let pings = 0;
    while (!settled) {
      const pong = await fetch(`${url}/health/ping`);
      assert.equal(await pong.text(), 'pong');
      if (model.inferring > 0) pings++;
    }
    assert.equal((await big).status, 200);
    assert.ok(pings >= 3, `only ${pings} pings were answered while the batch ran`);
  });
});

describe('TritonOnnxServer datatypes: BYTES, FP16 and BOOL over V2 JSON and binary', () => {
  const TYPES = fileURLToPath(new URL('./testdata/types', import.meta.url));
  const model = new TritonOnnxServer({ model_uri: TYPES });
  let http: ComponentServer;
  let url: string;
  before(async () => {
    await model.load();
    http = await serveComponent(model, { host: '127.0.0.1' });
    url = `http://127.0.0.1:${http.port}/v2/models/types/infer`;
  });
  after(async () => {
    await http.close();
    await model.close();
  });

  it('completes the config with the V2 datatype of each ONNX type', () => {
    assert.deepEqual(
      model.metadataV2('types').inputs.map((i) => [i.name, i.datatype, i.shape]),
      [
        ['text', 'BYTES', [-1]],
        ['half', 'FP16', [-1]],
        ['flag', 'BOOL', [-1]],
      ],
    );
  });

  it('answers JSON', async () => {
    const res = await fetch(url, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [
          { name: 'text', shape: [2], datatype: 'BYTES', data: ['héllo', ''] },
          { name: 'half', shape: [3], datatype: 'FP16', data: [1.5, -0.25, 1000] },
          { name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false] },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: { name: string; datatype: string; data: unknown[] }[] };
    assert.deepEqual(
      body.outputs.map((o) => [o.name, o.datatype, o.data]),
      [
        ['text_out', 'BYTES', ['héllo', '']],
        ['half_out', 'FP16', [3, -0.5, 2000]],
        ['flag_out', 'BOOL', [false, true]],
      ],
    );
  });

  it('answers binary data, BYTES elements that are not text refused naming the input', async () => {
    const utf8 = new TextEncoder();
    const inputs: V2Tensor[] = [
      { name: 'text', shape: [1], datatype: 'BYTES', values: [utf8.encode('ünïcode')] },
      { name: 'half', shape: [2], datatype: 'FP16', values: Float32Array.of(0.5, 65504 / 2) },
      { name: 'flag', shape: [1], datatype: 'BOOL', values: Uint8Array.of(0) },
    ];
    const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, inputs);
    const res = await fetch(url, { method: 'POST', headers: { [INFERENCE_HEADER_CONTENT_LENGTH]: String(encoded.headerLength) }, body: encoded.body });
    assert.equal(res.status, 200);
    const decoded = decodeV2Response(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get(INFERENCE_HEADER_CONTENT_LENGTH)));
    assert.deepEqual(decoded.tensors.map((t) => t.values), [[utf8.encode('ünïcode')], Float32Array.of(1, 65504), Uint8Array.of(1)]);

    const bad = encodeV2Request({}, [{ ...inputs[0]!, values: [Uint8Array.of(0xff)] }, inputs[1]!, inputs[2]!]);
    const refused = await fetch(url, { method: 'POST', headers: { [INFERENCE_HEADER_CONTENT_LENGTH]: String(bad.headerLength) }, body: bad.body });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /input 'text': BYTES element 0 is not UTF-8 text/);
  });
});
