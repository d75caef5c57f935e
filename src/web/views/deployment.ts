/** One deployment: its state, address and description, its predictors' graphs drawn, and its tabs. */
import { html } from 'htm/preact';
import { href } from '../routes.ts';
import { overview, requests, selectedNode, useStore } from '../store.ts';
import type { DeploymentView, RequestRecord } from '../types.ts';
import { DeploymentGraphs } from './graph.ts';
import { LogsTab } from './logs.ts';
import { ManifestTab } from './manifest.ts';
import { NodePanel } from './node-panel.ts';
import { RequestsTab } from './requests.ts';
import { RolloutTab } from './rollout.ts';
import { TrafficTab } from './traffic.ts';
import { TryTab } from './try.ts';
import { CopyButton, StateBadge, ago, curlLine } from './ui.ts';

export const TABS = ['graph', 'traffic', 'try', 'requests', 'logs', 'rollout', 'manifest'] as const;
/** The tabs under which the diagram stays in view. */
const WITH_DIAGRAM: ReadonlySet<string> = new Set(['graph', 'traffic', 'try']);

/** The route's fourth part (`#/deployments/<ns>/<name>/logs/<text>`): the logs' filter. */
function routeFilter(): string | undefined {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] !== 'deployments' || parts.length < 5) return undefined;
  try {
    return decodeURIComponent(parts.slice(4).join('/'));
  } catch {
    return parts.slice(4).join('/');
  }
}

/** A prediction's body for the curl line: the last one sent to this deployment, else a V2 or Seldon sample. */
function sampleBody(deployment: DeploymentView, recent: readonly RequestRecord[]): string {
  const { namespace, name } = deployment.metadata;
  for (let i = recent.length - 1; i >= 0; i--) {
    const r = recent[i]!;
    if (r.namespace === namespace && r.deployment === name && r.method === 'POST' && /\/(predictions|infer)$/.test(r.path) && r.status < 400 && r.truncated !== true) return r.request;
  }
  return deployment.spec.protocol === 'v2'
    ? '{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}'
    : '{"data":{"ndarray":[[5.1,3.5,1.4,0.2]]}}';
}

function Header({ deployment }: { deployment: DeploymentView }) {
  const recent = useStore(requests);
  const status = deployment.status;
  const url = status.address.url;
  const replicas = status.replicas ?? [];
  const ready = replicas.filter((r) => r.state === 'Ready').length;
  const restarts = replicas.reduce((n, r) => n + r.restarts, 0);
  return html`<header class="deployment-head">
    <h1>${deployment.metadata.namespace}/<strong>${deployment.metadata.name}</strong> <span data-testid="deployment-state"><${StateBadge} state=${status.state} /></span></h1>
    <p class="facts">
      <span>${ready}/${replicas.length} replicas ready</span>
      ${restarts > 0 ? html`<span class="warn-text">${restarts} ${restarts === 1 ? 'restart' : 'restarts'}</span>` : null}
      <span>protocol ${deployment.spec.protocol ?? 'seldon'}</span>
      <span>age ${ago(status.createdAt ?? deployment.metadata.creationTimestamp)}</span>
    </p>
    <p class="address"><code data-testid="deployment-url">${url}</code>
      <${CopyButton} text=${url} label="copy URL" />
      <${CopyButton} text=${curlLine('POST', url, sampleBody(deployment, recent))} label="copy as curl" />
    </p>
    ${status.description === undefined ? null : html`<p class=${`description ${status.state === 'Failed' ? 'problem' : ''}`} data-testid="deployment-description">${status.description}</p>`}
  </header>`;
}

function GraphTab({ deployment }: { deployment: DeploymentView }) {
  const selected = useStore(selectedNode);
  const { namespace, name } = deployment.metadata;
  const predictor = selected !== undefined && selected.namespace === namespace && selected.deployment === name
    ? deployment.spec.predictors.find((p) => p.name === selected.predictor)
    : undefined;
  if (predictor === undefined || selected === undefined) return html`<p class="muted hint">Click a node for its parameters, replicas, metadata and logs.</p>`;
  return html`<${NodePanel} deployment=${deployment} predictor=${predictor} node=${selected.node} />`;
}

export function DeploymentPage({ namespace, name, tab, filter }: { namespace: string; name: string; tab: string; filter?: string | undefined }) {
  const all = useStore(overview);
  const selected = useStore(selectedNode);
  if (all === undefined) return html`<main><p class="loading">Loading ${namespace}/${name}…</p></main>`;
  const deployment = all.deployments.find((d) => d.metadata.namespace === namespace && d.metadata.name === name);
  if (deployment === undefined) {
    return html`<main><h1>${namespace}/${name}</h1>
      <p class="problem" data-testid="deployment-missing">There is no SeldonDeployment ${name} in namespace ${namespace}. <a href="#/">All deployments</a></p></main>`;
  }
  const current = (TABS as readonly string[]).includes(tab) ? tab : 'graph';
  const node = selected !== undefined && selected.namespace === namespace && selected.deployment === name ? selected.node : undefined;
  const body =
    current === 'traffic' ? html`<${TrafficTab} deployment=${deployment} node=${node} />`
    : current === 'try' ? html`<${TryTab} deployment=${deployment} node=${node} />`
    : current === 'requests' ? html`<${RequestsTab} deployment=${deployment} />`
    : current === 'logs' ? html`<${LogsTab} deployment=${deployment} filter=${filter ?? routeFilter()} />`
    : current === 'rollout' ? html`<${RolloutTab} deployment=${deployment} />`
    : current === 'manifest' ? html`<${ManifestTab} deployment=${deployment} />`
    : html`<${GraphTab} deployment=${deployment} />`;
  return html`<main class="deployment" data-testid="deployment-page">
    <${Header} deployment=${deployment} />
    ${tab !== current ? html`<p class="problem">No tab “${tab}”: the tabs are ${TABS.join(', ')}.</p>` : null}
    ${WITH_DIAGRAM.has(current) ? html`<${DeploymentGraphs} deployment=${deployment} />` : null}
    <nav class="tabs" data-testid="tabs">
      ${TABS.map((t) => html`<a href=${href('deployments', namespace, name, t)} class=${t === current ? 'active' : ''} data-testid=${`tab-${t}`}>${t}</a>`)}
    </nav>
    ${body}
  </main>`;
}
