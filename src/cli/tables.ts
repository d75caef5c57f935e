/**
 * The tables `trantor get` prints for the eventing kinds and the Kubernetes kinds, with kubectl's
 * columns (`kubectl get trigger`: NAME READY REASON BROKER SUBSCRIBER_URI AGE, then delivery counts).
 */
import type { BrokerView, ConfigMapView, KubeDeploymentView, ServiceView, TriggerView } from '../manifest/index.ts';
import { age, table } from './format.ts';

export interface TableOptions {
  /** Adds a NAMESPACE column first, as kubectl does with --all-namespaces. */
  namespaces?: boolean;
  /** For AGE; the current time by default. */
  now?: number;
}

function withNamespace<T extends { metadata: { namespace: string } }>(
  headers: string[],
  items: readonly T[],
  row: (item: T) => string[],
  options: TableOptions,
): string {
  if (options.namespaces !== true) return table(headers, items.map(row));
  return table(['NAMESPACE', ...headers], items.map((item) => [item.metadata.namespace, ...row(item)]));
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
export function triggerTable(items: readonly TriggerView[], options: TableOptions = {}): string {
  return withNamespace(
    ['NAME', 'READY', 'REASON', 'BROKER', 'SUBSCRIBER_URI', 'AGE', 'DELIVERED', 'RETRIED', 'DEAD_LETTERED', 'DROPPED'],
    items,
    (t) => {
      const d = t.status.deliveries;
      return [
        t.metadata.name,
        readiness(t.status.ready),
        t.status.reason ?? '',
        t.spec.broker,
        t.status.subscriberUri ?? '',
        age(t.status.createdAt, options.now),
        ...(d === undefined ? ['', '', '', ''] : [d.delivered, d.retried, d.deadLettered, d.dropped].map(String)),
      ];
    },
    options,
  );
}

export function brokerTable(items: readonly BrokerView[], options: TableOptions = {}): string {
  return withNamespace(
    ['NAME', 'URL', 'AGE', 'READY', 'REASON'],
    items,
    (b) => [b.metadata.name, b.status.address.url, age(b.status.createdAt, options.now), readiness(b.status.ready), b.status.reason ?? ''],
    options,
  );
}

export function serviceTable(items: readonly ServiceView[], options: TableOptions = {}): string {
  return withNamespace(
    ['NAME', 'PORTS', 'SINK', 'AGE'],
    items,
    (s) => [
      s.metadata.name,
      s.spec.ports.map((p) => `${p.port}${p.targetPort === p.port ? '' : `:${p.targetPort}`}/${p.protocol}`).join(','),
      s.status.sinkUrl ?? '',
      age(s.status.createdAt, options.now),
    ],
    options,
  );
}

export function kubeDeploymentTable(items: readonly KubeDeploymentView[], options: TableOptions = {}): string {
  return withNamespace(
    ['NAME', 'READY', 'AGE'],
    items,
    (d) => [d.metadata.name, `${d.status.readyReplicas}/${d.spec.replicas}`, age(d.status.createdAt, options.now)],
    options,
  );
}

/** kubectl's ConfigMap columns. */
export function configMapTable(items: readonly ConfigMapView[], options: TableOptions = {}): string {
  return withNamespace(['NAME', 'DATA', 'AGE'], items, (c) => [c.metadata.name, String(Object.keys(c.data).length), age(c.status.createdAt, options.now)], options);
}
