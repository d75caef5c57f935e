/**
 * The tables `trantor get` prints for the eventing kinds and the Kubernetes kinds, with kubectl's
 * columns (`kubectl get trigger`: NAME READY REASON BROKER SUBSCRIBER_URI AGE, then delivery counts).
 */
import type { BrokerView, ConfigMapView, DeploymentView, KubeDeploymentView, ServiceView, TriggerView } from '../manifest/index.ts';
import { age, table } from './format.ts';

export interface TableOptions {
  /** Adds a NAMESPACE column first, as kubectl does with --all-namespaces. */
  namespaces?: boolean;
  /** Adds a LABELS column last (`--show-labels`). */
  labels?: boolean;
  /** For AGE; the current time by default. */
  now?: number;
}

/** A kind's columns: the headers and how an object fills them. */
export interface Columns<T> {
  headers: string[];
  row: (item: T) => string[];
}

type Labelled = { metadata: { namespace: string; labels?: Record<string, string> } };

/** kubectl's LABELS cell: `a=b,c=d`, or `<none>`. */
export function labelsCell(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? '<none>' : pairs.join(',');
}

/** `columns` with the NAMESPACE and LABELS columns the options ask for. */
export function withOptions<T extends Labelled>(columns: Columns<T>, options: TableOptions): Columns<T> {
  const namespaces = options.namespaces === true;
  const labels = options.labels === true;
  return {
    headers: [...(namespaces ? ['NAMESPACE'] : []), ...columns.headers, ...(labels ? ['LABELS'] : [])],
    row: (item) => [...(namespaces ? [item.metadata.namespace] : []), ...columns.row(item), ...(labels ? [labelsCell(item.metadata.labels)] : [])],
  };
}

function render<T extends Labelled>(columns: Columns<T>, items: readonly T[], options: TableOptions): string {
  const shown = withOptions(columns, options);
  return table(shown.headers, items.map(shown.row));
}

/** Whether the items span more than one namespace (then a table shows the NAMESPACE column). */
export function spansNamespaces(items: readonly { metadata: { namespace: string } }[]): boolean {
  return new Set(items.map((i) => i.metadata.namespace)).size > 1;
}

function readiness(ready: boolean): string {
  return ready ? 'True' : 'False';
}

/**
 * Knative's trigger columns, then what became of its events since the control plane started:
 * delivered, attempts retried, sent to the dead-letter sink, and dropped.
 */
export function triggerColumns(now?: number): Columns<TriggerView> {
  return {
    headers: ['NAME', 'READY', 'REASON', 'BROKER', 'SUBSCRIBER_URI', 'AGE', 'DELIVERED', 'RETRIED', 'DEAD_LETTERED', 'DROPPED'],
    row: (t) => {
      const d = t.status.deliveries;
      return [
        t.metadata.name,
        readiness(t.status.ready),
        t.status.reason ?? '',
        t.spec.broker,
        t.status.subscriberUri ?? '',
        age(t.status.createdAt, now),
        ...(d === undefined ? ['', '', '', ''] : [d.delivered, d.retried, d.deadLettered, d.dropped].map(String)),
      ];
    },
  };
}

export function brokerColumns(now?: number): Columns<BrokerView> {
  return {
    headers: ['NAME', 'URL', 'AGE', 'READY', 'REASON'],
    row: (b) => [b.metadata.name, b.status.address.url, age(b.status.createdAt, now), readiness(b.status.ready), b.status.reason ?? ''],
  };
}

export function serviceColumns(now?: number): Columns<ServiceView> {
  return {
    headers: ['NAME', 'PORTS', 'SINK', 'AGE'],
    row: (s) => [
      s.metadata.name,
      s.spec.ports.map((p) => `${p.port}${p.targetPort === p.port ? '' : `:${p.targetPort}`}/${p.protocol}`).join(','),
      s.status.sinkUrl ?? '',
      age(s.status.createdAt, now),
    ],
  };
}

export function kubeDeploymentColumns(now?: number): Columns<KubeDeploymentView> {
  return {
    headers: ['NAME', 'READY', 'AGE'],
    row: (d) => [d.metadata.name, `${d.status.readyReplicas}/${d.spec.replicas}`, age(d.status.createdAt, now)],
  };
}

/** kubectl's ConfigMap columns. */
export function configMapColumns(now?: number): Columns<ConfigMapView> {
  return {
    headers: ['NAME', 'DATA', 'AGE'],
    row: (c) => [c.metadata.name, String(Object.keys(c.data).length), age(c.status.createdAt, now)],
  };
}

function readyCount(d: DeploymentView): string {
  const ready = d.status.replicas.filter((r) => r.state === 'Ready').length;
  return `${ready}/${d.status.replicas.length}`;
}

/** SeldonDeployments: NAME STATE READY AGE, and with -o wide the address and the description. */
export function seldonDeploymentColumns(wide: boolean, now?: number): Columns<DeploymentView> {
  return {
    headers: ['NAME', 'STATE', 'READY', 'AGE', ...(wide ? ['URL', 'DESCRIPTION'] : [])],
    row: (d) => [
      d.metadata.name,
      d.status.state,
      readyCount(d),
      age(d.status.createdAt, now),
      ...(wide ? [d.status.address.url, d.status.description ?? ''] : []),
    ],
  };
}

export function triggerTable(items: readonly TriggerView[], options: TableOptions = {}): string {
  return render(triggerColumns(options.now), items, options);
}

export function brokerTable(items: readonly BrokerView[], options: TableOptions = {}): string {
  return render(brokerColumns(options.now), items, options);
}

export function serviceTable(items: readonly ServiceView[], options: TableOptions = {}): string {
  return render(serviceColumns(options.now), items, options);
}

export function kubeDeploymentTable(items: readonly KubeDeploymentView[], options: TableOptions = {}): string {
  return render(kubeDeploymentColumns(options.now), items, options);
}

export function configMapTable(items: readonly ConfigMapView[], options: TableOptions = {}): string {
  return render(configMapColumns(options.now), items, options);
}

export function seldonDeploymentTable(items: readonly DeploymentView[], options: TableOptions & { wide?: boolean } = {}): string {
  return render(seldonDeploymentColumns(options.wide === true, options.now), items, options);
}
