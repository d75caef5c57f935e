/**
 * The request inspector: a deployment's last requests, newest first — those the gateway kept from
 * before the page opened and those arriving live — searchable by puid; one picked shows its
 * request, answer, the path it took and a link to its log lines.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { href } from '../routes.ts';
import { highlightedPath, requests, useStore } from '../store.ts';
import type { DeploymentView, RequestRecord } from '../types.ts';
import { prettyText } from './try-data.ts';
import { CopyButton, ago } from './ui.ts';

/** How many requests the table lists. */
const SHOWN = 200;

function keyOf(r: RequestRecord): string {
  return `${r.puid}@${r.time}`;
}

/** Earlier and live records of one deployment, each once, newest first. */
export function mergeRecords(earlier: readonly RequestRecord[], live: readonly RequestRecord[], namespace: string, deployment: string): RequestRecord[] {
  const seen = new Map<string, RequestRecord>();
  for (const r of [...earlier, ...live]) {
    if (r.namespace === namespace && r.deployment === deployment) seen.set(keyOf(r), r);
  }
  return [...seen.values()].sort((a, b) => b.time - a.time);
}

function clock(time: number): string {
  const d = new Date(time);
  return `${d.toLocaleTimeString()}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function Detail({ record, deployment }: { record: RequestRecord; deployment: DeploymentView }) {
  const { namespace, name } = deployment.metadata;
  const path = Object.entries(record.requestPath ?? {});
  const showPath = (): void => {
    highlightedPath.set({ namespace, deployment: name, ...(record.predictor === undefined ? {} : { predictor: record.predictor }), nodes: path.map(([n]) => n) });
    location.hash = href('deployments', namespace, name, 'graph');
  };
  return html`<section class="request-detail" data-testid="request-detail" data-puid=${record.puid}>
    <h3>Request <code>${record.puid}</code> <${CopyButton} text=${record.puid} label="copy puid" /></h3>
    <dl class="request-facts">
      <dt>time</dt><dd>${new Date(record.time).toISOString()} (${ago(record.time)} ago)</dd>
      <dt>predictor</dt><dd data-testid="detail-predictor">${record.predictor ?? '–'}</dd>
      <dt>call</dt><dd><code>${record.method} ${record.path}</code></dd>
      <dt>status</dt><dd><span class=${`badge ${record.status < 400 ? 'ok' : 'bad'}`} data-testid="detail-status">${record.grpcStatus ?? record.status}</span></dd>
      <dt>latency</dt><dd data-testid="detail-latency">${record.latencyMs.toFixed(1)} ms</dd>
      <dt>path</dt>
      <dd data-testid="detail-path">
        ${path.length === 0
          ? html`<span class="muted">not in the answer (a failure, or not a prediction)</span>`
          : html`<ol class="request-path">${path.map(([node, impl]) => html`<li key=${node}><code>${node}</code> <span class="muted">${impl}</span></li>`)}</ol>
            <button type="button" class="link" onClick=${showPath}>show on the graph</button>`}
      </dd>
    </dl>
    <p><a href=${href('deployments', namespace, name, 'logs', record.puid)} data-testid="detail-logs">logs of this request</a></p>
    ${record.truncated === true ? html`<p class="muted">The bodies are cut at the gateway's limit for the inspector.</p>` : null}
    <div class="request-bodies">
      <div><h4>request</h4><pre data-testid="detail-request">${prettyText(record.request)}</pre></div>
      <div><h4>answer</h4><pre data-testid="detail-response">${prettyText(record.response)}</pre></div>
    </div>
  </section>`;
}

export function RequestsTab({ deployment, node }: { deployment: DeploymentView; node?: string | undefined }) {
  const { namespace, name } = deployment.metadata;
  const live = useStore(requests);
  const [earlier, setEarlier] = useState<readonly RequestRecord[]>([]);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<string | undefined>(undefined);
  const [asked, setAsked] = useState(0);

  // The journal's list, when the tab opens and on "reload" (the live feed pushes at most 50 a second).
  useEffect(() => {
    const stop = new AbortController();
    const query = new URLSearchParams({ namespace, deployment: name, limit: String(SHOWN) });
    api<{ items: RequestRecord[] }>(`/dashboard/api/requests?${query}`, { signal: stop.signal }).then(
      (answer) => {
        setEarlier(answer.items);
        setProblem(undefined);
      },
      (err: unknown) => {
        if (stop.signal.aborted) return;
        setProblem(err instanceof ApiError ? `${err.reason}: ${err.message}` : String(err));
      },
    );
    return () => stop.abort();
  }, [namespace, name, asked]);

  const all = mergeRecords(earlier, live, namespace, name);
  const needle = search.trim().toLowerCase();
  const shown = all
    .filter((r) => needle === '' || r.puid.toLowerCase().includes(needle))
    .filter((r) => node === undefined || r.requestPath === undefined || node in r.requestPath)
    .slice(0, SHOWN);
  const selected = picked === undefined ? undefined : all.find((r) => keyOf(r) === picked);

  return html`<section class="tab requests" data-testid="requests-tab">
    <div class="requests-bar">
      <input type="search" data-testid="request-search" placeholder="search by puid" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} />
      <button type="button" data-testid="requests-reload" title="list again what the gateway kept (the live feed skips some under heavy load)" onClick=${() => setAsked(asked + 1)}>reload</button>
      <span class="muted" data-testid="requests-count">${shown.length} of ${all.length} requests${node === undefined ? '' : `, those that passed ${node}`}</span>
    </div>
    ${problem === undefined ? null : html`<p class="problem" data-testid="requests-problem">The requests from before this page opened could not be read (${problem}); new ones still show.</p>`}
    ${shown.length === 0
      ? html`<p class="muted" data-testid="requests-none">${all.length === 0 ? 'No requests yet: send one from the Try tab, or with curl.' : 'No request matches.'}</p>`
      : html`<table class="requests-table" data-testid="requests-table">
          <thead><tr><th>time</th><th>puid</th><th>predictor</th><th>path</th><th>status</th><th>latency</th></tr></thead>
          <tbody>
            ${shown.map((r) => html`<tr key=${keyOf(r)} data-testid="request-row" data-puid=${r.puid} class=${`${keyOf(r) === picked ? 'picked' : ''} ${r.status >= 400 ? 'failed' : ''}`} onClick=${() => setPicked(keyOf(r))}>
              <td>${clock(r.time)}</td>
              <td><code>${r.puid}</code></td>
              <td>${r.predictor ?? '–'}</td>
              <td>${r.requestPath === undefined ? r.path : Object.keys(r.requestPath).join(' → ')}</td>
              <td><span class=${`badge ${r.status < 400 ? 'ok' : 'bad'}`}>${r.grpcStatus ?? r.status}</span></td>
              <td>${r.latencyMs.toFixed(1)} ms</td>
            </tr>`)}
          </tbody>
        </table>`}
    ${selected === undefined ? null : html`<${Detail} record=${selected} deployment=${deployment} />`}
  </section>`;
}
