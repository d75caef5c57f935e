/**
 * The output of a deployment's replicas: every line goes to the replica's log file (appended, so
 * it survives restarts and rolling updates) and to a small ring buffer per replica, from which
 * `logs()` answers and a failure description quotes the last lines.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  /** The replica's id, `<predictor>/<node>/<index>`. */
  replica: string;
  line: string;
  stream: LogStream;
  /** Milliseconds since the epoch when the line was read. */
  time: number;
  /** Increases with every line the supervisor reads; orders lines across replicas. */
  seq: number;
}

const MAX_LINE = 16 * 1024;

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

export class DeploymentLogs {
  readonly dir: string;
  readonly #capacity: number;
  readonly #rings = new Map<string, Ring>();
  readonly #files = new Map<string, WriteStream>();
  readonly #onLine: (line: LogLine) => void;
  #closed = false;

  constructor(dir: string, capacity: number, onLine: (line: LogLine) => void) {
    this.dir = dir;
    this.#capacity = Math.max(1, capacity);
    this.#onLine = onLine;
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
    const flushers = [this.#follow(replica, stdout, 'stdout', keep), this.#follow(replica, stderr, 'stderr', keep)];
    return {
      finish: () => {
        for (const flush of flushers) flush();
      },
      tail: () => [...tail],
    };
  }

  #follow(replica: string, stream: Readable | null, kind: LogStream, keep: (line: string) => void): () => void {
    if (stream === null) return () => undefined;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#file(replica)?.write(chunk);
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      if (partial.length > MAX_LINE) {
        parts.push(partial);
        partial = '';
      }
      for (const part of parts) keep(this.#add(replica, part, kind));
    });
    stream.on('error', () => undefined);
    return () => {
      if (partial !== '') keep(this.#add(replica, partial, kind));
      partial = '';
    };
  }

  #add(replica: string, text: string, stream: LogStream): string {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    const entry: LogLine = { replica, line: line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line, stream, time: Date.now(), seq: nextSeq++ };
    let ring = this.#rings.get(replica);
    if (ring === undefined) {
      ring = new Ring(this.#capacity);
      this.#rings.set(replica, ring);
    }
    ring.push(entry);
    this.#onLine(entry);
    return entry.line;
  }

  #file(replica: string): WriteStream | undefined {
    if (this.#closed) return undefined;
    let file = this.#files.get(replica);
    if (file === undefined) {
      mkdirSync(this.dir, { recursive: true });
      file = createWriteStream(this.fileOf(replica), { flags: 'a' });
      file.on('error', () => undefined);
      this.#files.set(replica, file);
    }
    return file;
  }

  /** The buffered lines of every replica, oldest first; the last `tail` when given. */
  lines(tail?: number): LogLine[] {
    const all: LogLine[] = [];
    for (const ring of this.#rings.values()) all.push(...ring.all());
    all.sort((a, b) => a.seq - b.seq);
    return tail === undefined ? all : all.slice(Math.max(0, all.length - tail));
  }

  /** Closes the files; lines read later stay in memory only. */
  async close(): Promise<void> {
    this.#closed = true;
    const files = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(files.map((file) => new Promise<void>((done) => file.end(done))));
  }
}
