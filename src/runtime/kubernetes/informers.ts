/**
 * An informer: a local copy of one kind's objects (in one namespace or all), kept current by
 * listing, then watching from the list's resourceVersion. The watch asks the server to end after
 * `timeoutSeconds` and is opened again from the last version seen; a 410 Gone (the version was
 * compacted away), as a refusal or as an ERROR event, means list again; a watch that hears nothing,
 * not even a bookmark, for longer than the watchdog allows is cut and opened again (a silent watch
 * is a known failure of long-lived HTTP streams); and every `relistMs` the whole list is read again,
 * so a missed event costs at most that long.
 */
import { KubeError, type KubeClient, type LiveObject, type Resource, type WatchEvent } from './client.ts';

export interface InformerOptions {
  readonly resource: Resource;
  /** undefined: every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly watchTimeoutSeconds: number;
  /** Cut a watch that hears nothing for this long. */
  readonly watchdogMs: number;
  readonly relistMs: number;
  /** Wait after a failed list or watch before trying again. */
  readonly retryMs: number;
}

export interface InformerHandlers {
  /** An object was added or changed (also for each object of every relist). */
  readonly upsert: (object: LiveObject) => void;
  readonly remove: (object: LiveObject) => void;
  readonly error?: (error: unknown) => void;
}

/** `namespace/name`: the key of an object in the cache and the work queue. */
export function keyOf(object: Pick<LiveObject, 'metadata'>): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

export class Informer {
  readonly cache = new Map<string, LiveObject>();
  /** How many times the whole list was read (the first list included). */
  lists = 0;
  /** How many times the server answered 410 Gone (the watch's version was compacted away). */
  gone = 0;
  /** How many watches were opened (each one after the first is a restart). */
  watches = 0;
  private resourceVersion = '';
  private stopped = false;
  private current: AbortController | undefined;
  private relistDue = 0;
  private loop: Promise<void> | undefined;
  private wake: () => void = () => {};
  private syncedResolve!: () => void;
  /** Resolves after the first list is in the cache. */
  readonly synced = new Promise<void>((resolve) => (this.syncedResolve = resolve));

  constructor(
    private readonly client: KubeClient,
    private readonly options: InformerOptions,
    private readonly handlers: InformerHandlers,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.resourceVersion === '' || Date.now() >= this.relistDue) await this.relist();
        await this.watchOnce();
      } catch (error) {
        if (this.stopped) return;
        if (isGone(error)) {
          this.gone++;
          this.resourceVersion = '';
          continue;
        }
        this.handlers.error?.(error);
        this.resourceVersion = '';
        await this.pause(this.options.retryMs);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.options.resource, this.options.namespace, this.options.labelSelector);
    this.lists++;
    const seen = new Set<string>();
    for (const object of list.items) {
      const key = keyOf(object);
      seen.add(key);
      this.cache.set(key, object);
      this.handlers.upsert(object);
    }
    for (const [key, object] of this.cache) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.handlers.remove(object);
    }
    this.resourceVersion = list.resourceVersion;
    this.relistDue = Date.now() + this.options.relistMs;
    this.syncedResolve();
  }

  /** One watch, until the server ends it, the watchdog or the relist timer cuts it, or it fails. */
  private async watchOnce(): Promise<void> {
    const controller = new AbortController();
    this.current = controller;
    this.watches++;
    let heard = Date.now();
    const check = setInterval(() => {
      if (Date.now() - heard > this.options.watchdogMs || Date.now() >= this.relistDue) controller.abort();
    }, Math.min(1000, this.options.watchdogMs / 4));
    let gone = false;
    try {
      await this.client.watch(this.options.resource, this.options.namespace, {
        resourceVersion: this.resourceVersion,
        ...(this.options.labelSelector === undefined ? {} : { labelSelector: this.options.labelSelector }),
        timeoutSeconds: this.options.watchTimeoutSeconds,
        signal: controller.signal,
        onData: () => (heard = Date.now()),
        onEvent: (event) => {
          if (gone) return;
          if (this.apply(event) === 'gone') {
            gone = true;
            controller.abort();
          }
        },
      });
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    } finally {
      clearInterval(check);
      this.current = undefined;
    }
    if (gone) {
      this.gone++;
      this.resourceVersion = '';
    }
  }

  private apply(event: WatchEvent): 'gone' | undefined {
    if (event.type === 'ERROR') {
      if (event.object.code === 410) return 'gone';
      throw new KubeError(event.object.code ?? 0, event.object.reason ?? '', `watch error: ${event.object.message ?? ''}`);
    }
    const rv = event.object.metadata.resourceVersion;
    if (rv !== undefined) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return undefined;
    const key = keyOf(event.object);
    const object = { ...event.object, apiVersion: event.object.apiVersion ?? this.options.resource.apiVersion };
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.handlers.remove(object);
    } else {
      this.cache.set(key, object);
      this.handlers.upsert(object);
    }
    return undefined;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function isGone(error: unknown): boolean {
  return error instanceof KubeError && error.status === 410;
}
