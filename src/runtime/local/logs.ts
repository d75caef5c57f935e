/**
 * The output of a deployment's replicas: every line goes to the replica's log file (appended, so
 * it survives restarts and rolling updates) and to a small ring buffer per replica, from which
 * `logs()` answers and a failure description quotes the last lines. When a replica's process is
 * replaced (a restart after a crash), its last run's ring is kept as the previous run (`logs -p`),
 * so a replica holds at most two rings.
 *
 * Log files never stop the serving: `AppendLog` writes in the background with a bounded buffer,
 * and when the disk is full (or slow past the buffer) it drops lines, counts them, says so once,
 * and reopens the file a little later.
 */
import { close, mkdir, open, write } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { runtimeOptions } from './options.ts';

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  /** The replica's id, `<predictor>/<node>/<index>`. */
  replica: string;
  line: string;
  stream: LogStream;
  /** Milliseconds since the epoch when the line was read, with a sub-millisecond fraction (`logs --timestamps`). */
  time: number;
  /** Increases with every line the supervisor reads; orders lines across replicas. */
  seq: number;
}

export interface AppendLogOptions {
  /** Bytes held in memory while the disk is slow or failing; what would pass it is dropped. Default `runtime.logBuffer`. */
  maxBufferedBytes?: number;
  /** How long after a failed write the file is reopened and writing resumes; default `runtime.logRetry`. */
  retryMs?: number;
  /** Told once when writing fails (and lines start being dropped), and once when it works again. */
  onTrouble?: (message: string) => void;
}

function linesIn(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n === 0 && text !== '' ? 1 : n;
}

/**
 * A log file that is appended to in the background and never throws, blocks or grows without
 * bound: a pino destination (`write`, `flush`) and the sink of component output alike.
 */
export class AppendLog {
  readonly path: string;
  readonly #maxBuffered: number;
  readonly #retryMs: number;
  readonly #onTrouble: (message: string) => void;
  #fd: number | undefined;
  #chunks: string[] = [];
  #buffered = 0;
  #writing = false;
  #scheduled = false;
  /** Set while writes fail: lines are dropped until the timer reopens the file. */
  #outage: { error: string; timer: NodeJS.Timeout } | undefined;
  #dropped = 0;
  #droppedInOutage = 0;
  #flushed: (() => void)[] = [];
  #closed = false;

  constructor(path: string, options: AppendLogOptions = {}) {
    this.path = path;
    this.#maxBuffered = options.maxBufferedBytes ?? runtimeOptions.defaults.logBuffer;
    this.#retryMs = options.retryMs ?? runtimeOptions.defaults.logRetry;
    this.#onTrouble = options.onTrouble ?? (() => undefined);
  }

  /** Lines dropped so far because the file could not be written. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues text for the file; returns false when it was dropped. */
  write(text: string): boolean {
    if (this.#closed) return false;
    if (this.#outage !== undefined || this.#buffered + text.length > this.#maxBuffered) {
      this.#drop(text);
      return false;
    }
    this.#chunks.push(text);
    this.#buffered += text.length;
    // Lines written in the same turn of the event loop go out in one write(2).
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#pump());
    }
    return true;
  }

  /** Calls back once what is queued now is written (or dropped). */
  flush(done?: (err?: Error) => void): void {
    if (done === undefined) return;
    if (this.#buffered === 0 && !this.#writing) setImmediate(done);
    else this.#flushed.push(done);
  }

  /** Writes what is queued, then closes the file. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      this.flush(() => {
        this.#closed = true;
        if (this.#outage !== undefined) clearTimeout(this.#outage.timer);
        const fd = this.#fd;
        this.#fd = undefined;
        if (fd === undefined) resolve();
        else close(fd, () => resolve());
      });
    });
  }

  #drop(text: string): void {
    const n = linesIn(text);
    this.#dropped += n;
    this.#droppedInOutage += n;
  }

  #pump(): void {
    this.#scheduled = false;
    if (this.#writing) return;
    if (this.#chunks.length === 0) {
      this.#settle();
      return;
    }
    this.#writing = true;
    if (this.#fd === undefined) {
      mkdir(dirname(this.path), { recursive: true }, (mkdirErr) => {
        if (mkdirErr) return this.#fail(mkdirErr);
        open(this.path, 'a', (err, fd) => {
          if (err) return this.#fail(err);
          this.#fd = fd;
          this.#writing = false;
          this.#pump();
        });
      });
      return;
    }
    const text = this.#chunks.length === 1 ? this.#chunks[0]! : this.#chunks.join('');
    this.#chunks = [];
    this.#writeAll(this.#fd, Buffer.from(text), text.length);
  }

  #writeAll(fd: number, bytes: Buffer, chars: number): void {
    write(fd, bytes, 0, bytes.length, null, (err, written) => {
      if (err) {
        // The unwritten rest is lost with the outage, and counted.
        this.#drop(bytes.subarray(written ?? 0).toString());
        this.#buffered -= chars;
        return this.#fail(err);
      }
      if (written < bytes.length) return this.#writeAll(fd, bytes.subarray(written), chars);
      this.#buffered -= chars;
      this.#writing = false;
      this.#pump();
    });
  }

  /** Writing failed: drop what is queued, say so once, and try a fresh file descriptor later. */
  #fail(err: NodeJS.ErrnoException): void {
    this.#writing = false;
    for (const chunk of this.#chunks) this.#drop(chunk);
    this.#chunks = [];
    this.#buffered = 0;
    if (this.#outage === undefined) {
      const error = err.code ?? err.message;
      this.#onTrouble(`writing ${this.path} failed (${err.message}); dropping log lines until it works again, retrying every ${this.#retryMs / 1000} s`);
      this.#outage = { error, timer: setTimeout(() => this.#reopen(), this.#retryMs) };
    } else {
      this.#outage.timer = setTimeout(() => this.#reopen(), this.#retryMs);
    }
    this.#outage.timer.unref();
    this.#settle();
  }

  /** After an outage: a new file descriptor (the file may have been removed), and a note of the loss. */
  #reopen(): void {
    if (this.#closed || this.#outage === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) close(fd, () => undefined);
    const lost = this.#droppedInOutage;
    const outage = this.#outage;
    this.#outage = undefined;
    // The note goes through the file like any line: if the disk is still full, it fails again quietly.
    this.#chunks.push(`${JSON.stringify({ level: 40, time: Date.now(), msg: `${lost} log line(s) dropped: ${outage.error}` })}\n`);
    this.#buffered += this.#chunks[this.#chunks.length - 1]!.length;
    this.#writing = true;
    const probe = this.#chunks.join('');
    this.#chunks = [];
    mkdir(dirname(this.path), { recursive: true }, () => {
      open(this.path, 'a', (err, newFd) => {
        if (err) {
          this.#outage = outage;
          this.#buffered = 0;
          return this.#fail(err);
        }
        this.#fd = newFd;
        write(newFd, probe, null, 'utf8', (writeErr) => {
          this.#buffered -= probe.length;
          if (writeErr) {
            this.#outage = outage;
            return this.#fail(writeErr);
          }
          this.#droppedInOutage = 0;
          this.#onTrouble(`writing ${this.path} works again; ${lost} log line(s) were dropped`);
          this.#writing = false;
          this.#pump();
        });
      });
    });
  }

  #settle(): void {
    if (this.#buffered > 0 || this.#writing) return;
    const waiters = this.#flushed;
    this.#flushed = [];
    for (const done of waiters) done();
  }
}

/** The output of one process, as `capture()` follows it. */
export interface Capture {
  /** Reads a last line that did not end with a newline; call once the process's pipes closed. */
  finish(): void;
  /** This process's last lines, oldest first. */
  tail(): string[];
}

let nextSeq = 0;

class Ring {
  readonly #lines: (LogLine | undefined)[];
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#lines = new Array<LogLine | undefined>(capacity);
  }

  push(line: LogLine): void {
    this.#lines[this.#next] = line;
    this.#next = (this.#next + 1) % this.#lines.length;
    if (this.#size < this.#lines.length) this.#size++;
  }

  /** Oldest first. */
  all(): LogLine[] {
    const out: LogLine[] = [];
    const capacity = this.#lines.length;
    for (let i = 0; i < this.#size; i++) {
      const line = this.#lines[(this.#next - this.#size + i + capacity) % capacity];
      if (line !== undefined) out.push(line);
    }
    return out;
  }
}

/** A replica id as a file-name part: `default/classifier/0` → `default.classifier.0`. */
function fileNameOf(replica: string): string {
  return `${replica.split('/').map(safePart).join('.')}.log`;
}

/** A name usable as one path segment: anything outside [A-Za-z0-9._-] becomes `_`, and `..` cannot escape. */
export function safePart(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '' || /^\.+$/.test(cleaned) ? `_${cleaned}` : cleaned;
}

export interface DeploymentLogsOptions {
  /** Lines kept in memory per replica. */
  lines: number;
  /** Longest line kept; the rest of a longer one is cut. */
  lineMax: number;
  file?: AppendLogOptions;
}

export class DeploymentLogs {
  readonly dir: string;
  readonly #capacity: number;
  readonly #lineMax: number;
  /** Per replica: the ring of its current process, and that of the process before it. */
  readonly #runs = new Map<string, { current: Ring; previous?: Ring }>();
  readonly #files = new Map<string, AppendLog>();
  readonly #onLine: (line: LogLine) => void;
  readonly #fileOptions: AppendLogOptions;
  #closed = false;

  constructor(dir: string, onLine: (line: LogLine) => void, options: DeploymentLogsOptions) {
    this.dir = dir;
    this.#capacity = Math.max(1, options.lines);
    this.#lineMax = options.lineMax;
    this.#onLine = onLine;
    this.#fileOptions = options.file ?? {};
  }

  /** The path of `replica`'s log file. */
  fileOf(replica: string): string {
    return join(this.dir, fileNameOf(replica));
  }

  /**
   * Copies one process's stdout and stderr into the log. The capture keeps the last `tailLines`
   * lines of this process alone (a replica's next process, or its replacement, logs under the
   * same id) and flushes a last partial line on `finish()`.
   */
  capture(replica: string, stdout: Readable | null, stderr: Readable | null, tailLines: number): Capture {
    const tail: string[] = [];
    const keep = (line: string): void => {
      tail.push(line);
      if (tail.length > tailLines) tail.shift();
    };
    const ring = new Ring(this.#capacity);
    const before = this.#runs.get(replica)?.current;
    this.#runs.set(replica, before === undefined ? { current: ring } : { current: ring, previous: before });
    const flushers = [this.#follow(replica, ring, stdout, 'stdout', keep), this.#follow(replica, ring, stderr, 'stderr', keep)];
    return {
      finish: () => {
        for (const flush of flushers) flush();
      },
      tail: () => [...tail],
    };
  }

  #follow(replica: string, ring: Ring, stream: Readable | null, kind: LogStream, keep: (line: string) => void): () => void {
    if (stream === null) return () => undefined;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#file(replica)?.write(chunk);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      if (partial.length > this.#lineMax) {
        parts.push(partial);
        partial = '';
      }
      for (const part of parts) keep(this.#add(replica, ring, part, kind));
    });
    stream.on('error', () => undefined);
    return () => {
      if (partial !== '') keep(this.#add(replica, ring, partial, kind));
      partial = '';
    };
  }

  #add(replica: string, ring: Ring, text: string, stream: LogStream): string {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    // The wall clock (as a user compares with), with a sub-millisecond part from the monotonic clock.
    const time = Date.now() + (performance.now() % 1);
    const entry: LogLine = { replica, line: line.length > this.#lineMax ? `${line.slice(0, this.#lineMax)}…` : line, stream, time, seq: nextSeq++ };
    ring.push(entry);
    this.#onLine(entry);
    return entry.line;
  }

  #file(replica: string): AppendLog | undefined {
    if (this.#closed) return undefined;
    let file = this.#files.get(replica);
    if (file === undefined) {
      file = new AppendLog(this.fileOf(replica), this.#fileOptions);
      this.#files.set(replica, file);
    }
    return file;
  }

  /** Lines of replica output that could not be written to their files (a full disk). */
  droppedLines(): number {
    let n = 0;
    for (const file of this.#files.values()) n += file.dropped;
    return n;
  }

  /**
   * The buffered lines of every replica, oldest first: the last `tail` of each replica when given;
   * with `previous`, those of each replica's run before its current one (replicas that never
   * restarted have none).
   */
  lines(options: { tail?: number; previous?: boolean } = {}): LogLine[] {
    const all: LogLine[] = [];
    for (const run of this.#runs.values()) {
      const lines = (options.previous === true ? run.previous : run.current)?.all() ?? [];
      all.push(...(options.tail === undefined ? lines : lines.slice(Math.max(0, lines.length - options.tail))));
    }
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** Closes the files; lines read later stay in memory only. */
  async close(): Promise<void> {
    this.#closed = true;
    const files = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(files.map((file) => file.end()));
  }
}
