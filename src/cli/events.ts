/**
 * The eventing commands: `events send` (a CloudEvent to a broker's ingress), `events tail` (a
 * broker's events as they arrive) and `event-display` (a local sink that prints what it gets).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Command } from 'commander';
import { Option } from 'commander';
import { request } from 'undici';
import {
  CLOUDEVENT_SPEC_VERSIONS,
  encodeBinary,
  eventFromJson,
  isJsonContentType,
  validateEvent,
  type CloudEvent,
  type CloudEventSpecVersion,
} from '../protocol/index.ts';
import type { ControlPlaneClient } from '../client/index.ts';
import type { SinkRegistration } from '../manifest/index.ts';
import { callApi, CliError, failureOf, streamApi } from './control-plane.ts';
import { startEventDisplay } from './event-display.ts';
import { formatEvent, stripTerminalControls } from './cloudevents-display.ts';
import { connect, type Io } from './io.ts';
import { unreadable } from './files.ts';

export interface SendOptions {
  type: string;
  source: string;
  id?: string;
  subject?: string;
  /** JSON (or any text), or `@file` for a file's bytes. */
  data?: string;
  contentType: string;
  /** `name=value` */
  extension: string[];
  specversion: string;
}

/** The event `events send` posts, checked as the broker will check it. */
export function eventToSend(opts: SendOptions, readFile: (path: string) => Buffer = (path) => readFileSync(path)): CloudEvent {
  if (!(CLOUDEVENT_SPEC_VERSIONS as readonly string[]).includes(opts.specversion)) {
    throw new CliError(`--specversion ${opts.specversion}: use ${CLOUDEVENT_SPEC_VERSIONS.join(' or ')}`);
  }
  const event: CloudEvent = {
    specversion: opts.specversion as CloudEventSpecVersion,
    id: opts.id ?? randomUUID(),
    source: opts.source,
    type: opts.type,
    extensions: {},
  };
  if (opts.subject !== undefined) event.subject = opts.subject;
  for (const pair of opts.extension) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--extension ${pair}: expected name=value`);
    event.extensions[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (opts.data !== undefined) {
    let bytes: Buffer;
    if (opts.data.startsWith('@')) {
      const file = opts.data.slice(1);
      try {
        bytes = readFile(file);
      } catch (err) {
        throw unreadable(`--data ${opts.data}`, file, err);
      }
    } else {
      bytes = Buffer.from(opts.data, 'utf8');
    }
    if (isJsonContentType(opts.contentType)) {
      try {
        JSON.parse(bytes.toString('utf8'));
      } catch (err) {
        throw new CliError(`--data is not JSON (${err instanceof Error ? err.message : String(err)}); send JSON, or say what it is with --content-type`);
      }
    }
    event.datacontenttype = opts.contentType;
    event.data = bytes;
  }
  return validateEvent(event, 'the event');
}

/** `<gateway>/<namespace>/<broker>`: where a broker's ingress takes events (Knative's path shape). */
export function brokerIngressUrl(gatewayUrl: string, namespace: string, broker: string): string {
  return `${gatewayUrl.replace(/\/+$/, '')}/${encodeURIComponent(namespace)}/${encodeURIComponent(broker)}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface BrokerOptions {
  broker: string;
  namespace: string;
}

export function addEventCommands(program: Command, io: Io): void {
  const events = program.command('events').description('send CloudEvents to a broker, or watch what a broker receives');

  events
    .command('send')
    .description("post a CloudEvent to a broker's ingress (binary mode)")
    .option('--broker <name>', 'the broker', 'default')
    .option('-n, --namespace <ns>', "the broker's namespace", 'default')
    .option('--url <url>', "post to this ingress URL instead of the local gateway's broker path")
    .requiredOption('--type <type>', 'the event type (Ce-Type)')
    .requiredOption('--source <source>', 'the event source (Ce-Source)')
    .option('--id <id>', 'the event id (Ce-Id; default: a random UUID)')
    .option('--subject <subject>', 'the event subject (Ce-Subject)')
    .option('-d, --data <json>', 'the data: JSON (or text, with --content-type), or @FILE')
    .option('--content-type <type>', 'the data content type', 'application/json')
    .option('--extension <name=value>', 'an extension attribute (repeat for more)', collect, [])
    .option('--specversion <version>', 'CloudEvents spec version: 1.0 or 0.3', '1.0')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .action(async (opts: SendOptions & BrokerOptions & { url?: string; output?: 'json' }, command: Command) => {
      const event = eventToSend(opts);
      const url = opts.url ?? brokerIngressUrl(connect(command, io).gatewayUrl, opts.namespace, opts.broker);
      // Binary mode: attributes in percent-encoded Ce-* headers, the data as the body.
      const message = encodeBinary(event);
      let status: number;
      let text: string;
      try {
        const res = await request(url, { method: 'POST', headers: message.headers, body: message.body });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        throw new CliError(`cannot reach the broker at ${url}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const statusText = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
      if (status < 200 || status >= 300) {
        throw new CliError(`the broker at ${url} answered ${statusText}: ${failureOf({ status, body: text })}`);
      }
      if (opts.output === 'json') io.out(JSON.stringify({ status, id: event.id, url }));
      else io.out(`${statusText}: event ${event.id} sent to ${url}`);
    });

  events
    .command('tail')
    .description("print a broker's events as they arrive, as event-display does")
    .option('--broker <name>', 'the broker', 'default')
    .option('-n, --namespace <ns>', "the broker's namespace", 'default')
    .option('--from-start', 'print the events the broker has stored first')
    .addOption(new Option('-o, --output <format>', 'json: one structured-mode event per line').choices(['json']))
    .action(async (opts: BrokerOptions & { fromStart?: boolean; output?: 'json' }, command: Command) => {
      const info = connect(command, io);
      await tailBroker(info, opts.namespace, opts.broker, opts.fromStart === true, opts.output === 'json', io);
    });

  program
    .command('event-display')
    .description('serve a local event sink that prints every CloudEvent it receives; a Trigger reaches it through Service NAME')
    .option('--name <name>', 'the Service name triggers refer to (subscriber.ref)', 'event-display')
    .option('-n, --namespace <ns>', "the Service's namespace", 'default')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free port)', '0')
    .action(async (opts: { name: string; namespace: string; port: string }, command: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port ${opts.port}: expected a port number from 0 to 65535`);
      const display = await startEventDisplay({ port, print: (text) => io.out(text), warn: (text) => io.err(stripTerminalControls(text)) }).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== 'EADDRINUSE') throw err;
        throw new CliError(`--port ${port}: another process is already listening on 127.0.0.1:${port} (another event-display?); stop it, or choose another port (--port 0 takes any free one)`);
      });
      io.err(`event-display: listening on ${display.url}`);
      const info = await register(command, io, opts.namespace, opts.name, display.url).catch(async (err: unknown) => {
        await display.close();
        throw err;
      });
      await untilStopped();
      if (info !== undefined) {
        const answer = await callApi(info, 'DELETE', sinkPath(opts.namespace, opts.name)).catch(() => undefined);
        if (answer !== undefined && answer.status >= 300 && answer.status !== 404) io.err(`event-display: could not unregister: ${failureOf(answer)}`);
      }
      await display.close();
    });
}

export function sinkPath(namespace: string, name: string): string {
  return `/v1/sinks/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/** Registers the sink with the control plane; undefined (and a note on stderr) when there is none. */
async function register(command: Command, io: Io, namespace: string, name: string, url: string): Promise<ControlPlaneClient | undefined> {
  let info: ControlPlaneClient;
  try {
    info = connect(command, io);
  } catch (err) {
    io.err(`event-display: ${err instanceof Error ? err.message : String(err)}`);
    io.err(`event-display: serving anyway; send events straight to ${url}, or start the control plane and run this again`);
    return undefined;
  }
  const body: SinkRegistration = { url };
  const answer = await callApi(info, 'PUT', sinkPath(namespace, name), JSON.stringify(body), { 'content-type': 'application/json' }).catch(
    (err: unknown) => ({ status: 0, body: err instanceof Error ? err.message : String(err) }),
  );
  // Another event display serves the Service and is running: refuse rather than take its events.
  if (answer.status === 409) throw new CliError(`event-display: ${failureOf(answer)}`);
  if (answer.status < 200 || answer.status >= 300) {
    io.err(`event-display: could not register as Service ${namespace}/${name}: ${failureOf(answer)}; serving anyway at ${url}`);
    return undefined;
  }
  io.err(`event-display: triggers whose subscriber is Service ${namespace}/${name} now deliver here`);
  return info;
}

function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Streams `GET /v1/brokers/<ns>/<name>/events` (newline-delimited structured events) to the output. */
export async function tailBroker(info: ControlPlaneClient, namespace: string, broker: string, fromStart: boolean, raw: boolean, io: Io): Promise<void> {
  const path = `/v1/brokers/${encodeURIComponent(namespace)}/${encodeURIComponent(broker)}/events?follow=1${fromStart ? '&from=0' : ''}`;
  const body = await streamApi(info, path);
  const show = (line: string): void => {
    if (line.trim() === '') return;
    if (raw) {
      io.out(line);
      return;
    }
    try {
      io.out(formatEvent(eventFromJson(JSON.parse(line) as unknown)));
    } catch (err) {
      io.err(`events tail: cannot read an event: ${stripTerminalControls(err instanceof Error ? err.message : String(err))}`);
    }
  };
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of body) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) show(line);
  }
  show(rest + decoder.decode());
}
