/**
 * The Node host's V2 face: a user class with Seldon's contract answering V2 inference (the
 * executor's V2 transport against it: src/server/v2-node-host.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeV2Response, encodeV2Request } from '../protocol/index.ts';
import type { Features } from './contract.ts';
import { MicroserviceError } from './errors.ts';
import { serveComponent, type ComponentServer } from './server.ts';

/** Doubles every number; answers several inputs (an object) with one output per input, plus one. */
class Doubler {
  predict(X: Features): Features | Record<string, unknown> {
    if (Array.isArray(X)) {
      if (X.length > 0 && X.every((row) => Array.isArray(row) && row.length === 5)) throw new MicroserviceError('expected 4 features per row, got 5', 422);
      return double(X) as Features;
    }
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(X as Record<string, unknown>)) out[`${name}_x2`] = double(value);
    return out;
  }

  transformInput(X: Features): Features {
    return (X as number[][]).map((row) => row.map((v) => v + 1));
  }

  init_metadata(): Record<string, unknown> {
    return { name: 'doubler', versions: ['7'], platform: 'node-test', inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }], outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1, 4] }] };
  }
}

function double(value: unknown): unknown {
  return Array.isArray(value) ? value.map(double) : typeof value === 'number' ? value * 2 : value;
}

let model: ComponentServer;
let transformer: ComponentServer;
let base: string;

before(async () => {
  model = await serveComponent(new Doubler(), { port: 0 });
  transformer = await serveComponent(new Doubler(), { port: 0, serviceType: 'TRANSFORMER' });
  base = `http://127.0.0.1:${model.port}`;
});

after(async () => {
  await model.close();
  await transformer.close();
});

async function infer(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test('one input arrives as nested arrays in its shape; the answer is the output "predict" with shape and datatype read from it', async () => {
  const answer = await infer(`${base}/v2/models/anything/infer`, { id: 'r', inputs: [{ name: 'x', shape: [2, 2], datatype: 'FP64', data: [1, 2.5, 3, 4] }] });
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.json, { model_name: 'anything', id: 'r', outputs: [{ name: 'predict', shape: [2, 2], datatype: 'FP64', data: [2, 5, 6, 8] }] });
  const strings = await infer(`${base}/v2/models/m/infer`, { inputs: [{ name: 's', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }] });
  assert.deepEqual((strings.json as { outputs: unknown[] }).outputs, [{ name: 'predict', shape: [2], datatype: 'BYTES', data: ['a', 'b'] }]);
  const ints = await infer(`${base}/v2/models/m/versions/3/infer`, { inputs: [{ name: 'x', shape: [3], datatype: 'INT32', data: [1, 2, 3] }] });
  assert.deepEqual((ints.json as { outputs: unknown[] }).outputs, [{ name: 'predict', shape: [3], datatype: 'INT64', data: [2, 4, 6] }]);
});

test('several inputs arrive as one object by input name; an object answer is one output per key', async () => {
  const answer = await infer(`${base}/v2/models/m/infer`, {
    inputs: [
      { name: 'a', shape: [2], datatype: 'FP32', data: [1, 2] },
      { name: 'b', shape: [1, 2], datatype: 'INT64', data: [[3, 4]] },
    ],
  });
  assert.deepEqual((answer.json as { outputs: unknown[] }).outputs, [
    { name: 'a_x2', shape: [2], datatype: 'FP64', data: [2, 4] },
    { name: 'b_x2', shape: [1, 2], datatype: 'FP64', data: [6, 8] },
  ]);
});

test('binary input and binary output, as the extension asks', async () => {
  const encoded = encodeV2Request({ parameters: { binary_data_output: true } }, [{ name: 'x', shape: [1, 3], datatype: 'FP32', values: Float32Array.of(0.5, 1, 1.5) }]);
  const res = await fetch(`${base}/v2/models/m/infer`, { method: 'POST', body: encoded.body, headers: { 'inference-header-content-length': String(encoded.headerLength) } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const answer = decodeV2Response(new Uint8Array(await res.arrayBuffer()), Number(res.headers.get('inference-header-content-length')));
  assert.deepEqual(Array.from(answer.tensors[0]!.values as Float64Array), [1, 2, 3]);
});

test("a model's error and a bad request are V2 error bodies with their status", async () => {
  const refused = await infer(`${base}/v2/models/m/infer`, { inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP64', data: [1, 2, 3, 4, 5] }] });
  assert.deepEqual(refused, { status: 422, json: { error: 'expected 4 features per row, got 5' } });
  const bad = await infer(`${base}/v2/models/m/infer`, { inputs: [{ name: 'x', shape: [2], datatype: 'FP64', data: [1] }] });
  assert.equal(bad.status, 400);
  assert.match((bad.json as { error: string }).error, /inputs\[0\]/);
  const get = await fetch(`${base}/v2/models/m/infer`);
  assert.deepEqual([get.status, get.headers.get('allow')], [405, 'POST']);
  const unknown = await fetch(`${base}/v2/models/m/explain`);
  assert.equal(unknown.status, 404);
  assert.match(((await unknown.json()) as { error: string }).error, /no such V2 path/);
});

test('readiness, health and model metadata (from the class, named as asked)', async () => {
  assert.equal((await fetch(`${base}/v2/models/m/ready`)).status, 200);
  assert.equal((await fetch(`${base}/v2/health/ready`)).status, 200);
  assert.deepEqual(await (await fetch(`${base}/v2/models/classifier`)).json(), {
    name: 'classifier',
    versions: ['7'],
    platform: 'node-test',
    inputs: [{ name: 'x', datatype: 'FP64', shape: [-1, 4] }],
    outputs: [{ name: 'predict', datatype: 'FP64', shape: [-1, 4] }],
  });
});
