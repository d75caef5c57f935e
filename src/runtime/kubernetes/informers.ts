/**
 * An informer: a local copy of one kind's objects (in one namespace or all), kept current by
 * listing, then watching from the list's resourceVersion. The watch asks the server to end after
 * `timeoutSeconds` and is opened again from the last version seen; a 410 Gone (the version was
 * compacted away), as a refusal or as an ERROR event, means list again; a watch that hears nothing,
 * not even a bookmark, for longer than the watchdog allows is cut and opened again (a silent watch
 * is a known failure of long-lived HTTP streams); and every `relistMs` the whole list is read again,
 * so a missed event costs at most that long.
 *
 * The cache never goes back in time: an object is replaced only by a newer version of itself (by
 * resourceVersion, which the API server's etcd store makes a growing number). That lets the
 * operator put what it just wrote into the cache at once (`wrote`, `forgot`), as controller-runtime's
 * expectations do, so a pass that follows its own write before the watch has told of it neither
 * writes again nor takes back a delete; the watch's late echo of that write then changes nothing
 * and is not told. A change someone else made before that write is told when its event comes (with
 * the cached, newer object), since the write was decided without it.
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
  /** The keys an object is found under by `indexed(value)` (e.g. its owners' uids). */
  readonly indexBy?: (object: LiveObject) => readonly string[];
  /**
   * A kind that may not be served (its CRD not installed): a 404 on the list counts as an empty,
   * synced cache, and the list is tried again after this long.
   */
  readonly absentRetryMs?: number;
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
  /** Whether the last list found the kind not served (see `absentRetryMs`). */
  absent = false;
  private readonly index = new Map<string, Map<string, LiveObject>>();
  /** Objects this process deleted (key → uid), ignored until the watch or a list shows them gone. */
  private readonly tombstones = new Map<string, string>();
  /** How many times the whole list was read (the first list included). */
  lists = 0;
  /** How many times the server answered 410 Gone (the watch's version was compacted away). */
  gone = 0;
  /** How many watches were opened (each one after the first is a restart). */
  watchesOpened = 0;
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
        if (this.options.absentRetryMs !== undefined && this.resourceVersion === '' && error instanceof KubeError && error.status === 404) {
          this.markAbsent();
          await this.pause(this.options.absentRetryMs);
          continue;
        }
        this.handlers.error?.(error);
        this.resourceVersion = '';
        await this.pause(this.options.retryMs);
      }
    }
  }

  /** The object cached under `key` (`namespace/name`). */
  get(key: string): LiveObject | undefined {
    return this.cache.get(key);
  }

  /** The cached objects `indexBy` filed under `value`. */
  indexed(value: string): LiveObject[] {
    return [...(this.index.get(value)?.values() ?? [])];
  }

  /** `plural.group/version`, for messages. */
  get resourceName(): string {
    const { apiVersion, plural } = this.options.resource;
    return `${plural} (${apiVersion})`;
  }

  /** Whether objects of `namespace` are this informer's to hold. */
  watches(namespace: string | undefined): boolean {
    return this.options.namespace === undefined || this.options.namespace === namespace;
  }

  /** What this process just wrote (the API server's answer): cached now, unless the cache holds newer. */
  wrote(object: LiveObject): void {
    this.store(object);
  }

  /** An object this process just deleted: gone from the cache now, and not taken back by a late event. */
  forgot(object: LiveObject): void {
    const key = keyOf(object);
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.metadata.uid !== object.metadata.uid) return;
    this.drop(key);
    if (object.metadata.uid !== undefined) this.tombstones.set(key, object.metadata.uid);
  }

  private async relist(): Promise<void> {
    const list = await this.client.list(this.options.resource, this.options.namespace, this.options.labelSelector);
    this.lists++;
    this.absent = false;
    const seen = new Map<string, string | undefined>();
    for (const object of list.items) {
      const key = keyOf(object);
      seen.set(key, object.metadata.uid);
      if (this.store(object) !== 'deleted') this.handlers.upsert(this.cache.get(key) ?? object);
    }
    // A deleted object the list no longer holds is gone for good.
    for (const [key, uid] of this.tombstones) if (seen.get(key) !== uid) this.tombstones.delete(key);
    for (const [key, object] of this.cache) {
      // Kept: what this process wrote after the list's snapshot was taken.
      if (seen.has(key) || isNewer(object.metadata.resourceVersion, list.resourceVersion)) continue;
      this.drop(key);
      this.handlers.remove(object);
    }
    this.resourceVersion = list.resourceVersion;
    this.relistDue = Date.now() + this.options.relistMs;
    this.syncedResolve();
  }

  /** An absent kind: nothing cached, and synced all the same. */
  private markAbsent(): void {
    this.absent = true;
    for (const [key, object] of this.cache) {
      this.drop(key);
      this.handlers.remove(object);
    }
    this.syncedResolve();
  }

  /**
   * Caches `object` unless the cache holds a newer version of it, or it is one this process deleted;
   * says whether the cache changed ('changed'), already held this version ('same': the echo of a
   * write of this process), held a newer one ('older'), or the object is one this process deleted.
   */
  private store(object: LiveObject): 'changed' | 'same' | 'older' | 'deleted' {
    const key = keyOf(object);
    const tomb = this.tombstones.get(key);
    if (tomb !== undefined) {
      if (tomb === object.metadata.uid) return 'deleted';
      this.tombstones.delete(key);
    }
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.metadata.uid === object.metadata.uid) {
      if (isNewer(cached.metadata.resourceVersion, object.metadata.resourceVersion)) return 'older';
      if (cached.metadata.resourceVersion === object.metadata.resourceVersion && object.metadata.resourceVersion !== undefined) return 'same';
    }
    this.drop(key);
    this.cache.set(key, object);
    for (const value of this.options.indexBy?.(object) ?? []) {
      let entries = this.index.get(value);
      if (entries === undefined) this.index.set(value, (entries = new Map<string, LiveObject>()));
      entries.set(key, object);
    }
    return 'changed';
  }

  private drop(key: string): void {
    const cached = this.cache.get(key);
    if (cached === undefined) return;
    this.cache.delete(key);
    for (const value of this.options.indexBy?.(cached) ?? []) {
      const entries = this.index.get(value);
      entries?.delete(key);
      if (entries?.size === 0) this.index.delete(value);
    }
  }

  /** One watch, until the server ends it, the watchdog or the relist timer cuts it, or it fails. */
  private async watchOnce(): Promise<void> {
    const controller = new AbortController();
    this.current = controller;
    this.watchesOpened++;
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
      if (this.tombstones.get(key) === object.metadata.uid) this.tombstones.delete(key);
      const cached = this.cache.get(key);
      // Another object of the same name (made again since) stays.
      if (cached === undefined || cached.metadata.uid !== object.metadata.uid) return undefined;
      this.drop(key);
      this.handlers.remove(object);
    } else {
      const stored = this.store(object);
      if (stored === 'changed') this.handlers.upsert(object);
      // A change made by someone else before a write of this process, which the cache already holds
      // (the write's answer carried it): told all the same, as the version that holds it, since
      // the write was decided without it (a spec changed while a status was patched).
      else if (stored === 'older') this.handlers.upsert(this.cache.get(key) ?? object);
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

/**
 * Whether resourceVersion `a` is later than `b`. Versions are opaque to clients in general; the API
 * server's etcd store makes them growing integers, and anything else is never called newer.
 */
function isNewer(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) > BigInt(b);
}

function isGone(error: unknown): boolean {
  return error instanceof KubeError && error.status === 410;
}
