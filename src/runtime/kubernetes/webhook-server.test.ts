import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { before, describe, test } from 'node:test';
import { renew, serviceNames, type WebhookCerts } from './certs.ts';
import { renderConfig } from './config.ts';
import { admissionHandler, WEBHOOK_PATH } from './webhook.ts';
import { certDirectory, WebhookServer } from './webhook-server.ts';

const LIFETIMES = { caValidityMs: 10 * 86_400_000, certValidityMs: 86_400_000 };
const NAMES = [...serviceNames('hook', 'ns'), '127.0.0.1'];

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The certificate the server presents, verified against `ca` (with TLS `maxVersion` when given). */
function presented(port: number, ca: string, maxVersion?: 'TLSv1.1'): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, ...(maxVersion === undefined ? {} : { maxVersion, minVersion: 'TLSv1' }) }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
  });
}

describe('the webhook server', () => {
  let first: WebhookCerts;
  let second: WebhookCerts;
  before(async () => {
    first = await renew(undefined, { action: 'new', reason: 'test' }, NAMES, new Date(), LIFETIMES);
    second = await renew(first, { action: 'serving', reason: 'test' }, NAMES, new Date(), LIFETIMES);
  });

  test('serves TLS 1.2+ only once it has a certificate, and swaps a changed one in without a restart', async () => {
    let source: WebhookCerts | undefined;
    const logs: string[] = [];
    const server = new WebhookServer({
      port: 0,
      host: '127.0.0.1',
      handler: admissionHandler({ config: renderConfig(), bodyLimit: 1 << 20 }),
      certs: () => (source === undefined ? Promise.reject(new Error('no Secret yet')) : Promise.resolve(source)),
      refreshMs: 50,
      retryMs: 50,
      requestTimeoutMs: 5000,
      log: (level, message) => logs.push(`${level} ${message}`),
    });
    try {
      await server.start();
      assert.match(server.notServing ?? '', /no Secret yet/);
      source = first;
      await until('serving', () => server.notServing === undefined);
      const port = server.port!;
      const before = await presented(port, first.caCert);
      await assert.rejects(presented(port, first.caCert, 'TLSv1.1'), /protocol|version/i);
      const review = await fetch(`https://127.0.0.1:${port}${WEBHOOK_PATH}`, { method: 'POST', body: '{}' }).catch((error: Error) => error);
      assert.ok(review instanceof Error, 'fetch without the CA does not trust it');
      source = second;
      await until('the new certificate presented', async () => (await presented(port, first.caCert)).fingerprint256 !== before.fingerprint256);
      assert.equal(server.port, port, 'the same listener');
      assert.ok(server.reloads >= 1);
      assert.ok(logs.some((l) => l.includes('reloaded')), logs.join('\n'));
    } finally {
      await server.stop();
    }
  });

  test("serves cert-manager's tls.crt and tls.key, and a renewal written there at once (the directory is watched)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trantor-certs-'));
    const write = (certs: WebhookCerts): void => {
      writeFileSync(join(dir, 'tls.crt'), certs.cert);
      writeFileSync(join(dir, 'tls.key'), certs.key);
    };
    write(first);
    const server = new WebhookServer({
      port: 0,
      host: '127.0.0.1',
      handler: admissionHandler({ config: renderConfig(), bodyLimit: 1 << 20 }),
      certs: certDirectory(dir),
      // No periodic check within the test: only the watch can pick the renewal up.
      refreshMs: 3_600_000,
      retryMs: 50,
      watchDir: dir,
      requestTimeoutMs: 5000,
      log: () => {},
    });
    try {
      await server.start();
      const port = server.port!;
      const before = await presented(port, first.caCert);
      write(second);
      await until('the renewed files served', async () => (await presented(port, first.caCert)).fingerprint256 !== before.fingerprint256);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

