/**
 * The manifest editor: a plain textarea checked as it is typed by the control plane's own
 * validator (`POST /v1/apply?dryRun=All&fieldValidation=Warn`, nothing stored), its errors (each
 * naming a field path) and warnings (unknown fields, with a did-you-mean) beside it, a diff against
 * what is stored when the object exists, Apply (`POST /v1/apply`, what `trantor apply` sends) and
 * "copy as CLI". Used by the manifest tab (the deployment as stored) and the apply page (a new one).
 */
import { html } from 'htm/preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { CopyButton } from './ui.ts';
import { diffCounts, folded, lineDiff, type DiffLine } from './line-diff.ts';
import { applyCommand, manifestOfView, toYaml } from './manifest-text.ts';

/** `POST /v1/apply`'s answer (docs/api.md). */
export interface ApplyAnswer {
  applied: { kind: string; namespace: string; name: string; action: string }[];
  dryRun?: boolean;
  warnings?: string[];
}

/** How long typing must pause before the text is checked. */
const CHECK_DELAY_MS = 300;

/** Sends `text` to `POST /v1/apply` as YAML (JSON is YAML too); `dryRun` checks it and stores nothing. */
export function applyManifest(text: string, dryRun: boolean, signal?: AbortSignal): Promise<ApplyAnswer> {
  const query = dryRun ? '?dryRun=All&fieldValidation=Warn' : '';
  const options: { body: string; contentType: string; method: string; signal?: AbortSignal; headers: Record<string, string> } = {
    method: 'POST',
    body: text,
    contentType: 'application/yaml',
    headers: { 'x-trantor-source': 'dashboard' },
  };
  if (signal !== undefined) options.signal = signal;
  return api<ApplyAnswer>(`/v1/apply${query}`, options);
}

/** Where the API reads back objects of each kind `apply` takes. */
const PLURALS: Record<string, string> = { Broker: 'brokers', Trigger: 'triggers', Service: 'services', Deployment: 'kubedeployments', ConfigMap: 'configmaps' };

/** The stored manifest of an object the dry run says exists, as YAML; undefined when it cannot be read back. */
export async function storedText(item: { kind: string; namespace: string; name: string }, signal?: AbortSignal): Promise<string | undefined> {
  const options = signal === undefined ? {} : { signal };
  if (item.kind === 'SeldonDeployment') {
    const view = await api<object>(`/v1/deployments/${encodeURIComponent(item.namespace)}/${encodeURIComponent(item.name)}`, options);
    return toYaml(manifestOfView(view));
  }
  const plural = PLURALS[item.kind];
  if (plural === undefined) return undefined;
  const list = await api<{ items: { metadata: { namespace: string; name: string } }[] }>(`/v1/${plural}`, options);
  const found = list.items.find((o) => o.metadata.namespace === item.namespace && o.metadata.name === item.name);
  return found === undefined ? undefined : toYaml(manifestOfView(found));
}

/** A line diff, unchanged stretches folded, with old and new line numbers. */
export function DiffView({ before, after, testid = 'diff' }: { before: string; after: string; testid?: string }) {
  const diff = useMemo(() => lineDiff(before, after), [before, after]);
  const { added, deleted } = diffCounts(diff);
  if (added === 0 && deleted === 0) return html`<p class="diff-none" data-testid=${testid}>No change: this is what is stored.</p>`;
  const row = (line: DiffLine) =>
    html`<tr class=${`diff-${line.kind}`} data-kind=${line.kind}>
      <td class="no">${line.oldNo ?? ''}</td><td class="no">${line.newNo ?? ''}</td>
      <td class="sign">${line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' '}</td><td class="text">${line.text}</td>
    </tr>`;
  return html`<div class="diff" data-testid=${testid}>
    <p class="diff-counts"><span class="diff-add">+${added}</span> <span class="diff-del">−${deleted}</span> lines (stored → changed)</p>
    <table><tbody>
      ${folded(diff).map((r) => (r.kind === 'skip' ? html`<tr class="diff-skip"><td colspan="4">⋯ ${r.count} unchanged line${r.count === 1 ? '' : 's'}</td></tr>` : row(r)))}
    </tbody></table>
  </div>`;
}

/** The API's error message split into its problems (BAD_MANIFEST lists one per line, each with its field path). */
function problemLines(message: string): string[] {
  return message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

type Check =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'ok'; answer: ApplyAnswer }
  | { state: 'error'; status: number; reason: string; problems: string[] };

function failed(err: unknown): Check {
  if (err instanceof ApiError) return { state: 'error', status: err.status, reason: err.reason, problems: problemLines(err.message) };
  return { state: 'error', status: 0, reason: 'NETWORK', problems: [`the control plane could not be reached: ${(err as Error).message}`] };
}

export interface ManifestEditorProps {
  /** The text the editor starts with (and goes back to on Reset). */
  initial: string;
  /** What is stored, as YAML, when the caller knows (the manifest tab); else read back from the API when the dry run says the object exists. */
  stored?: string | undefined;
  /** Called after a successful apply. */
  onApplied?: (answer: ApplyAnswer) => void;
}

export function ManifestEditor({ initial, stored, onApplied }: ManifestEditorProps) {
  const [text, setText] = useState(initial);
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [found, setFound] = useState<string | undefined>(undefined);
  const [showDiff, setShowDiff] = useState(false);
  const [applying, setApplying] = useState(false);
  const [result, setResult] = useState<Check>({ state: 'idle' });
  const lastInitial = useRef(initial);

  // A new starting text (another deployment) replaces the text only if it was not edited.
  useEffect(() => {
    if (initial === lastInitial.current) return;
    setText((current) => (current === lastInitial.current ? initial : current));
    lastInitial.current = initial;
  }, [initial]);

  // Checked by the real validator once typing pauses; a newer text cancels the older check.
  useEffect(() => {
    if (text.trim() === '') {
      setCheck({ state: 'idle' });
      setFound(undefined);
      return;
    }
    const stop = new AbortController();
    const timer = setTimeout(() => {
      setCheck({ state: 'checking' });
      applyManifest(text, true, stop.signal).then(
        async (answer) => {
          if (stop.signal.aborted) return;
          setCheck({ state: 'ok', answer });
          const existing = answer.applied.filter((a) => a.action !== 'created');
          if (stored === undefined && answer.applied.length === 1 && existing.length === 1) {
            const storedNow = await storedText(existing[0]!, stop.signal).catch(() => undefined);
            if (!stop.signal.aborted) setFound(storedNow);
          } else setFound(undefined);
        },
        (err: unknown) => {
          if (!stop.signal.aborted) setCheck(failed(err));
        },
      );
    }, CHECK_DELAY_MS);
    return () => {
      clearTimeout(timer);
      stop.abort();
    };
  }, [text, stored]);

  const against = stored ?? found;
  const apply = (): void => {
    setApplying(true);
    setResult({ state: 'idle' });
    applyManifest(text, false).then(
      (answer) => {
        setApplying(false);
        setResult({ state: 'ok', answer });
        onApplied?.(answer);
      },
      (err: unknown) => {
        setApplying(false);
        setResult(failed(err));
      },
    );
  };

  const lineCount = text.split('\n').length;
  return html`<div class="manifest-editor" data-testid="manifest-editor">
    <div class="editor-main">
      <textarea
        data-testid="manifest-text"
        spellcheck=${false}
        rows=${Math.min(40, Math.max(16, lineCount + 1))}
        value=${text}
        onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
        aria-label="manifest (YAML or JSON)"
      ></textarea>
      <div class="editor-actions">
        <button type="button" class="primary" data-testid="apply-button" disabled=${applying || text.trim() === '' || check.state === 'error'} onClick=${apply}>${applying ? 'Applying…' : 'Apply'}</button>
        ${against === undefined ? null : html`<button type="button" data-testid="diff-button" onClick=${() => setShowDiff(!showDiff)}>${showDiff ? 'Hide diff' : 'Diff against stored'}</button>`}
        ${text === initial ? null : html`<button type="button" data-testid="reset-button" onClick=${() => setText(initial)}>Reset</button>`}
        <${CopyButton} text=${applyCommand(text)} label="copy as CLI" />
      </div>
      ${result.state === 'idle' ? null : html`<${Outcome} check=${result} testid="apply-result" dry=${false} />`}
      ${showDiff && against !== undefined ? html`<${DiffView} before=${against} after=${text} testid="editor-diff" />` : null}
    </div>
    <aside class="editor-check" data-testid="manifest-check" data-state=${check.state}>
      <h3>Checked by the control plane</h3>
      ${check.state === 'idle' ? html`<p class="muted">Type or paste a manifest (YAML or JSON, one or more documents).</p>`
        : check.state === 'checking' ? html`<p class="muted">Checking…</p>`
        : html`<${Outcome} check=${check} testid="check-result" dry=${true} />`}
    </aside>
  </div>`;
}

/** A check's or an apply's answer: what would be / was applied, warnings, or the problems. */
function Outcome({ check, testid, dry }: { check: Check; testid: string; dry: boolean }) {
  if (check.state === 'error') {
    return html`<div class="outcome bad" data-testid=${testid} data-state="error">
      <p><strong>${dry ? 'Not valid' : 'Not applied'}</strong> (${check.status === 0 ? check.reason : `${check.status} ${check.reason}`})</p>
      <ul class="problems" data-testid="problems">${check.problems.map((p) => html`<li>${p}</li>`)}</ul>
    </div>`;
  }
  if (check.state !== 'ok') return null;
  const { applied, warnings = [] } = check.answer;
  return html`<div class="outcome ok" data-testid=${testid} data-state="ok">
    <ul class="applied">${applied.map((a) => html`<li><code>${a.kind} ${a.namespace}/${a.name}</code> ${dry ? `would be ${a.action}` : a.action}</li>`)}</ul>
    ${warnings.length === 0 ? null : html`<ul class="warnings" data-testid="warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>`}
  </div>`;
}
