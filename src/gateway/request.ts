/**
 * Reading a request: the few headers the gateway looks at (found in `rawHeaders`, without
 * building the headers object) and the feedback message. The body is read by the http layer.
 */
import { TrantorError, stringifyJson, parseSeldonMessage } from '../protocol/index.ts';
import type { Feedback } from '../protocol/index.ts';

export interface RequestHeaders {
  contentType: string | undefined;
  contentLength: number | undefined;
  puid: string | undefined;
  host: string | undefined;
  /** `Origin`, `Sec-Fetch-Site`, `Sec-Fetch-Mode`: whether a web page sent the request (see src/http/request-origin.ts). */
  origin: string | undefined;
  fetchSite: string | undefined;
  fetchMode: string | undefined;
  /** `Ce-Specversion`: the request is a binary-mode CloudEvent. */
  ceSpecversion: string | undefined;
  /** `Seldon-Skip-Logging` was sent (any value): the request's nodes log nothing. */
  skipLogging: boolean;
}

/** The headers the gateway reads, by one pass over `rawHeaders`. */
export function scanHeaders(raw: readonly string[]): RequestHeaders {
  const found: RequestHeaders = { contentType: undefined, contentLength: undefined, puid: undefined, host: undefined, origin: undefined, fetchSite: undefined, fetchMode: undefined, ceSpecversion: undefined, skipLogging: false };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') found.host = raw[i + 1];
        break;
      case 6:
        if (name.toLowerCase() === 'origin') found.origin = raw[i + 1];
        break;
      case 11:
        if (name.toLowerCase() === 'seldon-puid') found.puid = raw[i + 1];
        break;
      case 12:
        if (name.toLowerCase() === 'content-type') found.contentType = raw[i + 1];
        break;
      case 14: {
        const lower = name.toLowerCase();
        if (lower === 'content-length') found.contentLength = Number(raw[i + 1]);
        else if (lower === 'ce-specversion') found.ceSpecversion = raw[i + 1];
        else if (lower === 'sec-fetch-site') found.fetchSite = raw[i + 1];
        else if (lower === 'sec-fetch-mode') found.fetchMode = raw[i + 1];
        break;
      }
      case 19:
        if (name.toLowerCase() === 'seldon-skip-logging') found.skipLogging = true;
        break;
      default:
        break;
    }
  }
  return found;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a feedback message: `request`, `response` and `truth` are Seldon messages, `reward` a number. */
export function parseFeedback(value: unknown): Feedback {
  if (!isRecord(value)) throw new TrantorError('BAD_PAYLOAD', 'body: expected a JSON object with request, response and reward (and optionally truth)');
  for (const field of ['request', 'response', 'truth'] as const) {
    if (value[field] !== undefined) parseSeldonMessage(value[field], field);
  }
  const reward = value['reward'];
  if (reward !== undefined && (typeof reward !== 'number' || !Number.isFinite(reward))) throw new TrantorError('BAD_PAYLOAD', `reward: expected a number, got ${stringifyJson(reward)}`);
  return value;
}
