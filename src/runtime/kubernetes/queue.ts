/**
 * The operator's work queue: keys (`namespace/name`) to reconcile. A key waiting once is queued
 * once however often it is added; one key is never worked on twice at the same time (an add
 * while it runs queues one more pass after it); a failed pass is retried after a backoff that
 * doubles up to a ceiling, and a success resets it.
 */

export interface QueueOptions {
  /** Passes of different keys run at the same time. */
  readonly workers: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Told of every pass: how long it took and whether it failed (metrics). */
  readonly observe?: (seconds: number, failed: boolean) => void;
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  /** Keys added again while running: queued once their pass ends. */
  private readonly again = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: QueueOptions,
    private readonly work: (key: string) => Promise<void>,
    private readonly onError: (key: string, error: unknown, retryInMs: number) => void = () => {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.again.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiting.push(key);
    this.pump();
  }

  /** Keys waiting for a worker (not those running or waiting out a backoff). */
  get depth(): number {
    return this.waiting.length;
  }

  /** How many times `key` failed in a row. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resolves once nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    this.waiting.length = 0;
    this.queued.clear();
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.active === 0 && this.retries.size === 0;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.workers) {
      const index = this.waiting.findIndex((key) => !this.running.has(key));
      if (index < 0) break;
      const [key] = this.waiting.splice(index, 1) as [string];
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      void this.runOne(key);
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async runOne(key: string): Promise<void> {
    const started = performance.now();
    try {
      await this.work(key);
      this.failures.delete(key);
      this.options.observe?.((performance.now() - started) / 1000, false);
    } catch (error) {
      this.options.observe?.((performance.now() - started) / 1000, true);
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (failures - 1));
      this.onError(key, error, delay);
      if (!this.stopped && !this.retries.has(key)) {
        this.retries.set(
          key,
          setTimeout(() => {
            this.retries.delete(key);
            this.add(key);
          }, delay),
        );
      }
    } finally {
      this.running.delete(key);
      this.active--;
      if (this.again.delete(key)) this.add(key);
      this.pump();
    }
  }
}
