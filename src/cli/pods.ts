/**
 * `trantor get pods` (or `replicas`): one row per replica process, with kubectl's pod columns
 * (NAME READY STATUS RESTARTS AGE); `trantor get events`: the Kubernetes-style Events the control
 * plane recorded (LAST SEEN TYPE REASON OBJECT MESSAGE); and kubectl's answer for a word that
 * names no resource at all.
 */
import type { ControlPlaneClient } from '../client/index.ts';
import { replicaName, type DeploymentList, type DeploymentView, type ObjectEvent, type ObjectEventList, type ReplicaStatus } from '../manifest/index.ts';
import { callApiJson, CliError } from './control-plane.ts';
import { age, serialise, table, type OutputFormat } from './format.ts';
import type { Io } from './io.ts';
import { resourceOfKind } from './resources.ts';
import { spansNamespaces } from './tables.ts';

const POD_WORDS = new Set(['pods', 'pod', 'po', 'replicas', 'replica']);
const EVENT_WORDS = new Set(['events', 'event', 'ev']);

/** The words `get` takes besides the resources of resources.ts, for help and messages. */
export const LISTING_WORDS = 'pods (replicas), events';

/** kubectl's words for a type it does not know. */
export function unknownResourceType(word: string): CliError {
  return new CliError(`the server doesn't have a resource type "${word}"`);
}

/** One replica process of a SeldonDeployment, as a pod. */
export interface Pod {
  name: string;
  namespace: string;
  deployment: string;
  replica: ReplicaStatus;
}

export function podsOf(deployments: readonly DeploymentView[]): Pod[] {
  return deployments.flatMap((d) =>
    d.status.replicas.map((r) => ({
      name: r.name ?? replicaName(d.metadata.name, r.predictor, r.node, r.index),
      namespace: d.metadata.namespace,
      deployment: d.metadata.name,
      replica: r,
    })),
  );
}

/** kubectl's STATUS words: Running, Starting, CrashLoopBackOff (waiting to restart), Error (never became ready), Stopped. */
export function podStatus(r: ReplicaStatus): string {
  switch (r.state) {
    case 'Ready':
    case 'Unready':
      return 'Running';
    case 'Starting':
      return 'Starting';
    case 'Crashed':
      return r.restarts > 0 || r.lastExit !== undefined ? 'CrashLoopBackOff' : 'Error';
    case 'Stopped':
      return 'Stopped';
  }
}

/** `3 (5s ago)`, as kubectl 1.28+ writes RESTARTS. */
export function restartsText(r: ReplicaStatus, now = Date.now()): string {
  return r.lastExit === undefined ? String(r.restarts) : `${r.restarts} (${age(r.lastExit.finishedAt, now)} ago)`;
}

export function podTable(pods: readonly Pod[], options: { wide?: boolean; now?: number } = {}): string {
  const namespaces = spansNamespaces(pods.map((p) => ({ metadata: { namespace: p.namespace } })));
  const wide = options.wide === true;
  const headers = [...(namespaces ? ['NAMESPACE'] : []), 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['SELDONDEPLOYMENT', 'NODE', 'PID', 'PORT'] : [])];
  const rows = pods.map((p) => {
    const r = p.replica;
    const created = r.createdAt ?? r.startedAt;
    return [
      ...(namespaces ? [p.namespace] : []),
      p.name,
      r.state === 'Ready' ? '1/1' : '0/1',
      podStatus(r),
      restartsText(r, options.now),
      created === undefined ? '' : age(created, options.now),
      ...(wide ? [p.deployment, `${r.predictor}/${r.node}`, r.pid === undefined ? '' : String(r.pid), r.port === undefined ? '' : String(r.port)] : []),
    ];
  });
  return table(headers, rows);
}

/** A message on one table line: its lines joined with ⏎ (`describe` shows them whole). */
export function oneLine(message: string): string {
  return message.trim().split('\n').join(' ⏎ ');
}

/** `pod/iris-default-classifier-0` for a replica's event, else `seldondeployment/iris`, as kubectl names objects. */
export function eventObject(event: ObjectEvent): string {
  const o = event.involvedObject;
  if (o.replica !== undefined) return `pod/${o.replica}`;
  return `${(resourceOfKind(o.kind)?.qualified ?? o.kind.toLowerCase()).split('.')[0] ?? o.kind}/${o.name}`;
}

export function eventTable(events: readonly ObjectEvent[], now = Date.now()): string {
  const namespaces = spansNamespaces(events.map((e) => ({ metadata: { namespace: e.involvedObject.namespace } })));
  const headers = [...(namespaces ? ['NAMESPACE'] : []), 'LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'];
  const rows = events.map((e) => [
    ...(namespaces ? [e.involvedObject.namespace] : []),
    age(e.lastTimestamp, now),
    e.type,
    e.reason,
    eventObject(e),
    oneLine(e.message),
  ]);
  return table(headers, rows);
}

/** `GET /v1/events`, narrowed as given. */
export async function fetchEvents(info: ControlPlaneClient, filter: { namespace?: string | undefined; kind?: string; name?: string }): Promise<ObjectEvent[]> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, value);
  const text = query.toString();
  return (await callApiJson<ObjectEventList>(info, 'GET', `/v1/events${text === '' ? '' : `?${text}`}`)).items;
}

function printList(items: readonly unknown[], format: OutputFormat, io: Io, names: () => string[], text: () => string): void {
  if (format === 'yaml' || format === 'json') io.out(serialise({ apiVersion: 'v1', kind: 'List', items }, format));
  else if (format === 'name') for (const n of names()) io.out(n);
  else if (items.length === 0) io.err('No resources found');
  else io.out(text());
}

/**
 * `get pods|replicas [NAME]` and `get events`; false when `word` is neither (then `get` goes on
 * with the resources it knows).
 */
export async function getListing(connect: () => ControlPlaneClient, word: string | undefined, name: string | undefined, namespace: string | undefined, format: OutputFormat, io: Io): Promise<boolean> {
  const lower = word?.toLowerCase();
  if (lower !== undefined && POD_WORDS.has(lower)) {
    const list = await callApiJson<DeploymentList>(connect(), 'GET', '/v1/deployments');
    let pods = podsOf(list.items).filter((p) => namespace === undefined || p.namespace === namespace);
    if (name !== undefined) {
      pods = pods.filter((p) => p.name === name);
      if (pods.length === 0) throw new CliError(`pods "${name}" not found${namespace === undefined ? '' : ` in namespace ${namespace}`}`);
    }
    const items = pods.map((p) => ({ kind: 'Replica', metadata: { name: p.name, namespace: p.namespace }, seldonDeployment: p.deployment, status: p.replica }));
    printList(items, format, io, () => pods.map((p) => `pod/${p.name}`), () => podTable(pods, { wide: format === 'wide' }));
    return true;
  }
  if (lower !== undefined && EVENT_WORDS.has(lower)) {
    if (name !== undefined) throw new CliError(`get events takes no name; to see one object's events: trantor describe TYPE NAME`);
    if (format === 'name') throw new CliError('-o name: events have no names; use -o yaml or -o json');
    const events = await fetchEvents(connect(), { namespace });
    printList(events, format, io, () => [], () => eventTable(events));
    return true;
  }
  return false;
}

/**
 * A word `get` knows as no type: still a SeldonDeployment's name when one is so named (`get
 * iris`, as `get` has always taken it), else kubectl's unknown-type error.
 */
export async function requireDeploymentNamed(info: ControlPlaneClient, word: string, namespace: string | undefined): Promise<void> {
  const list = await callApiJson<DeploymentList>(info, 'GET', '/v1/deployments');
  if (!list.items.some((d) => d.metadata.name === word && (namespace === undefined || d.metadata.namespace === namespace))) throw unknownResourceType(word);
}
