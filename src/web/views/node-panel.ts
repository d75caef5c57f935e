/**
 * The graph node picked on the diagram: its kind, what runs it, its endpoint and parameters, its
 * replicas, the metadata the gateway answers for it, and its logs.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { selectedNode } from '../store.ts';
import type { DeploymentView, GraphNode, PredictorSpec } from '../types.ts';
import { containerOf, kindOf, servedByExecutor } from './graph-model.ts';
import { LogsTab } from './logs.ts';
import { StateBadge, ago } from './ui.ts';

function findNode(node: GraphNode, name: string): GraphNode | undefined {
  if (node.name === name) return node;
  for (const child of node.children ?? []) {
    const found = findNode(child, name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The gateway's metadata path of a node: Seldon's `…/api/v1.0/metadata/<node>`, or V2's `…/v2/models/<node>`. */
export function metadataPath(deployment: DeploymentView, node: string): string {
  const { namespace, name } = deployment.metadata;
  const base = `/seldon/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  return deployment.spec.protocol === 'v2' ? `${base}/v2/models/${encodeURIComponent(node)}` : `${base}/api/v1.0/metadata/${encodeURIComponent(node)}`;
}

function Metadata({ deployment, node }: { deployment: DeploymentView; node: string }) {
  const path = metadataPath(deployment, node);
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const ready = deployment.status.state === 'Available';
  useEffect(() => {
    setAnswer(undefined);
    if (!ready) return;
    const stop = new AbortController();
    fetch(path, { signal: stop.signal }).then(
      async (res) => {
        const text = await res.text();
        let shown = text;
        try {
          shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch {
          // not JSON: shown as it came
        }
        setAnswer({ ok: res.ok, text: res.ok ? shown : `HTTP ${res.status}: ${shown}` });
      },
      (err: unknown) => {
        if (!stop.signal.aborted) setAnswer({ ok: false, text: `GET ${path} failed: ${(err as Error).message}` });
      },
    );
    return () => stop.abort();
  }, [path, ready]);
  return html`<div class="metadata" data-testid="node-metadata">
    <h4>Metadata <code class="muted">GET ${path}</code></h4>
    ${!ready ? html`<p class="muted">Asked for once the deployment is Available.</p>`
      : answer === undefined ? html`<p class="muted">Asking…</p>`
      : html`<pre class=${answer.ok ? '' : 'problem'}>${answer.text}</pre>`}
  </div>`;
}

export function NodePanel({ deployment, predictor, node }: { deployment: DeploymentView; predictor: PredictorSpec; node: string }) {
  const spec = findNode(predictor.graph, node);
  if (spec === undefined) return html`<aside class="node-panel" data-testid="node-panel"><p>Predictor ${predictor.name} has no node ${node} (any more).</p></aside>`;
  const kind = kindOf(spec);
  const container = containerOf(spec, predictor);
  const replicas = (deployment.status.replicas ?? []).filter((r) => r.predictor === predictor.name && r.node === node).sort((a, b) => a.index - b.index);
  const command = [...(container?.command ?? []), ...(container?.args ?? [])].join(' ');
  const endpoint = spec.endpoint;
  return html`<aside class="node-panel" data-testid="node-panel" data-node=${node}>
    <header>
      <h3>${node} <span class="muted">in ${predictor.name}</span></h3>
      <button type="button" class="close" title="close" onClick=${() => selectedNode.set(undefined)}>×</button>
    </header>
    <dl>
      <dt>kind</dt><dd data-testid="node-kind">${kind}${spec.type === undefined ? html` <span class="muted">(inferred)</span>` : null}</dd>
      ${spec.implementation === undefined ? null : html`<dt>implementation</dt><dd>${spec.implementation}${servedByExecutor(spec) ? html` <span class="muted">(answered by the executor itself)</span>` : null}</dd>`}
      ${spec.modelUri === undefined ? null : html`<dt>modelUri</dt><dd><code>${spec.modelUri}</code></dd>`}
      ${container?.image === undefined ? null : html`<dt>image</dt><dd><code>${container.image}</code></dd>`}
      ${command === '' ? null : html`<dt>command</dt><dd><code>${command}</code></dd>`}
      ${endpoint === undefined ? null : html`<dt>endpoint</dt><dd>${endpoint.type ?? 'REST'}${endpoint.service_host === undefined ? '' : ` ${endpoint.service_host}`}${endpoint.service_port === undefined ? '' : `:${endpoint.service_port}`}</dd>`}
      ${spec.logger === undefined ? null : html`<dt>logger</dt><dd>${spec.logger.mode ?? 'all'}${spec.logger.url === undefined ? '' : ` → ${spec.logger.url}`}</dd>`}
    </dl>
    <h4>Parameters</h4>
    ${(spec.parameters ?? []).length === 0 ? html`<p class="muted">none</p>`
      : html`<table class="params" data-testid="node-parameters"><thead><tr><th>name</th><th>type</th><th>value</th></tr></thead><tbody>
        ${spec.parameters!.map((p) => html`<tr data-testid=${`param-${p.name}`}><td>${p.name}</td><td>${p.type ?? ''}</td><td><code>${p.value}</code></td></tr>`)}
      </tbody></table>`}
    <h4>Replicas</h4>
    ${replicas.length === 0 ? html`<p class="muted">${servedByExecutor(spec) ? 'None: the executor answers this node in its own process.' : 'None reported yet.'}</p>`
      : html`<table class="replicas" data-testid="node-replicas"><thead><tr><th>replica</th><th>state</th><th>pid</th><th>port</th><th>restarts</th><th>up</th><th>last exit</th></tr></thead><tbody>
        ${replicas.map((r) => html`<tr data-testid=${`replica-${r.id}`}>
          <td>${r.name ?? r.id}</td><td><${StateBadge} state=${r.state} /></td><td>${r.pid ?? ''}</td><td>${r.port ?? ''}</td><td>${r.restarts}</td>
          <td>${ago(r.startedAt)}</td><td>${r.lastExit === undefined ? '' : `${r.lastExit.reason ?? ''}${r.lastExit.finishedAt === undefined ? '' : ` ${ago(r.lastExit.finishedAt)} ago`}`}</td>
        </tr>${r.message === undefined && r.lastLine === undefined ? null : html`<tr class="detail"><td colspan="7">${r.message ?? ''}${r.lastLine === undefined ? '' : html` <span class="muted">last line:</span> <code>${r.lastLine}</code>`}</td></tr>`}`)}
      </tbody></table>`}
    <${Metadata} deployment=${deployment} node=${node} />
    <h4>Logs</h4>
    ${servedByExecutor(spec) ? html`<p class="muted">The executor answers this node: it has no process and no logs of its own.</p>` : html`<${LogsTab} deployment=${deployment} node=${node} predictor=${predictor.name} />`}
  </aside>`;
}
