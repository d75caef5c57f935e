/**
 * The kinds the CLI names, the words a user may call them by (as kubectl accepts), how they are
 * printed (`trigger.eventing.knative.dev/event-display`), and where the control-plane API keeps them.
 */
import type { ManifestKind } from '../manifest/index.ts';

export interface Resource {
  kind: ManifestKind;
  /** kubectl's qualified name: `trigger.eventing.knative.dev`, `service`, `deployment.apps`. */
  qualified: string;
  /** The control-plane API collection: `/v1/<plural>/<ns>/<name>`. */
  plural: string;
  words: readonly string[];
}

export const RESOURCES: readonly Resource[] = [
  {
    kind: 'SeldonDeployment',
    qualified: 'seldondeployment.machinelearning.seldon.io',
    // The API has kept SeldonDeployments under /v1/deployments since before the other kinds.
    plural: 'deployments',
    words: ['sdep', 'sdeps', 'seldondeployment', 'seldondeployments', 'seldondeployment.machinelearning.seldon.io'],
  },
  {
    kind: 'Trigger',
    qualified: 'trigger.eventing.knative.dev',
    plural: 'triggers',
    words: ['trigger', 'triggers', 'trig', 'trigger.eventing.knative.dev', 'triggers.eventing.knative.dev'],
  },
  {
    kind: 'Broker',
    qualified: 'broker.eventing.knative.dev',
    plural: 'brokers',
    words: ['broker', 'brokers', 'broker.eventing.knative.dev', 'brokers.eventing.knative.dev'],
  },
  {
    kind: 'Service',
    qualified: 'service',
    plural: 'services',
    words: ['service', 'services', 'svc'],
  },
  {
    kind: 'Deployment',
    qualified: 'deployment.apps',
    plural: 'kubedeployments',
    words: ['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps'],
  },
  {
    // Only Knative's broker defaults, knative-eventing/config-br-defaults.
    kind: 'ConfigMap',
    qualified: 'configmap',
    plural: 'configmaps',
    words: ['configmap', 'configmaps', 'cm'],
  },
];

/** The resource a word names (`triggers`, `svc`, `sdep`), or undefined when it names none. */
export function resourceOfWord(word: string): Resource | undefined {
  const lower = word.toLowerCase();
  return RESOURCES.find((r) => r.words.includes(lower));
}

/** The resource of a kind; undefined for a kind the CLI does not know. */
export function resourceOfKind(kind: string): Resource | undefined {
  return RESOURCES.find((r) => r.kind === kind);
}

/** `trigger.eventing.knative.dev/event-display`, as kubectl writes an object's name. */
export function qualifiedName(kind: string, name: string): string {
  return `${resourceOfKind(kind)?.qualified ?? kind.toLowerCase()}/${name}`;
}

/** `/v1/triggers/default/event-display` */
export function objectPath(resource: Resource, namespace: string, name: string): string {
  return `/v1/${resource.plural}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

/** The words `get` and `delete` accept, for help and error messages. */
export function resourceWords(): string {
  return RESOURCES.map((r) => r.words[0] ?? r.plural).join(', ');
}
