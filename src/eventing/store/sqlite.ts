/**
 * The broker's store in one SQLite file (better-sqlite3).
 *
 * Durability, chosen with `durability` (`trantor up --durability`):
 * - `process` (the default): WAL with `synchronous=NORMAL`. A commit writes the transaction to the
 *   WAL file with write(2) but does not fsync it; the fsync happens at checkpoints. Once write(2)
 *   returns, the data is in the operating system's page cache, so it survives the process dying in
 *   any way (kill -9, a crash, an OOM kill) — the failure a broker on a laptop or in a pod actually
 *   meets. A power loss or kernel crash can lose the last commits (never corrupt the database).
 * - `fsync`: WAL with `synchronous=FULL`, which fsyncs the WAL at every commit, so no append
 *   resolves (no 202) before its event is on stable storage and it survives a power loss too.
 *
 * Throughput: better-sqlite3 is synchronous, so every write is queued and the queue is committed
 * in one transaction per turn of the event loop (group commit): sixteen producers writing at once
 * cost one commit — and in `fsync` mode one fsync — not sixteen.
 *
 * A full disk: a commit that fails for want of space (SQLITE_FULL, SQLITE_IOERR_*, ENOSPC) rejects
 * that batch's appends with INSUFFICIENT_STORAGE (507) naming the file, so nothing is acknowledged
 * that was not stored. Deliveries marked in that batch (delivered, dead-lettered, attempts) are not
 * lost: they are kept and committed again once a later commit can be made, retried on a timer.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { TrantorError } from '../../protocol/index.ts';
import { decodeStructured, eventToJsonText, type CloudEvent } from '../../protocol/index.ts';
import type {
  AppendRecord,
  BrokerKey,
  EventStore,
  PendingDelivery,
  StoredEvent,
  TriggerCounts,
  TriggerKey,
} from './store.ts';
import { isOutOfSpace } from './store.ts';
import { eventingOptions } from '../options.ts';

export interface SqliteEventStoreOptions {
  /** The database file (its folder is created); `:memory:` for a store that dies with the process. */
  path: string;
  /**
   * `process` (default): an acknowledged append survives the process being killed; `fsync`: it is
   * on stable storage before the append resolves, so it survives a power loss too.
   */
  durability?: Durability;
  /** How long a batch of marks that failed on a full disk waits before it is committed again; default `eventing.storeRetry`. */
  retryMs?: number;
  /** How long a statement waits for SQLite's lock held by another connection; default `eventing.storeBusyTimeout`. */
  busyTimeoutMs?: number;
  /** Events a compaction removes between yields to the event loop; default `eventing.compactSlice`. */
  compactSlice?: number;
}

/** The store's tunables, as `trantor up` compiles them from the `eventing` options. */
export type SqliteTuning = Pick<SqliteEventStoreOptions, 'retryMs' | 'busyTimeoutMs' | 'compactSlice'>;

/** What an acknowledged append survives: the process dying (`process`), or a power loss too (`fsync`). */
export type Durability = 'fsync' | 'process';
export const DURABILITIES: readonly Durability[] = ['process', 'fsync'];

/** The broker's SQLite store kept in a folder, as `<folder>/events.db`. */
export function openSqliteStore(folder: string, durability?: Durability, tuning: SqliteTuning = {}): SqliteEventStore {
  return new SqliteEventStore({ path: join(folder, 'events.db'), ...tuning, ...(durability === undefined ? {} : { durability }) });
}

type Op =
  | { kind: 'append'; broker: BrokerKey; records: readonly AppendRecord[]; resolve: (seqs: number[]) => void; reject: (err: unknown) => void }
  | { kind: 'attempts'; trigger: TriggerKey; seq: number; attempts: number; resolve: () => void; reject: (err: unknown) => void }
  | { kind: 'done'; trigger: TriggerKey; seq: number; dead: boolean; resolve: () => void; reject: (err: unknown) => void };

type MarkOp = Exclude<Op, { kind: 'append' }>;

/** Sequence numbers removed per compaction step. */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  broker TEXT NOT NULL,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_broker ON events (broker, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  trigger TEXT NOT NULL,
  seq INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (trigger, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_seq ON deliveries (seq);
CREATE TABLE IF NOT EXISTS trigger_counts (
  trigger TEXT PRIMARY KEY,
  delivered INTEGER NOT NULL DEFAULT 0,
  dead_lettered INTEGER NOT NULL DEFAULT 0
);
`;

export class SqliteEventStore implements EventStore {
  readonly #db: Database.Database;
  readonly #insertEvent: Database.Statement<[string, string]>;
  readonly #insertDelivery: Database.Statement<[string, number]>;
  readonly #updateAttempts: Database.Statement<[number, string, number]>;
  readonly #deleteDelivery: Database.Statement<[string, number]>;
  readonly #bumpCounts: Database.Statement<[string, number, number]>;
  readonly #selectPending: Database.Statement<[string, number, number], { seq: number; attempts: number; event: string }>;
  readonly #selectEvents: Database.Statement<[string, number, number], { seq: number; event: string }>;
  readonly #path: string;
  readonly #retryMs: number;
  readonly #compactSlice: number;
  #queue: Op[] = [];
  #scheduled = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SqliteEventStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#path = options.path;
    this.#retryMs = options.retryMs ?? eventingOptions.defaults.storeRetry;
    this.#compactSlice = options.compactSlice ?? eventingOptions.defaults.compactSlice;
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    // In WAL mode FULL syncs the WAL at every commit; NORMAL only at checkpoints.
    this.#db.pragma(`synchronous = ${options.durability === 'fsync' ? 'FULL' : 'NORMAL'}`);
    this.#db.pragma(`busy_timeout = ${Math.round(options.busyTimeoutMs ?? eventingOptions.defaults.storeBusyTimeout)}`);
    this.#db.exec(SCHEMA);
    this.#insertEvent = this.#db.prepare('INSERT INTO events (broker, event) VALUES (?, ?)');
    this.#insertDelivery = this.#db.prepare('INSERT OR IGNORE INTO deliveries (trigger, seq) VALUES (?, ?)');
    this.#updateAttempts = this.#db.prepare('UPDATE deliveries SET attempts = ? WHERE trigger = ? AND seq = ?');
    this.#deleteDelivery = this.#db.prepare('DELETE FROM deliveries WHERE trigger = ? AND seq = ?');
    this.#bumpCounts = this.#db.prepare(
      `INSERT INTO trigger_counts (trigger, delivered, dead_lettered) VALUES (?, ?, ?)
       ON CONFLICT (trigger) DO UPDATE SET delivered = delivered + excluded.delivered, dead_lettered = dead_lettered + excluded.dead_lettered`,
    );
    this.#selectPending = this.#db.prepare(
      `SELECT d.seq AS seq, d.attempts AS attempts, e.event AS event FROM deliveries d JOIN events e ON e.seq = d.seq
       WHERE d.trigger = ? AND d.seq > ? ORDER BY d.seq LIMIT ?`,
    );
    this.#selectEvents = this.#db.prepare('SELECT seq, event FROM events WHERE broker = ? AND seq >= ? ORDER BY seq LIMIT ?');
  }

  /** The durability in force, read back from SQLite. */
  get durability(): Durability {
    return this.#db.pragma('synchronous', { simple: true }) === 2 ? 'fsync' : 'process';
  }

  append(broker: BrokerKey, records: readonly AppendRecord[]): Promise<number[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'append', broker, records, resolve, reject }));
  }

  recordAttempts(trigger: TriggerKey, seq: number, attempts: number): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'attempts', trigger, seq, attempts, resolve, reject }));
  }

  markDelivered(trigger: TriggerKey, seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'done', trigger, seq, dead: false, resolve, reject }));
  }

  markDeadLettered(trigger: TriggerKey, seq: number): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'done', trigger, seq, dead: true, resolve, reject }));
  }

  pending(trigger: TriggerKey, options: { afterSeq?: number; limit?: number } = {}): Promise<PendingDelivery[]> {
    return this.#now(() =>
      this.#selectPending.all(trigger, options.afterSeq ?? 0, options.limit ?? 1000).map((row) => ({
        seq: row.seq,
        trigger,
        attempts: row.attempts,
        event: storedEvent(row.event),
      })),
    );
  }

  read(broker: BrokerKey, fromSeq: number, limit = 1000): Promise<StoredEvent[]> {
    return this.#now(() =>
      this.#selectEvents.all(broker, fromSeq, limit).map((row) => ({
        seq: row.seq,
        broker,
        event: storedEvent(row.event),
      })),
    );
  }

  triggers(): Promise<TriggerKey[]> {
    return this.#now(() =>
      this.#db
        .prepare<[], { trigger: string }>('SELECT DISTINCT trigger FROM deliveries UNION SELECT trigger FROM trigger_counts ORDER BY trigger')
        .all()
        .map((row) => row.trigger),
    );
  }

  counts(trigger: TriggerKey): Promise<TriggerCounts> {
    return this.#now(() => {
      const pending = this.#db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM deliveries WHERE trigger = ?').get(trigger)?.n ?? 0;
      const row = this.#db
        .prepare<[string], { delivered: number; dead_lettered: number }>('SELECT delivered, dead_lettered FROM trigger_counts WHERE trigger = ?')
        .get(trigger);
      return { pending, delivered: row?.delivered ?? 0, deadLettered: row?.dead_lettered ?? 0 };
    });
  }

  dropTrigger(trigger: TriggerKey): Promise<void> {
    return this.#now(() => {
      this.#flush();
      this.#db.transaction(() => {
        this.#db.prepare('DELETE FROM deliveries WHERE trigger = ?').run(trigger);
        this.#db.prepare('DELETE FROM trigger_counts WHERE trigger = ?').run(trigger);
      })();
    });
  }

  lastSeq(): Promise<number> {
    return this.#now(() => {
      this.#flush();
      return this.#db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events').get()?.seq ?? 0;
    });
  }

  async compact(options: { retain?: number } = {}): Promise<number> {
    const retain = Math.max(0, options.retain ?? eventingOptions.defaults.retainEvents);
    const bounds = await this.#now(() => this.#db.prepare<[], { low: number | null; high: number | null }>('SELECT min(seq) AS low, max(seq) AS high FROM events').get());
    const below = (bounds?.high ?? 0) - retain + 1;
    let from = bounds?.low ?? 0;
    let removed = 0;
    // In slices, yielding between them, so a large backlog never stalls the ingress for long.
    // An event stays while any trigger still has a pending delivery of it.
    const remove = this.#db.prepare<[number, number]>(
      'DELETE FROM events WHERE seq >= ? AND seq < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = events.seq)',
    );
    while (from < below && !this.#closed) {
      const to = Math.min(below, from + this.#compactSlice);
      removed += remove.run(from, to).changes;
      from = to;
      if (from < below) await new Promise((resolve) => setImmediate(resolve));
    }
    return removed;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#flush();
    this.#closed = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    // Marks still failing on a full disk stay pending in the file: they are delivered again after a restart.
    const left = this.#queue;
    this.#queue = [];
    for (const op of left) op.reject(new Error('event store is closed'));
    this.#db.close();
    return Promise.resolve();
  }

  #now<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('event store is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #enqueue(op: Op): void {
    if (this.#closed) {
      op.reject(new Error('event store is closed'));
      return;
    }
    this.#queue.push(op);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Commits every queued write in one transaction, then settles their promises. */
  #flush(): void {
    this.#scheduled = false;
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
    const ops = this.#queue;
    if (ops.length === 0) return;
    this.#queue = [];
    const results: number[][] = [];
    try {
      this.#db.transaction(() => {
        const counts = new Map<TriggerKey, [number, number]>();
        for (const op of ops) {
          if (op.kind === 'append') {
            const seqs: number[] = [];
            for (const record of op.records) {
              const body = eventToJsonText(record.event, { bytes: 'base64' });
              const seq = Number(this.#insertEvent.run(op.broker, body).lastInsertRowid);
              for (const trigger of record.triggers) this.#insertDelivery.run(trigger, seq);
              seqs.push(seq);
            }
            results.push(seqs);
          } else if (op.kind === 'attempts') {
            this.#updateAttempts.run(op.attempts, op.trigger, op.seq);
          } else if (this.#deleteDelivery.run(op.trigger, op.seq).changes > 0) {
            const c = counts.get(op.trigger) ?? [0, 0];
            c[op.dead ? 1 : 0] += 1;
            counts.set(op.trigger, c);
          }
        }
        for (const [trigger, [delivered, dead]] of counts) this.#bumpCounts.run(trigger, delivered, dead);
      })();
    } catch (err) {
      this.#failed(ops, err);
      return;
    }
    let i = 0;
    for (const op of ops) {
      if (op.kind === 'append') op.resolve(results[i++] ?? []);
      else op.resolve();
    }
  }

  /**
   * A batch that could not be committed: on a full disk its appends are refused with 507 and its
   * marks are queued again for a later commit; any other failure rejects the whole batch.
   */
  #failed(ops: Op[], err: unknown): void {
    if (!isOutOfSpace(err)) {
      for (const op of ops) op.reject(err);
      return;
    }
    const refusal = new TrantorError('INSUFFICIENT_STORAGE', `the broker's disk is full: ${this.#path}: ${detailOf(err)}`, { cause: err });
    const marks: MarkOp[] = [];
    for (const op of ops) {
      if (op.kind === 'append') op.reject(refusal);
      else marks.push(op);
    }
    if (marks.length === 0 || this.#closed) return;
    this.#queue = [...marks, ...this.#queue];
    // Not unref'd: a mark is still owed, and close() clears the timer.
    this.#retryTimer = setTimeout(() => this.#flush(), this.#retryMs);
  }
}

/**
 * An event as a row stores it: the JSON event format, bytes as base64 and JSON `data` as the exact
 * text it arrived as, so it is delivered byte for byte. Rows written before data was kept as text
 * hold the same format (with data re-serialised) and read the same way. Not validated again: the
 * event was valid when it was accepted, and rules made stricter since must not strand it.
 */
function storedEvent(text: string): CloudEvent {
  return decodeStructured(text, { where: 'stored event', validate: false });
}

/** Whether SQLite (or the system) failed to write for want of space, or the disk refused the write. */

function detailOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
