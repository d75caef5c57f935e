/**
 * One reconcile pass of one SeldonDeployment, level-triggered: whatever happened before, make the
 * cluster hold what render() says it should, then write the status the children report. The pass
 * reads the children from the operator's informer caches (children.ts), never by listing. The pass:
 * skip an object being deleted or meant for another controller id; read it with the same reader as
 * `trantor apply` (every problem, by field path, becomes a Failed status); render; apply each child
 * that differs from what the cluster holds (server-side apply, forced, with a controller owner
 * reference); delete the children it owns that left the spec; patch the status only when it
 * changed; record an Event for each change.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { loadManifests, ManifestError, type SeldonDeployment } from '../../manifest/index.ts';
import type { ChildCache, ChildKind } from './children.ts';
import { KubeError, resourceOf, type KubeClient, type LiveObject, type Resource } from './client.ts';
import type { RenderConfig } from './config.ts';
import { CRD_GROUP } from './crd.ts';
import { RenderError } from './objects.ts';
import { render, type Rendered } from './render.ts';
import { isOurs } from './scope.ts';
import { observedOf, seldonStatus, type SeldonStatus } from './status.ts';

/** The SeldonDeployments the operator reconciles (v1, the stored version). */
export const SELDON_DEPLOYMENTS: Resource = { apiVersion: `${CRD_GROUP}/v1`, plural: 'seldondeployments' };

/** On each child: a digest of what the operator last applied, so a field it stopped setting is noticed. */
export const APPLIED_ANNOTATION = 'trantor.dev/applied-digest';

/**
 * The most replicas a predictor may ask for on a cluster. `trantor apply`'s lower default bounds
 * processes on one machine; a cluster's scheduler bounds pods.
 */
const CLUSTER_MAX_REPLICAS = 100_000;

export interface ReconcilerSettings {
  readonly client: KubeClient;
  /** The children as the informers hold them; told of every write of the pass. */
  readonly children: ChildCache;
  /** Told of each status the pass writes (so the SeldonDeployments' cache holds it at once). */
  readonly wroteStatus: (sdep: LiveObject) => void;
  readonly config: RenderConfig;
  /** Reconcile only SeldonDeployments whose `seldon.io/controller-id` label is this ('' = those without it). */
  readonly controllerId: string;
  /** RFC 3339 time, for status conditions and Events. */
  readonly now?: () => string;
}

/** The kinds of child a configuration can render: each has an informer, so that what left the spec is found and pruned. */
export function childKinds(config: RenderConfig): ChildKind[] {
  const kinds: [string, string, boolean][] = [
    ['v1', 'Service', false],
    ['apps/v1', 'Deployment', false],
    ['autoscaling/v2', 'HorizontalPodAutoscaler', false],
    ['policy/v1', 'PodDisruptionBudget', false],
  ];
  if (config.keda.enabled) kinds.push(['keda.sh/v1alpha1', 'ScaledObject', true]);
  if (config.istio.enabled) kinds.push(['networking.istio.io/v1beta1', 'VirtualService', true], ['networking.istio.io/v1beta1', 'DestinationRule', true]);
  if (config.ambassador.enabled) kinds.push(['getambassador.io/v2', 'Mapping', true]);
  if (config.ingress.enabled) kinds.push(['networking.k8s.io/v1', 'Ingress', false]);
  if (config.gatewayApi.enabled) kinds.push(['gateway.networking.k8s.io/v1', 'HTTPRoute', true]);
  return kinds.map(([apiVersion, kind, optional]) => ({ resource: resourceOf(apiVersion, kind), optional }));
}

/** The resources of childKinds(config). */
export function childResources(config: RenderConfig): Resource[] {
  return childKinds(config).map((kind) => kind.resource);
}

/** The manifest reader's view of a live object: its spec and the metadata a user writes. */
export function readLive(live: LiveObject): SeldonDeployment | ManifestError {
  const { name, namespace, labels, annotations, generation } = live.metadata;
  const raw = { apiVersion: live.apiVersion, kind: 'SeldonDeployment', metadata: { name, namespace, labels, annotations, generation }, spec: live.spec };
  try {
    const [sdep] = loadManifests(JSON.stringify(raw), { maxReplicas: CLUSTER_MAX_REPLICAS }).deployments;
    if (sdep === undefined) return new ManifestError(['not a SeldonDeployment']);
    return sdep;
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
}

const NOTHING: Rendered = { objects: [], address: '' };

export class Reconciler {
  private readonly now: () => string;

  constructor(private readonly settings: ReconcilerSettings) {
    this.now = settings.now ?? (() => new Date().toISOString());
  }

  async reconcile(live: LiveObject): Promise<void> {
    if (live.metadata.deletionTimestamp !== undefined || !isOurs(live, this.settings.controllerId)) return;
    const { client, children } = this.settings;
    const namespace = live.metadata.namespace ?? 'default';
    const uid = live.metadata.uid ?? '';
    let rendered = NOTHING;
    let error: string | undefined;
    const sdep = readLive(live);
    if (sdep instanceof ManifestError) error = sdep.message;
    else {
      try {
        rendered = render(sdep, this.settings.config, { uid });
      } catch (e) {
        if (!(e instanceof RenderError)) throw e;
        error = e.message;
      }
    }

    const desired = new Set<string>();
    for (const object of rendered.objects) {
      desired.add(`${object.kind}/${object.metadata.name}`);
      const want = withDigest(object as unknown as LiveObject);
      const have = children.child(object.apiVersion, object.kind, namespace, object.metadata.name);
      if (have !== undefined && covers(have, want)) continue;
      try {
        children.wrote(await this.applyChild(want, live, have));
      } catch (e) {
        // The server refuses the object as rendered: no retry will change that, the spec must.
        if (!(e instanceof KubeError && (e.status === 400 || e.status === 422))) throw e;
        error ??= `${object.kind} ${object.metadata.name}: ${e.message}`;
        continue;
      }
      await this.event(live, 'Normal', `${have === undefined ? 'Create' : 'Update'}${object.kind}`, `${have === undefined ? 'Created' : 'Updated'} ${object.kind} ${object.metadata.name}`);
    }
    // A manifest that cannot be read keeps what runs: only a good spec decides what to remove.
    if (error === undefined) {
      for (const child of children.owned(uid)) {
        if (desired.has(`${child.kind}/${child.metadata.name}`)) continue;
        await client.delete(resourceOf(child.apiVersion ?? '', child.kind ?? ''), namespace, child.metadata.name);
        children.deleted(child);
        await this.event(live, 'Normal', `Delete${child.kind ?? ''}`, `Deleted ${child.kind ?? ''} ${child.metadata.name}: no longer in the spec`);
      }
    }

    const previous = isStatus(live.status) ? live.status : undefined;
    const status = seldonStatus({
      namespace,
      ...(live.metadata.generation === undefined ? {} : { generation: live.metadata.generation }),
      rendered,
      observed: observedOf(children.owned(uid)),
      ...(error === undefined ? {} : { error }),
      ...(previous === undefined ? {} : { previous }),
      now: this.now(),
    });
    if (previous !== undefined && isDeepStrictEqual(JSON.parse(JSON.stringify(status)), previous)) return;
    this.settings.wroteStatus(await client.patchStatus(SELDON_DEPLOYMENTS, namespace, live.metadata.name, mergePatch(previous, status)));
    if (error !== undefined && previous?.description !== error) await this.event(live, 'Warning', 'InternalError', error);
  }

  /** Applies one child; a selector (immutable) that changed means delete and create again. */
  private async applyChild(want: LiveObject, owner: LiveObject, have: LiveObject | undefined): Promise<LiveObject> {
    const { client, children } = this.settings;
    try {
      return await client.apply(want);
    } catch (error) {
      if (!(error instanceof KubeError && error.status === 422 && /immutable/.test(error.message))) throw error;
      await client.delete(resourceOf(want.apiVersion ?? '', want.kind ?? ''), want.metadata.namespace ?? '', want.metadata.name);
      if (have !== undefined) children.deleted(have);
      await this.event(owner, 'Normal', `Delete${want.kind ?? ''}`, `Deleted ${want.kind ?? ''} ${want.metadata.name} to create it again: ${error.message}`);
      return client.apply(want);
    }
  }

  private async event(owner: LiveObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const time = this.now();
    const namespace = owner.metadata.namespace ?? 'default';
    await this.settings.client.create({ apiVersion: 'v1', plural: 'events' }, namespace, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${owner.metadata.name}.`, namespace },
      involvedObject: { apiVersion: owner.apiVersion, kind: 'SeldonDeployment', name: owner.metadata.name, namespace, uid: owner.metadata.uid, resourceVersion: owner.metadata.resourceVersion },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: 'trantor-operator' },
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    });
  }
}

function isStatus(value: unknown): value is SeldonStatus {
  return typeof value === 'object' && value !== null && 'state' in value;
}

/** `object` with the digest of itself as an annotation. */
function withDigest(object: LiveObject): LiveObject {
  const digest = createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 32);
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [APPLIED_ANNOTATION]: digest } } };
}

/**
 * Whether `live` already holds every field of `want`. The server adds defaults (so extra fields are
 * fine) and leaves out empty values (so an empty string, false, 0 or empty list wanted matches absence).
 */
export function covers(live: unknown, want: unknown): boolean {
  if (live === undefined && (want === '' || want === false || want === 0 || (Array.isArray(want) && want.length === 0) || (isObject(want) && Object.keys(want).length === 0))) return true;
  if (Array.isArray(want)) return Array.isArray(live) && live.length === want.length && want.every((w, i) => covers(live[i], w));
  if (isObject(want)) return isObject(live) && Object.entries(want).every(([key, value]) => covers(live[key], value));
  return live === want;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The merge patch from `before` to `after`: `after`, with null for each top-level key it dropped. */
function mergePatch(before: SeldonStatus | undefined, after: SeldonStatus): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...after };
  for (const key of Object.keys(before ?? {})) if (!(key in after)) patch[key] = null;
  // Maps are replaced whole: a Deployment or Service that left the spec leaves the status too.
  for (const key of ['deploymentStatus', 'serviceStatus'] as const) {
    const old = before?.[key];
    if (old !== undefined) patch[key] = { ...Object.fromEntries(Object.keys(old).map((name) => [name, null])), ...after[key] };
  }
  return patch;
}
