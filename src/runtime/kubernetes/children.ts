/**
 * The children of SeldonDeployments as the operator's informers hold them: one informer per kind a
 * configuration renders (and per watched namespace), selected by the `seldon-deployment-id` label
 * every child carries (Seldon's children carry it too, so a SeldonDeployment Seldon's operator made
 * is pruned as well), indexed by their controller owner's uid. A reconcile pass reads what it needs
 * here instead of listing the cluster, and tells what it wrote or deleted, so the pass after it
 * does not act again on a cache the watch has not caught up with yet.
 */
import { resourceOf, type KubeClient, type LiveObject, type Resource } from './client.ts';
import { Informer, type InformerHandlers } from './informers.ts';
import { LABELS } from './names.ts';

/** What a reconcile pass reads and tells: children by name and by owner, and its own writes. */
export interface ChildCache {
  /** The child of `kind` named `name` in `namespace`, whoever owns it. */
  child(apiVersion: string, kind: string, namespace: string, name: string): LiveObject | undefined;
  /** Every child whose controller owner has this uid. */
  owned(uid: string): LiveObject[];
  /** The API server's answer to a write of this process. */
  wrote(object: LiveObject): void;
  /** An object this process deleted. */
  deleted(object: LiveObject): void;
}

export interface ChildKind {
  readonly resource: Resource;
  /** A kind whose CRD may be missing (KEDA, Istio, Ambassador, Gateway API): an empty cache until it is served. */
  readonly optional: boolean;
}

export interface ChildInformerSettings {
  readonly kinds: readonly ChildKind[];
  /** Namespaces to watch; undefined stands for every namespace. */
  readonly scopes: readonly (string | undefined)[];
  readonly watch: { readonly watchTimeoutSeconds: number; readonly watchdogMs: number; readonly relistMs: number; readonly retryMs: number };
  /** How long before a kind not served is looked for again. */
  readonly absentRetryMs: number;
}

/** The uids of an object's controller owners (at most one, as Kubernetes allows). */
export function controllerUids(object: LiveObject): string[] {
  return (object.metadata.ownerReferences ?? []).filter((ref) => ref.controller === true).map((ref) => ref.uid);
}

export class ChildInformers implements ChildCache {
  /** By `apiVersion/plural`, one informer per scope. */
  private readonly byResource = new Map<string, Informer[]>();

  constructor(client: KubeClient, settings: ChildInformerSettings, handlers: InformerHandlers) {
    for (const { resource, optional } of settings.kinds) {
      this.byResource.set(
        resourceKey(resource),
        settings.scopes.map(
          (namespace) =>
            new Informer(
              client,
              {
                resource,
                ...(namespace === undefined ? {} : { namespace }),
                labelSelector: LABELS.deploymentId,
                ...settings.watch,
                indexBy: controllerUids,
                ...(optional ? { absentRetryMs: settings.absentRetryMs } : {}),
              },
              handlers,
            ),
        ),
      );
    }
  }

  get informers(): Informer[] {
    return [...this.byResource.values()].flat();
  }

  child(apiVersion: string, kind: string, namespace: string, name: string): LiveObject | undefined {
    for (const informer of this.byResource.get(resourceKey(resourceOf(apiVersion, kind))) ?? []) {
      const found = informer.get(`${namespace}/${name}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  owned(uid: string): LiveObject[] {
    return this.informers.flatMap((informer) => informer.indexed(uid));
  }

  wrote(object: LiveObject): void {
    this.informerOf(object)?.wrote(object);
  }

  deleted(object: LiveObject): void {
    this.informerOf(object)?.forgot(object);
  }

  /** The informer whose scope holds `object`'s namespace. */
  private informerOf(object: LiveObject): Informer | undefined {
    const informers = this.byResource.get(resourceKey(resourceOf(object.apiVersion ?? '', object.kind ?? ''))) ?? [];
    return informers.find((informer) => informer.watches(object.metadata.namespace));
  }
}

function resourceKey(resource: Resource): string {
  return `${resource.apiVersion}/${resource.plural}`;
}
