/**
 * `trantor event-display`: a local stand-in for Knative's event_display sink. An HTTP server that
 * takes CloudEvents (binary or structured mode), prints each in event_display's format and
 * answers 202 with no body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { closer, createHttpServer, listen, readBody, sendFailure, urlOf, type BodyLimit } from '../http/index.ts';
import { decodeHttpEvent } from '../protocol/index.ts';
import { formatEvent } from './cloudevents-display.ts';

/** Events larger than this are refused (413), as the broker refuses them. */
/** `trantor event-display`'s server: an event display takes what a broker sends it. */
const EVENT_DISPLAY_LIMITS = Object.freeze({ requestTimeoutMs: 30_000, bodyLimitBytes: 10 * 2 ** 20, keepAliveTimeoutMs: 5_000 });
const BODY_LIMIT: BodyLimit = Object.freeze({ limitBytes: EVENT_DISPLAY_LIMITS.bodyLimitBytes, what: 'the event' });

export interface EventDisplayOptions {
  /** 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Where each event's text goes (stdout for the command). */
  print: (text: string) => void;
  /** Where refused requests are reported (stderr for the command). */
  warn: (text: string) => void;
}

export interface EventDisplay {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startEventDisplay(options: EventDisplayOptions): Promise<EventDisplay> {
  const host = options.host ?? '127.0.0.1';
  const server = createHttpServer({ requestTimeoutMs: EVENT_DISPLAY_LIMITS.requestTimeoutMs, keepAliveTimeoutMs: EVENT_DISPLAY_LIMITS.keepAliveTimeoutMs }, (req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      const refused = sendFailure(req, res, err);
      if (refused !== undefined) options.warn(`event-display: refused a request: ${refused.message}`);
    });
  });
  const port = await listen(server, options.port ?? 0, host);
  const close = closer(server, 1_000);
  return { url: `${urlOf(host, port)}/`, port, close };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: EventDisplayOptions): Promise<void> {
  if (req.method !== 'POST') {
    req.resume();
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const event = decodeHttpEvent(req.headers, await readBody(req, BODY_LIMIT));
  options.print(formatEvent(event));
  res.writeHead(202).end();
}
