/**
 * The control-plane API's bearer token. The API can start processes, so it is a door to the
 * machine: any local user could reach a loopback port, but only the home's owner can read
 * `<home>/api-token` (mode 0600), and every call must carry it (`Authorization: Bearer …`).
 * Made at the first start (32 random bytes, base64url) and kept, so scripts can read it;
 * `TRANTOR_API_TOKEN` replaces it for setups that hand the token out themselves.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TrantorError } from '../protocol/index.ts';
import { homeLayout } from '../manifest/index.ts';

export interface ApiToken {
  readonly value: string;
  /** Where a user finds it: the token file, or the variable that set it. Said in every 401. */
  readonly source: string;
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const MIN_LENGTH = 16;

/** Why `text` cannot be a bearer token, or undefined when it can. */
export function apiTokenProblem(text: string): string | undefined {
  if (text.length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters, got ${text.length}`;
  if (!TOKEN68.test(text)) return "may hold only letters, digits and - . _ ~ + / (then '=' padding)";
  return undefined;
}

/** `TRANTOR_API_TOKEN` checked once, in the config step; undefined when unset or empty. */
export function apiTokenFromEnv(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  const problem = apiTokenProblem(text);
  if (problem !== undefined) throw new Error(`TRANTOR_API_TOKEN ${problem}`);
  return text;
}

/**
 * The token `trantor up` requires: `override` when given, else the home's token file, made
 * now if there is none. A token file that group or others could read gets mode 0600 back and a
 * warning: the home is fixed the same way at start, and the warning says how to rotate it.
 */
export function loadApiToken(home: string, override: string | undefined, warn: (text: string) => void): ApiToken {
  if (override !== undefined) return { value: override, source: 'TRANTOR_API_TOKEN (as set when trantor up started)' };
  const file = homeLayout.apiToken(home);
  const value = readTokenFile(file, warn) ?? createTokenFile(file, warn);
  return { value, source: file };
}

function createTokenFile(file: string, warn: (text: string) => void): string {
  const value = randomBytes(32).toString('base64url');
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    // Another start made it first: use that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readTokenFile(file, warn) ?? refuse(file, 'it vanished while being read');
    throw err;
  }
  try {
    writeSync(fd, `${value}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return value;
}

/** The token in `file`, or undefined when there is no such file. */
function readTokenFile(file: string, warn: (text: string) => void): string | undefined {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted at the token's path is refused, not followed.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') refuse(file, 'it is a symbolic link');
    throw err;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) refuse(file, 'it is not a regular file');
    if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) refuse(file, `it belongs to uid ${stat.uid}, not to you`);
    if ((stat.mode & 0o077) !== 0) {
      fchmodSync(fd, 0o600);
      warn(`${file} was readable by other users (mode ${(stat.mode & 0o777).toString(8)}); its mode is now 600. If others may have read it, delete it and restart to make a new token.`);
    }
    const value = readFileSync(fd, 'utf8').trim();
    const problem = apiTokenProblem(value);
    if (problem !== undefined) refuse(file, `the token in it ${problem}`);
    return value;
  } finally {
    closeSync(fd);
  }
}

function refuse(file: string, why: string): never {
  throw new Error(`cannot use the API token file ${file}: ${why}; delete it and start again to make a new one`);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** True when `authorization` is `Bearer <token>`; compared in constant time (digests of equal length). */
export function bearerMatches(token: ApiToken, authorization: string | undefined): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  // Compare even when the header is missing, so the time taken does not say which it was.
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token.value)) && match !== null;
}

/** Throws 401 UNAUTHORIZED (with `WWW-Authenticate: Bearer`) unless the request carries the token. */
export function requireToken(token: ApiToken, req: IncomingMessage, res: ServerResponse): void {
  if (bearerMatches(token, req.headers.authorization)) return;
  const sent = req.headers.authorization === undefined ? 'no Authorization header' : 'a wrong token';
  res.setHeader('www-authenticate', `Bearer realm="trantor"${req.headers.authorization === undefined ? '' : ', error="invalid_token"'}`);
  throw new TrantorError(
    'UNAUTHORIZED',
    `the control-plane API needs "Authorization: Bearer <token>" and this request had ${sent}; the token is in ${token.source} (see docs/api.md)`,
  );
}
