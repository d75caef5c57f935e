/**
 * Stand-ins for tests and benchmarks: the EventStore the broker's tests run against, a real HTTP
 * subscriber on 127.0.0.1 that records what it receives and answers as a test says, and Trigger /
 * Broker builders.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeHttpEvent } from '../protocol/index.ts';
import type { CloudEvent } from '../protocol/index.ts';
import type { Broker, DeliverySpec, Trigger } from '../manifest/index.ts';
import { openSqliteStore } from './store/sqlite.ts';
import { eventingOptions, type EventingLimits } from './options.ts';
import type { EventStore } from './store/store.ts';
import type { OpenStore } from './store/testing.ts';

/**
 * The one place the broker's own tests (eventing, dispatcher, delivery contract) get their store:
 * they know only the EventStore interface. It opens a store on a folder; the same folder again
 * means the same data after a restart. To run those tests against another backend, open it here
 * instead, e.g. a NATS JetStream store that has passed the contract suite in store/testing.ts:
 *   export const openBrokerStore: OpenStore = (folder) => new JetStreamEventStore({ servers: 'nats://127.0.0.1:4222', stream: streamFor(folder) });
 */
export const openBrokerStore: OpenStore = (folder) => openSqliteStore(folder);

/**
 * The broker's options for a test: the defaults with `given` over them, and no compaction timer
 * (a test compacts when it means to).
 */
export function testLimits(given: Readonly<Record<string, string | number>> = {}): EventingLimits {
  return eventingOptions.compile({ compactEvery: 0, ...given });
}

/** A fresh folder for a broker test's store. */
export function storeFolder(prefix = 'trantor-broker-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A broker test's store on a fresh folder. */
export function freshBrokerStore(): EventStore {
  return openBrokerStore(storeFolder());
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The request as a CloudEvent, or undefined when it is not one. */
  event: CloudEvent | undefined;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Answer only after this many milliseconds. */
  delayMs?: number;
}

export interface Subscriber {
  url: string;
  received: Received[];
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A subscriber answering each request with `answer(request, n)` (n counts from 1); 200 with no body by default. */
export async function startSubscriber(answer: (request: Received, n: number) => Answer = () => ({ status: 200 })): Promise<Subscriber> {
  const received: Received[] = [];
  let waiters: Array<() => void> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let event: CloudEvent | undefined;
      try {
        event = decodeHttpEvent(req.headers, body);
      } catch {
        event = undefined;
      }
      const request: Received = { headers: req.headers, body, event, at: performance.now() };
      received.push(request);
      const reply = answer(request, received.length);
      const send = (): void => {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
      };
      if (reply.delayMs === undefined) send();
      else setTimeout(send, reply.delayMs);
      const wake = waiters;
      waiters = [];
      for (const w of wake) w();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    received,
    waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (received.length >= count) resolve(received.slice(0, count));
          else if (Date.now() > deadline) reject(new Error(`waited ${timeoutMs} ms for ${count} requests, got ${received.length}`));
          else {
            waiters.push(check);
            setTimeout(check, Math.max(1, deadline - Date.now() + 1)).unref();
          }
        };
        check();
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export function delivery(fields: Partial<DeliverySpec> = {}): DeliverySpec {
  return { retry: 0, backoffPolicy: 'exponential', backoffDelayMs: 10, format: 'binary', ...fields };
}

export function makeTrigger(name: string, spec: Partial<Trigger['spec']> = {}, namespace = 'default'): Trigger {
  return {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Trigger',
    metadata: { name, namespace, labels: {}, annotations: {} },
    spec: { broker: 'default', attributes: {}, filters: [], subscriber: { uri: 'http://unused/' }, ...spec },
  };
}

export function makeBroker(name: string, namespace = 'default', deliverySpec?: DeliverySpec): Broker {
  return {
    apiVersion: 'eventing.knative.dev/v1',
    kind: 'Broker',
    metadata: { name, namespace, labels: {}, annotations: {} },
    spec: deliverySpec === undefined ? {} : { delivery: deliverySpec },
  };
}

export function binaryHeaders(type: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'ce-specversion': '1.0',
    'ce-id': `id-${Math.random().toString(36).slice(2)}`,
    'ce-source': 'test',
    'ce-type': type,
    'content-type': 'application/json',
    ...extra,
  };
}

/** Resolves once `condition()` holds, checking every few milliseconds; rejects after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
