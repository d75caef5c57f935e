/**
 * The dashboard's data path on the gateway, `/dashboard/api/…`: the page's only way in.
 *
 * - Same origin only: a request whose `Origin` is not this gateway's own, or that a browser marks as
 *   sent by another site (`Sec-Fetch-Site`), is refused 403 — even from an origin the gateway's CORS
 *   list lets call predictions.
 * - `POST /dashboard/api/session` redeems a one-time login code for a session; every other path wants
 *   `Authorization: Bearer <session>` (never a cookie, so no other page can ride along).
 * - `/dashboard/api/v1/…` is the control-plane API itself (docs/api.md), minus minting login codes;
 *   `/dashboard/api/stream` the live feed; `/dashboard/api/requests` and `/deliveries` the journals.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { announcedLength, readText, sendFailure, sendJson } from '../../http/index.ts';
import { parseJson, TrantorError } from '../../protocol/index.ts';
import type { DeliveryRecord, RequestRecord } from '../../web/index.ts';
import type { ApiRoutes } from '../api.ts';
import { streamFeed, type FeedParts } from './feed.ts';
import type { DashboardSessions } from './sessions.ts';

/** What `?puid=&namespace=&deployment=&limit=` asks of the request journal. */
export interface RequestQuery {
  puid?: string;
  namespace?: string;
  deployment?: string;
  limit?: number;
}

/** What `?namespace=&broker=&eventId=&limit=` asks of the delivery journal. */
export interface DeliveryQuery {
  namespace?: string;
  broker?: string;
  eventId?: string;
  /** At most this many, the newest. */
  limit?: number;
}

export interface DashboardApiParts {
  sessions: DashboardSessions;
  api: ApiRoutes;
  feed: FeedParts;
  requests?: { list(query: RequestQuery): RequestRecord[] } | undefined;
  deliveries?: { list(query: DeliveryQuery): DeliveryRecord[] } | undefined;
}

const PREFIX = '/dashboard/api';

/** Refuses anything but a same-origin call (or one with no browser headers at all: curl, tests). */
function requireSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
    throw new TrantorError('FORBIDDEN_ORIGIN', `the dashboard's data is for the dashboard's own page only; a page at ${origin} may not read it`);
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') {
    throw new TrantorError('FORBIDDEN_ORIGIN', `the dashboard's data is for the dashboard's own page only (Sec-Fetch-Site: ${String(site)})`);
  }
}

function bearer(req: IncomingMessage): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1];
}

function limitOf(url: URL): number | undefined {
  const text = url.searchParams.get('limit');
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new TrantorError('BAD_PATH', `limit=${text}: expected a whole number of at least 1`);
  return n;
}

function query<K extends string>(url: URL, keys: readonly K[], path: string): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of url.searchParams) {
    if (key === 'limit') continue;
    if (!(keys as readonly string[]).includes(key)) throw new TrantorError('BAD_PATH', `GET ${path}: unknown query parameter "${key}"; use ${[...keys, 'limit'].join(', ')}`);
    if (value !== '') out[key as K] = value;
  }
  return out;
}

async function route(parts: DashboardApiParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireSameOrigin(req);
  const url = new URL(req.url ?? '/', 'http://dashboard');
  const path = url.pathname;
  const method = req.method ?? 'GET';

  if (path === `${PREFIX}/session` && method === 'POST') {
    const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new TrantorError('UNSUPPORTED_MEDIA_TYPE', `POST ${path}: send {"code": "…"} as application/json`);
    const body = parseJson(await readText(req, { limitBytes: 4096, what: 'the login' }, announcedLength(req)), 'login');
    const code = (body as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || code === '') throw new TrantorError('BAD_PAYLOAD', 'login: expected {"code": "<the code from the login link>"}');
    const session = parts.sessions.redeem(code);
    if (session === undefined) throw new TrantorError('UNAUTHORIZED', 'that login code is unknown, used or expired (a code works once, for a minute); run `trantor dashboard` for a new link');
    return sendJson(res, 200, { session });
  }

  const session = bearer(req);
  if (session === undefined || !parts.sessions.admits(session)) {
    res.setHeader('www-authenticate', 'Bearer realm="trantor-dashboard"');
    throw new TrantorError('UNAUTHORIZED', `the dashboard's data needs a session${session === undefined ? '' : ' and this one has ended'}; run \`trantor dashboard\` to log in`);
  }
  if (path === `${PREFIX}/session`) {
    if (method !== 'DELETE') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} ${path}: use POST (log in) or DELETE (log out)`);
    parts.sessions.end(session);
    return sendJson(res, 200, { loggedOut: true });
  }
  if (path.startsWith(`${PREFIX}/v1/`)) {
    if (path.startsWith(`${PREFIX}/v1/dashboard/`)) throw new TrantorError('FORBIDDEN_ORIGIN', 'a dashboard session cannot mint login codes; `trantor dashboard` does, with the API token');
    return parts.api(req, res, new URL(`${path.slice(PREFIX.length)}${url.search}`, 'http://control-plane'));
  }
  if (method !== 'GET') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} ${path}: use GET`);
  if (path === `${PREFIX}/stream`) return streamFeed(req, res, parts.feed);
  if (path === `${PREFIX}/requests`) {
    const limit = limitOf(url);
    const q = query(url, ['puid', 'namespace', 'deployment'] as const, path);
    return sendJson(res, 200, { items: parts.requests?.list({ ...q, ...(limit === undefined ? {} : { limit }) }) ?? [] });
  }
  if (path === `${PREFIX}/deliveries`) {
    const limit = limitOf(url);
    const q = query(url, ['namespace', 'broker', 'eventId'] as const, path);
    return sendJson(res, 200, { items: parts.deliveries?.list({ ...q, ...(limit === undefined ? {} : { limit }) }) ?? [] });
  }
  throw new TrantorError('NOT_FOUND', `no dashboard path ${path}; see docs/dashboard.md`);
}

/** The gateway's `dashboard.api` handler. */
export function dashboardApi(parts: DashboardApiParts): (req: IncomingMessage, res: ServerResponse, path: string) => void {
  return (req, res) => {
    route(parts, req, res).catch((err: unknown) => {
      if (res.headersSent) res.end();
      else sendFailure(req, res, err);
    });
  };
}
