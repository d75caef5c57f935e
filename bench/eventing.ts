/**
 * The eventing half of `npm run bench`, against the `trantor up` that bench/run.ts started:
 *
 * 1. ingress only: autocannon POSTs binary-mode CloudEvents to `<gateway>/bench/default`, a
 *    namespace with no trigger, so each event is only stored (durably) and answered 202;
 * 2. ingress with one trigger: the same load on `bench-trigger/default`, whose trigger delivers
 *    every event to a bare node:http subscriber (bench/sink-server.mjs, its own process); every
 *    accepted event is then awaited at the subscriber and counted;
 * 3. end to end: one producer with a few keep-alive connections sends events at a fixed rate to
 *    `bench-e2e/default`, each stamped with its send time (`benchsent`, the monotonic clock in ns);
 *    the subscriber records receive time − send time.
 *
 * And `benchDurability`, run once per durability mode (`trantor up` and `trantor up --durability
 * fsync` side by side): the ingress load on `bench-stored/default`, whose trigger's subscriber does
 * not exist, so every event is stored with a pending delivery and nothing is delivered or compacted;
 * the broker's database is then read to count the events of the run that were stored.
 */
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';

/** What run.ts hands over: the running control plane and ways to drive it. */
export interface EventingBenchContext {
  gateway: string;
  /** A folder for the trigger manifest (the temporary home). */
  workDir: string;
  /** Runs `trantor <args>` against the bench's home; resolves with its stdout. */
  trantor: (args: string[]) => Promise<string>;
  /** Starts `node <script>` as a tracked child (cleaned up by run.ts); resolves with the port it prints. */
  startServer: (script: string) => Promise<number>;
  /** Seconds of load for scenarios 1 and 2 (after a 2 s warm-up). */
  seconds: number;
  connections: number;
  /** Events per second and seconds for scenario 3. */
  rate: number;
  rateSeconds: number;
}

export interface IngressRow {
  name: string;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  accepted: number;
  sent: number;
  /** Events the subscriber received (undefined when nothing subscribes). */
  delivered?: number;
  /** Distinct Ce-Id values among them. */
  unique?: number;
  /** From the end of the load until the last accepted event reached the subscriber. */
  drainMs?: number;
}

export interface EndToEndRow {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  errors: number;
  delivered: number;
  unique: number;
  ingressP50: number;
  ingressP99: number;
  p50: number;
  p99: number;
  max: number;
}

export interface EventingReport {
  ingressOnly: IngressRow;
  withTrigger: IngressRow;
  endToEnd: EndToEndRow;
}

/** The targets of the eventing issue. */
export const EVENTING_TARGETS = { eventsPerSecond: 5_000, ingressP99Ms: 20, endToEndP50Ms: 5 } as const;

const EVENT_TYPE = 'bench.event';
const EVENT_BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';

function ceHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-type': EVENT_TYPE,
    'ce-source': 'trantor.bench',
    ...extra,
  };
}

interface SinkStats {
  count: number;
  unique: number;
  latenciesMs: number[];
}

/** The subscriber's figures for events POSTed to `path` with `benchrun` = `run`. */
async function sinkStats(sink: string, path: string, run: string): Promise<SinkStats> {
  const response = await fetch(`${sink}/stats?path=${encodeURIComponent(path)}&run=${encodeURIComponent(run)}`);
  if (!response.ok) throw new Error(`the subscriber's stats answered ${response.status}`);
  return (await response.json()) as SinkStats;
}

/**
 * Waits until the subscriber has received `expected` events on `path`; gives up after `idleMs`
 * without progress. Resolves with the last stats seen.
 */
async function awaitDeliveries(sink: string, path: string, run: string, expected: number, idleMs = 15_000): Promise<SinkStats> {
  let stats = await sinkStats(sink, path, run);
  let lastCount = stats.count;
  let lastProgress = Date.now();
  while (stats.count < expected && Date.now() - lastProgress < idleMs) {
    await sleep(stats.count > expected - 100 ? 5 : 50);
    stats = await sinkStats(sink, path, run);
    if (stats.count !== lastCount) {
      lastCount = stats.count;
      lastProgress = Date.now();
    }
  }
  return stats;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

async function ingressLoad(url: string, run: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    // `[<id>]` is replaced by a unique id per request, so every event has its own Ce-Id.
    idReplacement: true,
    headers: ceHeaders({ 'ce-id': '[<id>]', 'ce-benchrun': run }),
    body: EVENT_BODY,
    connections,
    duration: seconds,
  });
}

function ingressRow(name: string, result: autocannon.Result): IngressRow {
  return {
    name,
    eventsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
    accepted: result['2xx'],
    // Not in the typings: every request written, answered or not. The last ones in flight when the
    // load stops are stored but their 202 is not waited for, so stored events are in [accepted, sent].
    sent: (result.requests as { sent?: number }).sent ?? result['2xx'],
  };
}

async function waitForTriggers(context: EventingBenchContext, names: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const out = await context.trantor(['get', 'triggers', '-o', 'json']);
    const parsed = JSON.parse(out) as { items?: { metadata: { name: string }; status: { ready: boolean } }[] } | { metadata: { name: string }; status: { ready: boolean } }[];
    const items = Array.isArray(parsed) ? parsed : (parsed.items ?? []);
    if (names.every((name) => items.some((t) => t.metadata.name === name && t.status.ready))) return;
    if (Date.now() > deadline) throw new Error(`triggers ${names.join(', ')} did not become ready: ${out}`);
    await sleep(200);
  }
}

/** Scenario 3: `rate` events/s for `seconds`, spread evenly, over a few keep-alive connections. */
async function endToEnd(context: EventingBenchContext, sink: string): Promise<EndToEndRow> {
  const { rate, rateSeconds: seconds } = context;
  const origin = new URL(context.gateway);
  const path = `${origin.pathname.replace(/\/$/, '')}/bench-e2e/default`;
  const pool = new Pool(origin.origin, { connections: 8, pipelining: 1, keepAliveTimeout: 60_000 });
  const total = Math.round(rate * seconds);
  const ingressMs: number[] = [];
  let accepted = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (n: number, run: string): void => {
    const started = process.hrtime.bigint();
    const done = pool
      .request({
        method: 'POST',
        path,
        headers: ceHeaders({ 'ce-id': `${run}-${n}`, 'ce-benchrun': run, 'ce-benchsent': started.toString() }),
        body: EVENT_BODY,
      })
      .then(async (response) => {
        await response.body.dump();
        ingressMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (response.statusCode >= 200 && response.statusCode < 300) accepted += 1;
        else errors += 1;
      })
      .catch(() => {
        errors += 1;
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  try {
    // Warm the connections (and the trigger's lane) without counting those events.
    for (let i = 0; i < 50; i++) send(i, 'e2e-warm');
    await Promise.all(inFlight);
    await awaitDeliveries(sink, '/e2e', 'e2e-warm', 50, 5_000);
    ingressMs.length = 0;
    accepted = 0;
    errors = 0;

    const start = process.hrtime.bigint();
    let sent = 0;
    while (sent < total) {
      const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
      const due = Math.min(total, Math.floor(elapsedS * rate) + 1);
      while (sent < due) send(sent++, 'e2e');
      await sleep(1);
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  const stats = await awaitDeliveries(sink, '/e2e', 'e2e', accepted);
  const latencies = [...stats.latenciesMs].sort((a, b) => a - b);
  ingressMs.sort((a, b) => a - b);
  return {
    rate,
    seconds,
    sent: total,
    accepted,
    errors,
    delivered: stats.count,
    unique: stats.unique,
    ingressP50: quantile(ingressMs, 0.5),
    ingressP99: quantile(ingressMs, 0.99),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? Number.NaN,
  };
}

export async function benchEventing(context: EventingBenchContext): Promise<EventingReport> {
  const sinkPort = await context.startServer('sink-server.mjs');
  const sink = `http://127.0.0.1:${sinkPort}`;
  const manifest = join(context.workDir, 'bench-triggers.yaml');
  const trigger = (name: string, namespace: string, subscriberPath: string): string =>
    [
      'apiVersion: eventing.knative.dev/v1',
      'kind: Trigger',
      'metadata:',
      `  name: ${name}`,
      `  namespace: ${namespace}`,
      'spec:',
      '  broker: default',
      '  filter:',
      '    attributes:',
      `      type: ${EVENT_TYPE}`,
      '  subscriber:',
      `    uri: ${sink}${subscriberPath}`,
      '',
    ].join('\n');
  writeFileSync(manifest, [trigger('bench-load', 'bench-trigger', '/load'), trigger('bench-e2e', 'bench-e2e', '/e2e')].join('---\n'));
  await context.trantor(['apply', '-f', manifest]);
  await waitForTriggers(context, ['bench-load', 'bench-e2e']);

  // 1. Ingress only: namespace `bench` has no trigger.
  const ingressUrl = `${context.gateway}/bench/default`;
  await ingressLoad(ingressUrl, 'ingress-warm', 2, context.connections);
  const ingressOnly = ingressRow('broker ingress, durable, no trigger', await ingressLoad(ingressUrl, 'ingress', context.seconds, context.connections));

  // 2. Ingress with one trigger delivering every event. The warm-up's deliveries are awaited first
  // (and counted apart, by their `benchrun`), so the count below is this run's alone.
  const triggerUrl = `${context.gateway}/bench-trigger/default`;
  const warm = await ingressLoad(triggerUrl, 'load-warm', 2, context.connections);
  await awaitDeliveries(sink, '/load', 'load-warm', warm['2xx']);
  const loaded = await ingressLoad(triggerUrl, 'load', context.seconds, context.connections);
  const loadEnded = Date.now();
  const withTrigger = ingressRow('broker ingress, durable, one trigger delivering every event', loaded);
  let delivered = await awaitDeliveries(sink, '/load', 'load', withTrigger.accepted);
  withTrigger.drainMs = Date.now() - loadEnded;
  // The events sent but not yet answered when the load stopped: stored too, most likely.
  if (delivered.count < withTrigger.sent) delivered = await awaitDeliveries(sink, '/load', 'load', withTrigger.sent, 1_000);
  withTrigger.delivered = delivered.count;
  withTrigger.unique = delivered.unique;

  // 3. End to end at a fixed rate.
  const e2e = await endToEnd(context, sink);
  return { ingressOnly, withTrigger, endToEnd: e2e };
}

/** A control plane under test: its gateway, its broker's database, and its CLI. */
export interface BrokerUnderTest {
  /** `process` or `fsync`. */
  durability: string;
  gateway: string;
  /** `<home>/broker/events.db` */
  database: string;
  workDir: string;
  trantor: (args: string[]) => Promise<string>;
}

export interface DurabilityRow extends IngressRow {
  durability: string;
  /** Distinct events of the run found in the broker's database after the load. */
  stored: number;
}

const STORED_NAMESPACE = 'bench-stored';

/** Ingress at `connections`, every event stored with a pending delivery; then counts what was stored. */
export async function benchDurability(broker: BrokerUnderTest, seconds: number, connections: number): Promise<DurabilityRow> {
  const manifest = join(broker.workDir, 'bench-stored-trigger.yaml');
  writeFileSync(
    manifest,
    [
      'apiVersion: eventing.knative.dev/v1',
      'kind: Trigger',
      'metadata:',
      '  name: bench-stored',
      `  namespace: ${STORED_NAMESPACE}`,
      'spec:',
      '  broker: default',
      '  subscriber:',
      // A deployment that does not exist: deliveries wait, so every event stays in the database.
      '    ref: {apiVersion: machinelearning.seldon.io/v1, kind: SeldonDeployment, name: nowhere}',
      '',
    ].join('\n'),
  );
  await broker.trantor(['apply', '-f', manifest]);
  const url = `${broker.gateway}/${STORED_NAMESPACE}/default`;
  const run = `stored-${broker.durability}`;
  await ingressLoad(url, `${run}-warm`, 2, connections);
  const row = ingressRow(`broker ingress, --durability ${broker.durability}, ${connections} connections`, await ingressLoad(url, run, seconds, connections));
  // The last requests in flight may still be committing: wait until the count settles.
  const db = new Database(broker.database, { readonly: true, fileMustExist: true });
  try {
    const count = db.prepare<[string, string], { n: number }>(
      "SELECT count(DISTINCT json_extract(event, '$.id')) AS n FROM events WHERE broker = ? AND json_extract(event, '$.benchrun') = ?",
    );
    const key = `${STORED_NAMESPACE}/default`;
    let stored = count.get(key, run)?.n ?? 0;
    for (let settled = 0; settled < 3; ) {
      await sleep(100);
      const now = count.get(key, run)?.n ?? 0;
      settled = now === stored ? settled + 1 : 0;
      stored = now;
    }
    return { ...row, durability: broker.durability, stored };
  } finally {
    db.close();
  }
}

/** The durability table, in markdown. */
export function formatDurability(rows: readonly DurabilityRow[], connections: number, seconds: number): string {
  const lines: string[] = [];
  lines.push(`Durability: the broker ingress at ${connections} connections for ${seconds} s after a 2 s warm-up, each event stored with a pending delivery (its trigger's subscriber does not exist)`);
  lines.push('');
  lines.push('| durability | events/s | p50 ms | p99 ms | sent | accepted (202) | stored | errors |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(`| ${r.durability} | ${Math.round(r.eventsPerSecond)} | ${r.p50} | ${r.p99} | ${r.sent} | ${r.accepted} | ${r.stored} | ${r.errors} |`);
  }
  lines.push('');
  lines.push('Targets:');
  lines.push('');
  const t = EVENTING_TARGETS;
  for (const r of rows) {
    const allStored = r.stored >= r.accepted && r.stored <= r.sent;
    lines.push(
      `- ${r.durability}: ${Math.round(r.eventsPerSecond)} events/s (target ≥ ${t.eventsPerSecond}): ${verdict(r.eventsPerSecond >= t.eventsPerSecond)}; ` +
        `p99 ${r.p99} ms (target ≤ ${t.ingressP99Ms} ms): ${verdict(r.p99 <= t.ingressP99Ms)}; ` +
        `every accepted event stored (${r.stored} stored for ${r.accepted} accepted of ${r.sent} sent): ${verdict(allStored)}`,
    );
  }
  return lines.join('\n');
}

function verdict(met: boolean): string {
  return met ? '**met**' : '**not met**';
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : 'n/a';
}

/** The eventing table and the targets, in markdown. */
export function formatEventing(report: EventingReport, connections: number, seconds: number): string {
  const { ingressOnly, withTrigger, endToEnd: e2e } = report;
  const t = EVENTING_TARGETS;
  const lines: string[] = [];
  lines.push(`Eventing: ${connections} connections, ${seconds} s per ingress scenario after a 2 s warm-up; end to end at ${e2e.rate} events/s for ${e2e.seconds} s`);
  lines.push('');
  lines.push('| scenario | events/s | p50 ms | p99 ms | sent | accepted (202) | delivered (distinct) | errors |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of [ingressOnly, withTrigger]) {
    const delivered = row.delivered === undefined ? '—' : `${row.delivered} (${row.unique})`;
    lines.push(`| ${row.name} | ${Math.round(row.eventsPerSecond)} | ${row.p50} | ${row.p99} | ${row.sent} | ${row.accepted} | ${delivered} | ${row.errors} |`);
  }
  lines.push(
    `| ${e2e.rate} events/s, ingress latency | ${Math.round(e2e.accepted / e2e.seconds)} | ${ms(e2e.ingressP50)} | ${ms(e2e.ingressP99)} | ${e2e.sent} | ${e2e.accepted} | ${e2e.delivered} (${e2e.unique}) | ${e2e.errors} |`,
  );
  lines.push(`| ${e2e.rate} events/s, ingress → subscriber (max ${ms(e2e.max)} ms) | | ${ms(e2e.p50)} | ${ms(e2e.p99)} | | | | |`);
  lines.push('');
  lines.push(
    `"sent" counts requests written; autocannon stops without waiting for the last ${connections} answers, so up to that many events are stored and delivered without being counted as accepted. ` +
      `With the trigger, the last accepted event reached the subscriber ${((withTrigger.drainMs ?? 0) / 1000).toFixed(1)} s after the load stopped.`,
  );
  lines.push('');
  lines.push('Targets:');
  lines.push('');
  lines.push(`- events/s accepted, no trigger: ${Math.round(ingressOnly.eventsPerSecond)} (target ≥ ${t.eventsPerSecond}): ${verdict(ingressOnly.eventsPerSecond >= t.eventsPerSecond)}`);
  lines.push(`- p99 ingress, no trigger: ${ingressOnly.p99} ms (target ≤ ${t.ingressP99Ms} ms): ${verdict(ingressOnly.p99 <= t.ingressP99Ms)}`);
  lines.push(`- events/s accepted, one trigger: ${Math.round(withTrigger.eventsPerSecond)} (target ≥ ${t.eventsPerSecond}): ${verdict(withTrigger.eventsPerSecond >= t.eventsPerSecond)}`);
  lines.push(`- p99 ingress, one trigger: ${withTrigger.p99} ms (target ≤ ${t.ingressP99Ms} ms): ${verdict(withTrigger.p99 <= t.ingressP99Ms)}`);
  lines.push(`- end-to-end p50 at ${e2e.rate}/s: ${ms(e2e.p50)} ms, p99 ${ms(e2e.p99)} ms (target p50 ≤ ${t.endToEndP50Ms} ms): ${verdict(e2e.p50 <= t.endToEndP50Ms)}`);
  const unique = withTrigger.unique ?? 0;
  const allLoad = unique >= withTrigger.accepted && unique <= withTrigger.sent;
  const allE2e = e2e.unique === e2e.accepted && e2e.accepted === e2e.sent;
  const duplicates = (withTrigger.delivered ?? 0) - unique + (e2e.delivered - e2e.unique);
  lines.push(
    `- every accepted event delivered: one trigger ${unique} distinct events for ${withTrigger.accepted} accepted of ${withTrigger.sent} sent, ` +
      `end to end ${e2e.unique} of ${e2e.accepted} accepted of ${e2e.sent} sent; ${duplicates} duplicate deliveries: ${verdict(allLoad && allE2e)}`,
  );
  return lines.join('\n');
}
