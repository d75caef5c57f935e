/**
 * For tests on the bare API server (test/kube/harness.ts has no kubelet, scheduler or
 * controller-manager): plays, in one namespace, the parts of a cluster that act on what the
 * operator makes —
 * - the Deployment controller and the kubelet: each Deployment's pods, created at once for its
 *   current template with a status as a kubelet would write it (Running and Ready, or a container in
 *   CrashLoopBackOff with its last exit and termination message), the new pods before the old are
 *   deleted (a rolling update that never leaves a Service without ready endpoints), and the
 *   Deployment's status (Available, or `Progressing=False, ProgressDeadlineExceeded` for a crashing
 *   pod, what the controller writes once the deadline passes — here at once);
 * - the EndpointSlice controller: one slice per Service with its ready and unready pods, labelled
 *   with the Service's labels and `kubernetes.io/service-name`;
 * - the garbage collector, for foreground deletion only: a SeldonDeployment with the
 *   `foregroundDeletion` finalizer has its children (and theirs) deleted, then the finalizer removed;
 * - the kubelet's log endpoint: a Node whose kubelet is an HTTPS server on 127.0.0.1, where the API
 *   server's `pods/log` fetches each container's output (what `behaviour` says it prints).
 * It polls: it is the cluster's stand-in, not the code under test, and the tests wait on what they
 * observe through the code under test.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { resourceOf, SELDON_DEPLOYMENTS, type KubeClient, type LiveObject } from '../../src/runtime/kubernetes/index.ts';

const DEPLOYMENTS = resourceOf('apps/v1', 'Deployment');
const PODS = resourceOf('v1', 'Pod');
const SERVICES = resourceOf('v1', 'Service');
const SLICES = resourceOf('discovery.k8s.io/v1', 'EndpointSlice');
const HASH_LABEL = 'pod-template-hash';
const MANAGER = 'cluster-player';
const NODE = 'player-node';

interface ContainerSpec {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
}

/** What a container prints once started; with an exit code, it then exits (and is restarted, in CrashLoopBackOff). */
export interface Behaviour {
  output: string[];
  exitCode?: number;
}

export interface PlayerOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly behaviour: (container: ContainerSpec) => Behaviour;
  /** The kubelet's serving certificate and key (the API server does not verify it without a CA). */
  readonly tls: { cert: string; key: string };
  readonly periodMs?: number;
}

interface Snapshot {
  sdeps: LiveObject[];
  deployments: LiveObject[];
  pods: LiveObject[];
  services: LiveObject[];
  slices: LiveObject[];
}

export class ClusterPlayer {
  /** The pods as the last pass left them (for a test's synchronous look). */
  pods: LiveObject[] = [];
  /** While true, foreground deletions wait (a garbage collector that has not got to them yet). */
  holdDeletions = false;
  /** The last error of a pass, for failure messages. */
  lastError: unknown;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private nextIp = 1;
  private readonly kubelet: Server;

  constructor(private readonly options: PlayerOptions) {
    this.kubelet = createServer(options.tls, (req, res) => this.serveLog(req, res));
  }

  /** Starts the kubelet's server, registers its Node, then plays in the background. */
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.kubelet.listen(0, '127.0.0.1', resolve));
    const { port } = this.kubelet.address() as AddressInfo;
    // A Node may be created with its status (a kubelet registers so): the address and port the API server proxies logs to.
    await this.options.client.apply(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: NODE },
        status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
      },
      MANAGER,
    );
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    this.kubelet.closeAllConnections();
    await new Promise((resolve) => this.kubelet.close(resolve));
  }

  /** `GET /containerLogs/<namespace>/<pod>/<container>`: what the container printed; held open with follow while it runs. */
  private serveLog(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const [, kind, namespace = '', name = '', container = ''] = url.pathname.split('/');
    const answer = async (): Promise<void> => {
      const pod = kind === 'containerLogs' ? await this.options.client.get(PODS, namespace, name) : undefined;
      const spec = containersOf(pod?.spec).find((c) => c.name === container);
      if (spec === undefined) {
        res.writeHead(404).end(`no container ${container} in pod ${namespace}/${name}`);
        return;
      }
      const { output, exitCode } = this.options.behaviour(spec);
      const tail = Number(url.searchParams.get('tailLines') ?? output.length);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(output.slice(-tail).map((line) => `${line}\n`).join(''));
      if (exitCode !== undefined || url.searchParams.get('follow') !== 'true') res.end();
    };
    answer().catch((error: unknown) => res.writeHead(500).end(String(error)));
  }


  /** The pods of SeldonDeployment `sdep` that are Ready and run a container with env `name=value`. */
  readyWith(sdep: string, name: string, value: string): LiveObject[] {
    return this.pods.filter(
      (pod) =>
        pod.metadata.labels?.['seldon-deployment-id'] === sdep &&
        podReady(pod) &&
        containersOf(pod.spec).some((c) => c.env?.some((e) => e.name === name && e.value === value)),
    );
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pass();
      } catch (error) {
        this.lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, this.options.periodMs ?? 100));
    }
  }

  private async snapshot(): Promise<Snapshot> {
    const { client, namespace } = this.options;
    // Children before owners, one after the other: a child seen has an owner the later list sees (or it is an orphan).
    const list = async (resource: ReturnType<typeof resourceOf>): Promise<LiveObject[]> => (await client.list(resource, namespace)).items;
    const slices = await list(SLICES);
    const pods = await list(PODS);
    const services = await list(SERVICES);
    const deployments = await list(DEPLOYMENTS);
    const sdeps = await list(SELDON_DEPLOYMENTS);
    this.pods = pods;
    return { sdeps, deployments, pods, services, slices };
  }

  /** One pass: collect, start the current pods, publish endpoints, stop outdated pods, publish again, report. */
  private async pass(): Promise<void> {
    await this.collectGarbage(await this.snapshot());
    let now = await this.snapshot();
    for (const deployment of now.deployments) await this.startPods(deployment, now.pods);
    now = await this.snapshot();
    await this.publishEndpoints(now);
    for (const pod of now.pods) if (!this.current(pod, now.deployments)) await this.deleteQuietly(PODS, pod);
    now = await this.snapshot();
    await this.publishEndpoints(now);
    for (const deployment of now.deployments) await this.reportDeployment(deployment, now.pods);
  }

  private async collectGarbage(now: Snapshot): Promise<void> {
    const all = [...now.deployments, ...now.services, ...now.pods, ...now.slices];
    const alive = new Set([...now.sdeps, ...all].filter((o) => o.metadata.deletionTimestamp === undefined).map((o) => o.metadata.uid));
    // Orphans (an owner already gone) go whatever the hold: a real collector deletes them too.
    for (const object of all) {
      const owners = object.metadata.ownerReferences ?? [];
      if (owners.length > 0 && owners.every((o) => !alive.has(o.uid)) && !this.holdDeletions) await this.deleteQuietly(resourceOf(object.apiVersion ?? '', object.kind ?? ''), object);
    }
    // The kubelet: a pod marked for deletion has its containers stopped at once, and goes.
    for (const pod of now.pods) if (pod.metadata.deletionTimestamp !== undefined) await this.options.client.delete(PODS, this.options.namespace, pod.metadata.name, { gracePeriodSeconds: 0 });
    if (this.holdDeletions) return;
    for (const sdep of now.sdeps) {
      const finalizers = (sdep.metadata as { finalizers?: string[] }).finalizers ?? [];
      if (sdep.metadata.deletionTimestamp === undefined || !finalizers.includes('foregroundDeletion')) continue;
      const owned = (o: LiveObject): boolean => (o.metadata.ownerReferences ?? []).some((ref) => ref.uid === sdep.metadata.uid);
      const children = [...now.deployments, ...now.services].filter(owned);
      // Theirs: pods and slices carry the SeldonDeployment's id label (their owners may be gone already).
      const grandchildren = [...now.pods, ...now.slices].filter((o) => o.metadata.labels?.['seldon-deployment-id'] === sdep.metadata.name);
      // Foreground: the owner goes only once every dependent is gone (a later pass sees them gone).
      if (children.length + grandchildren.length > 0) {
        for (const object of [...grandchildren, ...children]) if (object.metadata.deletionTimestamp === undefined) await this.deleteQuietly(resourceOf(object.apiVersion ?? '', object.kind ?? ''), object);
        continue;
      }
      await this.options.client.replace(SELDON_DEPLOYMENTS, this.options.namespace, { ...sdep, metadata: { ...sdep.metadata, finalizers: finalizers.filter((f) => f !== 'foregroundDeletion') } as LiveObject['metadata'] });
    }
  }

  private async startPods(deployment: LiveObject, pods: readonly LiveObject[]): Promise<void> {
    if (deployment.metadata.deletionTimestamp !== undefined) return;
    const { client, namespace } = this.options;
    const spec = deployment.spec as { replicas?: number; template: { metadata?: { labels?: Record<string, string> }; spec: Record<string, unknown> } };
    const hash = templateHash(deployment);
    const want = spec.replicas ?? 1;
    const have = pods.filter((p) => ownedBy(p, deployment) && p.metadata.labels?.[HASH_LABEL] === hash && p.metadata.deletionTimestamp === undefined).length;
    for (let i = have; i < want; i++) {
      const name = `${deployment.metadata.name}-${hash}-${createHash('sha256').update(`${Date.now()}-${Math.random()}`).digest('hex').slice(0, 5)}`;
      const pod = await client.create(PODS, namespace, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          labels: { ...spec.template.metadata?.labels, [HASH_LABEL]: hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name, uid: deployment.metadata.uid, controller: true }],
        },
        spec: { ...spec.template.spec, nodeName: NODE },
      });
      await client.patchStatus(PODS, namespace, pod.metadata.name, this.kubeletStatus(containersOf(spec.template.spec)));
    }
  }

  /** What a kubelet reports once the pod's containers started (or one keeps crashing). */
  private kubeletStatus(containers: readonly ContainerSpec[]): Record<string, unknown> {
    const ip = `10.1.${Math.floor(this.nextIp / 250)}.${(this.nextIp++ % 250) + 1}`;
    const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const statuses = containers.map((c) => {
      const { output, exitCode } = this.options.behaviour(c);
      const base = { name: c.name, image: c.image ?? '', imageID: '', containerID: `containerd://${c.name}` };
      if (exitCode === undefined) return { ...base, ready: true, started: true, restartCount: 0, state: { running: { startedAt } } };
      return {
        ...base,
        ready: false,
        started: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=${c.name}` } },
        // terminationMessagePolicy FallbackToLogsOnError: the tail of the output is the termination message.
        lastState: { terminated: { exitCode, reason: 'Error', message: output.join('\n'), startedAt, finishedAt: startedAt } },
      };
    });
    const ready = statuses.every((s) => s.ready);
    return {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '10.0.0.1',
      startTime: startedAt,
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: startedAt },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: startedAt },
      ],
      containerStatuses: statuses,
    };
  }

  /** Whether `pod` belongs to a live Deployment's current template. */
  private current(pod: LiveObject, deployments: readonly LiveObject[]): boolean {
    if (pod.metadata.deletionTimestamp !== undefined) return true;
    const owner = deployments.find((d) => ownedBy(pod, d));
    return owner === undefined || pod.metadata.labels?.[HASH_LABEL] === templateHash(owner);
  }

  private async publishEndpoints(now: Snapshot): Promise<void> {
    for (const service of now.services) {
      if (service.metadata.deletionTimestamp !== undefined) continue;
      const spec = service.spec as { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[] };
      const selector = Object.entries(spec.selector ?? {});
      const pods = now.pods
        .filter((p) => p.metadata.deletionTimestamp === undefined && selector.length > 0 && selector.every(([k, v]) => p.metadata.labels?.[k] === v))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      const endpoints = pods.map((p) => ({
        addresses: [(p.status as { podIP?: string } | undefined)?.podIP ?? '10.0.0.254'],
        conditions: { ready: podReady(p), serving: podReady(p), terminating: false },
        targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid },
      }));
      const ports = (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: typeof p.targetPort === 'number' ? p.targetPort : p.port, protocol: p.protocol ?? 'TCP' }));
      const name = `${service.metadata.name}-player`;
      const existing = now.slices.find((s) => s.metadata.name === name);
      if (existing !== undefined && isDeepStrictEqual(existing['endpoints'] ?? [], endpoints) && isDeepStrictEqual(existing['ports'], ports)) continue;
      await this.options.client.apply(
        {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name,
            namespace: this.options.namespace,
            labels: { ...service.metadata.labels, 'kubernetes.io/service-name': service.metadata.name, 'endpointslice.kubernetes.io/managed-by': MANAGER },
            ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name, uid: service.metadata.uid ?? '', controller: true }],
          },
          addressType: 'IPv4',
          ports,
          endpoints,
        },
        MANAGER,
      );
    }
  }

  private async reportDeployment(deployment: LiveObject, pods: readonly LiveObject[]): Promise<void> {
    if (deployment.metadata.deletionTimestamp !== undefined) return;
    const hash = templateHash(deployment);
    const mine = pods.filter((p) => ownedBy(p, deployment) && p.metadata.deletionTimestamp === undefined);
    const updated = mine.filter((p) => p.metadata.labels?.[HASH_LABEL] === hash);
    const ready = mine.filter(podReady).length;
    const want = (deployment.spec as { replicas?: number }).replicas ?? 1;
    const crashing = updated.length > 0 && updated.some((p) => !podReady(p));
    const available = ready >= want;
    const status = {
      observedGeneration: deployment.metadata.generation,
      replicas: mine.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      ...(available ? {} : { unavailableReplicas: want - ready }),
      conditions: [
        available
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        crashing
          ? { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${deployment.metadata.name}-${hash}" has timed out progressing.` }
          : { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${deployment.metadata.name}-${hash}" has successfully progressed.` },
      ],
    };
    const before = deployment.status as Record<string, unknown> | undefined;
    const same = before !== undefined && Object.entries(status).every(([k, v]) => isDeepStrictEqual(before[k], v)) && (available ? before['unavailableReplicas'] === undefined : true);
    if (same) return;
    await this.options.client.patchStatus(DEPLOYMENTS, this.options.namespace, deployment.metadata.name, { ...status, ...(available ? { unavailableReplicas: null } : {}) });
  }

  private async deleteQuietly(resource: ReturnType<typeof resourceOf>, object: LiveObject): Promise<void> {
    await this.options.client.delete(resource, object.metadata.namespace ?? this.options.namespace, object.metadata.name);
  }
}

function containersOf(spec: unknown): ContainerSpec[] {
  return ((spec as { containers?: ContainerSpec[] } | undefined)?.containers ?? []).filter((c) => typeof c.name === 'string');
}

function podReady(pod: LiveObject): boolean {
  return ((pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function ownedBy(child: LiveObject, owner: LiveObject): boolean {
  return (child.metadata.ownerReferences ?? []).some((ref) => ref.uid === owner.metadata.uid);
}

/** As the Deployment controller labels a ReplicaSet's pods: a digest of the pod template. */
function templateHash(deployment: LiveObject): string {
  return createHash('sha256')
    .update(JSON.stringify((deployment.spec as { template?: unknown }).template ?? {}))
    .digest('hex')
    .slice(0, 10);
}
