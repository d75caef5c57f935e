/**
 * A V2Transport that sends each node's calls the way its `endpoint.type` says: REST nodes over
 * HTTP, GRPC nodes over gRPC. A GRPC node with no gRPC transport given fails naming itself.
 */
import { TrantorError } from '../../protocol/index.ts';
import type { V2DecodedBody, V2InferenceRequest, V2InferenceResponse, V2ModelMetadata } from '../../protocol/index.ts';
import type { UnitKey } from '../transport/endpoints.ts';
import type { V2CallOptions, V2Transport } from './transport.ts';

export class ByEndpointV2Transport implements V2Transport {
  private readonly rest: V2Transport;
  private readonly grpc: V2Transport | undefined;
  /** The names of the nodes whose endpoint is GRPC. */
  private readonly grpcNodes: ReadonlySet<string>;

  constructor(rest: V2Transport, grpc: V2Transport | undefined, grpcNodes: ReadonlySet<string>) {
    this.rest = rest;
    this.grpc = grpc;
    this.grpcNodes = grpcNodes;
  }

  infer(unit: UnitKey, request: V2DecodedBody<V2InferenceRequest>, options: V2CallOptions): Promise<V2DecodedBody<V2InferenceResponse>> {
    return this.of(unit).infer(unit, request, options);
  }

  modelReady(unit: UnitKey, options: V2CallOptions): Promise<boolean> {
    return this.of(unit).modelReady(unit, options);
  }

  modelMetadata(unit: UnitKey, options: V2CallOptions): Promise<V2ModelMetadata> {
    return this.of(unit).modelMetadata(unit, options);
  }

  async close(): Promise<void> {
    await Promise.all([this.rest.close(), this.grpc?.close()]);
  }

  private of(unit: UnitKey): V2Transport {
    if (!this.grpcNodes.has(unit.node)) return this.rest;
    if (this.grpc === undefined) throw new TrantorError('NOT_SUPPORTED', `node "${unit.node}" has endpoint.type GRPC, but this executor reaches V2 components over REST only`);
    return this.grpc;
  }
}
