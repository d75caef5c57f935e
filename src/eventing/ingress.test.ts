import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brokerFromHost, brokerFromPath } from './ingress.ts';

test('broker paths are /<namespace>/<broker>', () => {
  assert.deepEqual(brokerFromPath('/default/default'), { namespace: 'default', name: 'default' });
  assert.deepEqual(brokerFromPath('/seldon/my-broker/'), { namespace: 'seldon', name: 'my-broker' });
  assert.equal(brokerFromPath('/default'), undefined);
  assert.equal(brokerFromPath('/a/b/c'), undefined);
});

test("a broker's in-cluster host name names it, with or without .cluster.local and a port", () => {
  assert.deepEqual(brokerFromHost('default-broker.default.svc.cluster.local'), { namespace: 'default', name: 'default' });
  assert.deepEqual(brokerFromHost('my-broker-broker.seldon.svc:8000'), { namespace: 'seldon', name: 'my-broker' });
  assert.equal(brokerFromHost('127.0.0.1:8000'), undefined);
  assert.equal(brokerFromHost(undefined), undefined);
});
