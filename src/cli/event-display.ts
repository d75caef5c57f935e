/**
 * `trantor event-display`: a local stand-in for Knative's event_display sink. An HTTP server that
 * takes CloudEvents (binary or structured mode), prints each in event_display's format and
 * answers 202 with no body.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asTrantorError, decodeHttpEvent, failureBody } from '../protocol/index.ts';
import { formatEvent } from '../protocol/index.ts';

/** Events larger than this are refused (413), as the broker refuses them. */
const BODY_LIMIT = 10 * 1024 * 1024;

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
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      options.warn(`event-display: ${asTrantorError(err).message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: EventDisplayOptions): Promise<void> {
  if (req.method !== 'POST') {
    req.resume();
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > BODY_LIMIT) {
      res.writeHead(413, { connection: 'close' }).end();
      req.destroy();
      return;
    }
    chunks.push(buffer);
  }
  try {
    const event = decodeHttpEvent(req.headers, Buffer.concat(chunks));
    options.print(formatEvent(event));
    res.writeHead(202).end();
  } catch (err) {
    const error = asTrantorError(err);
    options.warn(`event-display: refused an event: ${error.message}`);
    res.writeHead(error.status, { 'content-type': 'application/json' }).end(JSON.stringify(failureBody(error)));
  }
}
