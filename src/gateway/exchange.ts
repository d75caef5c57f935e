/** One request in flight at the gateway: what its route's handler (and the error path) need to answer it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PredictorMetrics } from '../executor/index.ts';
import type { TapState } from './request-tap.ts';
import type { RequestHeaders } from './request.ts';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly headers: RequestHeaders;
  readonly started: number;
  /** The header's puid, or one generated; a body's `meta.puid` replaces a generated one. */
  puid: string;
  puidFromHeader: boolean;
  /** `performance.now()` when the request arrived, for the request histogram. */
  readonly t0: number;
  /** The predictor the request is recorded under, once known; not recorded while undefined. */
  meter: PredictorMetrics | undefined;
  /** The path's kind (`predictions`, `feedback` …), the histogram's `service` label. */
  service: string;
  /** What the request tap will be given, while it is active and the route is tapped; undefined otherwise. */
  tap: TapState | undefined;
}
