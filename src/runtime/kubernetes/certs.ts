/**
 * The webhook's certificates when the operator manages them itself (`--webhook-certs=self`): a CA
 * and a serving certificate for the webhook Service's DNS names, kept in one Secret that every
 * operator replica shares, and the CA written into the ValidatingWebhookConfiguration's caBundle.
 *
 * Each check reads the Secret and keeps it while the serving certificate has more than a third of
 * its life left; else it issues a new serving certificate from the same CA. The CA itself is
 * replaced only when it nears its own end (a third of its life left): the new CA goes first in the
 * bundle and the old one stays beside it until it expires, so the API server trusts both the
 * certificate still served and the next one. Replicas race for the Secret through its
 * resourceVersion: a create answered 409 or an update answered 409 reads the winner's Secret again,
 * so all end up serving the same certificate. Keys come from node:crypto (RSA 2048: node-forge,
 * which builds and signs the certificates, has no ECDSA).
 */
import { generateKeyPair, randomBytes, X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { KubeError, resourceOf, type KubeClient, type LiveObject } from './client.ts';

export const SECRETS = resourceOf('v1', 'Secret');
export const VALIDATING_WEBHOOK_CONFIGURATIONS = resourceOf('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration');

/** The PEM texts of the webhook's certificates, as kept in the Secret (its keys `ca.crt`, `ca.key`, `tls.crt`, `tls.key`). */
export interface WebhookCerts {
  /** The CA that signs now, then any older CA still valid (the caBundle). */
  readonly caCert: string;
  readonly caKey: string;
  /** The serving certificate and its key. */
  readonly cert: string;
  readonly key: string;
}

/** What a check decides: keep the Secret, issue a new serving certificate, a new CA too, or start over. */
export type Renewal = { readonly action: 'keep' } | { readonly action: 'serving' | 'ca' | 'new'; readonly reason: string };

export interface Lifetimes {
  readonly caValidityMs: number;
  readonly certValidityMs: number;
}

/** The names a Service is reached by inside the cluster: what the API server checks the certificate for. */
export function serviceNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/** Certificates may be used from this long before they were made (clocks of nodes differ). */
const BACKDATE_MS = 5 * 60_000;

const generateRsa = promisify(generateKeyPair);

async function newKey(): Promise<{ pem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePublic: forge.pki.rsa.PublicKey }> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { pem: privateKey, forgeKey: forge.pki.privateKeyFromPem(privateKey), forgePublic: forge.pki.publicKeyFromPem(publicKey) };
}

function certificate(publicKey: forge.pki.rsa.PublicKey, subject: string, now: Date, notAfter: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the high bit of the first byte cleared.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: subject }]);
  return cert;
}

/** A new self-signed CA valid for `validityMs` from `now`. */
export async function newCa(now: Date, validityMs: number): Promise<{ cert: string; key: string }> {
  const key = await newKey();
  const cert = certificate(key.forgePublic, `trantor-webhook-ca-${now.getTime()}`, now, new Date(now.getTime() + validityMs));
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.forgeKey, forge.md.sha256.create());
  return { cert: pemOf(cert), key: key.pem };
}

/** A serving certificate for `names` (DNS names or IP addresses) signed by the CA; it never outlives the CA. */
export async function issueServing(ca: { cert: string; key: string }, names: readonly string[], now: Date, validityMs: number): Promise<{ cert: string; key: string }> {
  const caCert = forge.pki.certificateFromPem(firstPem(ca.cert));
  const key = await newKey();
  const notAfter = new Date(Math.min(now.getTime() + validityMs, caCert.validity.notAfter.getTime()));
  const cert = certificate(key.forgePublic, names[0] ?? 'trantor-webhook', now, notAfter);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((name) => (isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name })) },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.key), forge.md.sha256.create());
  return { cert: pemOf(cert), key: key.pem };
}

/** forge writes CRLF line ends; the Secret and the caBundle hold LF. */
function pemOf(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/** Each PEM certificate of a bundle text. */
export function pemCertificates(text: string): string[] {
  return text.replace(/\r\n/g, '\n').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((pem) => `${pem}\n`) ?? [];
}

function firstPem(text: string): string {
  const first = pemCertificates(text)[0];
  if (first === undefined) throw new Error('no certificate in the bundle');
  return first;
}

/** Less than a third of its life left (or not yet valid, or past it). */
function nearsEnd(cert: X509Certificate, now: Date): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return now.getTime() < from || to - now.getTime() < (to - from) / 3;
}

function covers(cert: X509Certificate, names: readonly string[]): boolean {
  return names.every((name) => (isIP(name) === 0 ? cert.checkHost(name, { wildcards: false }) === name : cert.checkIP(name) === name));
}

/** What the check does with what the Secret holds (undefined: no Secret, or one without the four keys). */
export function assess(certs: WebhookCerts | undefined, names: readonly string[], now: Date): Renewal {
  if (certs === undefined) return { action: 'new', reason: 'no certificate yet' };
  let cas: X509Certificate[];
  try {
    cas = pemCertificates(certs.caCert).map((pem) => new X509Certificate(pem));
    if (cas[0] === undefined || !cas[0].checkPrivateKey(createPrivateKey(certs.caKey))) return { action: 'new', reason: "the CA's key does not match it" };
  } catch (error) {
    return { action: 'new', reason: `the Secret does not hold a readable CA (${error instanceof Error ? error.message : String(error)})` };
  }
  const ca = cas[0];
  if (Date.parse(ca.validTo) <= now.getTime()) return { action: 'new', reason: 'the CA expired' };
  if (nearsEnd(ca, now)) return { action: 'ca', reason: `the CA nears its end (${ca.validTo})` };
  const problem = servingProblem(certs, cas, names, now);
  if (problem !== undefined) return { action: 'serving', reason: problem };
  if (cas.slice(1).some((c) => Date.parse(c.validTo) <= now.getTime())) return { action: 'serving', reason: 'an expired CA leaves the bundle' };
  return { action: 'keep' };
}

/** Why the serving certificate cannot be kept, or undefined when it can. */
function servingProblem(certs: WebhookCerts, cas: readonly X509Certificate[], names: readonly string[], now: Date): string | undefined {
  let serving: X509Certificate;
  try {
    serving = new X509Certificate(certs.cert);
    if (!serving.checkPrivateKey(createPrivateKey(certs.key))) return 'the serving key does not match its certificate';
  } catch (error) {
    return `the serving certificate cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
  if (!cas.some((c) => serving.checkIssued(c) && serving.verify(c.publicKey))) return 'the serving certificate was not issued by a CA of the bundle';
  if (!covers(serving, names)) return `the serving certificate does not name ${names.join(', ')}`;
  if (nearsEnd(serving, now)) return `the serving certificate nears its end (${serving.validTo})`;
  return undefined;
}

/** The certificates after `renewal` (which must not be 'keep'). */
export async function renew(certs: WebhookCerts | undefined, renewal: Renewal, names: readonly string[], now: Date, lifetimes: Lifetimes): Promise<WebhookCerts> {
  const alive = (pem: string): boolean => Date.parse(new X509Certificate(pem).validTo) > now.getTime();
  if (renewal.action === 'new' || certs === undefined) {
    const ca = await newCa(now, lifetimes.caValidityMs);
    const serving = await issueServing(ca, names, now, lifetimes.certValidityMs);
    return { caCert: ca.cert, caKey: ca.key, ...serving };
  }
  if (renewal.action === 'ca') {
    // The old CA stays in the bundle (and its serving certificate in use, if still good) until it expires.
    const ca = await newCa(now, lifetimes.caValidityMs);
    const bundle = [ca.cert, ...pemCertificates(certs.caCert).filter(alive)].join('');
    const keep = servingProblem(certs, pemCertificates(bundle).map((pem) => new X509Certificate(pem)), names, now) === undefined;
    const serving = keep ? { cert: certs.cert, key: certs.key } : await issueServing(ca, names, now, lifetimes.certValidityMs);
    return { caCert: bundle, caKey: ca.key, ...serving };
  }
  const [signing] = pemCertificates(certs.caCert);
  const serving = await issueServing({ cert: signing ?? '', key: certs.caKey }, names, now, lifetimes.certValidityMs);
  return { caCert: pemCertificates(certs.caCert).filter(alive).join(''), caKey: certs.caKey, ...serving };
}

const SECRET_KEYS = { caCert: 'ca.crt', caKey: 'ca.key', cert: 'tls.crt', key: 'tls.key' } as const;

/** The certificates a Secret holds, or undefined when it lacks one of the four keys. */
export function certsOfSecret(secret: LiveObject | undefined): WebhookCerts | undefined {
  const data = (secret?.['data'] ?? {}) as Record<string, string | undefined>;
  const out: Record<string, string> = {};
  for (const [field, key] of Object.entries(SECRET_KEYS)) {
    const value = data[key];
    if (value === undefined || value === '') return undefined;
    out[field] = Buffer.from(value, 'base64').toString('utf8');
  }
  return out as unknown as WebhookCerts;
}

function secretData(certs: WebhookCerts): Record<string, string> {
  return Object.fromEntries(Object.entries(SECRET_KEYS).map(([field, key]) => [key, Buffer.from(certs[field as keyof WebhookCerts]).toString('base64')]));
}

export interface SelfManagedSettings extends Lifetimes {
  /** The operator's namespace: where the Secret lives, and the Service's. */
  readonly namespace: string;
  readonly secret: string;
  /** The webhook Service: its DNS names go into the serving certificate. */
  readonly service: string;
  /** The ValidatingWebhookConfiguration whose caBundle the CA goes into (and whose url hosts the certificate names too). */
  readonly webhookConfiguration?: string;
  readonly now?: () => Date;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

interface WebhookEntry {
  clientConfig?: { url?: string; caBundle?: string };
}

/** How many times a check reads the Secret again after losing a race for it. */
const RACE_ATTEMPTS = 5;

/** The Secret and the caBundle, checked (and renewed when due) on each `ensure()`. */
export class SelfManagedCerts {
  /** Writes this replica made: Secret creates and updates, caBundle patches (tests read them). */
  readonly writes = { secret: 0, caBundle: 0 };

  constructor(
    private readonly client: KubeClient,
    private readonly settings: SelfManagedSettings,
  ) {}

  /** The certificates to serve, after making the Secret and the caBundle current. */
  async ensure(): Promise<WebhookCerts> {
    const { namespace, secret: name } = this.settings;
    const config = this.settings.webhookConfiguration === undefined ? undefined : await this.client.get(VALIDATING_WEBHOOK_CONFIGURATIONS, undefined, this.settings.webhookConfiguration);
    if (this.settings.webhookConfiguration !== undefined && config === undefined) this.settings.log?.('warn', `no ValidatingWebhookConfiguration ${this.settings.webhookConfiguration}: its caBundle is written once it exists`);
    const names = [...serviceNames(this.settings.service, namespace), ...urlHosts(config)];
    for (let attempt = 1; ; attempt++) {
      const now = this.settings.now?.() ?? new Date();
      const secret = await this.client.get(SECRETS, namespace, name);
      const current = certsOfSecret(secret);
      const renewal = assess(current, names, now);
      if (renewal.action === 'keep') {
        await this.publish(current!.caCert);
        return current!;
      }
      const next = await renew(current, renewal, names, now, this.settings);
      try {
        if (secret === undefined) {
          await this.client.create(SECRETS, namespace, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'trantor-operator' } }, type: 'kubernetes.io/tls', data: secretData(next) });
        } else {
          // resourceVersion rides along: a replica that wrote first makes this a 409.
          await this.client.replace(SECRETS, namespace, { ...secret, data: { ...((secret['data'] ?? {}) as Record<string, string>), ...secretData(next) } });
        }
      } catch (error) {
        const lostRace = error instanceof KubeError && error.status === 409;
        if (lostRace && attempt < RACE_ATTEMPTS) continue;
        throw error;
      }
      this.writes.secret++;
      this.settings.log?.('info', `webhook certificate ${renewal.action === 'serving' ? 'renewed' : renewal.action === 'ca' ? 'renewed with a new CA' : 'created'} in Secret ${namespace}/${name}: ${renewal.reason}`);
      await this.publish(next.caCert);
      return next;
    }
  }

  /** Writes the CA bundle into every webhook of the configuration whose caBundle differs. */
  private async publish(caCert: string): Promise<void> {
    const name = this.settings.webhookConfiguration;
    if (name === undefined) return;
    const caBundle = Buffer.from(caCert).toString('base64');
    for (let attempt = 1; ; attempt++) {
      const config = await this.client.get(VALIDATING_WEBHOOK_CONFIGURATIONS, undefined, name);
      if (config === undefined) return;
      const webhooks = (config['webhooks'] ?? []) as WebhookEntry[];
      const ops = webhooks.flatMap((hook, i) => (hook.clientConfig?.caBundle === caBundle ? [] : [{ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle }]));
      if (ops.length === 0) return;
      try {
        // Against the configuration as read: if it changed since (another replica wrote), read it again.
        await this.client.patch(VALIDATING_WEBHOOK_CONFIGURATIONS, undefined, name, [{ op: 'test', path: '/metadata/resourceVersion', value: config.metadata.resourceVersion }, ...ops], 'application/json-patch+json');
      } catch (error) {
        const changed = error instanceof KubeError && (error.status === 409 || error.status === 422);
        if (changed && attempt < RACE_ATTEMPTS) continue;
        throw error;
      }
      this.writes.caBundle++;
      this.settings.log?.('info', `caBundle of ValidatingWebhookConfiguration ${name} written`);
      return;
    }
  }
}

/** The hosts of the configuration's `url` clientConfigs (an operator reached by URL, outside the cluster). */
function urlHosts(config: LiveObject | undefined): string[] {
  const hosts = ((config?.['webhooks'] ?? []) as WebhookEntry[]).flatMap((hook) => {
    if (hook.clientConfig?.url === undefined) return [];
    try {
      return [new URL(hook.clientConfig.url).hostname.replace(/^\[(.*)\]$/, '$1')];
    } catch {
      return [];
    }
  });
  return [...new Set(hosts)];
}
