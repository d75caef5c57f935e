/**
 * The `meta` a prediction gathers on its way through the graph, as Seldon's executor keeps it:
 * the request's `puid`, the nodes it passed (`requestPath`), the routes routers chose
 * (`routing`), the components' `tags` (later nodes override earlier ones) and `metrics`
 * (concatenated).
 */
import type { Meta, Metric } from '../protocol/index.ts';

/** What one request's walk has gathered so far. */
export class MetaTrail {
  readonly puid: string;
  tags: Record<string, unknown> | undefined;
  routing: Record<string, number> | undefined;
  requestPath: Record<string, string>;
  metrics: Metric[] | undefined;

  /** `requestPath` is shared when the graph has no router (every walk visits every node): it is never mutated then. */
  constructor(puid: string, requestTags: Record<string, unknown> | undefined, requestPath: Record<string, string>) {
    this.puid = puid;
    this.tags = requestTags === undefined ? undefined : { ...requestTags };
    this.routing = undefined;
    this.requestPath = requestPath;
    this.metrics = undefined;
  }

  /** Takes in the tags and metrics of a component's answer. */
  absorb(meta: Meta | undefined): void {
    if (meta === undefined) return;
    const { tags, metrics } = meta;
    if (tags !== undefined && typeof tags === 'object' && tags !== null) {
      if (this.tags === undefined) this.tags = { ...tags };
      else Object.assign(this.tags, tags);
    }
    if (Array.isArray(metrics) && metrics.length > 0) {
      if (this.metrics === undefined) this.metrics = metrics.slice();
      else for (const metric of metrics) this.metrics.push(metric);
    }
  }

  route(node: string, route: number): void {
    (this.routing ??= {})[node] = route;
  }

  visit(node: string, label: string): void {
    this.requestPath[node] = label;
  }

  /** The reply's meta: always every field, empty when nothing was gathered. */
  toMeta(): Required<Pick<Meta, 'puid' | 'tags' | 'routing' | 'requestPath' | 'metrics'>> {
    return {
      puid: this.puid,
      tags: this.tags ?? {},
      routing: this.routing ?? {},
      requestPath: this.requestPath,
      metrics: this.metrics ?? [],
    };
  }
}
