/**
 * `get` and `delete` for every kind but SeldonDeployment's own single-object paths: listing a
 * collection of the control-plane API (`GET /v1/<plural>` → `{items}`), choosing by namespace and
 * name, and printing a table, YAML, JSON or names.
 */
import type { ControlPlaneClient } from '../client/index.ts';
import type { BrokerView, ConfigMapView, DeploymentView, KubeDeploymentView, LoadedManifests, ServiceView, TriggerView } from '../manifest/index.ts';
import { callApi, CliError, failureOf } from './control-plane.ts';
import { serialise, type OutputFormat } from './format.ts';
import type { Io } from './io.ts';
import { objectPath, qualifiedName, RESOURCES, resourceOfKind, type Resource } from './resources.ts';
import { brokerTable, configMapTable, kubeDeploymentTable, serviceTable, spansNamespaces, triggerTable } from './tables.ts';

/** Any object the API lists: the stored object plus its status. */
export type ObjectView = DeploymentView | TriggerView | BrokerView | ServiceView | KubeDeploymentView | ConfigMapView;

/** Kinds the API may not list yet; `get all` leaves them out when their collection is missing (404). */
const OPTIONAL_IN_ALL = new Set(['Service', 'Deployment']);

/** `GET /v1/<plural>`; undefined when `optional` and the API has no such collection. */
export async function listObjects(info: ControlPlaneClient, resource: Resource, optional = false): Promise<ObjectView[] | undefined> {
  const answer = await callApi(info, 'GET', `/v1/${resource.plural}`);
  if (optional && answer.status === 404) return undefined;
  if (answer.status >= 300) throw new CliError(failureOf(answer));
  return (JSON.parse(answer.body) as { items: ObjectView[] }).items;
}

/** The table of one kind; `sdepTable` prints SeldonDeployments (the program owns their columns). */
export function tableOf(
  resource: Resource,
  items: readonly ObjectView[],
  sdepTable: (items: readonly DeploymentView[]) => string,
  now?: number,
): string {
  const options = now === undefined ? { namespaces: spansNamespaces(items) } : { namespaces: spansNamespaces(items), now };
  switch (resource.kind) {
    case 'SeldonDeployment':
      return sdepTable(items as DeploymentView[]);
    case 'Trigger':
      return triggerTable(items as TriggerView[], options);
    case 'Broker':
      return brokerTable(items as BrokerView[], options);
    case 'Service':
      return serviceTable(items as ServiceView[], options);
    case 'Deployment':
      return kubeDeploymentTable(items as KubeDeploymentView[], options);
    case 'ConfigMap':
      return configMapTable(items as ConfigMapView[], options);
  }
}

/** `get <kind> [NAME]` for Trigger, Broker, Service and Deployment. */
export async function getObjects(
  info: ControlPlaneClient,
  resource: Resource,
  name: string | undefined,
  namespace: string | undefined,
  format: OutputFormat,
  io: Io,
): Promise<void> {
  const items = chooseObjects(resource, (await listObjects(info, resource)) ?? [], name, namespace);
  const only = items[0];
  if (name !== undefined && only !== undefined && (format === 'yaml' || format === 'json')) {
    io.out(serialise(only, format));
    return;
  }
  printList(resource, items, format, io);
}

/**
 * The objects of `namespace` (every one when undefined); with `name`, the one so named, found
 * in any namespace when none is given. Throws when there is none, or several in different namespaces.
 */
export function chooseObjects<T extends ObjectView>(resource: Resource, all: readonly T[], name: string | undefined, namespace: string | undefined): T[] {
  const items = all.filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  if (name === undefined) return items;
  const named = items.filter((o) => o.metadata.name === name);
  if (named.length === 0) throw new CliError(`${resource.qualified} "${name}" not found${namespace === undefined ? '' : ` in namespace ${namespace}`}`);
  if (named.length > 1) throw new CliError(`"${name}" exists in namespaces ${named.map((o) => o.metadata.namespace).join(', ')}; say which with -n`);
  return named;
}

function printList(resource: Resource, items: readonly ObjectView[], format: OutputFormat, io: Io): void {
  if (format === 'yaml' || format === 'json') io.out(serialise({ apiVersion: 'v1', kind: 'List', items }, format));
  else if (format === 'name') for (const o of items) io.out(qualifiedName(resource.kind, o.metadata.name));
  else if (items.length === 0) io.err('No resources found');
  else io.out(tableOf(resource, items, () => ''));
}

/** `get all`: every kind, a table each (names qualified by kind, as kubectl prints them). */
export async function getAll(
  info: ControlPlaneClient,
  namespace: string | undefined,
  format: OutputFormat,
  io: Io,
  sdepTable: (items: readonly DeploymentView[]) => string,
): Promise<void> {
  const sections: { resource: Resource; items: ObjectView[] }[] = [];
  for (const resource of RESOURCES) {
    // As kubectl's `get all`, configuration is not listed.
    if (resource.kind === 'ConfigMap') continue;
    const items = await listObjects(info, resource, OPTIONAL_IN_ALL.has(resource.kind));
    if (items === undefined) continue;
    sections.push({ resource, items: items.filter((o) => namespace === undefined || o.metadata.namespace === namespace) });
  }
  if (format === 'yaml' || format === 'json') {
    io.out(serialise({ apiVersion: 'v1', kind: 'List', items: sections.flatMap((s) => s.items) }, format));
    return;
  }
  const shown = sections.filter((s) => s.items.length > 0);
  if (format === 'name') {
    for (const s of shown) for (const o of s.items) io.out(qualifiedName(s.resource.kind, o.metadata.name));
    return;
  }
  if (shown.length === 0) {
    io.err('No resources found');
    return;
  }
  const tables = shown.map((s) => {
    const named = s.items.map((o) => ({ ...o, metadata: { ...o.metadata, name: qualifiedName(s.resource.kind, o.metadata.name) } })) as ObjectView[];
    return tableOf(s.resource, named, sdepTable);
  });
  io.out(tables.join('\n\n'));
}

export interface DeleteTarget {
  resource: Resource;
  namespace: string;
  name: string;
}

/** What `delete -f` removes: triggers first (so no event goes to what is about to go), brokers last. */
export function deleteTargets(loaded: LoadedManifests): DeleteTarget[] {
  const of = (kind: string, objects: readonly { metadata: { namespace: string; name: string } }[]): DeleteTarget[] => {
    const resource = resourceOfKind(kind);
    return resource === undefined ? [] : objects.map((o) => ({ resource, namespace: o.metadata.namespace, name: o.metadata.name }));
  };
  return [
    ...of('Trigger', loaded.triggers),
    ...of('SeldonDeployment', loaded.deployments),
    ...of('Deployment', loaded.kubeDeployments),
    ...of('Service', loaded.services),
    ...of('Broker', loaded.brokers),
    ...of('ConfigMap', loaded.configMaps),
  ];
}

/**
 * `DELETE /v1/<plural>/<ns>/<name>`; prints kubectl's line. When there was no such object it
 * throws, or with `report` says so on stderr and returns false (so `delete -f` goes on).
 */
export async function deleteObject(info: ControlPlaneClient, target: DeleteTarget, io: Io, missing: 'throw' | 'report' = 'throw'): Promise<boolean> {
  const answer = await callApi(info, 'DELETE', objectPath(target.resource, target.namespace, target.name));
  if (answer.status === 404) {
    const message = `${target.resource.qualified} "${target.name}" not found in namespace ${target.namespace}`;
    if (missing === 'throw') throw new CliError(message);
    io.err(`error: ${message}`);
    return false;
  }
  if (answer.status >= 300) throw new CliError(failureOf(answer));
  io.out(`${target.resource.qualified} "${target.name}" deleted`);
  return true;
}
