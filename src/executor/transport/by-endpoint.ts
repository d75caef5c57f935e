/**
 * The transport that honours each graph node's `endpoint.type`: a GRPC node is called over the
 * gRPC transport at its replicas' gRPC ports, a REST node over the HTTP transport, as Seldon's
 * executor picks its client per node (the deployment's `spec.transport` is the default the
 * manifest already filled in). The choice is made once per unit object — the walk hands the same
 * object on every call, and a re-applied deployment gets new ones — so a call costs a WeakMap hit.
 *
 * Health is asked over REST whatever the type: Seldon's component services have no health RPC,
 * and a component host serves REST beside gRPC (Seldon's wrapper does, and so do ours).
 */
import { TrantorError } from '../../protocol/index.ts';
import type { GraphNode, SeldonDeployment } from '../../manifest/index.ts';
import { EXECUTOR_DEFAULTS } from '../options.ts';
import type { ExecutorOptions } from '../options.ts';
import type { EndpointSource, ReplicaAddress, UnitKey } from './endpoints.ts';
import { GrpcTransport, grpcTransportOptions } from './grpc.ts';
import { HttpTransport, httpTransportOptions } from './http.ts';
import { describeUnit, invoke, MethodTransport } from './transport.ts';
import type { CallOptions, ComponentMethod, MethodPayload, Reply, Transport } from './transport.ts';

export type EndpointType = GraphNode['endpoint']['type'];

export interface ByEndpointOptions {
  /** The node's endpoint type; undefined (a node no deployment declares now) is REST. */
  endpointTypeOf(unit: UnitKey): EndpointType | undefined;
  rest: Transport;
  /** Reaches the replicas at their gRPC ports (`grpcEndpoints`). */
  grpc: Transport;
  /** The REST addresses, to tell a replica without a gRPC port from no replica at all. */
  endpoints: EndpointSource;
}

export class ByEndpointTransport extends MethodTransport {
  readonly #options: ByEndpointOptions;
  readonly #overGrpc = new WeakMap<UnitKey, boolean>();

  constructor(options: ByEndpointOptions) {
    super();
    this.#options = options;
  }

  /** Whether `unit` is called over gRPC, decided on its first call. */
  overGrpc(unit: UnitKey): boolean {
    let grpc = this.#overGrpc.get(unit);
    if (grpc === undefined) {
      grpc = this.#options.endpointTypeOf(unit) === 'GRPC';
      this.#overGrpc.set(unit, grpc);
    }
    return grpc;
  }

  protected send(unit: UnitKey, method: ComponentMethod, payload: MethodPayload, options: CallOptions): Promise<Reply<unknown>> {
    const { rest, grpc, endpoints } = this.#options;
    if (method === 'health' || !this.overGrpc(unit)) return invoke(rest, unit, method, payload, options);
    const replicas = endpoints.replicasOf(unit);
    if (replicas.length > 0 && replicas.every((replica) => replica.grpcPort === undefined)) {
      return Promise.reject(new TrantorError('UNAVAILABLE', `${describeUnit(unit)} has endpoint.type GRPC, but its replicas were given no gRPC port`));
    }
    return invoke(grpc, unit, method, payload, options).catch((err: unknown) => {
      throw noGrpcServed(unit, err);
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.#options.rest.close(), this.#options.grpc.close()]);
  }
}

/**
 * The network transport for the replicas `endpoints` offers: REST over the HTTP transport, gRPC at
 * their gRPC ports, per node as `endpointTypeOf` says, both with the executor's retry and ejection
 * options.
 */
export function endpointTransport(endpoints: EndpointSource, endpointTypeOf: ByEndpointOptions['endpointTypeOf'], options: ExecutorOptions = EXECUTOR_DEFAULTS): ByEndpointTransport {
  return new ByEndpointTransport({
    endpointTypeOf,
    endpoints,
    rest: new HttpTransport(httpTransportOptions(endpoints, options)),
    grpc: new GrpcTransport(grpcTransportOptions(grpcEndpoints(endpoints), options)),
  });
}

/** grpc-js's words for a replica that refused the connection: ready over REST, nothing on its gRPC port. */
const REFUSED = /No connection established|ECONNREFUSED/;
const REFUSED_AT = /ECONNREFUSED (\S+?)\.?(?:\s|$)/;

/** An UNAVAILABLE whose replicas refused gRPC, said plainly: the host serves no gRPC. */
function noGrpcServed(unit: UnitKey, err: unknown): unknown {
  if (!(err instanceof TrantorError) || err.code !== 'UNAVAILABLE') return err;
  if (!REFUSED.test(err.message)) return err;
  const at = REFUSED_AT.exec(err.message)?.[1];
  const where = at === undefined ? '' : ` (connection refused at ${at})`;
  return new TrantorError(
    'UNAVAILABLE',
    `${describeUnit(unit)} has endpoint.type GRPC, but its host serves no gRPC on its gRPC port${where}: serve Seldon's gRPC services there (PREDICTIVE_UNIT_GRPC_SERVICE_PORT) or set endpoint.type REST`,
    { cause: err },
  );
}

/**
 * `source`'s replicas at their gRPC ports, for the gRPC transport; replicas without one are left
 * out. A node's list is mapped once per list the source hands out, so the transport still sees
 * an unchanged list as the same object (it rebuilds its channels only when the list changes).
 */
export function grpcEndpoints(source: EndpointSource): EndpointSource {
  const mapped = new WeakMap<readonly ReplicaAddress[], readonly ReplicaAddress[]>();
  return {
    replicasOf(unit: UnitKey): readonly ReplicaAddress[] {
      const replicas = source.replicasOf(unit);
      let grpc = mapped.get(replicas);
      if (grpc === undefined) {
        grpc = Object.freeze(replicas.filter((r) => r.grpcPort !== undefined).map((r) => Object.freeze({ id: r.id, host: r.host, port: r.grpcPort! })));
        mapped.set(replicas, grpc);
      }
      return grpc;
    },
  };
}

/** The `endpoint.type` of `unit`'s node in `deployment`; undefined when the deployment has no such node. */
export function endpointTypeIn(deployment: SeldonDeployment | undefined, unit: UnitKey): EndpointType | undefined {
  const predictor = deployment?.spec.predictors.find((p) => p.name === unit.predictor);
  return predictor === undefined ? undefined : findNode(predictor.graph, unit.node)?.endpoint.type;
}

function findNode(node: GraphNode, name: string): GraphNode | undefined {
  if (node.name === name) return node;
  for (const child of node.children) {
    const found = findNode(child, name);
    if (found !== undefined) return found;
  }
  return undefined;
}
