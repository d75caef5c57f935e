/**
 * The objects of the control-plane API for `get` and `delete`: listing a collection
 * (`GET /v1/<plural>` → `{items}`), each kind's table columns, and deleting one object.
 */
import type { ControlPlaneClient } from '../client/index.ts';
import type { BrokerView, ConfigMapView, DeploymentView, KubeDeploymentView, LoadedManifests, ServiceView, TriggerView } from '../manifest/index.ts';
import { callApi, CliError, failureOf } from './control-plane.ts';
import type { Io } from './io.ts';
import { objectPath, resourceOfKind, type Resource } from './resources.ts';
import { brokerColumns, configMapColumns, kubeDeploymentColumns, seldonDeploymentColumns, serviceColumns, triggerColumns, withOptions, type Columns, type TableOptions } from './tables.ts';

/** Any object the API lists: the stored object plus its status. */
export type ObjectView = DeploymentView | TriggerView | BrokerView | ServiceView | KubeDeploymentView | ConfigMapView;

/** `GET /v1/<plural>`; undefined when `optional` and the API has no such collection. */
export async function listObjects(info: ControlPlaneClient, resource: Resource, optional = false): Promise<ObjectView[] | undefined> {
  const answer = await callApi(info, 'GET', `/v1/${resource.plural}`);
  if (optional && answer.status === 404) return undefined;
  if (answer.status >= 300) throw new CliError(failureOf(answer));
  return (JSON.parse(answer.body) as { items: ObjectView[] }).items;
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

/** The columns of one kind (`wide`: SeldonDeployments' extra columns), with NAMESPACE and LABELS as asked. */
export function columnsOf(resource: Resource, options: TableOptions & { wide?: boolean } = {}): Columns<ObjectView> {
  const columns = ((): Columns<never> => {
    switch (resource.kind) {
      case 'SeldonDeployment':
        return seldonDeploymentColumns(options.wide === true, options.now);
      case 'Trigger':
        return triggerColumns(options.now);
      case 'Broker':
        return brokerColumns(options.now);
      case 'Service':
        return serviceColumns(options.now);
      case 'Deployment':
        return kubeDeploymentColumns(options.now);
      case 'ConfigMap':
        return configMapColumns(options.now);
    }
  })();
  return withOptions(columns as Columns<ObjectView>, options);
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
