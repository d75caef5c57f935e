/**
 * Who may drive a server: the rule that keeps a web page in the user's browser from calling the
 * control-plane API, the gateway or the broker. Two questions, asked before anything else is read:
 *
 * - Is `Host` one this server answers for? A DNS-rebinding page reaches 127.0.0.1 under its own
 *   name (`evil.example:8000`), so any other name is refused with 421.
 * - Is `Origin` allowed? Browsers send it on every cross-origin request and every POST; curl, SDKs
 *   and Seldon's Python client do not. Absent or the server's own origin: allowed. In the CORS allow
 *   list: allowed, and the answer carries CORS headers. Anything else (`null` included): 403.
 *
 * A page's subresource request (`<img src>`) carries no Origin but does carry `Sec-Fetch-Site`;
 * one from another site is refused too, so a GET prediction cannot be fired from a page either.
 *
 * The policy is compiled once per server; the common request (a client without Origin, Host one
 * of ours) costs a Set lookup and allocates nothing.
 */
import type { ServerResponse } from 'node:http';
import { TrantorError } from '../protocol/index.ts';

export interface RequestOriginOptions {
  /** The address the server is bound to (`--host`): its own name, and loopback names for a loopback bind. */
  readonly bindHost: string;
  /** The port actually listened on. */
  readonly port: number;
  /** Further `host` or `host:port` values accepted in `Host`, whose `http(s)://` origins are the server's own too. */
  readonly allowedHosts?: readonly string[];
  /** Host names (any port) accepted in `Host` but never as an origin: the broker's in-cluster names. */
  readonly hostPattern?: RegExp;
  /** Any `Host` is accepted (the user exposed the server with `--host 0.0.0.0`); Origin is still checked. */
  readonly anyHost?: boolean;
  /** Origins of other web pages allowed to call, answered with CORS headers. None when absent. */
  readonly corsAllowedOrigins?: readonly string[];
  /** Methods a preflight may be granted; default GET, HEAD, POST. */
  readonly corsMethods?: readonly string[];
}

export interface RequestOriginPolicy {
  /**
   * Admits a request by its `Host`, `Origin` and `Sec-Fetch-*` headers, or throws
   * MISDIRECTED_REQUEST (421) or FORBIDDEN_ORIGIN (403). Returns the origin to grant CORS answers
   * to when the request came from an allowed other page; undefined otherwise. `http10`: the
   * request is HTTP/1.0, which may omit `Host`.
   */
  admit(headers: OriginHeaders, http10?: boolean): string | undefined;
  /** Answers a CORS preflight from an origin `admit` granted: 204 with what may be sent. */
  answerPreflight(res: ServerResponse, origin: string, requestHeaders: string | undefined): void;
  /** Adds the CORS headers an actual answer to a granted origin carries; call before writing the head. */
  allowCors(res: ServerResponse, origin: string): void;
}

/** The request headers the policy reads; absent headers are undefined. */
export interface OriginHeaders {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  /** `Sec-Fetch-Site`: sent by browsers on every request, with or without Origin. */
  readonly fetchSite?: string | undefined;
  /** `Sec-Fetch-Mode`: `navigate` for a page the user opens (a link, the address bar). */
  readonly fetchMode?: string | undefined;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const DEFAULT_METHODS = ['GET', 'HEAD', 'POST'];
const PREFLIGHT_MAX_AGE_S = '600';
/** Request headers a preflight may be granted (beyond these, only `Ce-*`). */
const SAFE_REQUEST_HEADERS = new Set(['accept', 'accept-language', 'content-language', 'content-type', 'authorization', 'seldon-puid', 'seldon-skip-logging']);
/** Response headers a page may read: the puid and a CloudEvent reply's attributes. */
const EXPOSED_HEADERS = 'Seldon-Puid, Ce-Id, Ce-Specversion, Ce-Type, Ce-Source, Ce-Subject, Ce-Time, Ce-Dataschema';

/** True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** True for 0.0.0.0 and ::, which listen on every interface. */
export function isUnspecifiedHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare === '0.0.0.0' || bare === '::';
}

const HOST_NAME = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/;

/** A `host` or `host:port` as it appears in `Host`, lowercased; throws a TypeError naming the entry. */
export function normalizeHost(entry: string): string {
  const host = entry.trim().toLowerCase();
  const match = HOST_NAME.exec(host);
  if (match === null || (match[1] !== undefined && Number(match[1]) > 65535)) {
    throw new TypeError(`"${entry}" is not a host name: expected a name or address, optionally with :port (app.example, 10.0.0.5:8000, [::1])`);
  }
  return host;
}

/** An origin as browsers send it (`scheme://host[:port]`, lowercase, no path); throws a TypeError naming the entry. */
export function normalizeOrigin(entry: string): string {
  const text = entry.trim();
  if (text === '*') throw new TypeError('"*" is not an origin: list each page\'s origin, since "any page" would let every site you visit drive the server');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`"${entry}" is not an origin: expected scheme://host[:port], e.g. http://app.example:3000`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) {
    throw new TypeError(`"${entry}" is not an origin: expected http:// or https:// with a host and an optional port, nothing after it`);
  }
  if (text.replace(/\/$/, '').toLowerCase() !== url.origin) {
    // `http://app.example:80` is sent by browsers as `http://app.example`; say so rather than never match.
    throw new TypeError(`"${entry}" is not an origin as browsers send it; write ${url.origin}`);
  }
  return url.origin;
}

function withoutPort(host: string): string {
  const colon = host.lastIndexOf(':');
  return colon === -1 || host.endsWith(']') ? host : host.slice(0, colon);
}

/** Compiles the policy once; it is frozen and never changes. */
export function compileRequestOrigin(options: RequestOriginOptions): RequestOriginPolicy {
  if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) {
    throw new TypeError(`request origin policy: port must be the port listened on, got ${options.port}`);
  }
  const port = options.port;
  const bind = options.bindHost.includes(':') && !options.bindHost.startsWith('[') ? `[${options.bindHost}]` : options.bindHost;
  const names = new Set<string>();
  if (!isUnspecifiedHost(bind)) names.add(bind.toLowerCase());
  if (isLoopbackHost(bind) || isUnspecifiedHost(bind)) for (const name of LOOPBACK_NAMES) names.add(name);

  // The exact `Host` values accepted: each name with the port, and bare when the port is HTTP's default.
  const hosts = new Set<string>();
  for (const name of names) {
    hosts.add(`${name}:${port}`);
    if (port === 80) hosts.add(name);
  }
  for (const entry of options.allowedHosts ?? []) {
    const host = normalizeHost(entry);
    hosts.add(host);
    if (withoutPort(host) === host) hosts.add(`${host}:${port}`);
  }
  const ownOrigins = new Set<string>();
  for (const host of hosts) {
    ownOrigins.add(`http://${host}`);
    ownOrigins.add(`https://${host}`);
  }
  const cors = new Set((options.corsAllowedOrigins ?? []).map(normalizeOrigin));
  const methods = (options.corsMethods ?? DEFAULT_METHODS).join(', ');
  const pattern = options.hostPattern;
  const anyHost = options.anyHost === true;
  const answerFor = [...names].map((n) => `${n}:${port}`).join(', ') + (options.allowedHosts?.length ? ' and the allowed hosts' : '');

  const hostAccepted = (host: string): boolean => {
    if (hosts.has(host) || anyHost) return true;
    const lower = host.toLowerCase();
    if (hosts.has(lower)) return true;
    return pattern !== undefined && pattern.test(withoutPort(lower));
  };

  const admit = (request: OriginHeaders, http10 = false): string | undefined => {
    const { host, origin } = request;
    if (host === undefined) {
      if (!http10) throw new TrantorError('MISDIRECTED_REQUEST', 'the request has no Host header; HTTP/1.1 requires one');
    } else if (!hostAccepted(host)) {
      throw new TrantorError('MISDIRECTED_REQUEST', `Host ${JSON.stringify(host.slice(0, 100))} is not this server's; it answers for ${answerFor} (a page reaching it under another name is refused; see docs/security.md)`);
    }
    if (origin === undefined) {
      const site = request.fetchSite;
      if (site === undefined || site === 'same-origin' || site === 'none' || request.fetchMode === 'navigate') return undefined;
      throw new TrantorError('FORBIDDEN_ORIGIN', `a request from another site's page (Sec-Fetch-Site: ${site.slice(0, 20)}) is refused`);
    }
    if (ownOrigins.has(origin)) return undefined;
    if (cors.has(origin)) return origin;
    throw new TrantorError(
      'FORBIDDEN_ORIGIN',
      `Origin ${JSON.stringify(origin.slice(0, 100))} is not allowed: a web page may not call this server${cors.size === 0 ? '' : ' unless its origin is in --cors-allowed-origins'}`,
    );
  };

  const answerPreflight = (res: ServerResponse, origin: string, requestHeaders: string | undefined): void => {
    const granted = grantedHeaders(requestHeaders);
    const headers = [
      'Access-Control-Allow-Origin', origin,
      'Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'Access-Control-Allow-Methods', methods,
      'Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S,
      'Content-Length', '0',
    ];
    if (granted !== '') headers.push('Access-Control-Allow-Headers', granted);
    res.writeHead(204, headers);
    res.end();
  };

  const allowCors = (res: ServerResponse, origin: string): void => {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  };

  return Object.freeze({ admit, answerPreflight, allowCors });
}

/** The requested headers a preflight grants: the safe ones and `Ce-*`, lowercased; others are left out, so the browser refuses. */
function grantedHeaders(requested: string | undefined): string {
  if (requested === undefined) return '';
  const granted: string[] = [];
  for (const part of requested.split(',')) {
    const name = part.trim().toLowerCase();
    if (SAFE_REQUEST_HEADERS.has(name) || /^ce-[a-z0-9]+$/.test(name)) granted.push(name);
  }
  return granted.join(', ');
}
