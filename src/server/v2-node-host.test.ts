/**
 * The executor's V2 transport against the Node host's V2 face: the calls a `protocol: v2` chain
 * makes, answered by a real component server with a user class.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MicroserviceError, serveComponent, type ComponentServer, type Features, type SeldonComponent } from '../component/index.ts';
import { HttpTransport, HttpV2Transport } from '../executor/index.ts';
import { StaticEndpoints } from '../executor/testing.ts';
import { TrantorError, decodeV2Request, stringifyJson } from '../protocol/index.ts';

class Doubler implements SeldonComponent {
  predict(X: Features): Features {
    const rows = X as number[][];
    if (rows.some((row) => row.length !== 2)) throw new MicroserviceError('expected 4 features per row, got 5', 422);
    return rows.map((row) => row.map((v) => v * 2));
  }

  transformInput(X: Features): Features {
    return (X as number[][]).map((row) => row.map((v) => v + 1));
  }
}

let model: ComponentServer;
let transformer: ComponentServer;

before(async () => {
  model = await serveComponent(new Doubler(), { port: 0 });
  transformer = await serveComponent(new Doubler(), { port: 0, serviceType: 'TRANSFORMER' });
});

after(async () => {
  await model.close();
  await transformer.close();
});

test("the executor's V2 transport against the Node host: a transformer's transformInput, a model's predict, failures with status and message", async () => {
  const endpoints = new StaticEndpoints();
  endpoints.set('pre', [{ id: 'pre', host: '127.0.0.1', port: transformer.port }]);
  endpoints.set('model', [{ id: 'model', host: '127.0.0.1', port: model.port }]);
  const http = new HttpTransport({ endpoints, retryWindowMs: 50 });
  try {
    const v2 = new HttpV2Transport(http);
    const unit = (node: string): { namespace: string; deployment: string; predictor: string; node: string } => ({ namespace: 'n', deployment: 'd', predictor: 'p', node });
    const options = { idempotent: true, timeoutMs: 2000, puid: 'p1' };
    const request = decodeV2Request(new TextEncoder().encode('{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[[1,2]]}]}'), undefined);
    const pre = await v2.infer(unit('pre'), request, options);
    assert.equal(stringifyJson(pre.message.outputs[0]!.data), '[2,3]');
    const answer = await v2.infer(unit('model'), { message: { inputs: pre.message.outputs }, tensors: pre.tensors }, options);
    assert.equal(stringifyJson(answer.message.outputs[0]!.data), '[4,6]');
    assert.equal(answer.message.model_name, 'model');
    assert.equal(await v2.modelReady(unit('model'), options), true);
    assert.equal((await v2.modelMetadata(unit('model'), options)).name, 'model');
    const five = decodeV2Request(new TextEncoder().encode('{"inputs":[{"name":"x","shape":[1,5],"datatype":"FP64","data":[1,2,3,4,5]}]}'), undefined);
    await assert.rejects(v2.infer(unit('model'), five, options), (err: unknown) => err instanceof TrantorError && err.status === 422 && err.message === 'expected 4 features per row, got 5');
  } finally {
    await http.close();
  }
});
