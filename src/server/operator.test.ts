import assert from 'node:assert/strict';
import { test } from 'node:test';
import { webhookSettings } from './operator.ts';

const ENV = { POD_NAMESPACE: 'trantor-system' };

test('no --webhook-port, no webhook', () => {
  assert.equal(webhookSettings({ webhookCerts: 'self' }, ENV), undefined);
});

test("the chart's self-managed arguments: the Secret in the pod's namespace, the Service's names, the configuration to patch", () => {
  const flags = { webhookPort: '4443', webhookCerts: 'self', webhookSecret: 'trantor-webhook-cert', webhookService: 'trantor-webhook', webhookConfiguration: 'trantor' };
  assert.deepEqual(webhookSettings(flags, ENV), { port: 4443, certs: 'self', namespace: 'trantor-system', secret: 'trantor-webhook-cert', service: 'trantor-webhook', configuration: 'trantor' });
  assert.equal((webhookSettings({ ...flags, webhookCerts: undefined } as never, {}) as { namespace: string }).namespace, 'default', 'self is the default; no POD_NAMESPACE: default');
});

test("the chart's cert-manager arguments", () => {
  assert.deepEqual(webhookSettings({ webhookPort: '4443', webhookCerts: 'certManager', webhookCertDir: '/etc/trantor/webhook-certs' }, ENV), { port: 4443, certs: 'certManager', certDir: '/etc/trantor/webhook-certs' });
});

test('what is missing or wrong is named', () => {
  assert.throws(() => webhookSettings({ webhookPort: '4443', webhookCerts: 'certManager' }, ENV), /--webhook-cert-dir/);
  assert.throws(() => webhookSettings({ webhookPort: '4443', webhookService: 'svc' }, ENV), /--webhook-secret/);
  assert.throws(() => webhookSettings({ webhookPort: '4443', webhookCerts: 'vault' }, ENV), /expected self or certManager/);
  assert.throws(() => webhookSettings({ webhookPort: 'https' }, ENV), /--webhook-port https: expected a port number/);
});
