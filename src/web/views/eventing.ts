/**
 * Brokers and triggers (`#/eventing`) and one broker (`#/eventing/<ns>/<broker>`): its triggers,
 * its event stream (the API's tail of the broker, JSON lines of structured CloudEvents) with
 * filters, and for a selected event its attributes and data, the triggers that matched it, each
 * delivery attempt with its answer (the `deliveries` feed and `GET /dashboard/api/deliveries`),
 * a resend (a copy with a new id, POSTed to the broker's ingress on this origin) and its curl line.
 */
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, followLines } from '../api.ts';
import { deliveries, overview, useStore } from '../store.ts';
import type { BrokerView, DeliveryOutcome, DeliveryRecord, TriggerView } from '../types.ts';
import { ago, CopyButton, curlLine, StateBadge } from './ui.ts';

/** How many of a broker's events the page keeps (the newest). */
const EVENTS_KEPT = 1000;
/** How many rows the list draws (the newest that the filters let through). */
const ROWS_SHOWN = 300;
/** Attributes the broker stamps on an event; a resent copy goes without them (the broker stamps it anew). */
const BROKER_STAMPS = ['knativearrivaltime', 'knativebrokerttl'];
const STRUCTURED = 'application/cloudevents+json; charset=utf-8';

/** `#/eventing/<ns>/<broker>` (built here rather than imported from the shell, which imports this view). */
function brokerHref(namespace: string, name: string): string {
  return `#/eventing/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

function triggersOf(triggers: readonly TriggerView[], namespace: string, broker: string): TriggerView[] {
  return triggers.filter((t) => t.metadata.namespace === namespace && t.spec.broker === broker);
}

function triggerState(t: TriggerView): string {
  return t.status.ready ? 'Ready' : (t.status.reason ?? 'NotReady');
}

function brokerState(b: BrokerView): string {
  return b.status.ready === false ? (b.status.reason ?? 'NotReady') : b.status.ready === true ? 'Ready' : (b.status.reason ?? 'Unknown');
}

/** A trigger's filter as `type=x, source=y` (or `any event`). */
function filterText(t: TriggerView): string {
  const attributes = Object.entries(t.spec.filter?.attributes ?? {}).map(([k, v]) => `${k}=${v}`);
  const more = (t.spec as { filters?: unknown[] }).filters;
  if (Array.isArray(more) && more.length > 0) attributes.push(`filters: ${JSON.stringify(more)}`);
  return attributes.length === 0 ? 'any event' : attributes.join(', ');
}

function subscriberText(t: TriggerView): string {
  const ref = t.spec.subscriber?.ref;
  const named = ref === undefined ? t.spec.subscriber?.uri ?? '' : `${ref.kind ?? ''} ${ref.namespace ?? t.metadata.namespace}/${ref.name ?? ''}`;
  return t.status.subscriberUri === undefined || t.status.subscriberUri === named ? named : `${named} → ${t.status.subscriberUri}`;
}

type FilterExpression =
  | { exact: Record<string, string> }
  | { prefix: Record<string, string> }
  | { suffix: Record<string, string> }
  | { all: FilterExpression[] }
  | { any: FilterExpression[] }
  | { not: FilterExpression };

/** An attribute of an event as text (the JSON line has extensions at the top level, as the format says). */
function attributeText(event: Record<string, unknown>, name: string): string | undefined {
  if (name === 'data' || name === 'data_base64') return undefined;
  return scalarText(event[name]);
}

/** A JSON scalar as text; undefined for anything else. */
function scalarText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

function expressionTakes(x: FilterExpression, event: Record<string, unknown>): boolean {
  const each = (entries: Record<string, string>, ok: (actual: string, wanted: string) => boolean): boolean =>
    Object.entries(entries).every(([name, wanted]) => {
      const actual = attributeText(event, name);
      return actual !== undefined && ok(actual, wanted);
    });
  if ('exact' in x) return each(x.exact, (a, w) => a === w);
  if ('prefix' in x) return each(x.prefix, (a, w) => a.startsWith(w));
  if ('suffix' in x) return each(x.suffix, (a, w) => a.endsWith(w));
  if ('all' in x) return x.all.every((y) => expressionTakes(y, event));
  if ('any' in x) return x.any.some((y) => expressionTakes(y, event));
  return !expressionTakes(x.not, event);
}

/**
 * Whether a trigger's filter takes an event, as the broker decides it (src/eventing/filter.ts):
 * `filters` when it has any, else every `filter.attributes` entry exactly (an empty value: present).
 */
function filterMatches(t: TriggerView, event: Record<string, unknown>): boolean {
  const more = (t.spec as { filters?: FilterExpression[] }).filters;
  if (Array.isArray(more) && more.length > 0) return more.every((x) => expressionTakes(x, event));
  return Object.entries(t.spec.filter?.attributes ?? {}).every(([name, wanted]) => {
    const actual = attributeText(event, name);
    return wanted === '' ? actual !== undefined : actual === wanted;
  });
}

function Counts({ triggers }: { triggers: readonly TriggerView[] }) {
  const sum = { delivered: 0, retried: 0, deadLettered: 0, dropped: 0 };
  for (const t of triggers) {
    const d = t.status.deliveries;
    if (d === undefined) continue;
    sum.delivered += d.delivered;
    sum.retried += d.retried;
    sum.deadLettered += d.deadLettered;
    sum.dropped += d.dropped;
  }
  return html`<span class="ev-counts" title="delivered / retried / dead-lettered / dropped since the broker started">
    <span class="ok">${sum.delivered} delivered</span>${' · '}<span class="warn">${sum.retried} retried</span>${' · '}<span class="dl">${sum.deadLettered} dead-lettered</span>${' · '}<span class="bad">${sum.dropped} dropped</span>
  </span>`;
}

function TriggerTable({ triggers, showBroker }: { triggers: readonly TriggerView[]; showBroker: boolean }) {
  if (triggers.length === 0) return html`<p class="muted">No triggers.</p>`;
  return html`<table class="ev-triggers">
    <thead><tr><th>Trigger</th>${showBroker ? html`<th>Broker</th>` : null}<th>State</th><th>Filter</th><th>Subscriber</th><th>Dead-letter sink</th><th>Deliveries</th></tr></thead>
    <tbody>
      ${triggers.map(
        (t) => html`<tr key=${`${t.metadata.namespace}/${t.metadata.name}`} data-testid="trigger-row" data-trigger=${t.metadata.name}>
          <td>${t.metadata.namespace}/<b>${t.metadata.name}</b></td>
          ${showBroker ? html`<td><a href=${brokerHref(t.metadata.namespace, t.spec.broker)}>${t.spec.broker}</a></td>` : null}
          <td><${StateBadge} state=${triggerState(t)} />${t.status.message === undefined ? null : html`<div class="problem">${t.status.message}</div>`}</td>
          <td><code>${filterText(t)}</code></td>
          <td><code>${subscriberText(t)}</code></td>
          <td><code>${t.status.deadLetterSinkUri ?? '—'}</code></td>
          <td><${Counts} triggers=${[t]} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** `#/eventing`: every broker and trigger, not-ready ones first. */
function EventingList() {
  const view = useStore(overview);
  const [text, setText] = useState('');
  if (view === undefined) return html`<main><h1>Eventing</h1><p class="muted">Loading…</p></main>`;
  const needle = text.trim().toLowerCase();
  const hit = (...words: string[]): boolean => needle === '' || words.some((w) => w.toLowerCase().includes(needle));
  const notReadyFirst = <T,>(ready: (x: T) => boolean) => (a: T, b: T): number => Number(ready(a)) - Number(ready(b));
  const brokers = view.brokers
    .filter((b) => hit(b.metadata.namespace, b.metadata.name))
    .sort(notReadyFirst<BrokerView>((b) => b.status.ready !== false));
  const triggers = view.triggers
    .filter((t) => hit(t.metadata.namespace, t.metadata.name, t.spec.broker, subscriberText(t)))
    .sort(notReadyFirst<TriggerView>((t) => t.status.ready));
  return html`<main class="eventing">
    <h1>Eventing</h1>
    <p><input type="search" placeholder="filter by name, namespace, broker, subscriber" value=${text} data-testid="eventing-filter"
      onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} /></p>
    <h2>Brokers</h2>
    ${brokers.length === 0
      ? html`<p class="muted">No brokers. Every namespace has a <code>default</code> broker once a trigger names it; <code>trantor apply</code> a Broker or Trigger manifest.</p>`
      : html`<table class="ev-brokers">
          <thead><tr><th>Broker</th><th>State</th><th>Address</th><th>Triggers</th><th>Deliveries</th></tr></thead>
          <tbody>
            ${brokers.map((b) => {
              const own = triggersOf(view.triggers, b.metadata.namespace, b.metadata.name);
              const url = b.status.address?.url;
              return html`<tr key=${`${b.metadata.namespace}/${b.metadata.name}`} data-testid="broker-row" data-broker=${b.metadata.name}>
                <td><a href=${brokerHref(b.metadata.namespace, b.metadata.name)}>${b.metadata.namespace}/<b>${b.metadata.name}</b></a></td>
                <td><${StateBadge} state=${brokerState(b)} />${b.status.message === undefined ? null : html`<div class="problem">${b.status.message}</div>`}</td>
                <td>${url === undefined ? '—' : html`<code>${url}</code> <${CopyButton} text=${url} label="copy" />`}</td>
                <td>${own.length}</td>
                <td><${Counts} triggers=${own} /></td>
              </tr>`;
            })}
          </tbody>
        </table>`}
    <h2>Triggers</h2>
    <${TriggerTable} triggers=${triggers} showBroker=${true} />
  </main>`;
}

// -- one broker's stream --------------------------------------------------------------------------

/** One event of the broker's stream, as its JSON line gave it. */
interface StreamEvent {
  /** Which deliveries are this event's: its id and source. */
  key: string;
  id: string;
  type: string;
  source: string;
  /** When the broker took it (`knativearrivaltime`). */
  arrival: string | undefined;
  json: Record<string, unknown>;
  line: string;
}

const eventKey = (id: string, source: string): string => `${id}\u0000${source}`;
const recordKey = (r: DeliveryRecord): string => `${r.namespace}/${r.trigger}/${r.seq}/${r.deadLetterSink === true ? 'sink-' : ''}${r.attempt}`;

function parseEvent(line: string): StreamEvent | undefined {
  if (line.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const id = scalarText(o['id']) ?? '';
  const source = scalarText(o['source']) ?? '';
  const arrival = o['knativearrivaltime'];
  return { key: eventKey(id, source), id, source, type: scalarText(o['type']) ?? '', arrival: typeof arrival === 'string' ? arrival : undefined, json: o, line };
}

type From = 'kept' | 'now';

/** Follows the broker's events; batches what arrives so the page redraws a few times a second at most. */
function useBrokerStream(namespace: string, name: string, from: From, generation: number) {
  const [events, setEvents] = useState<readonly StreamEvent[]>([]);
  const [state, setState] = useState<{ following: boolean; error?: string }>({ following: false });
  useEffect(() => {
    const abort = new AbortController();
    let list: StreamEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    setEvents([]);
    setState({ following: true });
    const flush = (): void => {
      timer = undefined;
      if (list.length > EVENTS_KEPT) list = list.slice(list.length - EVENTS_KEPT);
      setEvents(list.slice());
    };
    const query = from === 'kept' ? '&from=1' : '';
    followLines(
      `/v1/brokers/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/events?follow=1${query}`,
      (line) => {
        const event = parseEvent(line);
        if (event === undefined) return;
        list.push(event);
        timer ??= setTimeout(flush, 100);
      },
      abort.signal,
    ).then(
      () => {
        if (!abort.signal.aborted) setState({ following: false, error: 'the stream ended (the control plane stopped?)' });
      },
      (err: unknown) => {
        if (!abort.signal.aborted) setState({ following: false, error: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [namespace, name, from, generation]);
  return { events, ...state };
}

/** The broker's delivery attempts: those kept by the journal when the page opened, then the feed's. */
function useBrokerDeliveries(namespace: string, name: string): { byKey: Map<string, DeliveryRecord[]>; error: string | undefined; add: (records: readonly DeliveryRecord[]) => void } {
  const live = useStore(deliveries);
  const [fetched, setFetched] = useState<readonly DeliveryRecord[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const abort = new AbortController();
    setFetched([]);
    api<{ items: DeliveryRecord[] }>(`/dashboard/api/deliveries?namespace=${encodeURIComponent(namespace)}&broker=${encodeURIComponent(name)}`, { signal: abort.signal }).then(
      (body) => setFetched(body.items),
      (err: unknown) => {
        if (!abort.signal.aborted) setError(`the deliveries kept could not be read: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
    return () => abort.abort();
  }, [namespace, name]);
  const byKey = useMemo(() => {
    const seen = new Set<string>();
    const out = new Map<string, DeliveryRecord[]>();
    for (const r of [...fetched, ...live]) {
      if (r.namespace !== namespace || r.broker !== name) continue;
      const k = recordKey(r);
      if (seen.has(k)) continue;
      seen.add(k);
      const key = eventKey(r.eventId, r.eventSource);
      const list = out.get(key);
      if (list === undefined) out.set(key, [r]);
      else list.push(r);
    }
    return out;
  }, [fetched, live, namespace, name]);
  const add = (records: readonly DeliveryRecord[]): void => setFetched((before) => [...before, ...records]);
  return { byKey, error, add };
}

const OUTCOME_CLASS: Record<DeliveryOutcome, string> = { delivered: 'ok', retrying: 'warn', 'dead-lettered': 'dl', dropped: 'bad' };

function OutcomeBadge({ outcome }: { outcome: DeliveryOutcome }) {
  return html`<span class=${`badge ${OUTCOME_CLASS[outcome]}`} data-testid="outcome">${outcome}</span>`;
}

/** Per trigger, the latest outcome of an event's delivery and how many attempts it took. */
function deliverySummary(records: readonly DeliveryRecord[]): { trigger: string; outcome: DeliveryOutcome; attempts: number }[] {
  const last = new Map<string, DeliveryRecord>();
  for (const r of records) {
    // The event's fate is the subscriber's last attempt's; the sink's attempts are listed apart.
    if (r.deadLetterSink === true) continue;
    const before = last.get(r.trigger);
    if (before === undefined || r.attempt >= before.attempt) last.set(r.trigger, r);
  }
  return [...last.values()].sort((a, b) => a.trigger.localeCompare(b.trigger)).map((r) => ({ trigger: r.trigger, outcome: r.outcome, attempts: r.attempt }));
}

function clock(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The event as it would be sent again: no broker stamps, a new id. */
function copyOf(event: StreamEvent, id: string): string {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(event.json)) if (!BROKER_STAMPS.includes(k)) out[k] = v;
  out['id'] = id;
  return JSON.stringify(out);
}

function newEventId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function Attempts({ records }: { records: readonly DeliveryRecord[] }) {
  return html`<table class="ev-attempts">
    <thead><tr><th>#</th><th>When</th><th>Status</th><th>Outcome</th><th>Took</th><th>Answer or error</th></tr></thead>
    <tbody>
      ${records.map(
        (r) => html`<tr key=${recordKey(r)} data-testid="delivery-attempt" data-trigger=${r.trigger} data-outcome=${r.outcome} data-attempt=${r.attempt} data-sink=${r.deadLetterSink === true ? 'dead-letter' : undefined}>
          <td>${r.deadLetterSink === true ? html`<span title=${r.target}>dead-letter sink ${r.attempt}</span>` : r.attempt}</td>
          <td title=${new Date(r.time).toISOString()}>${clock(r.time)}</td>
          <td>${r.status ?? '—'}</td>
          <td><${OutcomeBadge} outcome=${r.outcome} /></td>
          <td>${r.durationMs} ms</td>
          <td>
            ${r.error === undefined ? null : html`<div class="problem" data-testid="attempt-error">${r.error}</div>`}
            ${r.answer === undefined ? null : html`<pre class="ev-answer" data-testid="attempt-answer">${r.answer}</pre>`}
          </td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function EventDetail(props: {
  namespace: string;
  broker: string;
  event: StreamEvent;
  triggers: readonly TriggerView[];
  records: readonly DeliveryRecord[];
  gatewayUrl: string;
  onFetched: (records: readonly DeliveryRecord[]) => void;
  onResent: (id: string, source: string) => void;
}) {
  const { namespace, broker, event, triggers, records } = props;
  const [resendId, setResendId] = useState(newEventId);
  const [resend, setResend] = useState<{ busy: boolean; message?: string; ok?: boolean }>({ busy: false });
  const [fetchError, setFetchError] = useState<string | undefined>(undefined);
  useEffect(() => {
    setResendId(newEventId());
    setResend({ busy: false });
    setFetchError(undefined);
    const abort = new AbortController();
    const q = `namespace=${encodeURIComponent(namespace)}&broker=${encodeURIComponent(broker)}&eventId=${encodeURIComponent(event.id)}`;
    api<{ items: DeliveryRecord[] }>(`/dashboard/api/deliveries?${q}`, { signal: abort.signal }).then(
      (body) => props.onFetched(body.items.filter((r) => r.eventSource === event.source)),
      (err: unknown) => {
        if (!abort.signal.aborted) setFetchError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => abort.abort();
  }, [namespace, broker, event.key]);

  const ingressPath = `/${encodeURIComponent(namespace)}/${encodeURIComponent(broker)}`;
  const body = copyOf(event, resendId);
  const curl = curlLine('POST', `${props.gatewayUrl}${ingressPath}`, body, 'application/cloudevents+json');
  const send = async (): Promise<void> => {
    setResend({ busy: true });
    try {
      const res = await fetch(ingressPath, { method: 'POST', headers: { 'content-type': STRUCTURED }, body });
      const text = await res.text();
      if (res.ok) {
        setResend({ busy: false, ok: true, message: `sent as ${resendId} (${res.status})` });
        props.onResent(resendId, event.source);
        setResendId(newEventId());
      } else {
        let why = text;
        try {
          const parsed = JSON.parse(text) as { status?: { info?: string }; error?: { message?: string } };
          why = parsed.status?.info ?? parsed.error?.message ?? text;
        } catch {
          // not JSON: the text says it
        }
        setResend({ busy: false, ok: false, message: `the broker refused it (${res.status}): ${why}` });
      }
    } catch (err) {
      setResend({ busy: false, ok: false, message: `sending failed: ${err instanceof Error ? err.message : String(err)}` });
    }
  };

  const attributes = Object.entries(event.json).filter(([k]) => k !== 'data' && k !== 'data_base64');
  const data = event.json['data'] ?? event.json['data_base64'];
  const dataText = data === undefined ? undefined : typeof data === 'string' ? data : JSON.stringify(data, null, 2);
  const byTrigger = new Map<string, DeliveryRecord[]>();
  // The subscriber's attempts, then the dead-letter sink's.
  const sinkLast = (r: DeliveryRecord): number => (r.deadLetterSink === true ? 1 : 0);
  for (const r of [...records].sort((a, b) => sinkLast(a) - sinkLast(b) || a.attempt - b.attempt || a.time - b.time)) {
    const list = byTrigger.get(r.trigger);
    if (list === undefined) byTrigger.set(r.trigger, [r]);
    else list.push(r);
  }
  const names = new Set([...byTrigger.keys(), ...triggers.filter((t) => filterMatches(t, event.json)).map((t) => t.metadata.name)]);
  const unmatched = triggers.filter((t) => !names.has(t.metadata.name)).map((t) => t.metadata.name);
  const deadLetterOf = (name: string): string | undefined => triggers.find((t) => t.metadata.name === name)?.status.deadLetterSinkUri;

  return html`<section class="ev-detail" data-testid="event-detail" data-event-id=${event.id}>
    <h2>Event <code>${event.id}</code></h2>
    <div class="ev-actions">
      <button type="button" class="primary" data-testid="resend" disabled=${resend.busy} onClick=${() => void send()}>Resend</button>
      <${CopyButton} text=${curl} label="copy as curl" />
      <span class="muted">Resend and the curl line post a copy to <code>${ingressPath}</code> (structured mode) with a new id, <code data-testid="resend-id">${resendId}</code>, and without the broker's stamps.</span>
    </div>
    ${resend.message === undefined ? null : html`<p class=${resend.ok === true ? 'ok-text' : 'problem'} data-testid="resend-result">${resend.message}</p>`}
    <h3>Deliveries</h3>
    ${fetchError === undefined ? null : html`<p class="problem">The deliveries kept could not be read: ${fetchError}</p>`}
    ${names.size === 0 ? html`<p class="muted">No trigger of this broker matched it.</p>` : null}
    ${[...names].sort().map((name) => {
      const attempts = byTrigger.get(name) ?? [];
      const dls = deadLetterOf(name);
      return html`<div class="ev-trigger" key=${name} data-testid="event-trigger" data-trigger=${name}>
        <h4>${name}${dls === undefined ? null : html` <span class="muted">dead letters to <code>${dls}</code></span>`}</h4>
        ${attempts.length === 0
          ? html`<p class="muted">Its filter matches; no attempt seen yet (waiting for its subscriber, or made before the journal's last ${500} attempts).</p>`
          : html`<${Attempts} records=${attempts} />`}
      </div>`;
    })}
    ${unmatched.length === 0 ? null : html`<p class="muted">Not matched: ${unmatched.join(', ')}</p>`}
    <h3>Attributes</h3>
    <table class="ev-attributes" data-testid="event-attributes">
      <tbody>${attributes.map(([k, v]) => html`<tr key=${k}><th>${k}</th><td><code>${typeof v === 'string' ? v : JSON.stringify(v)}</code></td></tr>`)}</tbody>
    </table>
    <h3>Data${event.json['data_base64'] === undefined ? null : html` <span class="muted">(base64)</span>`}</h3>
    ${dataText === undefined ? html`<p class="muted">No data.</p>` : html`<pre class="ev-data" data-testid="event-data">${dataText}</pre>`}
  </section>`;
}

function BrokerPage({ namespace, name }: { namespace: string; name: string }) {
  const view = useStore(overview);
  const [from, setFrom] = useState<From>('kept');
  const [generation, setGeneration] = useState(0);
  const stream = useBrokerStream(namespace, name, from, generation);
  const journal = useBrokerDeliveries(namespace, name);
  const [filters, setFilters] = useState({ type: '', source: '', text: '' });
  const [selected, setSelected] = useState<string | undefined>(undefined);
  /** A resent copy to open once it shows in the stream. */
  const [awaited, setAwaited] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (awaited !== undefined && stream.events.some((e) => e.key === awaited)) {
      setAwaited(undefined);
      setSelected(awaited);
    }
  }, [stream.events, awaited]);

  const broker = view?.brokers.find((b) => b.metadata.namespace === namespace && b.metadata.name === name);
  const triggers = triggersOf(view?.triggers ?? [], namespace, name);
  const types = useMemo(() => [...new Set(stream.events.map((e) => e.type))].sort(), [stream.events]);
  const sources = useMemo(() => [...new Set(stream.events.map((e) => e.source))].sort(), [stream.events]);
  const needle = filters.text.trim().toLowerCase();
  const shown = stream.events.filter(
    (e) => (filters.type === '' || e.type === filters.type) && (filters.source === '' || e.source === filters.source) && (needle === '' || e.line.toLowerCase().includes(needle)),
  );
  const newestFirst = shown.slice(-ROWS_SHOWN).reverse();
  const current = selected === undefined ? undefined : stream.events.find((e) => e.key === selected);
  const gatewayUrl = view?.gatewayUrl ?? location.origin;
  const url = broker?.status.address?.url ?? `${gatewayUrl}/${namespace}/${name}`;
  const set = (field: keyof typeof filters) => (e: Event): void => setFilters({ ...filters, [field]: (e.target as HTMLInputElement | HTMLSelectElement).value });

  return html`<main class="eventing broker">
    <p><a href="#/eventing">Eventing</a> / ${namespace}</p>
    <h1>Broker ${namespace}/<b>${name}</b> ${broker === undefined ? null : html`<${StateBadge} state=${brokerState(broker)} />`}</h1>
    ${view !== undefined && broker === undefined ? html`<p class="problem">No broker ${name} in namespace ${namespace} is known (a <code>default</code> broker shows once a trigger names it).</p>` : null}
    ${broker?.status.message === undefined ? null : html`<p class="problem">${broker.status.message}</p>`}
    <p>Ingress <code>${url}</code> <${CopyButton} text=${url} label="copy" /> <${Counts} triggers=${triggers} /></p>
    <${TriggerTable} triggers=${triggers} showBroker=${false} />
    <h2>Events</h2>
    <div class="ev-filters">
      <label>from <select value=${from} data-testid="stream-from" onChange=${(e: Event) => setFrom((e.target as HTMLSelectElement).value as From)}>
        <option value="kept">the events the broker keeps</option><option value="now">now on</option>
      </select></label>
      <label>type <select value=${filters.type} data-testid="filter-type" onChange=${set('type')}>
        <option value="">any</option>${types.map((t) => html`<option value=${t}>${t}</option>`)}
      </select></label>
      <label>source <select value=${filters.source} data-testid="filter-source" onChange=${set('source')}>
        <option value="">any</option>${sources.map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>text <input type="search" value=${filters.text} placeholder="id, data, any attribute" data-testid="filter-text" onInput=${set('text')} /></label>
      <span class="muted" data-testid="event-count">${shown.length} of ${stream.events.length} events${stream.events.length >= EVENTS_KEPT ? ` (the last ${EVENTS_KEPT})` : ''}${shown.length > ROWS_SHOWN ? `; the newest ${ROWS_SHOWN} listed` : ''}</span>
      ${stream.following
        ? html`<span class="ev-following">following</span>`
        : html`<span class="problem" data-testid="stream-error">${stream.error ?? 'not following'}</span> <button type="button" onClick=${() => setGeneration(generation + 1)}>follow again</button>`}
    </div>
    ${journal.error === undefined ? null : html`<p class="problem">${journal.error}</p>`}
    <div class=${`ev-split${current === undefined ? '' : ' open'}`}>
      <div class="ev-list">
        ${newestFirst.length === 0
          ? html`<p class="muted" data-testid="no-events">${stream.events.length === 0 ? 'No events yet. Send one to the ingress above (the curl line in docs/dashboard.md, or `trantor events send`).' : 'No event matches the filters.'}</p>`
          : html`<table class="ev-events">
              <thead><tr><th>Arrived</th><th>Type</th><th>Source</th><th>Id</th><th>Deliveries</th></tr></thead>
              <tbody>
                ${newestFirst.map((e) => {
                  const summary = deliverySummary(journal.byKey.get(e.key) ?? []);
                  return html`<tr key=${e.key} class=${e.key === selected ? 'selected' : ''} data-testid="event-row" data-event-id=${e.id} onClick=${() => setSelected(e.key)}>
                    <td title=${e.arrival === undefined ? '' : `${ago(e.arrival)} ago`}>${e.arrival === undefined ? '' : clock(Date.parse(e.arrival))}</td>
                    <td><code>${e.type}</code></td>
                    <td><code>${e.source}</code></td>
                    <td><code>${e.id}</code></td>
                    <td>${summary.map((s) => html`<span class=${`ev-chip ${OUTCOME_CLASS[s.outcome]}`} title=${`${s.attempts} attempt${s.attempts === 1 ? '' : 's'}`}>${s.trigger}: ${s.outcome}</span> `)}</td>
                  </tr>`;
                })}
              </tbody>
            </table>`}
      </div>
      ${current === undefined
        ? null
        : html`<${EventDetail}
            namespace=${namespace} broker=${name} event=${current} triggers=${triggers} gatewayUrl=${gatewayUrl}
            records=${journal.byKey.get(current.key) ?? []}
            onFetched=${journal.add}
            onResent=${(id: string, source: string) => setAwaited(eventKey(id, source))} />`}
    </div>
  </main>`;
}

export function EventingPage({ parts }: { parts: string[] }) {
  const [namespace, name] = parts;
  if (namespace !== undefined && name !== undefined && namespace !== '' && name !== '') return html`<${BrokerPage} key=${`${namespace}/${name}`} namespace=${namespace} name=${name} />`;
  return html`<${EventingList} />`;
}
