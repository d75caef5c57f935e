/**
 * The webhook's HTTPS server (TLS 1.2 and later), on every operator replica. Its certificate comes
 * from a source checked every `refreshMs` — the self-managed Secret, or the files cert-manager
 * mounts — and a changed certificate is swapped in without a restart (new connections use it).
 * A directory of certificate files is also watched, so a renewal there is picked up at once (the
 * check every `refreshMs` stays, for changes a watch misses). The server listens only once it has a
 * certificate; until then it is not ready, and each failed load is tried again after `retryMs`.
 */
import { watch, type FSWatcher } from 'node:fs';
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
  /** A directory whose changes trigger a check at once (cert-manager's mounted Secret). */
  readonly watchDir?: string;
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
  private refreshing: Promise<void> | undefined;
  private watcher: FSWatcher | undefined;
  private soon: NodeJS.Timeout | undefined;

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
    if (this.settings.watchDir !== undefined) {
      try {
        // The kubelet swaps a mounted Secret's files at once through a symlink: several events, one check.
        this.watcher = watch(this.settings.watchDir, () => {
          clearTimeout(this.soon);
          this.soon = setTimeout(() => void this.check(), 100);
        });
        this.watcher.on('error', (error) => this.settings.log('warn', `watching ${this.settings.watchDir ?? ''}: ${error.message}`));
      } catch (error) {
        this.settings.log('warn', `cannot watch ${this.settings.watchDir}: ${error instanceof Error ? error.message : String(error)}; checked every ${this.settings.refreshMs} ms`);
      }
    }
    await this.check();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.soon);
    this.watcher?.close();
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** One check at a time: a check asked for while one runs waits for it, then runs. */
  private async check(): Promise<void> {
    while (this.refreshing !== undefined) await this.refreshing;
    clearTimeout(this.timer);
    this.refreshing = this.refresh();
    try {
      await this.refreshing;
    } finally {
      this.refreshing = undefined;
    }
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
    if (!this.stopped) this.timer = setTimeout(() => void this.check(), next);
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
