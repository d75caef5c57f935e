/**
 * A deployment's logs (`GET /v1/deployments/<ns>/<name>/logs?follow=1&timestamps=1`): every replica
 * merged or one picked, followed live or held still, filtered by text (a puid is text), each
 * restart marked where the replica's run changed, the last LOG_LINES_KEPT lines kept.
 */
import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiText, followLines } from '../api.ts';
import type { DeploymentView, ReplicaStatus } from '../types.ts';

export const LOG_LINES_KEPT = 2000;
/** Past lines asked for per replica when the logs open. */
const TAIL_LINES = 500;

export interface LogEntry {
  replica: string;
  /** Milliseconds since the epoch when the line was read; NaN when the line had no time. */
  time: number;
  text: string;
  /** Increases with each line taken in (a key that survives trimming). */
  n: number;
}

const LINE = /^\[([^\]]*)\] (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ?(.*)$/s;

/** One answer line, `[<replica>] <RFC 3339 time> <text>`; a line of another form is kept whole. */
export function parseLogLine(raw: string, n: number): LogEntry {
  const match = LINE.exec(raw);
  if (match === null) return { replica: '', time: Number.NaN, text: raw, n };
  // Date.parse wants at most milliseconds.
  const time = Date.parse(match[2]!.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  return { replica: match[1]!, time, text: match[3]!, n };
}

function clock(time: number): string {
  if (!Number.isFinite(time)) return '';
  const d = new Date(time);
  const two = (v: number): string => String(v).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** What the page learnt of each replica's runs: when each started, with the restart count and last exit then. */
interface RunInfo {
  restarts: number;
  lastExit?: string;
}
type Runs = Map<string, Map<number, RunInfo>>;

function learnRuns(runs: Runs, replicas: readonly ReplicaStatus[]): void {
  for (const r of replicas) {
    if (r.startedAt === undefined) continue;
    const start = Date.parse(r.startedAt);
    if (!Number.isFinite(start)) continue;
    let known = runs.get(r.id);
    if (known === undefined) runs.set(r.id, (known = new Map<number, RunInfo>()));
    if (!known.has(start)) known.set(start, { restarts: r.restarts, ...(r.lastExit?.reason === undefined ? {} : { lastExit: r.lastExit.reason }) });
  }
}

/** The run a line belongs to: how many known starts of its replica are at or before it. */
function runOf(runs: Runs, entry: LogEntry): number {
  const known = runs.get(entry.replica);
  if (known === undefined || !Number.isFinite(entry.time)) return 0;
  let n = 0;
  for (const start of known.keys()) if (start <= entry.time) n++;
  return n;
}

function latestStartBefore(runs: Runs, entry: LogEntry): RunInfo | undefined {
  const known = runs.get(entry.replica);
  if (known === undefined) return undefined;
  let best: number | undefined;
  for (const start of known.keys()) if (start <= entry.time && (best === undefined || start > best)) best = start;
  return best === undefined ? undefined : known.get(best);
}

function Highlighted({ text, filter }: { text: string; filter: string }) {
  if (filter === '') return text;
  const lower = text.toLowerCase();
  const needle = filter.toLowerCase();
  const parts: unknown[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    parts.push(text.slice(from, at), html`<mark>${text.slice(at, at + needle.length)}</mark>`);
    from = at + needle.length;
  }
  parts.push(text.slice(from));
  return html`${parts}`;
}

/**
 * `node` narrows to a graph node's replicas (the API's `container`), and `predictor` to one
 * predictor's (two predictors may have a node of the same name); `filter` is the text filter's start.
 */
export function LogsTab({ deployment, node, predictor, filter }: { deployment: DeploymentView; node?: string | undefined; predictor?: string | undefined; filter?: string | undefined }) {
  const { namespace, name } = deployment.metadata;
  const entries = useRef<LogEntry[]>([]);
  const counter = useRef(0);
  const runs = useRef<Runs>(new Map());
  const [, setVersion] = useState(0);
  const [follow, setFollow] = useState(true);
  const [text, setText] = useState(filter ?? '');
  const [replica, setReplica] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [ended, setEnded] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const stuckToBottom = useRef(true);

  useEffect(() => setText(filter ?? ''), [filter]);
  learnRuns(runs.current, deployment.status.replicas ?? []);

  useEffect(() => {
    if (!follow) return;
    entries.current = [];
    setProblem(undefined);
    setEnded(false);
    setVersion((v) => v + 1);
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const redraw = (): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        setVersion((v) => v + 1);
      }, 80);
    };
    const take = (line: string): void => {
      const list = entries.current;
      list.push(parseLogLine(line, counter.current++));
      if (list.length > LOG_LINES_KEPT + 200) entries.current = list.slice(list.length - LOG_LINES_KEPT);
      redraw();
    };
    const base = `/v1/deployments/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/logs`;
    const query = new URLSearchParams({ timestamps: '1', tailLines: String(TAIL_LINES) });
    if (node !== undefined) query.set('container', node);
    // A replica that restarted before the logs opened: its run before this one first, so the restart shows.
    const restarted = (deployment.status.replicas ?? []).some((r) => r.restarts > 0 && (node === undefined || r.node === node) && (predictor === undefined || r.predictor === predictor));
    const previous = restarted
      ? apiText(`${base}?${query}&previous=1`, { signal: stop.signal }).then(
          (text) => {
            for (const line of text.split('\n')) if (line !== '') take(line);
          },
          () => undefined, // none kept (404): only the current runs are shown
        )
      : Promise.resolve();
    previous
      .then(() => (stop.signal.aborted ? undefined : followLines(`${base}?${query}&follow=1`, take, stop.signal)))
      .then(
        () => {
          if (!stop.signal.aborted) setEnded(true);
        },
        (err: unknown) => {
          if (stop.signal.aborted) return;
          setProblem(err instanceof ApiError ? `${err.reason}: ${err.message}` : `the logs could not be read: ${(err as Error).message}`);
        },
      );
    return () => {
      stop.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [namespace, name, node, follow]);

  useLayoutEffect(() => {
    const el = box.current;
    if (el !== null && follow && stuckToBottom.current) el.scrollTop = el.scrollHeight;
  });

  const replicas = (deployment.status.replicas ?? []).filter((r) => (node === undefined || r.node === node) && (predictor === undefined || r.predictor === predictor));
  const ofPredictor = predictor === undefined ? undefined : `${predictor}/`;
  const all = entries.current.length > LOG_LINES_KEPT ? entries.current.slice(entries.current.length - LOG_LINES_KEPT) : entries.current;
  const needle = text.trim().toLowerCase();
  const rows: unknown[] = [];
  const lastRun = new Map<string, number>();
  let shown = 0;
  let considered = 0;
  for (const entry of all) {
    if (replica !== '' && entry.replica !== replica) continue;
    if (ofPredictor !== undefined && !entry.replica.startsWith(ofPredictor)) continue;
    considered++;
    const run = runOf(runs.current, entry);
    const before = lastRun.get(entry.replica);
    lastRun.set(entry.replica, run);
    if (before !== undefined && run > before) {
      const info = latestStartBefore(runs.current, entry);
      rows.push(html`<div class="restart" data-testid="log-restart" data-replica=${entry.replica} key=${`r${entry.n}`}>
        ↻ ${entry.replica} restarted${info === undefined ? '' : ` (restart ${info.restarts})`}${info?.lastExit === undefined ? '' : `: its last process ${info.lastExit}`}
      </div>`);
    }
    if (needle !== '' && !entry.text.toLowerCase().includes(needle) && !entry.replica.toLowerCase().includes(needle)) continue;
    shown++;
    rows.push(html`<div class="line" data-testid="log-line" data-replica=${entry.replica} key=${entry.n}>
      <span class="replica">${entry.replica}</span><span class="time">${clock(entry.time)}</span><span class="text"><${Highlighted} text=${entry.text} filter=${text.trim()} /></span>
    </div>`);
  }

  const onScroll = (): void => {
    const el = box.current;
    if (el !== null) stuckToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  return html`<section class="tab logs" data-testid="logs">
    <div class="logs-bar">
      <label>replica
        <select data-testid="logs-replica" value=${replica} onChange=${(e: Event) => setReplica((e.target as HTMLSelectElement).value)}>
          <option value="">all, merged</option>
          ${replicas.map((r) => html`<option value=${r.id}>${r.id} (${r.state}${r.restarts > 0 ? `, ${r.restarts} restarts` : ''})</option>`)}
        </select>
      </label>
      <label><input type="checkbox" data-testid="logs-follow" checked=${follow} onChange=${(e: Event) => setFollow((e.target as HTMLInputElement).checked)} /> follow</label>
      <input type="search" class="filter" data-testid="logs-filter" placeholder="filter: text or a puid" value=${text}
        onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
      <span class="count" data-testid="logs-count">${shown} of ${considered} lines${node === undefined ? '' : ` of node ${node}`}${follow ? '' : ' (paused)'}</span>
    </div>
    ${problem === undefined ? null : html`<p class="problem" data-testid="logs-problem">${problem}</p>`}
    <div class="log-lines" ref=${box} onScroll=${onScroll}>
      ${rows.length === 0 ? html`<p class="muted">${needle === '' ? 'No lines yet.' : `No line has “${text.trim()}”.`}</p>` : rows}
    </div>
    ${ended ? html`<p class="muted">The log stream ended (the deployment was deleted or the control plane stopped).</p>` : null}
  </section>`;
}
