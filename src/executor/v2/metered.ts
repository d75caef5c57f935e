/**
 * A V2Transport that times every call to a known node in the client histogram, as
 * MeteredTransport does for Seldon's methods: labelled by the node's V2 path and verb, with the
 * component's status (200, or the failure's status when it answered one or none came).
 */
import { performance } from 'node:perf_hooks';
import { asTrantorError } from '../../protocol/index.ts';
import type { V2DecodedBody, V2InferenceRequest, V2InferenceResponse, V2ModelMetadata } from '../../protocol/index.ts';
import type { NodeMetrics } from '../metrics.ts';
import type { UnitKey } from '../transport/endpoints.ts';
import { v2PathOf, type V2CallOptions, type V2Method, type V2Transport } from './transport.ts';

export class MeteredV2Transport implements V2Transport {
  private readonly inner: V2Transport;
  private readonly nodes: ReadonlyMap<UnitKey, NodeMetrics>;

  constructor(inner: V2Transport, nodes: ReadonlyMap<UnitKey, NodeMetrics>) {
    this.inner = inner;
    this.nodes = nodes;
  }

  infer(unit: UnitKey, request: V2DecodedBody<V2InferenceRequest>, options: V2CallOptions): Promise<V2DecodedBody<V2InferenceResponse>> {
    return this.timed(unit, 'infer', () => this.inner.infer(unit, request, options));
  }

  modelReady(unit: UnitKey, options: V2CallOptions): Promise<boolean> {
    return this.timed(unit, 'ready', () => this.inner.modelReady(unit, options));
  }

  modelMetadata(unit: UnitKey, options: V2CallOptions): Promise<V2ModelMetadata> {
    return this.timed(unit, 'metadata', () => this.inner.modelMetadata(unit, options));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private timed<T>(unit: UnitKey, method: V2Method, call: () => Promise<T>): Promise<T> {
    const node = this.nodes.get(unit);
    if (node === undefined) return call();
    const path = v2PathOf(unit.node, method);
    const verb = method === 'infer' ? 'POST' : 'GET';
    const started = performance.now();
    return call().then(
      (answer) => {
        node.observe(path, verb, 200, (performance.now() - started) / 1000);
        return answer;
      },
      (err: unknown) => {
        node.observe(path, verb, asTrantorError(err).status, (performance.now() - started) / 1000);
        throw err;
      },
    );
  }
}
