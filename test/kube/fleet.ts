/**
 * The operator at scale, shared by test/kube/scale.test.ts and bench/kube-reconcile.ts: a fleet of
 * SeldonDeployments (a mix of one model, a three-node graph and two predictors), a stand-in for
 * the kubelet and the Deployment controller (it marks each Deployment ready as soon as the watch
 * shows it), a watch on the fleet's states, and the API server's audit log, which tells who wrote
 * what and when (the operator runs as a user of its own, so its writes are told apart).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Informer, LABELS, SELDON_DEPLOYMENTS, resourceOf, type KubeClient, type LiveObject } from '../../src/runtime/kubernetes/index.ts';

export const OPERATOR_USER = 'trantor-operator';

const DEPLOYMENTS = resourceOf('apps/v1', 'Deployment');
const WATCH = { watchTimeoutSeconds: 300, watchdogMs: 360_000, relistMs: 3_600_000, retryMs: 500 };

/** The `i`-th SeldonDeployment of the fleet: one model, a three-node graph or two predictors, in turn. */
export function fleetManifest(i: number, namespace: string): string {
  const head = `apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\nmetadata: {name: fleet-${i}, namespace: ${namespace}}\nspec:\n  predictors:\n`;
  switch (i % 3) {
    case 0:
      return `${head}  - name: default\n    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://models/iris-${i}}\n`;
    case 1:
      return `${head}  - name: default
    componentSpecs:
    - spec:
        containers:
        - {name: step1, image: me/step:1}
        - {name: step2, image: me/step:1}
        - {name: step3, image: me/step:1}
    graph:
      name: step1
      type: MODEL
      children:
      - name: step2
        type: MODEL
        children:
        - {name: step3, type: MODEL}
`;
    default:
      return `${head}  - name: main
    traffic: 80
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://models/main-${i}}
  - name: canary
    traffic: 20
    graph: {name: classifier, implementation: SKLEARN_SERVER, modelUri: gs://models/canary-${i}}
`;
  }
}

/** `count` SeldonDeployments as one multi-document YAML. */
export function fleetManifests(count: number, namespace: string): string {
  return Array.from({ length: count }, (_, i) => fleetManifest(i, namespace)).join('---\n');
}

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Plays the kubelet and the Deployment controller: every Deployment of a SeldonDeployment whose
 * status does not yet report its generation ready is patched ready, as soon as the watch shows it.
 */
export async function startKubelet(client: KubeClient, onError: (error: unknown) => void): Promise<Stoppable & { patched: () => number }> {
  let patched = 0;
  const pending = new Set<Promise<void>>();
  const ready = (deployment: LiveObject): void => {
    const spec = deployment.spec as { replicas?: number };
    const status = (deployment.status ?? {}) as { observedGeneration?: number; availableReplicas?: number };
    const replicas = spec.replicas ?? 1;
    if (status.observedGeneration === deployment.metadata.generation && status.availableReplicas === replicas) return;
    const patch = client
      .patchStatus(DEPLOYMENTS, deployment.metadata.namespace ?? '', deployment.metadata.name, {
        observedGeneration: deployment.metadata.generation,
        replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        updatedReplicas: replicas,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'played by the test' }],
      })
      .then(() => void patched++, onError)
      .finally(() => pending.delete(patch));
    pending.add(patch);
  };
  const informer = new Informer(client, { resource: DEPLOYMENTS, labelSelector: LABELS.deploymentId, ...WATCH }, { upsert: ready, remove: () => {}, error: onError });
  informer.start();
  await informer.synced;
  return {
    patched: () => patched,
    async stop() {
      await informer.stop();
      await Promise.all(pending);
    },
  };
}

/** The SeldonDeployments' states, as a watch shows them; `until` resolves once `count` are in `state`. */
export async function watchStates(client: KubeClient, onError: (error: unknown) => void): Promise<Stoppable & { until(state: string, count: number, timeoutMs: number): Promise<void>; count(state: string): number }> {
  const states = new Map<string, string>();
  let waiters: (() => void)[] = [];
  const seen = (sdep: LiveObject): void => {
    states.set(`${sdep.metadata.namespace ?? ''}/${sdep.metadata.name}`, (sdep.status as { state?: string } | undefined)?.state ?? '');
    for (const wake of waiters) wake();
  };
  const informer = new Informer(client, { resource: SELDON_DEPLOYMENTS, ...WATCH }, { upsert: seen, remove: (o) => states.delete(`${o.metadata.namespace ?? ''}/${o.metadata.name}`), error: onError });
  informer.start();
  await informer.synced;
  const count = (state: string): number => [...states.values()].filter((s) => s === state).length;
  return {
    count,
    until(state, wanted, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`${count(state)} of ${wanted} SeldonDeployments ${state} after ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (): void => {
          if (count(state) < wanted) return;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve();
        };
        waiters.push(check);
        check();
      });
    },
    stop: () => informer.stop(),
  };
}

/** kube-apiserver flags for an audit log of every write and list (metadata only; not gets or watches), and where it goes. */
export function auditLog(): { args: string[]; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-audit-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(
    policy,
    `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: None
  verbs: [get, watch]
- level: Metadata
`,
  );
  const path = join(dir, 'audit.log');
  return { args: [`--audit-policy-file=${policy}`, `--audit-log-path=${path}`, '--audit-log-mode=blocking', '--audit-log-maxage=0'], path };
}

export interface AuditedRequest {
  readonly verb: string;
  /** `resource[/subresource] namespace/name` */
  readonly what: string;
  readonly at: number;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** The writes and lists `user` made, as the audit log at `path` holds them, received at or after `since` (ms). */
export function requestsBy(path: string, user: string, since = 0): AuditedRequest[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const requests: AuditedRequest[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { stage?: string; verb?: string; user?: { username?: string }; requestReceivedTimestamp?: string; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string } };
    if (event.stage !== 'ResponseComplete' || event.user?.username !== user) continue;
    const at = Date.parse(event.requestReceivedTimestamp ?? '');
    if (at < since) continue;
    const ref = event.objectRef ?? {};
    requests.push({ verb: event.verb ?? '', what: `${ref.resource ?? ''}${ref.subresource === undefined ? '' : `/${ref.subresource}`} ${ref.namespace ?? ''}/${ref.name ?? ''}`, at });
  }
  return requests;
}

/** The writes (create, update, patch, delete) among requestsBy(…). */
export function writesBy(path: string, user: string, since = 0): AuditedRequest[] {
  return requestsBy(path, user, since).filter((r) => WRITES.has(r.verb));
}
