/**
 * A deployment's replica sets and how a new plan replaces them. A changed manifest rolls: for
 * each graph node whose launch changed, a new set starts beside the serving one (surge); once
 * every replica of every new set is ready, the new sets serve (the endpoint index switches to
 * them) and only then do the old ones stop. A new set's replica that cannot start fails the
 * rollout, and the previous version, if any, keeps serving.
 */
import type { Logger } from 'pino';
import type { SeldonDeployment, UnitKey } from '../../manifest/index.ts';
import type { EndpointIndex } from './endpoints.ts';
import { probeSettings } from './health.ts';
import type { Probes } from './health.ts';
import type { DeploymentLogs } from './logs.ts';
import type { ComponentLaunch } from './plan.ts';
import { ReplicaSet } from './replica.ts';
import type { ReplicaHost } from './replica.ts';

/** A graph node of a predictor, as a map key. */
export function unitId(predictor: string, node: string): string {
  return `${predictor}\u0000${node}`;
}

export function deploymentId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export interface Rollout {
  revision: number;
  /** New sets, by unit id, that replace (or add to) the serving ones once all are ready. */
  sets: Map<string, ReplicaSet>;
  /** Unit ids whose serving set goes away when the rollout commits. */
  removed: Set<string>;
}

/** What a node's replicas get unless its container says otherwise. */
export interface UnitDefaults {
  probes: Readonly<Probes>;
  startupTimeoutMs: number;
}

/** Probes by unit id, for the containers (named after their graph node) that give their own. */
function probesOf(deployment: SeldonDeployment, defaults: Readonly<Probes>): Map<string, Readonly<Probes>> {
  const out = new Map<string, Readonly<Probes>>();
  for (const predictor of deployment.spec.predictors) {
    for (const spec of predictor.componentSpecs) {
      for (const c of spec.containers) {
        if (c.readinessProbe === undefined && c.livenessProbe === undefined) continue;
        out.set(
          unitId(predictor.name, c.name),
          Object.freeze({ readiness: probeSettings(c.readinessProbe, defaults.readiness), liveness: probeSettings(c.livenessProbe, defaults.liveness) }),
        );
      }
    }
  }
  return out;
}

/**
 * Startup timeouts by unit id, for the containers (named after their graph node) with a
 * startupProbe: as Kubernetes allows, initialDelaySeconds + failureThreshold × periodSeconds
 * (its defaults 0, 3 and 10 s).
 */
function startupTimeoutsOf(deployment: SeldonDeployment): Map<string, number> {
  const out = new Map<string, number>();
  for (const predictor of deployment.spec.predictors) {
    for (const spec of predictor.componentSpecs) {
      for (const c of spec.containers) {
        const probe = c.startupProbe;
        if (probe === undefined) continue;
        const seconds = (probe.initialDelaySeconds ?? 0) + (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10);
        out.set(unitId(predictor.name, c.name), seconds * 1000);
      }
    }
  }
  return out;
}

export class DeploymentRecord {
  readonly namespace: string;
  readonly name: string;
  readonly logs: DeploymentLogs;
  serving = new Map<string, ReplicaSet>();
  rollout: Rollout | undefined;
  /** Why the deployment is Failed; cleared by the next apply. */
  failure: string | undefined;
  /** What is being fetched before the replicas start (`downloading gs://… 12.3 MB of 40.0 MB`), while it is. */
  loading: string | undefined;
  /** Stops the fetch of the models of an apply a newer one (or a removal) replaced. */
  abortLoading: (() => void) | undefined;
  /** The sets of the rollout that failed, kept to show their replicas' states. */
  failedSets: Map<string, ReplicaSet> | undefined;
  unitOrder: string[] = [];
  appliedKey = '';
  revision = 0;
  /** The revision that last became Available, if any. */
  servingRevision: number | undefined;
  lastEmitted = '';

  constructor(namespace: string, name: string, logs: DeploymentLogs) {
    this.namespace = namespace;
    this.name = name;
    this.logs = logs;
  }

  get id(): string {
    return deploymentId(this.namespace, this.name);
  }

  isServing(set: ReplicaSet): boolean {
    return this.serving.get(unitId(set.unit.predictor, set.unit.node)) === set;
  }

  /**
   * Starts rolling to `launches` at `revision`: a new set for each node whose launch changed;
   * a node whose launch is the same keeps its serving set, with the manifest's new probes.
   */
  begin(revision: number, launches: readonly ComponentLaunch[], deployment: SeldonDeployment, host: ReplicaHost, defaults: UnitDefaults): Rollout {
    this.unitOrder = launches.map((l) => unitId(l.predictor, l.node));
    const wanted = new Set(this.unitOrder);
    const sets = new Map<string, ReplicaSet>();
    const probes = probesOf(deployment, defaults.probes);
    const startupTimeouts = startupTimeoutsOf(deployment);
    for (const launch of launches) {
      const id = unitId(launch.predictor, launch.node);
      const unitProbes = probes.get(id) ?? defaults.probes;
      const startupTimeoutMs = startupTimeouts.get(id) ?? defaults.startupTimeoutMs;
      const serving = this.serving.get(id);
      if (serving?.launch.fingerprint === launch.fingerprint) {
        serving.probes = unitProbes;
        serving.startupTimeoutMs = startupTimeoutMs;
        continue;
      }
      const unit: UnitKey = { namespace: this.namespace, deployment: this.name, predictor: launch.predictor, node: launch.node };
      sets.set(id, new ReplicaSet(host, unit, launch, revision, unitProbes, startupTimeoutMs));
    }
    const removed = new Set([...this.serving.keys()].filter((id) => !wanted.has(id)));
    this.rollout = { revision, sets, removed };
    return this.rollout;
  }

  /** Stops the unfinished rollout's sets; the serving ones stay. */
  abandonRollout(): void {
    const rollout = this.rollout;
    if (rollout === undefined) return;
    this.rollout = undefined;
    for (const set of rollout.sets.values()) set.host.track(set.stop());
  }

  /** Commits the rollout once every replica of every new set is ready: the new sets serve, the old ones stop. */
  commitIfReady(endpoints: EndpointIndex, logger: Logger): void {
    const rollout = this.rollout;
    if (rollout === undefined) return;
    for (const set of rollout.sets.values()) if (!set.allReady) return;
    this.rollout = undefined;
    const retired: ReplicaSet[] = [];
    for (const [id, set] of rollout.sets) {
      set.established = true;
      const old = this.serving.get(id);
      if (old !== undefined) retired.push(old);
      this.serving.set(id, set);
      endpoints.publish(set.unit, set.ready);
    }
    for (const id of rollout.removed) {
      const old = this.serving.get(id);
      if (old === undefined) continue;
      this.serving.delete(id);
      retired.push(old);
      endpoints.unpublish(old.unit);
    }
    this.servingRevision = rollout.revision;
    logger.info({ deployment: this.id, revision: rollout.revision }, 'deployment available');
    for (const set of retired) set.host.track(set.stop());
  }

  /** A replica of an unfinished rollout could not start: the rollout stops, the deployment fails. */
  failRollout(set: ReplicaSet, reason: string, logger: Logger): void {
    const rollout = this.rollout;
    if (rollout === undefined || rollout.revision !== set.revision) return;
    this.rollout = undefined;
    this.failedSets = rollout.sets;
    this.failure = this.servingRevision === undefined ? reason : `update failed: ${reason}; the previous version keeps serving`;
    logger.error({ deployment: this.id, reason }, 'deployment failed');
    for (const other of rollout.sets.values()) other.host.track(other.stop());
  }

  /** Every set it runs, serving or rolling in; the rollout is dropped. */
  takeAllSets(): ReplicaSet[] {
    const sets = [...this.serving.values(), ...(this.rollout?.sets.values() ?? [])];
    this.rollout = undefined;
    return sets;
  }
}
