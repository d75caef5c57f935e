/**
 * The overview, live from the feed: every deployment, broker, trigger and service, the failed and
 * not-ready ones first with what went wrong (the fix their description names) and their latest
 * Warning events. Everything comes from the one `overview` message: no request per row.
 */
import { html } from 'htm/preact';
import { href } from '../routes.ts';
import { overview, useStore } from '../store.ts';
import type { BrokerView, DeploymentView, ObjectEvent, Overview, ServiceView, TriggerView } from '../types.ts';
import { trafficShare } from './graph-model.ts';
import { CopyButton, StateBadge, ago } from './ui.ts';

/** Warnings shown under a troubled object. */
const WARNINGS_SHOWN = 3;

/** 0 failed, 1 not ready, 2 fine: the order rows are listed in. */
function rank(state: 'ok' | 'warn' | 'bad'): number {
  return state === 'bad' ? 0 : state === 'warn' ? 1 : 2;
}

function deploymentHealth(d: DeploymentView): 'ok' | 'warn' | 'bad' {
  return d.status.state === 'Failed' ? 'bad' : d.status.state === 'Available' ? 'ok' : 'warn';
}

function readyHealth(status: { ready?: boolean | undefined; reason?: string | undefined }): 'ok' | 'warn' | 'bad' {
  if (status.ready === true) return 'ok';
  return status.ready === false && status.reason !== undefined ? 'bad' : 'warn';
}

function byHealth<T extends { metadata: { namespace: string; name: string } }>(items: readonly T[], health: (item: T) => 'ok' | 'warn' | 'bad'): T[] {
  return [...items].sort((a, b) => rank(health(a)) - rank(health(b)) || a.metadata.namespace.localeCompare(b.metadata.namespace) || a.metadata.name.localeCompare(b.metadata.name));
}

/** The Warning events of each object (`Kind/ns/name`), newest first. */
function warningsByObject(events: readonly ObjectEvent[]): Map<string, ObjectEvent[]> {
  const map = new Map<string, ObjectEvent[]>();
  for (const e of events) {
    if (e.type !== 'Warning') continue;
    const key = `${e.involvedObject.kind}/${e.involvedObject.namespace}/${e.involvedObject.name}`;
    let list = map.get(key);
    if (list === undefined) map.set(key, (list = []));
    list.push(e);
  }
  for (const list of map.values()) list.sort((a, b) => (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? ''));
  return map;
}

function Trouble({ text, warnings, span }: { text: string | undefined; warnings: ObjectEvent[] | undefined; span: number }) {
  // A warning that only repeats the description is not shown twice.
  const shown = (warnings ?? []).filter((e) => e.message !== text).slice(0, WARNINGS_SHOWN);
  if ((text === undefined || text === '') && shown.length === 0) return null;
  return html`<tr class="trouble"><td colspan=${span}>
    ${text === undefined || text === '' ? null : html`<p class="description">${text}</p>`}
    ${shown.length === 0 ? null : html`<ul class="warnings">${shown.map((e) => html`<li><span class="badge bad">${e.reason}</span>${e.count !== undefined && e.count > 1 ? html` <span class="muted">×${e.count}</span>` : null} ${e.message} <span class="muted">${ago(e.lastTimestamp)} ago</span></li>`)}</ul>`}
  </td></tr>`;
}

function DeploymentRows({ d, warnings }: { d: DeploymentView; warnings: Map<string, ObjectEvent[]> }) {
  const { namespace, name } = d.metadata;
  const replicas = d.status.replicas ?? [];
  const ready = replicas.filter((r) => r.state === 'Ready').length;
  const restarts = replicas.reduce((n, r) => n + r.restarts, 0);
  const health = deploymentHealth(d);
  const link = href('deployments', namespace, name);
  return html`<tr class=${`row ${health}`} data-testid=${`overview-deployment-${namespace}-${name}`} data-state=${d.status.state}>
      <td><a href=${link}>${namespace}/<strong>${name}</strong></a></td>
      <td><${StateBadge} state=${d.status.state} /></td>
      <td class=${ready < replicas.length ? 'warn-text' : ''}>${ready}/${replicas.length}</td>
      <td class=${restarts > 0 ? 'warn-text' : ''}>${restarts}</td>
      <td>${d.spec.predictors.map((p) => {
        const share = trafficShare(p, d.spec.predictors);
        return html`<span class=${`pred${p.shadow === true ? ' shadow' : ''}`}>${p.name}${p.shadow === true ? ' (shadow)' : share === undefined ? '' : ` ${share}%`}</span>`;
      })}</td>
      <td class="url"><code>${d.status.address.url}</code> <${CopyButton} text=${d.status.address.url} label="copy" /></td>
      <td>${ago(d.status.createdAt ?? d.metadata.creationTimestamp)}</td>
    </tr>
    ${health === 'ok' ? null : html`<${Trouble} text=${d.status.description} warnings=${warnings.get(`SeldonDeployment/${namespace}/${name}`)} span=${7} />`}`;
}

function Deployments({ list, warnings }: { list: DeploymentView[]; warnings: Map<string, ObjectEvent[]> }) {
  if (list.length === 0) return html`<p class="muted" data-testid="no-deployments">No deployments yet: <a href="#/apply">apply a manifest</a> or run <code>trantor apply -f examples/iris/iris.yaml</code>.</p>`;
  return html`<table class="overview" data-testid="overview-deployments">
    <thead><tr><th>deployment</th><th>state</th><th>ready</th><th>restarts</th><th>predictors (traffic)</th><th>URL</th><th>age</th></tr></thead>
    <tbody>${byHealth(list, deploymentHealth).map((d) => html`<${DeploymentRows} key=${`${d.metadata.namespace}/${d.metadata.name}`} d=${d} warnings=${warnings} />`)}</tbody>
  </table>`;
}

function Brokers({ list, warnings }: { list: BrokerView[]; warnings: Map<string, ObjectEvent[]> }) {
  return html`<table class="overview" data-testid="overview-brokers">
    <thead><tr><th>broker</th><th>ready</th><th>URL</th><th>age</th></tr></thead>
    <tbody>${byHealth(list, (b) => readyHealth(b.status)).map((b) => {
      const { namespace, name } = b.metadata;
      const health = readyHealth(b.status);
      const url = b.status.address?.url;
      return html`<tr class=${`row ${health}`} data-testid=${`overview-broker-${namespace}-${name}`}>
          <td><a href=${href('eventing', namespace, name)}>${namespace}/<strong>${name}</strong></a></td>
          <td><${StateBadge} state=${b.status.ready === true ? 'Ready' : b.status.reason ?? 'NotReady'} /></td>
          <td class="url">${url === undefined ? '' : html`<code>${url}</code> <${CopyButton} text=${url} label="copy" />`}</td>
          <td>${ago(b.metadata.creationTimestamp)}</td>
        </tr>
        ${health === 'ok' ? null : html`<${Trouble} text=${b.status.message} warnings=${warnings.get(`Broker/${namespace}/${name}`)} span=${4} />`}`;
    })}</tbody>
  </table>`;
}

function subscriberOf(t: TriggerView): string {
  if (t.status.subscriberUri !== undefined) return t.status.subscriberUri;
  const ref = t.spec.subscriber?.ref;
  if (ref !== undefined) return `${ref.kind ?? 'Service'} ${ref.namespace ?? t.metadata.namespace}/${ref.name ?? ''}`;
  return t.spec.subscriber?.uri ?? '';
}

function Triggers({ list, warnings }: { list: TriggerView[]; warnings: Map<string, ObjectEvent[]> }) {
  return html`<table class="overview" data-testid="overview-triggers">
    <thead><tr><th>trigger</th><th>broker</th><th>ready</th><th>subscriber</th><th title="delivered / retried / dead-lettered / dropped">delivered</th><th>retried</th><th>dead-lettered</th><th>dropped</th><th>age</th></tr></thead>
    <tbody>${byHealth(list, (t) => readyHealth(t.status)).map((t) => {
      const { namespace, name } = t.metadata;
      const health = readyHealth(t.status);
      const d = t.status.deliveries;
      return html`<tr class=${`row ${health}`} data-testid=${`overview-trigger-${namespace}-${name}`}>
          <td><a href=${href('eventing', namespace, t.spec.broker)}>${namespace}/<strong>${name}</strong></a></td>
          <td>${t.spec.broker}</td>
          <td><${StateBadge} state=${t.status.ready ? 'Ready' : t.status.reason ?? 'NotReady'} /></td>
          <td class="url"><code>${subscriberOf(t)}</code></td>
          <td>${d?.delivered ?? 0}</td>
          <td class=${(d?.retried ?? 0) > 0 ? 'warn-text' : ''}>${d?.retried ?? 0}</td>
          <td class=${(d?.deadLettered ?? 0) > 0 ? 'bad-text' : ''}>${d?.deadLettered ?? 0}</td>
          <td class=${(d?.dropped ?? 0) > 0 ? 'bad-text' : ''}>${d?.dropped ?? 0}</td>
          <td>${ago(t.status.createdAt ?? t.metadata.creationTimestamp)}</td>
        </tr>
        ${health === 'ok' ? null : html`<${Trouble} text=${t.status.message} warnings=${warnings.get(`Trigger/${namespace}/${name}`)} span=${9} />`}`;
    })}</tbody>
  </table>`;
}

function Services({ list, warnings }: { list: ServiceView[]; warnings: Map<string, ObjectEvent[]> }) {
  // A Service is served locally by the process registered as its sink (trantor event-display).
  const health = (s: ServiceView): 'ok' | 'warn' => (s.status.sinkUrl === undefined ? 'warn' : 'ok');
  return html`<table class="overview" data-testid="overview-services">
    <thead><tr><th>service</th><th>receiver</th><th>age</th></tr></thead>
    <tbody>${byHealth(list, health).map((s) => {
      const { namespace, name } = s.metadata;
      const sink = s.status.sinkUrl;
      return html`<tr class=${`row ${health(s)}`} data-testid=${`overview-service-${namespace}-${name}`}>
          <td>${namespace}/<strong>${name}</strong></td>
          <td>${sink === undefined ? html`<${StateBadge} state="no receiver" />` : html`<code>${sink}</code>`}</td>
          <td>${ago(s.status.createdAt ?? s.metadata.creationTimestamp)}</td>
        </tr>
        ${sink !== undefined ? null : html`<${Trouble} text=${`No local process receives its events; run: trantor event-display --name ${name} -n ${namespace}`}
          warnings=${warnings.get(`Service/${namespace}/${name}`)} span=${3} />`}`;
    })}</tbody>
  </table>`;
}

function Summary({ data }: { data: Overview }) {
  const failed = data.deployments.filter((d) => d.status.state === 'Failed').length;
  const creating = data.deployments.filter((d) => d.status.state === 'Creating').length;
  return html`<p class="summary" data-testid="overview-summary">
    ${data.deployments.length} deployments${failed > 0 ? html`, <span class="bad-text">${failed} failed</span>` : ''}${creating > 0 ? html`, <span class="warn-text">${creating} starting</span>` : ''}${'; '}${data.brokers.length} brokers, ${data.triggers.length} triggers, ${data.services.length} services
  </p>`;
}

export function OverviewPage() {
  const data = useStore(overview);
  if (data === undefined) return html`<main><h1>Deployments</h1><p class="loading">Waiting for the control plane…</p></main>`;
  const warnings = warningsByObject(data.events);
  const eventing = data.brokers.length + data.triggers.length + data.services.length > 0;
  return html`<main class="overview-page" data-testid="overview">
    <h1>Deployments</h1>
    <${Summary} data=${data} />
    <${Deployments} list=${data.deployments} warnings=${warnings} />
    ${!eventing ? null : html`
      <h2>Brokers</h2>
      ${data.brokers.length === 0 ? html`<p class="muted">none</p>` : html`<${Brokers} list=${data.brokers} warnings=${warnings} />`}
      <h2>Triggers</h2>
      ${data.triggers.length === 0 ? html`<p class="muted">none</p>` : html`<${Triggers} list=${data.triggers} warnings=${warnings} />`}
      <h2>Services</h2>
      ${data.services.length === 0 ? html`<p class="muted">none</p>` : html`<${Services} list=${data.services} warnings=${warnings} />`}`}
  </main>`;
}
