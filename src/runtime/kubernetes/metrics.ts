/**
 * The operator's own endpoints on `--metrics-port` (plain HTTP, for the kubelet's probes and
 * Prometheus): `/healthz` — the process is alive and its event loop turns; `/readyz` — every
 * readiness check passes (the informers synced on the replica that reconciles, the webhook serving
 * when enabled; a replica waiting for the Lease is ready, since it serves the webhook); `/metrics` —
 * Prometheus text from the operator's own registry (prom-client's global one is never touched).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionResult } from './webhook.ts';

/** What the metrics read from the running parts when scraped. */
export interface OperatorGauges {
  /** 1 while this replica reconciles (it holds the Lease, or runs without election). */
  readonly leader: () => boolean;
  readonly queueDepth: () => number;
  readonly relists: () => number;
  readonly watchRestarts: () => number;
  readonly watchGone: () => number;
}

/** Reconcile durations, in seconds: a pass is a few API calls, a slow one many. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A counter whose value is a running total kept elsewhere, read on each scrape. */
function totalOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      this.inc(read());
    },
  });
}

export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly reconciles: Counter<'result'>;
  private readonly duration: Histogram;
  private readonly admissions: Counter<'result'>;

  constructor(gauges: OperatorGauges) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.reconciles = new Counter({ name: 'trantor_operator_reconciles_total', help: 'Reconcile passes of a SeldonDeployment, by result (success, error: tried again after a backoff)', labelNames: ['result'], registers });
    this.duration = new Histogram({ name: 'trantor_operator_reconcile_duration_seconds', help: 'How long one reconcile pass took', buckets: RECONCILE_BUCKETS, registers });
    this.admissions = new Counter({ name: 'trantor_operator_webhook_admissions_total', help: 'AdmissionReviews answered by the webhook, by result (allowed, denied, malformed)', labelNames: ['result'], registers });
    for (const result of ['success', 'error']) this.reconciles.inc({ result }, 0);
    for (const result of ['allowed', 'denied', 'malformed']) this.admissions.inc({ result }, 0);
    new Gauge({
      name: 'trantor_operator_queue_depth',
      help: 'SeldonDeployments waiting for a reconcile worker',
      registers,
      collect(this: Gauge) {
        this.set(gauges.queueDepth());
      },
    });
    new Gauge({
      name: 'trantor_operator_leader',
      help: '1 while this replica reconciles (it holds the Lease, or runs without leader election), else 0',
      registers,
      collect(this: Gauge) {
        this.set(gauges.leader() ? 1 : 0);
      },
    });
    totalOf(this.registry, 'trantor_operator_relists_total', 'Full lists of a watched kind (the first, every operator.relist, and after a 410)', gauges.relists);
    totalOf(this.registry, 'trantor_operator_watch_restarts_total', 'Watches opened again after the first (server timeout, watchdog, 410 Gone, error)', gauges.watchRestarts);
    totalOf(this.registry, 'trantor_operator_watch_gone_total', 'Watches answered 410 Gone (their resourceVersion compacted away), each followed by a list', gauges.watchGone);
  }

  /** A reconcile pass ended (the work queue's observer). */
  readonly reconciled = (seconds: number, failed: boolean): void => {
    this.reconciles.inc({ result: failed ? 'error' : 'success' });
    this.duration.observe(seconds);
  };

  /** The webhook answered a review. */
  readonly admitted = (result: AdmissionResult): void => {
    this.admissions.inc({ result });
  };
}

/** One readiness condition: undefined when met, else why not. */
export type ReadinessCheck = () => string | undefined;

export interface EndpointSettings {
  readonly metrics: OperatorMetrics;
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  /** When the event loop last turned (ms since the epoch). */
  readonly lastTurn: () => number;
  /** /healthz fails when the loop has not turned for this long. */
  readonly stallMs: number;
}

/** The handler of /healthz, /readyz and /metrics. */
export function operatorEndpoints(settings: EndpointSettings): (req: IncomingMessage, res: ServerResponse) => void {
  const text = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, `${req.method ?? ''} ${path ?? ''}: only GET\n`);
    }
    if (path === '/healthz' || path === '/livez') {
      const stalled = Date.now() - settings.lastTurn();
      return stalled > settings.stallMs ? text(res, 503, `event loop stalled for ${stalled} ms\n`) : text(res, 200, 'ok\n');
    }
    if (path === '/readyz') {
      // Kubernetes' own form: one line per check, [+] passing, [-] failing with why.
      const lines = Object.entries(settings.readiness).map(([name, check]) => {
        const why = check();
        return why === undefined ? { ok: true, line: `[+]${name} ok` } : { ok: false, line: `[-]${name} failed: ${why}` };
      });
      const ready = lines.every((l) => l.ok);
      return text(res, ready ? 200 : 503, `${lines.map((l) => l.line).join('\n')}\n${ready ? 'readyz check passed' : 'readyz check failed'}\n`);
    }
    if (path === '/metrics') {
      settings.metrics.registry.metrics().then(
        (body) => text(res, 200, body, settings.metrics.registry.contentType),
        (error: unknown) => text(res, 500, `metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
      return;
    }
    text(res, 404, `no ${path ?? ''} here: /healthz, /readyz, /metrics\n`);
  };
}
