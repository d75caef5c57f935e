/** Small pieces every view uses: copy buttons, state badges, times, shell quoting. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

/** A button that copies `text` to the clipboard (curl lines, CLI commands, puids). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  const copy = (): void => {
    void navigator.clipboard.writeText(text).then(
      () => {
        setDone(true);
        setTimeout(() => setDone(false), 1200);
      },
      () => window.prompt('Copy:', text),
    );
  };
  return html`<button type="button" class="copy" title=${text} data-copy=${text} onClick=${copy}>${done ? 'copied' : label}</button>`;
}

/** The CSS class of a state: ok, warn (on its way), bad (failed). */
export function stateClass(state: string | boolean | undefined): 'ok' | 'warn' | 'bad' {
  if (state === true || state === 'Available' || state === 'Ready' || state === 'True') return 'ok';
  if (state === 'Failed' || state === 'Crashed' || state === false || state === 'False') return 'bad';
  return 'warn';
}

export function StateBadge({ state }: { state: string }) {
  return html`<span class=${`badge ${stateClass(state)}`}>${state}</span>`;
}

/** `3s`, `5m`, `2h`, `4d` since `time` (an RFC 3339 string or milliseconds). */
export function ago(time: string | number | undefined, now = Date.now()): string {
  if (time === undefined) return '';
  const ms = now - (typeof time === 'number' ? time : Date.parse(time));
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** `text` as one POSIX shell word. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** A curl command line for a request to the gateway. */
export function curlLine(method: string, url: string, body?: string, contentType = 'application/json'): string {
  const parts = ['curl', '-s'];
  if (method !== 'GET' && !(method === 'POST' && body !== undefined)) parts.push('-X', method);
  if (body !== undefined) parts.push('-H', shellQuote(`Content-Type: ${contentType}`), '-d', shellQuote(body));
  parts.push(shellQuote(url));
  return parts.join(' ');
}
