import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TrantorError } from '../../protocol/index.ts';
import { OnnxModel } from './model.ts';

const AFFINE = fileURLToPath(new URL('./testdata/affine.onnx', import.meta.url));
const W = [
  [1.0, -1.0],
  [0.5, 2.0],
  [-0.25, 0.0],
];
const B = [0.5, -0.5];

function expected(rows: number[][]): number[][] {
  return rows.map((x) => [0, 1].map((j) => x.reduce((sum, xi, i) => sum + xi * W[i]![j]!, B[j]!)));
}

describe('OnnxModel', () => {
  it('reports the inputs and outputs the model declares', async () => {
    const model = await OnnxModel.load(AFFINE, { threads: 1 });
    try {
      assert.deepEqual(model.inputs, [{ name: 'X', isTensor: true, type: 'float32', shape: ['batch', 3] }]);
      assert.deepEqual(model.outputs, [
        { name: 'Y', isTensor: true, type: 'float32', shape: ['batch', 2] },
        { name: 'L', isTensor: true, type: 'int64', shape: ['batch'] },
      ]);
    } finally {
      await model.close();
    }
  });

  it('runs in its worker and answers each of many concurrent runs with its own outputs', async () => {
    const model = await OnnxModel.load(AFFINE, { threads: 1 });
    try {
      const batches = Array.from({ length: 20 }, (_, k) => [
        [k, 1, 2],
        [3, -k, 0.5],
      ]);
      const answers = await Promise.all(batches.map((rows) => model.run({ X: { type: 'float32', dims: [2, 3], data: Float32Array.from(rows.flat()) } })));
      answers.forEach((outputs, k) => {
        const y = outputs['Y'];
        assert.ok(y !== undefined && y.data instanceof Float32Array);
        assert.deepEqual(y.dims, [2, 2]);
        const want = expected(batches[k]!).flat();
        [...y.data].forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `batch ${k} element ${i}: ${v} vs ${want[i]}`));
        const l = outputs['L'];
        assert.ok(l !== undefined && l.data instanceof BigInt64Array);
        assert.deepEqual(l.type, 'int64');
      });
    } finally {
      await model.close();
    }
  });

  it('returns only the outputs asked for', async () => {
    const model = await OnnxModel.load(AFFINE, { threads: 1 });
    try {
      const outputs = await model.run({ X: { type: 'float32', dims: [1, 3], data: Float32Array.of(1, 1, 1) } }, ['L']);
      assert.deepEqual(Object.keys(outputs), ['L']);
      assert.deepEqual([...(outputs['L']!.data as BigInt64Array)], [0n]);
    } finally {
      await model.close();
    }
  });

  it('refuses inputs of the wrong shape with a 400 naming the problem, and keeps serving', async () => {
    const model = await OnnxModel.load(AFFINE, { threads: 1 });
    try {
      await assert.rejects(
        model.run({ X: { type: 'float32', dims: [1, 4], data: Float32Array.of(1, 2, 3, 4) } }),
        (err: unknown) => err instanceof TrantorError && err.status === 400 && /refused the inputs/.test(err.message) && /dimension/i.test(err.message),
      );
      const outputs = await model.run({ X: { type: 'float32', dims: [1, 3], data: Float32Array.of(0, 0, 0) } });
      assert.deepEqual([...(outputs['Y']!.data as Float32Array)], [0.5, -0.5]);
    } finally {
      await model.close();
    }
  });

  it('fails to load a missing or broken file with the file named', async () => {
    await assert.rejects(OnnxModel.load('/nonexistent/model.onnx'), (err: unknown) => err instanceof TrantorError && err.status === 400 && err.message.includes('/nonexistent/model.onnx'));
    const notOnnx = fileURLToPath(new URL('./testdata/make_models.py', import.meta.url));
    await assert.rejects(OnnxModel.load(notOnnx), (err: unknown) => err instanceof TrantorError && err.message.includes('make_models.py'));
  });

  it('refuses runs once closed', async () => {
    const model = await OnnxModel.load(AFFINE, { threads: 1 });
    await model.close();
    await assert.rejects(model.run({ X: { type: 'float32', dims: [1, 3], data: Float32Array.of(0, 0, 0) } }), /closed/);
  });
});
