import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFromPath } from './ingress.ts';

test('broker paths are /<namespace>/<broker>', () => {
  assert.deepEqual(brokerFromPath('/default/default'), { namespace: 'default', name: 'default' });
  assert.deepEqual(brokerFromPath('/seldon/my-broker/'), { namespace: 'seldon', name: 'my-broker' });
  assert.equal(brokerFromPath('/default'), undefined);
  assert.equal(brokerFromPath('/a/b/c'), undefined);
});
