/**
 * One `trantor up` per home, enforced by the kernel: the control plane holds an exclusive lock on
 * `<home>/up.lock` for as long as its process lives.
 *
 * Why a lock and not the pid in control-plane.json: a pid says nothing reliable. After `kill -9`
 * the process lingers as a zombie until its parent reaps it (kill(pid, 0) still succeeds), and a
 * pid is reused by unrelated processes (`{"pid": 1}` always exists). A lock the kernel drops when
 * the process's files are closed — on exit, before it becomes a zombie — has neither problem.
 *
 * Why SQLite: the file is opened as a SQLite database with `locking_mode=EXCLUSIVE` and
 * `BEGIN EXCLUSIVE` is left open, so SQLite holds its fcntl (POSIX) lock, or LockFileEx on
 * Windows, on the file. Taking the lock is one atomic system call, so two starts racing on one home
 * cannot both win (unlike "check the file, then write it"); and SQLite tracks its locks per inode
 * within a process, so a second lock from the same process is refused too. better-sqlite3 is
 * already the broker's store, so no new native code is needed.
 */
import { mkdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { homeLayout } from '../manifest/index.ts';

export interface HomeLock {
  readonly file: string;
  /** Lets another `trantor up` take the home (also done by the kernel when the process exits). */
  release(): void;
}

/**
 * A running CLI command may probe the lock with a shared read for a moment; waiting this long for
 * it rides over that without making a second `trantor up` wait noticeably.
 */
const PROBE_GRACE_MS = 1000;

/**
 * The open lock databases. A connection that is garbage-collected is closed, which drops its
 * lock: each is referenced from here until it is released, whatever the caller keeps.
 */
const held = new Set<Database.Database>();

/** Takes the home's lock, or throws an Error saying that another control plane holds it. */
export function acquireHomeLock(home: string): HomeLock {
  mkdirSync(home, { recursive: true });
  const file = homeLayout.lock(home);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: PROBE_GRACE_MS });
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db?.close();
    if (isBusy(err)) throw new Error(`another trantor up is running for home ${home} (it holds ${file}); stop it first or use another --home`);
    throw new Error(`cannot lock ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const locked = db;
  held.add(locked);
  return {
    file,
    release: () => {
      held.delete(locked);
      if (locked.open) locked.close();
    },
  };
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
