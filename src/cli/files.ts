/**
 * Files named on the command line: read with a message that names the argument and says what is
 * wrong (no such file, a folder, no permission) instead of Node's raw `ENOENT: … open '…'`; and
 * curl's `@file` / `@-` for arguments that take either text or a file.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from './control-plane.ts';
import type { Io } from './io.ts';

/** Why `path` could not be read, in words, from a failed read's error. */
export function unreadable(what: string, path: string, err: unknown): CliError {
  const code = (err as { code?: unknown } | null)?.code;
  const where = resolve(path);
  if (code === 'ENOENT') return new CliError(`${what}: no such file ${path} (looked for ${where})`);
  if (code === 'EISDIR') return new CliError(`${what}: ${path} is a folder; name a file in it`);
  if (code === 'EACCES' || code === 'EPERM') return new CliError(`${what}: no permission to read ${path}`);
  return new CliError(`${what}: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
}

/** The text of the file `path` given as `what` (e.g. `--data @x.json`). */
export function readFileArgument(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw unreadable(what, path, err);
  }
}

/**
 * A flag's value as curl reads it: `@-` is stdin, `@FILE` the file's text, anything else the
 * text itself. `flag` names the flag in messages.
 */
export function textOrFile(value: string, flag: string, io: Io): string {
  if (!value.startsWith('@')) return value;
  const path = value.slice(1);
  if (path === '') throw new CliError(`${flag} @: name a file after @, or @- for stdin`);
  if (path === '-') return io.readStdin();
  return readFileArgument(path, `${flag} ${value}`);
}
