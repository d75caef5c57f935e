import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPONENT_RPC_METHODS, componentRpc, componentRpcNamed } from './component-rpcs.ts';
import { seldonService } from './schema.ts';

test("each method is called on the service Seldon's executor calls it on, with seldon.proto's kinds", () => {
  const rows = COMPONENT_RPC_METHODS.map((method) => {
    const { path, request, answer } = componentRpc(method);
    return [method, path, request, answer];
  });
  assert.deepEqual(rows, [
    ['predict', '/seldon.protos.Model/Predict', 'SeldonMessage', 'SeldonMessage'],
    ['transformInput', '/seldon.protos.Transformer/TransformInput', 'SeldonMessage', 'SeldonMessage'],
    ['transformOutput', '/seldon.protos.OutputTransformer/TransformOutput', 'SeldonMessage', 'SeldonMessage'],
    ['route', '/seldon.protos.Router/Route', 'SeldonMessage', 'SeldonMessage'],
    ['aggregate', '/seldon.protos.Combiner/Aggregate', 'SeldonMessageList', 'SeldonMessage'],
    ['sendFeedback', '/seldon.protos.Model/SendFeedback', 'Feedback', 'SeldonMessage'],
    ['metadata', '/seldon.protos.Model/Metadata', 'Empty', 'SeldonModelMetadata'],
  ]);
});

test('every RPC of every component service is in the table by name, with the kinds that service declares', () => {
  for (const service of ['Generic', 'Model', 'Router', 'Transformer', 'OutputTransformer', 'Combiner'] as const) {
    for (const method of seldonService(service).methodsArray) {
      const rpc = componentRpcNamed(method.name);
      assert.ok(rpc !== undefined, `${service}.${method.name} is not in the table`);
      method.resolve();
      assert.equal(method.resolvedRequestType!.name, rpc.request, `${service}.${method.name}'s request`);
      assert.equal(method.resolvedResponseType!.name, rpc.answer, `${service}.${method.name}'s answer`);
    }
  }
  assert.equal(componentRpcNamed('ModelMetadata'), undefined);
});
