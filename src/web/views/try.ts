/**
 * Try a deployment: a request written (or picked from saved examples) and sent to the gateway as
 * plain JSON or as a binary-mode CloudEvent; its answer shown with status, latency and puid, its
 * path drawn on the diagram; feedback with a reward on the answer; every action also offered as a
 * curl and a `trantor` command line.
 */
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import { highlightedPath, overview, requests, useStore } from '../store.ts';
import type { DeploymentView } from '../types.ts';
import { CopyButton } from './ui.ts';
import {
  cloudEventHeaders,
  curlCommand,
  exampleFor,
  feedbackCli,
  feedbackMessage,
  feedbackPath,
  loadExamples,
  nodeMetadataPath,
  parseReward,
  predictCli,
  predictorOfPath,
  predictPath,
  protocolOf,
  readAnswer,
  requestBody,
  storeExamples,
  type Answer,
  type SavedExample,
  type SendMode,
} from './try-data.ts';

function newId(): string {
  return crypto.randomUUID();
}

async function call(path: string, init: RequestInit): Promise<Answer> {
  const started = performance.now();
  try {
    const res = await fetch(path, init);
    const text = await res.text();
    return readAnswer(res.status, text, res.headers, performance.now() - started);
  } catch (err) {
    const message = `the gateway could not be reached: ${(err as Error).message}`;
    return { status: 0, ok: false, latencyMs: performance.now() - started, text: '', pretty: '', reason: 'UNREACHABLE', message };
  }
}

function AnswerView({ answer, testid }: { answer: Answer; testid: string }) {
  return html`<div class=${`try-answer ${answer.ok ? 'ok' : 'bad'}`} data-testid=${testid}>
    <div class="try-answer-head">
      <span data-testid="answer-status" class=${`badge ${answer.ok ? 'ok' : 'bad'}`}>${answer.status === 0 ? 'no answer' : answer.status}</span>
      <span data-testid="answer-latency">${answer.latencyMs.toFixed(1)} ms</span>
      ${answer.puid === undefined ? null : html`<span>puid <code data-testid="answer-puid">${answer.puid}</code> <${CopyButton} text=${answer.puid} label="copy" /></span>`}
    </div>
    ${answer.ok ? null : html`<p class="problem" data-testid="answer-error"><strong>${answer.reason}</strong>: ${answer.message}</p>`}
    ${answer.event === undefined ? null : html`<dl class="try-event" data-testid="answer-event">${Object.entries(answer.event).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`}
    ${answer.requestPath === undefined ? null : html`<p class="try-path" data-testid="answer-path">Path: ${Object.entries(answer.requestPath).map(([node, impl], i) => html`${i > 0 ? ' → ' : ''}<code>${node}</code> <span class="muted">(${impl})</span>`)}</p>`}
    ${answer.pretty === '' ? null : html`<pre class="try-body" data-testid="answer-body">${answer.pretty}</pre>`}
  </div>`;
}

function Commands({ curl, cli, cliTitle }: { curl: string; cli?: string | undefined; cliTitle?: string }) {
  return html`<span class="try-commands">
    <span data-testid="copy-curl"><${CopyButton} text=${curl} label="copy as curl" /></span>
    ${cli === undefined ? null : html`<span data-testid="copy-cli" title=${cliTitle ?? ''}><${CopyButton} text=${cli} label="copy as CLI" /></span>`}
  </span>`;
}

function Examples({ deployment, body, mode, onPick }: { deployment: DeploymentView; body: string; mode: SendMode; onPick: (e: SavedExample) => void }) {
  const [examples, setExamples] = useState(() => loadExamples(deployment));
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const save = (): void => {
    const trimmed = name.trim();
    if (trimmed === '') return setProblem('Name the example first.');
    const next = [...examples.filter((e) => e.name !== trimmed), { name: trimmed, body, mode }].sort((a, b) => a.name.localeCompare(b.name));
    try {
      storeExamples(deployment, next);
    } catch (err) {
      return setProblem(`The example could not be kept in this browser: ${(err as Error).message}`);
    }
    setExamples(next);
    setName('');
    setProblem(undefined);
  };
  const remove = (gone: string): void => {
    const next = examples.filter((e) => e.name !== gone);
    storeExamples(deployment, next);
    setExamples(next);
  };
  return html`<div class="try-examples" data-testid="examples">
    <label>Saved examples
      <select data-testid="example-pick" onChange=${(e: Event) => {
        const picked = examples.find((x) => x.name === (e.target as HTMLSelectElement).value);
        if (picked !== undefined) onPick(picked);
        (e.target as HTMLSelectElement).value = '';
      }}>
        <option value="">${examples.length === 0 ? '(none yet)' : 'load…'}</option>
        ${examples.map((e) => html`<option key=${e.name} value=${e.name}>${e.name}${e.mode === 'cloudevent' ? ' (CloudEvent)' : ''}</option>`)}
      </select>
    </label>
    <input data-testid="example-name" placeholder="name this request" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
    <button type="button" data-testid="example-save" onClick=${save}>save</button>
    ${examples.length === 0 ? null : html`<span class="try-example-list">${examples.map((e) => html`<button type="button" class="link" key=${e.name} title=${`forget ${e.name}`} onClick=${() => remove(e.name)}>✕ ${e.name}</button>`)}</span>`}
    ${problem === undefined ? null : html`<p class="problem">${problem}</p>`}
  </div>`;
}

function Feedback({ deployment, gateway, request, answer }: { deployment: DeploymentView; gateway: string; request: string; answer: Answer }) {
  const [reward, setReward] = useState('1');
  const [result, setResult] = useState<Answer | { problem: string } | undefined>(undefined);
  const [sending, setSending] = useState(false);
  const parsed = parseReward(reward);
  const body = 'reward' in parsed ? feedbackMessage(request, answer.text, parsed.reward) : undefined;
  const send = async (): Promise<void> => {
    if (!('reward' in parsed) || body === undefined) return setResult({ problem: 'problem' in parsed ? parsed.problem : 'no reward' });
    setSending(true);
    setResult(await call(feedbackPath(deployment), { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    setSending(false);
  };
  return html`<div class="try-feedback" data-testid="feedback">
    <strong>Feedback on this answer</strong>
    <label>reward <input data-testid="feedback-reward" size="6" value=${reward} onInput=${(e: Event) => setReward((e.target as HTMLInputElement).value)} /></label>
    <button type="button" data-testid="feedback-send" disabled=${sending} onClick=${() => void send()}>send feedback</button>
    ${body === undefined ? null : html`<${Commands} curl=${curlCommand('POST', gateway + feedbackPath(deployment), body)} cli=${feedbackCli(deployment, request, answer.text, reward.trim())} />`}
    ${result === undefined ? null : 'problem' in result ? html`<p class="problem" data-testid="feedback-problem">${result.problem}</p>` : html`<${AnswerView} answer=${result} testid="feedback-answer" />`}
  </div>`;
}

function NodeMetadata({ deployment, node, gateway }: { deployment: DeploymentView; node: string; gateway: string }) {
  const [answer, setAnswer] = useState<Answer | undefined>(undefined);
  const path = nodeMetadataPath(deployment, node);
  return html`<div class="try-node" data-testid="node-metadata">
    <p>
      The gateway has no path that calls <code>${node}</code> alone: a request to the deployment runs its predictor's whole graph,
      and the answer's path says whether it passed <code>${node}</code>. What the gateway does serve of one node is its metadata:
    </p>
    <button type="button" data-testid="node-metadata-get" onClick=${() => void call(path, { method: 'GET' }).then(setAnswer)}>get ${node}'s metadata</button>
    <${Commands} curl=${curlCommand('GET', gateway + path)} />
    ${answer === undefined ? null : html`<${AnswerView} answer=${answer} testid="node-metadata-answer" />`}
  </div>`;
}

export function TryTab({ deployment, node }: { deployment: DeploymentView; node?: string | undefined }) {
  // A fresh form for each deployment: nothing typed for one is sent to another. Picking a node keeps it.
  const key = `${deployment.metadata.namespace}/${deployment.metadata.name}`;
  return html`<${TryForm} key=${key} deployment=${deployment} node=${node} />`;
}

function TryForm({ deployment, node }: { deployment: DeploymentView; node?: string | undefined }) {
  const view = useStore(overview);
  const protocol = protocolOf(deployment);
  const { namespace, name } = deployment.metadata;
  const gateway = view?.gatewayUrl ?? location.origin;
  // Read once: the form does not redraw for every request the feed reports.
  const [text, setText] = useState(() => exampleFor(deployment, requests.value));
  const [mode, setMode] = useState<SendMode>('json');
  // The event id of the next CloudEvent, fixed until it is sent so the copied curl line matches.
  const [eventId, setEventId] = useState(newId);
  const [sent, setSent] = useState<{ body: string; answer: Answer } | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [sending, setSending] = useState(false);
  const checked = useMemo(() => requestBody(text, protocol), [text, protocol]);
  const eventMode = mode === 'cloudevent' && protocol === 'seldon';
  const headers = eventMode ? cloudEventHeaders(eventId) : {};
  const path = predictPath(deployment);

  const send = async (): Promise<void> => {
    if ('problem' in checked) return setProblem(checked.problem);
    setProblem(undefined);
    setSending(true);
    const answer = await call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: checked.body });
    setSending(false);
    setSent({ body: checked.body, answer });
    if (eventMode) setEventId(newId());
    if (answer.requestPath !== undefined) {
      const nodes = Object.keys(answer.requestPath);
      const predictor = predictorOfPath(deployment, nodes);
      highlightedPath.set({ namespace, deployment: name, ...(predictor === undefined ? {} : { predictor }), nodes });
    }
  };

  return html`<section class="tab try" data-testid="try-tab">
    ${node === undefined ? null : html`<${NodeMetadata} deployment=${deployment} node=${node} gateway=${gateway} />`}
    <form class="try-form" onSubmit=${(e: Event) => {
      e.preventDefault();
      void send();
    }}>
      <div class="try-target">
        <code data-testid="try-url">POST ${path}</code>
        ${protocol === 'v2' ? html`<span class="muted">Open Inference Protocol (V2): the whole graph runs, whatever model the path names.</span>` : null}
      </div>
      <${Examples} deployment=${deployment} body=${text} mode=${mode} onPick=${(e: SavedExample) => {
        setText(e.body);
        setMode(e.mode);
      }} />
      <textarea data-testid="try-body" rows="6" spellcheck="false" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
      ${'problem' in checked && text.trim() !== '' ? html`<p class="muted try-check" data-testid="try-check">${checked.problem}</p>` : null}
      <div class="try-actions">
        <label><input type="radio" name="mode" data-testid="mode-json" checked=${mode === 'json'} onChange=${() => setMode('json')} /> JSON</label>
        <label title=${protocol === 'v2' ? 'The gateway takes CloudEvents on the Seldon protocol\'s predictions path only' : 'binary mode: the attributes in ce-* headers, the request as the data'}>
          <input type="radio" name="mode" data-testid="mode-cloudevent" disabled=${protocol === 'v2'} checked=${eventMode} onChange=${() => setMode('cloudevent')} /> as a CloudEvent
        </label>
        <button type="submit" data-testid="try-send" disabled=${sending}>${sending ? 'sending…' : 'send'}</button>
        ${'body' in checked
          ? html`<${Commands} curl=${curlCommand('POST', gateway + path, checked.body, headers)} cli=${predictCli(deployment, checked.body)} cliTitle=${eventMode ? 'trantor predict sends plain JSON, not a CloudEvent' : ''} />`
          : null}
      </div>
      ${eventMode ? html`<p class="muted">Sent with ${Object.entries(headers).map(([k, v]) => html`<code>${k}: ${v}</code> `)}; the answer comes back as an event too.</p>` : null}
      ${problem === undefined ? null : html`<p class="problem" data-testid="try-problem">${problem}</p>`}
    </form>
    ${sent === undefined ? null : html`<${AnswerView} answer=${sent.answer} testid="try-answer" />`}
    ${sent !== undefined && sent.answer.ok && protocol === 'seldon'
      ? html`<${Feedback} key=${sent.answer.puid ?? sent.answer.text} deployment=${deployment} gateway=${gateway} request=${sent.body} answer=${sent.answer} />`
      : null}
  </section>`;
}
