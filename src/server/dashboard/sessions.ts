/**
 * Who may read the dashboard's data: a one-time code, minted through the API (with the API token)
 * by `trantor dashboard`, is redeemed once by the page for a session; the page sends the session
 * as a bearer token on each call to `/dashboard/api/…`. Codes live a minute, sessions until the
 * control plane stops or they go unused for `idleMs`. Nothing is stored on disk: a restart logs
 * every page out, and `trantor dashboard` logs it in again.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface DashboardSessionsOptions {
  /** How long a login code can be redeemed. */
  readonly codeTtlMs: number;
  /** A session unused this long ends. */
  readonly idleMs: number;
  /** At most this many sessions; the least recently used ends first. */
  readonly maxSessions: number;
  readonly now?: () => number;
}

export const DASHBOARD_SESSION_DEFAULTS: DashboardSessionsOptions = Object.freeze({ codeTtlMs: 60_000, idleMs: 12 * 3600_000, maxSessions: 64 });

/** Keys are digests, so a lookup's time does not depend on how much of a guess was right. */
function key(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export class DashboardSessions {
  readonly #options: DashboardSessionsOptions;
  readonly #now: () => number;
  /** Code digest → when it expires. */
  readonly #codes = new Map<string, number>();
  /** Session digest → when it was last used (Map order: least recently used first). */
  readonly #sessions = new Map<string, number>();

  constructor(options: Partial<DashboardSessionsOptions> = {}) {
    this.#options = { ...DASHBOARD_SESSION_DEFAULTS, ...options };
    this.#now = options.now ?? Date.now;
  }

  /** A new one-time login code and when it expires (ms since the epoch). */
  mintCode(): { code: string; expiresAt: number } {
    const now = this.#now();
    for (const [k, expires] of this.#codes) if (expires <= now) this.#codes.delete(k);
    const code = randomBytes(24).toString('base64url');
    const expiresAt = now + this.#options.codeTtlMs;
    this.#codes.set(key(code), expiresAt);
    return { code, expiresAt };
  }

  /** The session a code opens; undefined when the code is unknown, used or expired (it is spent either way). */
  redeem(code: string): string | undefined {
    const k = key(code);
    const expires = this.#codes.get(k);
    this.#codes.delete(k);
    if (expires === undefined || expires <= this.#now()) return undefined;
    const session = randomBytes(32).toString('base64url');
    this.#sessions.set(key(session), this.#now());
    while (this.#sessions.size > this.#options.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value!);
    return session;
  }

  /** Whether `session` is open; using it keeps it open. */
  admits(session: string): boolean {
    const k = key(session);
    const used = this.#sessions.get(k);
    if (used === undefined) return false;
    const now = this.#now();
    this.#sessions.delete(k);
    if (now - used > this.#options.idleMs) return false;
    this.#sessions.set(k, now);
    return true;
  }

  end(session: string): boolean {
    return this.#sessions.delete(key(session));
  }
}
