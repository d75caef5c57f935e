/**
 * Leader election over a coordination.k8s.io/v1 Lease, so that of several operator replicas one
 * reconciles at a time. The holder renews the Lease every retry period; another replica takes it
 * once it has not been renewed for the lease duration; a holder that cannot renew within the renew
 * deadline stops leading (and the operator exits, as controller-runtime's do, so that it never
 * reconciles beside a new leader). Updates carry the resourceVersion read, so two replicas taking
 * the Lease at once cannot both win: the second gets 409.
 */
import { KubeError, type KubeClient, type Resource } from './client.ts';

export const LEASES: Resource = { apiVersion: 'coordination.k8s.io/v1', plural: 'leases' };

export interface LeaseSettings {
  readonly namespace: string;
  readonly name: string;
  /** This replica's name in the Lease (`holderIdentity`). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: KubeClient,
    private readonly settings: LeaseSettings,
    private readonly callbacks: { readonly started: () => void; readonly stopped: () => void; readonly error?: (error: unknown) => void },
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops trying; a leader gives the Lease up so another replica takes it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.client.get(LEASES, this.settings.namespace, this.settings.name).catch(() => undefined);
    const spec = (lease?.spec ?? {}) as LeaseSpec;
    if (lease !== undefined && spec.holderIdentity === this.settings.identity) {
      await this.client.replace(LEASES, this.settings.namespace, { ...lease, spec: { ...spec, holderIdentity: '' } }).catch(() => undefined);
    }
  }

  private async tick(): Promise<void> {
    try {
      if (await this.tryAcquireOrRenew()) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.callbacks.started();
        }
      }
    } catch (error) {
      this.callbacks.error?.(error);
    }
    if (this.stopped) return;
    if (this.leading && Date.now() - this.lastRenew > this.settings.renewDeadlineMs) {
      this.leading = false;
      this.stopped = true;
      this.callbacks.stopped();
      return;
    }
    this.timer = setTimeout(() => void this.tick(), this.settings.retryPeriodMs);
  }

  /** true when this replica holds the Lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.settings;
    const now = new Date();
    const mine: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.settings.leaseDurationMs / 1000), renewTime: micro(now) };
    const lease = await this.client.get(LEASES, namespace, name);
    if (lease === undefined) {
      try {
        await this.client.create(LEASES, namespace, { apiVersion: LEASES.apiVersion, kind: 'Lease', metadata: { name, namespace }, spec: { ...mine, acquireTime: micro(now), leaseTransitions: 0 } });
        return true;
      } catch (error) {
        if (error instanceof KubeError && error.status === 409) return false;
        throw error;
      }
    }
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const held = spec.holderIdentity !== undefined && spec.holderIdentity !== '';
    const renewed = spec.renewTime === undefined ? 0 : Date.parse(spec.renewTime);
    const expired = renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
    if (held && spec.holderIdentity !== identity && !expired) return false;
    const next: LeaseSpec =
      spec.holderIdentity === identity
        ? { ...spec, ...mine }
        : { ...spec, ...mine, acquireTime: micro(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    try {
      await this.client.replace(LEASES, namespace, { ...lease, spec: next });
      return true;
    } catch (error) {
      if (error instanceof KubeError && error.status === 409) return false;
      throw error;
    }
  }
}

/** RFC 3339 with microseconds, as Lease times are written. */
function micro(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
