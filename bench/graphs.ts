/**
 * The graph figures of `npm run bench`, against a running `trantor up`:
 * - what a hop costs: a chain of three no-op TypeScript models (each its own process) against the
 *   one-node no-op deployment, under load (autocannon) and at one connection, timed per request
 *   with a keep-alive undici client so the p50 resolves to microseconds (autocannon rounds to ms);
 * - adaptive batching: a model costing 2 ms per call (a timer, one call at a time, like one GPU),
 *   driven at 64 connections without and with `batch_max_size: 64`, `batch_max_wait_ms: 2`.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'undici';

const HERE = import.meta.dirname;
const BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
export const GRAPH_TARGETS = { hopP50Ms: 0.25, batchingRatio: 5 } as const;
/** The manifests this file needs applied, besides examples/noop-ts/noop.yaml. */
export const GRAPH_MANIFESTS = ['chain3.yaml', 'slow.yaml', 'slow-batched.yaml'].map((f) => join(HERE, 'manifests', f));

export interface LoadFigures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface GraphReport {
  connections: number;
  batchConnections: number;
  seconds: number;
  samples: number;
  single: LoadFigures & { fineP50: number };
  chain: LoadFigures & { fineP50: number };
  unbatched: LoadFigures;
  batched: LoadFigures;
}

export interface GraphOptions {
  gateway: string;
  seconds: number;
  connections: number;
  /** Connections for the batching pair; 64 unless told. */
  batchConnections?: number;
  /** Requests timed one at a time for each fine p50; 3,000 unless told. */
  samples?: number;
}

const url = (gateway: string, name: string): string => `${gateway}/seldon/default/${name}/api/v1.0/predictions`;

async function load(target: string, connections: number, seconds: number): Promise<LoadFigures> {
  const options = { url: target, method: 'POST' as const, body: BODY, headers: { 'content-type': 'application/json' }, connections };
  await autocannon({ ...options, duration: 2 });
  const result = await autocannon({ ...options, duration: seconds });
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/** The median wall time, in ms, of `samples` requests sent one after another on one keep-alive connection. */
async function fineP50(target: string, samples: number): Promise<number> {
  const parsed = new URL(target);
  const client = new Client(parsed.origin, { keepAliveTimeout: 30_000, pipelining: 1 });
  const once = async (): Promise<number> => {
    const started = performance.now();
    const response = await client.request({ path: parsed.pathname, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' } });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${target} answered ${response.statusCode}`);
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < 300; i++) await once();
    const times: number[] = [];
    for (let i = 0; i < samples; i++) times.push(await once());
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    await client.close();
  }
}

export async function benchGraphs(options: GraphOptions): Promise<GraphReport> {
  const { gateway, seconds, connections } = options;
  const batchConnections = options.batchConnections ?? 64;
  const samples = options.samples ?? 3_000;
  const singleUrl = url(gateway, 'noop');
  const chainUrl = url(gateway, 'noop-chain3');
  const single = { ...(await load(singleUrl, connections, seconds)), fineP50: await fineP50(singleUrl, samples) };
  const chain = { ...(await load(chainUrl, connections, seconds)), fineP50: await fineP50(chainUrl, samples) };
  const unbatched = await load(url(gateway, 'slow'), batchConnections, seconds);
  const batched = await load(url(gateway, 'slow-batched'), batchConnections, seconds);
  return { connections, batchConnections, seconds, samples, single, chain, unbatched, batched };
}

function verdict(met: boolean): string {
  return met ? '**met**' : '**not met**';
}

/** The graph table and the targets, in markdown. */
export function formatGraphs(report: GraphReport): string {
  const { single, chain, unbatched, batched } = report;
  const t = GRAPH_TARGETS;
  const hop = (chain.fineP50 - single.fineP50) / 2;
  const hopUnderLoad = (chain.p50 - single.p50) / 2;
  const ratio = batched.requestsPerSecond / unbatched.requestsPerSecond;
  const lines: string[] = [];
  lines.push(
    `Graphs: ${report.seconds} s per contender after a 2 s warm-up; p50 at 1 connection is the median of ${report.samples} requests sent one at a time on a keep-alive connection`,
  );
  lines.push('');
  lines.push('| contender | connections | requests/s | p50 ms | p99 ms | p50 ms at 1 connection | errors |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  const row = (name: string, c: number, f: LoadFigures, fine?: number): string =>
    `| ${name} | ${c} | ${Math.round(f.requestsPerSecond)} | ${f.p50} | ${f.p99} | ${fine === undefined ? '' : fine.toFixed(3)} | ${f.errors} |`;
  lines.push(row('no-op model, one node (own process)', report.connections, single, single.fineP50));
  lines.push(row('no-op models, three-node chain (each its own process)', report.connections, chain, chain.fineP50));
  lines.push(row('2 ms/call model, no batching', report.batchConnections, unbatched));
  lines.push(row('2 ms/call model, batch_max_size 64, batch_max_wait_ms 2', report.batchConnections, batched));
  lines.push('');
  lines.push(
    'The 2 ms model sleeps on a timer and takes one call at a time, as a model on one GPU costs a fixed time per call whatever the batch; ' +
      'a busy-waiting model would hold the event loop instead, and batching could not show its benefit.',
  );
  lines.push('');
  lines.push('Targets:');
  lines.push('');
  lines.push(
    `- added p50 per extra hop at 1 connection: (${chain.fineP50.toFixed(3)} − ${single.fineP50.toFixed(3)}) / 2 = ${hop.toFixed(3)} ms (target ≤ ${t.hopP50Ms} ms): ${verdict(hop <= t.hopP50Ms)}; ` +
      `at ${report.connections} connections (whole ms): (${chain.p50} − ${single.p50}) / 2 = ${hopUnderLoad} ms`,
  );
  lines.push(
    `- batching at ${report.batchConnections} connections: ${Math.round(batched.requestsPerSecond)} vs ${Math.round(unbatched.requestsPerSecond)} requests/s = ${ratio.toFixed(1)}× (target ≥ ${t.batchingRatio}×): ${verdict(ratio >= t.batchingRatio)}`,
  );
  return lines.join('\n');
}
