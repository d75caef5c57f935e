import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { describe, test } from 'node:test';
import { KubeError, type KubeClient, type LiveObject, type Resource } from './client.ts';
import { assess, certsOfSecret, issueServing, newCa, pemCertificates, renew, SelfManagedCerts, serviceNames, type WebhookCerts } from './certs.ts';

const DAY = 86_400_000;
const LIFETIMES = { caValidityMs: 3000 * DAY, certValidityMs: 300 * DAY };
const NAMES = serviceNames('trantor-webhook', 'trantor-system');
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (days: number): Date => new Date(T0.getTime() + days * DAY);

function x509(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

/** Serves `certs` over TLS on loopback and connects trusting `ca` as `servername`; resolves with the TLS error, or undefined when trusted. */
async function handshake(certs: WebhookCerts, ca: string, servername: string): Promise<string | undefined> {
  const server = createServer({ cert: certs.cert, key: certs.key, minVersion: 'TLSv1.2' }, (_req, res) => res.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await new Promise<string | undefined>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca, ...(servername === '127.0.0.1' ? {} : { servername }) }, () => {
        socket.end();
        resolve(undefined);
      });
      socket.once('error', (error: Error) => resolve(error.message));
    });
  } finally {
    server.close();
  }
}

describe('the service names', () => {
  test("are the four a Service is called by in the cluster", () => {
    assert.deepEqual(NAMES, ['trantor-webhook', 'trantor-webhook.trantor-system', 'trantor-webhook.trantor-system.svc', 'trantor-webhook.trantor-system.svc.cluster.local']);
  });
});

describe('self-managed certificates', () => {
  let first: WebhookCerts;

  test('a new CA and serving certificate: RSA 2048, the DNS names (and an IP) as SANs, trusted by a TLS client given the CA', async () => {
    first = await renew(undefined, { action: 'new', reason: 'test' }, [...NAMES, '127.0.0.1'], new Date(), LIFETIMES);
    const ca = x509(first.caCert);
    const serving = x509(first.cert);
    assert.ok(ca.ca);
    assert.ok(!serving.ca);
    assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey));
    assert.equal(serving.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    for (const name of NAMES) assert.equal(serving.checkHost(name, { wildcards: false }), name);
    assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');
    assert.match(serving.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.1/, 'serverAuth');
    for (const name of NAMES) assert.equal(await handshake(first, first.caCert, name), undefined, name);
    assert.match((await handshake(first, first.caCert, 'other.example.com')) ?? '', /altnames|does not match/i);
  });

  test('kept while the serving certificate has more than a third of its life left', async () => {
    const certs = await renew(undefined, { action: 'new', reason: 'test' }, NAMES, T0, LIFETIMES);
    assert.deepEqual(assess(certs, NAMES, at(1)), { action: 'keep' });
    assert.deepEqual(assess(certs, NAMES, at(190)), { action: 'keep' });
    assert.equal(assess(certs, NAMES, at(210)).action, 'serving');
    assert.equal(assess(certs, [...NAMES, 'another.svc'], at(1)).action, 'serving', 'a name it lacks');
    assert.equal(assess({ ...certs, key: certs.caKey }, NAMES, at(1)).action, 'serving', 'a key that is not its own');
    assert.equal(assess({ ...certs, caKey: certs.key }, NAMES, at(1)).action, 'new', "a CA key that is not the CA's");
    assert.equal(assess({ ...certs, caCert: 'garbage' }, NAMES, at(1)).action, 'new');
    assert.equal(assess(undefined, NAMES, at(1)).action, 'new');
  });

  test('a serving renewal keeps the CA (no caBundle change); a CA near its end is replaced with the old one kept in the bundle until it expires', async () => {
    const certs = await renew(undefined, { action: 'new', reason: 'test' }, NAMES, T0, LIFETIMES);
    const renewed = await renew(certs, assess(certs, NAMES, at(210)), NAMES, at(210), LIFETIMES);
    assert.equal(renewed.caCert, certs.caCert);
    assert.notEqual(renewed.cert, certs.cert);
    assert.deepEqual(assess(renewed, NAMES, at(211)), { action: 'keep' });

    // Two thirds into the CA's life: a new CA signs from now on; the old one stays trusted.
    const late = at(2100);
    const agedServing = await issueServing({ cert: certs.caCert, key: certs.caKey }, NAMES, at(2090), LIFETIMES.certValidityMs);
    const aged = { ...certs, ...agedServing };
    assert.equal(assess(aged, NAMES, late).action, 'ca');
    const rotated = await renew(aged, assess(aged, NAMES, late), NAMES, late, LIFETIMES);
    const bundle = pemCertificates(rotated.caCert);
    assert.equal(bundle.length, 2);
    assert.equal(bundle[1], certs.caCert, 'the old CA is kept in the bundle');
    assert.equal(rotated.cert, aged.cert, 'the serving certificate still good is kept, so what is served stays trusted');
    assert.deepEqual(assess(rotated, NAMES, late), { action: 'keep' });
    // When the serving certificate is due, the new CA signs it.
    const next = await renew(rotated, assess(rotated, NAMES, at(2300)), NAMES, at(2300), LIFETIMES);
    assert.ok(x509(next.cert).checkIssued(x509(bundle[0]!)));
    // Once the old CA has expired it leaves the bundle.
    const after = at(3001);
    const tidy = assess(next, NAMES, after);
    assert.equal(tidy.action, 'serving');
    assert.equal(pemCertificates((await renew(next, tidy, NAMES, after, LIFETIMES)).caCert).length, 1);
  });

  test('a serving certificate never outlives its CA', async () => {
    const ca = await newCa(T0, 10 * DAY);
    const serving = await issueServing(ca, NAMES, T0, 300 * DAY);
    assert.equal(x509(serving.cert).validTo, x509(ca.cert).validTo);
  });
});

/** An API server of one Secret and one webhook configuration, with resourceVersions, for races. */
class FakeCluster {
  readonly objects = new Map<string, LiveObject>();
  private version = 1;
  /** Runs before each write is applied: a test interleaves another replica's work here. */
  beforeWrite: (() => Promise<void>) | undefined;

  client(): KubeClient {
    const key = (resource: Resource, namespace: string | undefined, name: string): string => `${resource.plural}/${namespace ?? ''}/${name}`;
    const store = (k: string, object: LiveObject): LiveObject => {
      const stored = structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: String(++this.version) } });
      this.objects.set(k, stored);
      return structuredClone(stored);
    };
    const hook = async (): Promise<void> => {
      const run = this.beforeWrite;
      this.beforeWrite = undefined;
      await run?.();
    };
    return {
      get: (resource: Resource, namespace: string | undefined, name: string) => Promise.resolve(structuredClone(this.objects.get(key(resource, namespace, name)))),
      create: async (resource: Resource, namespace: string, object: LiveObject) => {
        await hook();
        const k = key(resource, namespace, object.metadata.name);
        if (this.objects.has(k)) throw new KubeError(409, 'AlreadyExists', 'exists');
        return store(k, object);
      },
      replace: async (resource: Resource, namespace: string, object: LiveObject) => {
        await hook();
        const k = key(resource, namespace, object.metadata.name);
        if (this.objects.get(k)?.metadata.resourceVersion !== object.metadata.resourceVersion) throw new KubeError(409, 'Conflict', 'changed');
        return store(k, object);
      },
      patch: (resource: Resource, namespace: string | undefined, name: string, ops: { op: string; path: string; value: unknown }[]) => {
        const k = key(resource, namespace, name);
        const object = structuredClone(this.objects.get(k)!);
        for (const op of ops) {
          if (op.op === 'test') {
            if (object.metadata.resourceVersion !== op.value) throw new KubeError(422, 'Invalid', 'test failed');
            continue;
          }
          const [, , index] = op.path.split('/');
          ((object['webhooks'] as { clientConfig: Record<string, unknown> }[])[Number(index)]!.clientConfig)['caBundle'] = op.value;
        }
        return Promise.resolve(store(k, object));
      },
    } as unknown as KubeClient;
  }

  setWebhookConfiguration(url?: string): void {
    this.objects.set('validatingwebhookconfigurations//hooks', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'hooks', resourceVersion: '1' },
      webhooks: [{ name: 'a', clientConfig: url === undefined ? { service: { name: 'trantor-webhook' } } : { url } }],
    });
  }

  caBundle(): string | undefined {
    return (this.objects.get('validatingwebhookconfigurations//hooks')?.['webhooks'] as { clientConfig: { caBundle?: string } }[])[0]!.clientConfig.caBundle;
  }
}

describe('SelfManagedCerts against an API server', () => {
  const settings = { namespace: 'trantor-system', secret: 'trantor-webhook-cert', service: 'trantor-webhook', webhookConfiguration: 'hooks', ...LIFETIMES };

  test('creates the Secret and writes the caBundle once; a second check writes nothing', async () => {
    const cluster = new FakeCluster();
    cluster.setWebhookConfiguration();
    const certs = new SelfManagedCerts(cluster.client(), settings);
    const served = await certs.ensure();
    assert.deepEqual(certsOfSecret(cluster.objects.get('secrets/trantor-system/trantor-webhook-cert')), served);
    assert.equal(cluster.objects.get('secrets/trantor-system/trantor-webhook-cert')?.['type'], 'kubernetes.io/tls');
    assert.equal(Buffer.from(cluster.caBundle() ?? '', 'base64').toString(), served.caCert);
    assert.deepEqual(await certs.ensure(), served);
    assert.deepEqual(certs.writes, { secret: 1, caBundle: 1 });
    // Another replica (a restart) reuses the Secret and writes nothing.
    const other = new SelfManagedCerts(cluster.client(), settings);
    assert.deepEqual(await other.ensure(), served);
    assert.deepEqual(other.writes, { secret: 0, caBundle: 0 });
  });

  test('two replicas racing to create the Secret end up serving the same certificate', async () => {
    const cluster = new FakeCluster();
    cluster.setWebhookConfiguration();
    const a = new SelfManagedCerts(cluster.client(), settings);
    const b = new SelfManagedCerts(cluster.client(), settings);
    // b creates its Secret while a is about to create its own: a's create is answered 409.
    let fromB: WebhookCerts | undefined;
    cluster.beforeWrite = async () => {
      fromB = await b.ensure();
    };
    const fromA = await a.ensure();
    assert.deepEqual(fromA, fromB);
    assert.deepEqual(a.writes.secret + b.writes.secret, 1);
    assert.equal(Buffer.from(cluster.caBundle() ?? '', 'base64').toString(), fromA.caCert);
  });

  test('a url clientConfig adds its host to the names (127.0.0.1 as an IP SAN)', async () => {
    const cluster = new FakeCluster();
    cluster.setWebhookConfiguration('https://127.0.0.1:4443/validate');
    const served = await new SelfManagedCerts(cluster.client(), settings).ensure();
    assert.equal(x509(served.cert).checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(await handshake(served, served.caCert, '127.0.0.1'), undefined);
  });

  test('a Secret whose serving certificate is due is renewed in place, the CA and caBundle kept', async () => {
    const cluster = new FakeCluster();
    cluster.setWebhookConfiguration();
    let now = T0;
    const certs = new SelfManagedCerts(cluster.client(), { ...settings, now: () => now });
    const first = await certs.ensure();
    now = at(250);
    const second = await certs.ensure();
    assert.equal(second.caCert, first.caCert);
    assert.notEqual(second.cert, first.cert);
    assert.deepEqual(certs.writes, { secret: 2, caBundle: 1 });
  });
});
