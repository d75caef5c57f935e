/**
 * The request form's workings, apart from drawing it: the example a deployment's form starts
 * with, the gateway paths a request goes to, the headers of a CloudEvent request, the curl and
 * `trantor` command lines of each action, reading an answer (its puid, path, failure) and the
 * examples saved per deployment.
 */
import { shellQuote } from './ui.ts';
import type { DeploymentView, GraphNode, RequestRecord } from '../types.ts';

export type Protocol = 'seldon' | 'v2';
export type SendMode = 'json' | 'cloudevent';

export function protocolOf(deployment: DeploymentView): Protocol {
  return deployment.spec.protocol?.toLowerCase() === 'v2' ? 'v2' : 'seldon';
}

/** The model a V2 request names: the first predictor's root node (the whole graph runs whatever the name). */
export function v2ModelOf(deployment: DeploymentView): string {
  return deployment.spec.predictors[0]?.graph.name ?? 'model';
}

const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];

/**
 * The form's first request: the last one sent to this deployment through the gateway's
 * predictions path (when the page has it whole), else four iris-like features.
 */
export function exampleFor(deployment: DeploymentView, recent: readonly RequestRecord[]): string {
  const protocol = protocolOf(deployment);
  const { namespace, name } = deployment.metadata;
  const wanted = protocol === 'v2' ? /\/infer$/ : /\/predictions$/;
  for (let i = recent.length - 1; i >= 0; i--) {
    const r = recent[i]!;
    if (r.namespace !== namespace || r.deployment !== name || r.status >= 400 || r.truncated === true || !wanted.test(r.path)) continue;
    try {
      JSON.parse(r.request);
      return r.request.trim();
    } catch {
      // not JSON (a form upload, say): look further back
    }
  }
  if (protocol === 'v2') return JSON.stringify({ inputs: [{ name: 'predict', shape: [1, 4], datatype: 'FP32', data: IRIS_ROW }] });
  return JSON.stringify({ data: { ndarray: [IRIS_ROW] } });
}

function base(deployment: DeploymentView): string {
  return `/seldon/${encodeURIComponent(deployment.metadata.namespace)}/${encodeURIComponent(deployment.metadata.name)}`;
}

export function predictPath(deployment: DeploymentView): string {
  return protocolOf(deployment) === 'v2' ? `${base(deployment)}/v2/models/${encodeURIComponent(v2ModelOf(deployment))}/infer` : `${base(deployment)}/api/v1.0/predictions`;
}

export function feedbackPath(deployment: DeploymentView): string {
  return `${base(deployment)}/api/v1.0/feedback`;
}

/** A node's own metadata: the one thing the gateway serves of a single node. */
export function nodeMetadataPath(deployment: DeploymentView, node: string): string {
  return protocolOf(deployment) === 'v2' ? `${base(deployment)}/v2/models/${encodeURIComponent(node)}` : `${base(deployment)}/api/v1.0/metadata/${encodeURIComponent(node)}`;
}

/** The body to send, or what is wrong with the form's text. A bare array of rows goes as `data.ndarray`, as `trantor predict` sends it. */
export function requestBody(text: string, protocol: Protocol): { body: string } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { problem: 'The request is empty: write a JSON request, or pick a saved example.' };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    return { problem: `The request is not JSON: ${(err as Error).message}` };
  }
  if (Array.isArray(value)) {
    if (protocol === 'v2') return { problem: 'A V2 request is an object with "inputs", e.g. {"inputs":[{"name":"predict","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}' };
    return { body: `{"data":{"ndarray":${trimmed}}}` };
  }
  if (typeof value !== 'object' || value === null) return { problem: `The request is JSON but not an object: ${trimmed.slice(0, 40)}` };
  if (protocol === 'v2' && !Array.isArray((value as { inputs?: unknown }).inputs)) return { problem: 'A V2 request needs "inputs": a list of tensors, e.g. [{"name":"predict","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]' };
  return { body: trimmed };
}

/** The headers of a binary-mode CloudEvent request (the gateway needs the four required attributes). */
export function cloudEventHeaders(id: string): Record<string, string> {
  return {
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-type': 'io.trantor.dashboard.request',
    'ce-source': 'trantor-dashboard',
  };
}

/** `curl` for a request: `headers` besides its JSON content type. */
export function curlCommand(method: string, url: string, body?: string, headers: Record<string, string> = {}): string {
  const parts = ['curl', '-s'];
  if (body === undefined && method !== 'GET') parts.push('-X', method);
  if (body !== undefined) parts.push('-H', shellQuote('Content-Type: application/json'));
  for (const [name, value] of Object.entries(headers)) parts.push('-H', shellQuote(`${name}: ${value}`));
  if (body !== undefined) parts.push('-d', shellQuote(body));
  parts.push(shellQuote(url));
  return parts.join(' ');
}

function target(deployment: DeploymentView): string[] {
  return [shellQuote(deployment.metadata.name), '-n', shellQuote(deployment.metadata.namespace)];
}

/** `trantor predict` sending `body` (always plain JSON: the CLI has no CloudEvent mode). */
export function predictCli(deployment: DeploymentView, body: string): string {
  const v2 = protocolOf(deployment) === 'v2' ? ['--protocol', 'v2', '--model', shellQuote(v2ModelOf(deployment))] : [];
  return ['trantor', 'predict', ...target(deployment), ...v2, '--data', shellQuote(body)].join(' ');
}

export function feedbackCli(deployment: DeploymentView, request: string, response: string, reward: string): string {
  return ['trantor', 'feedback', ...target(deployment), '--request', shellQuote(request), '--response', shellQuote(response), '--reward', shellQuote(reward)].join(' ');
}

/** Seldon's Feedback message, the request and answer as their exact texts (every digit kept). */
export function feedbackMessage(request: string, response: string, reward: number): string {
  return `{"request":${request},"response":${response},"reward":${reward}}`;
}

/** A reward as typed, or what is wrong with it. */
export function parseReward(text: string): { reward: number } | { problem: string } {
  const reward = Number(text);
  if (text.trim() === '' || !Number.isFinite(reward)) return { problem: `Reward "${text}": expected a number, e.g. 1 or 0.5` };
  return { reward };
}

/** JSON indented, with arrays of numbers, strings and booleans kept on one line (rows of a tensor stay rows). */
export function prettyJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

/** A body for reading: JSON pretty, anything else as it is. */
export function prettyText(text: string): string {
  try {
    return prettyJson(JSON.parse(text));
  } catch {
    return text;
  }
}

/** What an answer says: its body pretty, puid, path, and for a failure its reason and message. */
export interface Answer {
  status: number;
  ok: boolean;
  latencyMs: number;
  puid?: string;
  text: string;
  pretty: string;
  requestPath?: Record<string, string>;
  reason?: string;
  message?: string;
  /** The CloudEvent attributes of an event reply (`ce-*` headers). */
  event?: Record<string, string>;
}

export function readAnswer(status: number, text: string, headers: Headers, latencyMs: number): Answer {
  const answer: Answer = { status, ok: status >= 200 && status < 300, latencyMs, text, pretty: text };
  let body: unknown;
  try {
    body = JSON.parse(text);
    answer.pretty = prettyJson(body);
  } catch {
    body = undefined;
  }
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    meta?: { puid?: unknown; requestPath?: unknown };
    status?: { reason?: unknown; info?: unknown; code?: unknown };
    error?: unknown;
    id?: unknown;
  };
  const puid = headers.get('seldon-puid') ?? (typeof b.meta?.puid === 'string' ? b.meta.puid : undefined);
  if (puid !== null && puid !== undefined) answer.puid = puid;
  if (typeof b.meta?.requestPath === 'object' && b.meta.requestPath !== null) answer.requestPath = b.meta.requestPath as Record<string, string>;
  if (!answer.ok) {
    answer.reason = typeof b.status?.reason === 'string' ? b.status.reason : `HTTP ${status}`;
    answer.message = typeof b.status?.info === 'string' ? b.status.info : typeof b.error === 'string' ? b.error : text.slice(0, 500) || '(no body)';
  }
  const event: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name.toLowerCase().startsWith('ce-')) event[name.toLowerCase()] = value;
  });
  if (Object.keys(event).length > 0) answer.event = event;
  return answer;
}

/** The predictor whose graph holds every node of a request's path (as the gateway picks it for feedback). */
export function predictorOfPath(deployment: DeploymentView, nodes: readonly string[]): string | undefined {
  const names = (node: GraphNode, into: Set<string>): Set<string> => {
    into.add(node.name);
    for (const child of node.children ?? []) names(child, into);
    return into;
  };
  return deployment.spec.predictors.find((p) => {
    const held = names(p.graph, new Set());
    return nodes.every((n) => held.has(n));
  })?.name;
}

export interface SavedExample {
  name: string;
  body: string;
  mode: SendMode;
}

function examplesKey(deployment: DeploymentView): string {
  return `trantor.dashboard.examples.${deployment.metadata.namespace}/${deployment.metadata.name}`;
}

export function loadExamples(deployment: DeploymentView): SavedExample[] {
  try {
    const stored = JSON.parse(localStorage.getItem(examplesKey(deployment)) ?? '[]') as unknown;
    if (!Array.isArray(stored)) return [];
    return stored.filter((e): e is SavedExample => typeof e === 'object' && e !== null && typeof (e as SavedExample).name === 'string' && typeof (e as SavedExample).body === 'string');
  } catch {
    return [];
  }
}

export function storeExamples(deployment: DeploymentView, examples: readonly SavedExample[]): void {
  localStorage.setItem(examplesKey(deployment), JSON.stringify(examples));
}
