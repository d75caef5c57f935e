/**
 * A deployment's live traffic: requests/s, latency percentiles and errors/s per predictor and per
 * graph node, and each router's choices (the share of each branch, feedback and mean reward),
 * over the last minutes the feed has sent, updated each second; a readout of the numbers beside.
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { traffic, useStore } from '../store.ts';
import type { DeploymentView } from '../types.ts';
import { Chart, type ChartLine } from './chart.ts';
import {
  formatNumber,
  lastSeconds,
  nodeKey,
  nodesOf,
  predictorKey,
  predictorsOf,
  readings,
  routerReadings,
  seriesOf,
  timesOf,
  type Reading,
  type RouterReading,
  type Series,
} from './traffic-data.ts';

const WINDOWS = [
  { seconds: 60, label: '1 min' },
  { seconds: 300, label: '5 min' },
];

function linesOf(series: Series[], suffix = '', dashed = false): ChartLine[] {
  return series.map((s) => ({ label: `${s.key}${suffix}`, values: s.values, dashed }));
}

/** p50 (dashed) and p99 of each key, a key's two lines in one colour. */
function latencyLines(p50: Series[], p99: Series[]): { lines: ChartLine[]; groupOf: (i: number) => number } {
  const lines: ChartLine[] = [];
  p99.forEach((s, i) => {
    lines.push({ label: `${s.key} p99`, values: s.values, joined: true });
    lines.push({ label: `${s.key} p50`, values: p50[i]!.values, dashed: true, joined: true });
  });
  return { lines, groupOf: (i) => Math.floor(i / 2) };
}

function Readout({ rows }: { rows: Reading[] }) {
  if (rows.length === 0) return html`<p class="traffic-none" data-testid="traffic-readout">No requests to this deployment in the window.</p>`;
  return html`<table class="traffic-readout" data-testid="traffic-readout">
    <thead><tr>
      <th>predictor / node</th><th title="the newest second">req/s</th><th title="the newest second">errors/s</th>
      <th>p50 ms</th><th>p99 ms</th><th title="answered in the window">requests</th><th title="errors in the window">errors</th><th title="highest p99 in the window">worst p99 ms</th>
    </tr></thead>
    <tbody>
      ${rows.map((r) => html`<tr key=${`${r.kind}:${r.key}`} data-testid="traffic-reading" data-kind=${r.kind} data-key=${r.key} class=${r.kind}>
        <td>${r.key}</td>
        <td data-field="rps">${formatNumber(r.rps)}</td>
        <td data-field="errors" class=${r.errors > 0 ? 'bad' : ''}>${formatNumber(r.errors)}</td>
        <td data-field="p50">${formatNumber(r.p50)}</td>
        <td data-field="p99">${formatNumber(r.p99)}</td>
        <td data-field="requests">${formatNumber(r.requests)}</td>
        <td data-field="failed" class=${r.failed > 0 ? 'bad' : ''}>${formatNumber(r.failed)}</td>
        <td data-field="worstP99">${formatNumber(r.worstP99)}</td>
      </tr>`)}
    </tbody>
  </table>`;
}

function Router({ router, times }: { router: RouterReading; times: number[] }) {
  return html`<section class="traffic-router" data-testid="traffic-router" data-key=${router.key}>
    <h3>Router <code>${router.node}</code> <span class="muted">(predictor ${router.predictor})</span></h3>
    <table class="traffic-readout" data-testid="router-readout">
      <thead><tr><th>branch</th><th>chosen</th><th>share</th><th>feedback</th><th>reward</th><th>mean reward</th></tr></thead>
      <tbody>
        ${router.branches.map((b) => html`<tr key=${b.branch} data-branch=${b.branch}>
          <td>${b.branch}: ${b.name}</td>
          <td data-field="chosen">${b.chosen}</td>
          <td data-field="share">${b.share === null ? '–' : `${formatNumber(b.share)} %`}</td>
          <td data-field="feedback">${b.feedback}</td>
          <td data-field="reward">${formatNumber(b.reward, 3)}</td>
          <td data-field="meanReward">${formatNumber(b.meanReward, 3)}</td>
        </tr>`)}
      </tbody>
    </table>
    <${Chart} testid="chart-router" title="Share of each branch over the 10 s before each second" unit="%" times=${times} lines=${linesOf(router.shares)} />
  </section>`;
}

export function TrafficTab({ deployment, node }: { deployment: DeploymentView; node?: string | undefined }) {
  const all = useStore(traffic);
  const [seconds, setSeconds] = useState(WINDOWS[0]!.seconds);
  const { namespace, name } = deployment.metadata;
  const samples = lastSeconds(all, seconds);
  const times = timesOf(samples);
  const predictors = predictorsOf(namespace, name);
  const nodes = nodesOf(namespace, name);
  const onlyNode = node === undefined ? undefined : (key: string) => key.endsWith(`/${node}`);
  const perPredictor = (field: 'rps' | 'errors' | 'p50' | 'p99'): Series[] => seriesOf(samples, predictors, predictorKey, field);
  const perNode = (field: 'rps' | 'errors' | 'p50' | 'p99'): Series[] => seriesOf(samples, nodes, nodeKey, field, onlyNode);
  const latency = latencyLines(perPredictor('p50'), perPredictor('p99'));
  const nodeLatency = latencyLines(perNode('p50'), perNode('p99'));
  const routers = routerReadings(samples, namespace, name, deployment.spec.predictors).filter((r) => node === undefined || r.node === node);
  const newest = samples.at(-1);

  return html`<section class="tab traffic" data-testid="traffic-tab">
    <div class="traffic-bar">
      <span class="muted" data-testid="traffic-clock">${newest === undefined ? 'Waiting for the first traffic sample (one comes each second)…' : `Newest second: ${new Date(newest.t).toLocaleTimeString()}`}</span>
      ${node === undefined ? null : html`<span class="traffic-node">Node <code>${node}</code> and its predictors</span>`}
      <span class="traffic-window">
        ${WINDOWS.map((w) => html`<button type="button" key=${w.seconds} class=${w.seconds === seconds ? 'active' : ''} onClick=${() => setSeconds(w.seconds)}>${w.label}</button>`)}
      </span>
    </div>
    <${Readout} rows=${readings(samples, namespace, name, node)} />
    <div class="traffic-charts">
      <${Chart} testid="chart-rps" title="Requests/s per predictor" unit="req/s" times=${times} lines=${linesOf(perPredictor('rps'))} />
      <${Chart} testid="chart-latency" title="Latency per predictor: p99 (solid), p50 (dashed)" unit="ms" times=${times} lines=${latency.lines} groupOf=${latency.groupOf} />
      <${Chart} testid="chart-errors" title="Errors/s per predictor (answers of 400 or more)" unit="err/s" times=${times} lines=${linesOf(perPredictor('errors'))} />
      <${Chart} testid="chart-node-rps" title="Requests/s per graph node" unit="req/s" times=${times} lines=${linesOf(perNode('rps'))} />
      <${Chart} testid="chart-node-latency" title="Latency per graph node: p99 (solid), p50 (dashed)" unit="ms" times=${times} lines=${nodeLatency.lines} groupOf=${nodeLatency.groupOf} />
      <${Chart} testid="chart-node-errors" title="Errors/s per graph node" unit="err/s" times=${times} lines=${linesOf(perNode('errors'))} />
    </div>
    ${routers.length === 0 ? null : html`<h2>Routers</h2>${routers.map((r) => html`<${Router} key=${r.key} router=${r} times=${times} />`)}`}
  </section>`;
}
