/**
 * Which SeldonDeployments an operator takes, by `seldon.io/controller-id`, as Seldon's operator
 * decides and as the chart's validating webhook selects them (charts/trantor/templates/webhook.yaml
 * encodes the same rule, so the operator reconciles exactly what its webhook validates):
 *
 * - with a controller id, the SeldonDeployments labelled with it, in any namespace it watches;
 * - without one, those without the label; and an operator watching every namespace also leaves
 *   alone every namespace labelled `seldon.io/controller-id` (it belongs to another operator).
 *   An operator given its namespaces does not look at their labels.
 */
import type { KubeClient, LiveObject, Resource } from './client.ts';
import { Informer } from './informers.ts';

/** The label that gives a SeldonDeployment (or its namespace) to one operator among several. */
export const CONTROLLER_ID_LABEL = 'seldon.io/controller-id';

export const NAMESPACES: Resource = { apiVersion: 'v1', plural: 'namespaces' };

/** Whether the operator with `controllerId` takes this SeldonDeployment, by its own label. */
export function isOurs(sdep: Pick<LiveObject, 'metadata'>, controllerId: string): boolean {
  const label = sdep.metadata.labels?.[CONTROLLER_ID_LABEL];
  return controllerId === '' ? label === undefined : label === controllerId;
}

/** Which SeldonDeployments an operator was given: its namespaces (none: all) and its controller id. */
export interface Scope {
  readonly namespaces: readonly string[];
  readonly controllerId: string;
}

/**
 * Whether the operator of `scope` takes a SeldonDeployment in `namespace` with `labels`, its
 * namespace labelled `namespaceLabels` (needed only when readsNamespaceLabels(scope)).
 */
export function takes(scope: Scope, sdep: { readonly namespace: string; readonly labels?: Readonly<Record<string, string>> }, namespaceLabels?: Readonly<Record<string, string>>): boolean {
  if (scope.namespaces.length > 0 && !scope.namespaces.includes(sdep.namespace)) return false;
  if (readsNamespaceLabels(scope.namespaces, scope.controllerId) && namespaceLabels?.[CONTROLLER_ID_LABEL] !== undefined) return false;
  return isOurs({ metadata: { name: '', ...(sdep.labels === undefined ? {} : { labels: { ...sdep.labels } }) } }, scope.controllerId);
}

/** Whether an operator must read namespace labels: it watches every namespace and has no controller id. */
export function readsNamespaceLabels(namespaces: readonly string[], controllerId: string): boolean {
  return namespaces.length === 0 && controllerId === '';
}

/**
 * The namespaces labelled `seldon.io/controller-id`, kept by an informer that lists and watches only
 * those (a namespace losing the label leaves the watch as a deletion). `changed` is told each
 * namespace that gains or loses the label, so what it holds is looked at again.
 */
export class LabelledNamespaces {
  readonly informer: Informer;

  constructor(
    client: KubeClient,
    watch: { readonly watchTimeoutSeconds: number; readonly watchdogMs: number; readonly relistMs: number; readonly retryMs: number },
    changed: (namespace: string) => void,
    error: (error: unknown) => void,
  ) {
    this.informer = new Informer(client, { resource: NAMESPACES, labelSelector: CONTROLLER_ID_LABEL, ...watch }, { upsert: (ns) => changed(ns.metadata.name), remove: (ns) => changed(ns.metadata.name), error });
  }

  /** The labels of `namespace` when it is labelled `seldon.io/controller-id`, else undefined. */
  labelsOf(namespace: string): Readonly<Record<string, string>> | undefined {
    return this.informer.get(`/${namespace}`)?.metadata.labels;
  }
}
