/**
 * `trantor describe`: one object on a page, as `kubectl describe` prints it — its name, labels
 * and annotations, a summary of its spec, its status and conditions (a failure's description
 * says what is wrong and how to fix it), for a SeldonDeployment each replica and the graph as a
 * tree, and last the Events the control plane recorded about it.
 *
 * The pages are pure functions of the objects and their events (tested from fixtures); the
 * command fetches them.
 */
import type { Command } from 'commander';
import type { ControlPlaneClient } from '../client/index.ts';
import type {
  BrokerView,
  Condition,
  ConfigMapView,
  DeliveryManifest,
  DeploymentView,
  Destination,
  GraphNode,
  KubeDeploymentView,
  ObjectEvent,
  ServiceView,
  TriggerView,
  ViewMeta,
} from '../manifest/index.ts';
import { CliError } from './control-plane.ts';
import { age, table } from './format.ts';
import { connect, type Io } from './io.ts';
import { chooseObjects, listObjects, type ObjectView } from './objects.ts';
import { fetchEvents, podsOf, podStatus, restartsText, unknownResourceType, type Pod } from './pods.ts';
import { resourceOfKind, resourceOfWord, resourceWords, type Resource } from './resources.ts';

/** Lines of a page; `fields` aligns `Label:  value` pairs as kubectl's tab writer does. */
class Page {
  readonly lines: string[] = [];

  fields(pairs: readonly (readonly [string, string | undefined])[], indent = 0): this {
    const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
    const width = Math.max(0, ...shown.map(([label]) => label.length + 1));
    for (const [label, value] of shown) {
      const [first = '', ...rest] = value.split('\n');
      const head = `${' '.repeat(indent)}${`${label}:`.padEnd(width)}  `;
      this.lines.push(`${head}${first}`.trimEnd());
      for (const line of rest) this.lines.push(`${' '.repeat(head.length)}${line}`.trimEnd());
    }
    return this;
  }

  line(text: string, indent = 0): this {
    this.lines.push(`${' '.repeat(indent)}${text}`.trimEnd());
    return this;
  }

  block(text: string, indent: number): this {
    for (const line of text.split('\n')) this.line(line, indent);
    return this;
  }

  toString(): string {
    return this.lines.join('\n');
  }
}

function mapLines(map: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(map ?? {});
  return entries.length === 0 ? '<none>' : entries.map(([k, v]) => `${k}=${v}`).join('\n');
}

function created(at: string, now: number): string {
  return `${at} (${age(at, now)} ago)`;
}

/** Name, Namespace, Labels, Annotations, API Version, Kind, Created: the head of every page. */
function head(page: Page, object: { apiVersion?: string; kind?: string; metadata: ViewMeta }, now: number): void {
  const m = object.metadata;
  page.fields([
    ['Name', m.name],
    ['Namespace', m.namespace],
    ['Labels', mapLines(m.labels)],
    ['Annotations', mapLines(m.annotations)],
    ['API Version', object.apiVersion],
    ['Kind', object.kind],
    ['Created', created(m.creationTimestamp, now)],
  ]);
}

/** A page: the head, what `body` writes, then the Events section. */
function objectPage(object: { apiVersion?: string; kind?: string; metadata: ViewMeta }, events: readonly ObjectEvent[], now: number, body: (page: Page) => void): string {
  const page = new Page();
  head(page, object, now);
  body(page);
  page.block(eventsSection(events, now), 0);
  return page.toString();
}

function conditions(page: Page, list: readonly Condition[] | undefined, indent: number): void {
  if (list === undefined || list.length === 0) return;
  page.line('Conditions:', indent);
  page.block(table(['Type', 'Status', 'Reason', 'Message'], list.map((c) => [c.type, c.status, c.reason ?? '', c.message ?? ''])), indent + 2);
}

/** `5s`, or `3m (x5 over 10m)` for a folded event, as kubectl describe writes Age. */
export function eventAge(event: ObjectEvent, now = Date.now()): string {
  const last = age(event.lastTimestamp, now);
  return event.count > 1 ? `${last} (x${event.count} over ${age(event.firstTimestamp, now)})` : last;
}

/** The Events section: kubectl's columns; a message's further lines under its first. */
export function eventsSection(events: readonly ObjectEvent[], now = Date.now()): string {
  if (events.length === 0) return 'Events:  <none>';
  const rows = events.map((e) => [e.type, e.reason, eventAge(e, now), e.involvedObject.replica ?? e.source, e.message.trim().split('\n')[0] ?? '']);
  const lines = table(['Type', 'Reason', 'Age', 'From', 'Message'], [['----', '------', '----', '----', '-------'], ...rows]).split('\n');
  const column = (lines[0] ?? '').indexOf('Message');
  const out = ['Events:', `  ${lines[0] ?? ''}`, `  ${lines[1] ?? ''}`];
  events.forEach((e, i) => {
    out.push(`  ${lines[i + 2] ?? ''}`);
    for (const more of e.message.trim().split('\n').slice(1)) out.push(`  ${' '.repeat(column)}${more}`.trimEnd());
  });
  return out.join('\n');
}

function destination(d: Destination | undefined): string | undefined {
  if (d === undefined) return undefined;
  const ref = d.ref === undefined ? undefined : `${d.ref.kind} ${d.ref.namespace}/${d.ref.name}`;
  if (ref !== undefined && d.uri !== undefined) return `${ref}, path ${d.uri}`;
  return ref ?? d.uri;
}

function delivery(page: Page, spec: DeliveryManifest | undefined, indent: number): void {
  if (spec === undefined) {
    page.fields([['Delivery', "the broker's (or the broker defaults)"]], indent);
    return;
  }
  page.line('Delivery:', indent);
  page.fields(
    [
      ['Retry', String(spec.retry)],
      ['Backoff', `${spec.backoffPolicy}, ${spec.backoffDelay}`],
      ['Timeout', spec.timeout],
      ['Dead Letter Sink', destination(spec.deadLetterSink) ?? '<none>'],
      ['Format', spec.format],
    ],
    indent + 2,
  );
}

/** `classifier (MODEL, SKLEARN_SERVER, gs://…)` */
function nodeLabel(node: GraphNode, command: string | undefined): string {
  const parts = [node.type, node.implementation, node.modelUri, node.endpoint.type === 'GRPC' ? 'gRPC' : undefined, command].filter((p): p is string => p !== undefined && p !== '');
  return parts.length === 0 ? node.name : `${node.name} (${parts.join(', ')})`;
}

/** The graph as a tree: the root, then each child under `├─` / `└─`. */
export function graphTree(root: GraphNode, commandOf: (node: string) => string | undefined = () => undefined): string[] {
  const out = [nodeLabel(root, commandOf(root.name))];
  const walk = (node: GraphNode, prefix: string): void => {
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      out.push(`${prefix}${last ? '└─ ' : '├─ '}${nodeLabel(child, commandOf(child.name))}`);
      walk(child, `${prefix}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return out;
}

function lastExitText(pod: Pod, now: number): string {
  const exit = pod.replica.lastExit;
  return exit === undefined ? '' : `${exit.reason} (${age(exit.finishedAt, now)} ago)`;
}

export function describeDeployment(view: DeploymentView, events: readonly ObjectEvent[], now = Date.now()): string {
  return objectPage(view, events, now, (page) => {
    page.line('Spec:');
    page.fields(
      [
        ['Protocol', view.spec.protocol ?? 'seldon'],
        ['Transport', view.spec.transport ?? 'rest'],
      ],
      2,
    );
    page.line('Predictors:', 2);
    for (const predictor of view.spec.predictors ?? []) {
      page.line(`${predictor.name}:`, 4);
      page.fields(
        [
          ['Replicas', String(predictor.replicas ?? 1)],
          ['Traffic', predictor.traffic === undefined ? undefined : `${predictor.traffic}%`],
          ['Shadow', predictor.shadow === true ? 'true' : undefined],
        ],
        6,
      );
      const containers = (predictor.componentSpecs ?? []).flatMap((c) => c.spec.containers);
      const commandOf = (node: string): string | undefined => {
        const c = containers.find((x) => x.name === node);
        if (c === undefined) return undefined;
        const words = [...(c.command ?? []), ...(c.args ?? [])];
        return words.length > 0 ? words.join(' ') : c.image;
      };
      page.line('Graph:', 6);
      if (predictor.graph !== undefined) for (const line of graphTree(predictor.graph, commandOf)) page.line(line, 8);
    }
    const status = view.status;
    page.line('Status:');
    page.fields(
      [
        ['State', status.state],
        ['Description', status.description],
        ['Address', status.address.url],
      ],
      2,
    );
    const pods = podsOf([view]);
    if (pods.length === 0) page.line('Replicas:  <none>');
    else {
      page.line('Replicas:');
      const rows = pods.map((p) => [p.name, `${p.replica.predictor}/${p.replica.node}`, podStatus(p.replica), p.replica.state === 'Ready' ? '1/1' : '0/1', restartsText(p.replica, now), lastExitText(p, now), p.replica.message ?? '']);
      page.block(table(['NAME', 'NODE', 'STATUS', 'READY', 'RESTARTS', 'LAST EXIT', 'MESSAGE'], rows), 2);
    }
  });
}

export function describeTrigger(view: TriggerView, events: readonly ObjectEvent[], now = Date.now()): string {
  return objectPage(view, events, now, (page) => {
    const attributes = Object.entries(view.spec.filter.attributes ?? {});
    page.line('Spec:');
    page.fields(
      [
        ['Broker', view.spec.broker],
        ['Filter', attributes.length === 0 ? '<every event>' : attributes.map(([k, v]) => (v === '' ? `${k} present` : `${k}=${v}`)).join('\n')],
        ['Filters', view.spec.filters === undefined ? undefined : JSON.stringify(view.spec.filters)],
        ['Subscriber', destination(view.spec.subscriber)],
      ],
      2,
    );
    delivery(page, view.spec.delivery, 2);
    const s = view.status;
    const d = s.deliveries;
    page.line('Status:');
    page.fields(
      [
        ['Ready', s.ready ? 'True' : 'False'],
        ['Reason', s.reason],
        ['Message', s.message],
        ['Subscriber URI', s.subscriberUri ?? '<unresolved>'],
        ['Dead Letter Sink URI', s.deadLetterSinkUri],
        ['Deliveries', d === undefined ? undefined : `${d.delivered} delivered, ${d.retried} retried, ${d.deadLettered} dead-lettered, ${d.dropped} dropped`],
      ],
      2,
    );
    conditions(page, s.conditions, 2);
  });
}

export function describeBroker(view: BrokerView, events: readonly ObjectEvent[], now = Date.now()): string {
  return objectPage(view, events, now, (page) => {
    page.line('Spec:');
    delivery(page, view.spec.delivery, 2);
    const s = view.status;
    page.line('Status:');
    page.fields(
      [
        ['Ready', s.ready ? 'True' : 'False'],
        ['Reason', s.reason],
        ['Address', s.address.url],
        ['Dead Letter Sink URI', s.deadLetterSinkUri],
      ],
      2,
    );
    conditions(page, s.conditions, 2);
  });
}

export function describeService(view: ServiceView, events: readonly ObjectEvent[], now = Date.now()): string {
  return objectPage(view, events, now, (page) => {
    page.line('Spec:');
    page.fields(
      [
        ['Selector', mapLines(view.spec.selector)],
        ['Ports', view.spec.ports.map((p) => `${p.port}${p.targetPort === p.port ? '' : ` -> ${p.targetPort}`}/${p.protocol}`).join('\n') || '<none>'],
      ],
      2,
    );
    page.line('Status:');
    page.fields([['Sink', view.status.sinkUrl ?? '<none>: no process receives its events; start one with trantor event-display']], 2);
  });
}

export function describeKubeDeployment(view: KubeDeploymentView, events: readonly ObjectEvent[], now = Date.now()): string {
  return objectPage(view, events, now, (page) => {
    page.line('Spec:');
    page.fields(
      [
        ['Replicas', String(view.spec.replicas)],
        ['Selector', mapLines(view.spec.selector.matchLabels)],
      ],
      2,
    );
    page.line('Containers:', 2);
    for (const c of view.spec.template.spec.containers) {
      page.line(`${c.name}:`, 4);
      page.fields(
        [
          ['Image', c.image],
          ['Command', c.command?.join(' ')],
          ['Args', c.args?.join(' ')],
        ],
        6,
      );
    }
    page.line('Status:');
    page.fields([['Ready Replicas', `${view.status.readyReplicas}/${view.spec.replicas}`]], 2);
  });
}

export function describeConfigMap(view: ConfigMapView, events: readonly ObjectEvent[], now = Date.now()): string {
  return objectPage({ ...view, metadata: { ...view.metadata, creationTimestamp: view.status.createdAt } }, events, now, (page) => {
    page.line('Data');
    page.line('====');
    for (const [key, value] of Object.entries(view.data)) {
      page.line(`${key}:`);
      page.line('----');
      page.block(value.trimEnd(), 0);
    }
  });
}

/** A replica process, as `kubectl describe pod` prints one (its events: those of its SeldonDeployment that name it). */
export function describePod(pod: Pod, events: readonly ObjectEvent[], now = Date.now()): string {
  const page = new Page();
  const r = pod.replica;
  const exit = r.lastExit;
  page.fields([
    ['Name', pod.name],
    ['Namespace', pod.namespace],
    ['SeldonDeployment', pod.deployment],
    ['Predictor', r.predictor],
    ['Node', r.node],
    ['Status', podStatus(r)],
    ['Ready', r.state === 'Ready' ? 'True' : 'False'],
    ['Restart Count', String(r.restarts)],
    ['PID', r.pid === undefined ? undefined : String(r.pid)],
    ['Port', r.port === undefined ? undefined : String(r.port)],
    ['Created', r.createdAt === undefined ? undefined : created(r.createdAt, now)],
    ['Started', r.startedAt === undefined ? undefined : created(r.startedAt, now)],
    ['Message', r.message],
  ]);
  if (exit !== undefined) {
    page.line('Last State:  Terminated');
    page.fields(
      [
        ['Reason', exit.reason],
        ['Exit Code', exit.exitCode === undefined ? undefined : String(exit.exitCode)],
        ['Signal', exit.signal],
        ['Finished', created(exit.finishedAt, now)],
      ],
      2,
    );
  }
  page.block(eventsSection(events, now), 0);
  return page.toString();
}

/** The page of one object of `resource`. */
function pageOf(resource: Resource, object: ObjectView, events: readonly ObjectEvent[]): string {
  switch (resource.kind) {
    case 'SeldonDeployment':
      return describeDeployment(object as DeploymentView, events);
    case 'Trigger':
      return describeTrigger(object as TriggerView, events);
    case 'Broker':
      return describeBroker(object as BrokerView, events);
    case 'Service':
      return describeService(object as ServiceView, events);
    case 'Deployment':
      return describeKubeDeployment(object as KubeDeploymentView, events);
    case 'ConfigMap':
      return describeConfigMap(object as ConfigMapView, events);
  }
}

const POD_WORDS = new Set(['pod', 'pods', 'po', 'replica', 'replicas']);

/** `describe KIND NAME`, `describe KIND/NAME`, `describe NAME` (a SeldonDeployment), `describe KIND` (every one). */
export function describeTarget(first: string, second: string | undefined): { word: string; name: string | undefined } {
  const slash = first.indexOf('/');
  if (slash >= 0) {
    if (second !== undefined) throw new CliError(`describe ${first} ${second}: say TYPE/NAME or TYPE NAME, not both`);
    const name = first.slice(slash + 1);
    if (name === '') throw new CliError(`describe ${first}: no name after the slash`);
    return { word: first.slice(0, slash), name };
  }
  if (second !== undefined) return { word: first, name: second };
  if (resourceOfWord(first) !== undefined || POD_WORDS.has(first.toLowerCase())) return { word: first, name: undefined };
  return { word: 'sdep', name: first };
}

async function describePods(info: ControlPlaneClient, name: string | undefined, namespace: string | undefined): Promise<string[]> {
  const sdeps = resourceOfKind('SeldonDeployment')!;
  const deployments = (await listObjects(info, sdeps)) as DeploymentView[];
  let pods = podsOf(deployments).filter((p) => namespace === undefined || p.namespace === namespace);
  if (name !== undefined) {
    pods = pods.filter((p) => p.name === name);
    if (pods.length === 0) throw new CliError(`pods "${name}" not found${namespace === undefined ? '' : ` in namespace ${namespace}`}`);
  }
  const pages: string[] = [];
  for (const pod of pods) {
    const events = await fetchEvents(info, { namespace: pod.namespace, kind: 'SeldonDeployment', name: pod.deployment });
    pages.push(describePod(pod, events.filter((e) => e.involvedObject.replica === pod.name)));
  }
  return pages;
}

export function addDescribeCommand(program: Command, io: Io): void {
  program
    .command('describe')
    .description('show one object in detail, with its status and recent events: describe TYPE NAME, TYPE/NAME, or a SeldonDeployment NAME')
    .argument('<type-or-name>', `${resourceWords()}, pods; or TYPE/NAME; or a SeldonDeployment name`)
    .argument('[name]', 'the object name (every object of the type when left out)')
    .option('-n, --namespace <ns>', 'namespace (default: found in any namespace)')
    .action(async (first: string, second: string | undefined, opts: { namespace?: string }, command: Command) => {
      const { word, name } = describeTarget(first, second);
      const info = connect(command, io);
      let pages: string[];
      if (POD_WORDS.has(word.toLowerCase())) {
        pages = await describePods(info, name, opts.namespace);
      } else {
        const resource = resourceOfWord(word);
        if (resource === undefined) throw unknownResourceType(word);
        const objects = chooseObjects(resource, (await listObjects(info, resource)) ?? [], name, opts.namespace);
        pages = [];
        for (const object of objects) {
          const { namespace, name: objectName } = object.metadata;
          pages.push(pageOf(resource, object, await fetchEvents(info, { namespace, kind: resource.kind, name: objectName })));
        }
      }
      if (pages.length === 0) io.err(`No resources found${opts.namespace === undefined ? '' : ` in ${opts.namespace} namespace`}.`);
      else io.out(pages.join('\n\n\n'));
    });
}
