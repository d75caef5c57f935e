import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EndpointIndex } from './endpoints.ts';

const unit = (deployment: string, node = 'model', namespace = 'seldon') => ({ namespace, deployment, predictor: 'default', node });
const address = (port: number) => Object.freeze({ id: `default/model/${port}`, host: '127.0.0.1', port });

test('a published list is what replicasOf answers, the same frozen array, until replaced', () => {
  const index = new EndpointIndex();
  assert.deepEqual(index.replicasOf(unit('a')), []);
  const ready = Object.freeze([address(1), address(2)]);
  index.publish(unit('a'), ready);
  assert.equal(index.replicasOf(unit('a')), ready);
  assert.deepEqual(index.replicasOf(unit('a', 'other')), []);
  assert.deepEqual(index.replicasOf(unit('a', 'model', 'elsewhere')), []);
  const fewer = Object.freeze([address(2)]);
  index.publish(unit('a'), fewer);
  assert.equal(index.replicasOf(unit('a')), fewer);
});

test('unpublish takes one node out; removeDeployment takes every node of one deployment', () => {
  const index = new EndpointIndex();
  index.publish(unit('a'), [address(1)]);
  index.publish(unit('a', 'router'), [address(2)]);
  index.publish(unit('b'), [address(3)]);
  index.unpublish(unit('a', 'router'));
  assert.deepEqual(index.replicasOf(unit('a', 'router')), []);
  assert.equal(index.replicasOf(unit('a')).length, 1);
  index.removeDeployment('seldon', 'a');
  assert.deepEqual(index.replicasOf(unit('a')), []);
  assert.equal(index.replicasOf(unit('b')).length, 1);
  index.removeDeployment('seldon', 'b');
  index.removeDeployment('seldon', 'never-there');
  assert.deepEqual(index.replicasOf(unit('b')), []);
});
