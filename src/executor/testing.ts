/**
 * Stand-ins for tests and benchmarks: small real HTTP servers speaking the Seldon wrapper
 * protocol, an EndpointSource whose replicas a test sets, and predictor builders.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphNode, Predictor } from '../manifest/index.ts';
import type { EndpointSource, ReplicaAddress, UnitKey } from './transport/endpoints.ts';
import { MethodTransport } from './transport/transport.ts';
import type { ComponentMethod, MethodPayload, Reply, Transport } from './transport/transport.ts';

export interface ComponentRequest {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

/** Answers one request; `res` is free to do anything, destroying the socket included. */
export type ComponentBehaviour = (request: ComponentRequest, res: ServerResponse) => void;

export interface StandIn {
  server: Server;
  port: number;
  /** Requests received, in order. */
  readonly received: ComponentRequest[];
  replica(id?: string): ReplicaAddress;
  close(): Promise<void>;
}

export function answerJson(res: ServerResponse, status: number, value: unknown): void {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A component answering `/predict` (and every other POST) with the message it got; `/health/status` and `/metadata` too. */
export const identity: ComponentBehaviour = (request, res) => {
  if (request.method === 'GET' && request.path === '/health/status') return answerJson(res, 200, { data: { ndarray: [] }, status: { status: 'SUCCESS' } });
  if (request.method === 'GET' && request.path === '/metadata') return answerJson(res, 200, { name: 'identity', versions: ['v1'], platform: 'test', inputs: [{ name: 'x', datatype: 'FP64', shape: [1] }], outputs: [{ name: 'y', datatype: 'FP64', shape: [1] }] });
  answerJson(res, 200, request.body);
};

export async function standIn(behaviour: ComponentBehaviour, options: { keepRecords?: boolean } = {}): Promise<StandIn> {
  const received: ComponentRequest[] = [];
  const keep = options.keepRecords ?? true;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const request: ComponentRequest = { method: req.method ?? 'GET', path: q === -1 ? url : url.slice(0, q), body: Buffer.concat(chunks).toString('utf8'), headers: req.headers };
      if (keep) received.push(request);
      behaviour(request, res);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    received,
    replica: (id = `replica-${port}`) => ({ id, host: '127.0.0.1', port }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An EndpointSource whose ready replicas the test sets per node. */
export class StaticEndpoints implements EndpointSource {
  private readonly table = new Map<string, readonly ReplicaAddress[]>();

  set(node: string, replicas: readonly ReplicaAddress[]): void {
    this.table.set(node, replicas);
  }

  replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
    return this.table.get(unit.node) ?? [];
  }
}

/** A graph node with the normalised defaults `manifest` fills in. */
export function graphNode(name: string, fields: Partial<GraphNode> = {}): GraphNode {
  return { name, endpoint: { type: 'REST' }, parameters: [], children: [], ...fields };
}

/** A predictor with the normalised defaults `manifest` fills in. */
export function predictorOf(name: string, graph: GraphNode, fields: Partial<Predictor> = {}): Predictor {
  return { name, graph, componentSpecs: [], replicas: 1, traffic: 100, shadow: false, labels: {}, annotations: {}, ...fields };
}

/** A Transport answering every method with `answer`, for tests of the wrappers around transports. */
export function transportAnswering(answer: (unit: UnitKey, method: ComponentMethod, payload: MethodPayload) => Promise<Reply<unknown>>): Transport {
  return new (class extends MethodTransport {
    protected send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload): Promise<Reply<unknown>> {
      return answer(unit, method, payload);
    }
    close(): Promise<void> {
      return Promise.resolve();
    }
  })();
}
export { RequestLogger } from './request-logger.ts';

/** A small real V2 model server (src/executor/v2/testing.ts). */
export { V2_MODEL_ERROR, v2StandIn } from './v2/testing.ts';
