/**
 * The webhook's HTTPS server (TLS 1.2 and later), on every operator replica. Its certificate comes
 * from a source checked every `refreshMs` — the self-managed Secret, or the files cert-manager
 * mounts — and a changed certificate is swapped in without a restart (new connections use it).
 * The server listens only once it has a certificate; until then it is not ready, and each failed
 * load is tried again after `retryMs`.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface ServingCert {
  readonly cert: string;
  readonly key: string;
}

/** Where the certificate comes from; `load` is called at start and on every refresh. */
export type CertSource = () => Promise<ServingCert>;

/** cert-manager's Secret mounted as files: `tls.crt` and `tls.key` in `dir` (the kubelet swaps them in place on renewal). */
export function certDirectory(dir: string): CertSource {
  return async () => ({ cert: await readFile(join(dir, 'tls.crt'), 'utf8'), key: await readFile(join(dir, 'tls.key'), 'utf8') });
}

export interface WebhookServerSettings {
  readonly port: number;
  /** Default: every interface. */
  readonly host?: string;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  readonly certs: CertSource;
  readonly refreshMs: number;
  readonly retryMs: number;
  /** How long a request may take to arrive whole. */
  readonly requestTimeoutMs: number;
  readonly log: (level: 'info' | 'warn', message: string) => void;
}

export class WebhookServer {
  /** How many times a changed certificate was swapped in (tests). */
  reloads = 0;
  private server: Server | undefined;
  private current: ServingCert | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastError: string | undefined = 'no certificate yet';

  constructor(private readonly settings: WebhookServerSettings) {}

  /** Undefined while serving, else why not (for /readyz). */
  get notServing(): string | undefined {
    return this.server?.listening === true ? undefined : (this.lastError ?? 'not listening yet');
  }

  /** The port listened on (the one given, or the one the system chose for 0). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** Loads the certificate and listens; a failed load is retried in the background, never thrown. */
  async start(): Promise<void> {
    await this.refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async refresh(): Promise<void> {
    let next = this.settings.refreshMs;
    try {
      const loaded = await this.settings.certs();
      if (this.stopped) return;
      if (this.server === undefined) await this.listen(loaded);
      else if (loaded.cert !== this.current?.cert || loaded.key !== this.current.key) {
        this.server.setSecureContext({ cert: loaded.cert, key: loaded.key, minVersion: 'TLSv1.2' });
        this.reloads++;
        this.settings.log('info', 'webhook certificate changed: reloaded');
      }
      this.current = loaded;
      this.lastError = undefined;
    } catch (error) {
      this.lastError = `webhook certificate: ${error instanceof Error ? error.message : String(error)}`;
      this.settings.log('warn', this.lastError);
      if (this.server === undefined) next = this.settings.retryMs;
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), next);
  }

  private async listen(cert: ServingCert): Promise<void> {
    const server = createServer({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.2', requestTimeout: this.settings.requestTimeoutMs }, this.settings.handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.port, this.settings.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.settings.log('warn', `webhook server: ${error.message}`));
    this.server = server;
    this.settings.log('info', `webhook serving on :${this.port ?? this.settings.port}`);
  }
}
