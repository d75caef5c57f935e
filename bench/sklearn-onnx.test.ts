/**
 * The scikit-learn-as-ONNX bench's report: the in-process ratio against the 2.5× target, and
 * contenders without a figure said so rather than given one.
 * `node --import tsx --test bench/sklearn-onnx.test.ts`
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ONNX_IN_PROCESS, ONNX_PROCESS, PYTHON_HOST, SELDON_WRAPPER, formatSklearnOnnx, type Contender, type SklearnOnnxReport } from './sklearn-onnx.ts';

const measured = (name: string, requestsPerSecond: number): Contender => ({
  name,
  outcome: { kind: 'measured', figures: { requestsPerSecond, requests: requestsPerSecond * 5, p50: 1.5, p99: 4.25, errors: 0 } },
});
const report = (contenders: Contender[]): SklearnOnnxReport => ({ machine: '2 × test', generator: 'wrk', seconds: 5, connections: 16, contenders });

it('prints each contender and the in-process ratio against the target, met', () => {
  const text = formatSklearnOnnx(report([measured(PYTHON_HOST, 2000), measured(ONNX_PROCESS, 4000), measured(ONNX_IN_PROCESS, 6000), measured(SELDON_WRAPPER, 1000)]));
  assert.match(text, /\| iris as ONNX, in process, via gateway \| 6000 \| 1\.5 \| 4\.25 \|/);
  assert.match(text, /ONNX in process vs the Python host, both via gateway: 3\.00× \(target ≥ 2\.5×: met\)/);
  assert.match(text, /ONNX in its own process vs the Python host, both via gateway: 2\.00×$/m);
  assert.match(text, /Seldon's wrapper direct: 6\.00×/);
});

it('says missed under the target, and not measured when a contender has no figure', () => {
  const text = formatSklearnOnnx(
    report([measured(PYTHON_HOST, 2000), { name: ONNX_PROCESS, outcome: { kind: 'failed', reason: 'answered 500' } }, measured(ONNX_IN_PROCESS, 4000), { name: SELDON_WRAPPER, outcome: { kind: 'absent', reason: 'no seldon-core' } }]),
  );
  assert.match(text, /: 2\.00× \(target ≥ 2\.5×: missed\)/);
  assert.match(text, /\| iris as ONNX, Node host \(own process\), via gateway \| failed: answered 500 \| \| \|/);
  assert.match(text, /ONNX in its own process vs the Python host, both via gateway: not measured/);
  assert.match(text, /Seldon's wrapper direct: not measured/);
});
