/**
 * KubernetesRuntime's logs: the output of each graph node's container, followed through the API
 * (`pods/log`, which the API server proxies from the pod's kubelet) and kept in memory per
 * deployment, the last `logLines` lines. One stream per container instance — a pod, a container,
 * its restart count — opened once the container has started (running, or already ended: a crashing
 * container's output is what says why); a restarted container is a new instance, followed anew. A
 * stream that fails is not retried: its pod's next change (a restart, readiness) opens the next one.
 */
import type { LogLine } from '../../manifest/index.ts';
import type { KubeClient, LiveObject } from './client.ts';
import { isRecord, records } from './objects.ts';
import type { NodeContainer } from './runtime-status.ts';

export class PodLogs {
  private readonly lines = new Map<string, LogLine[]>();
  /** By deployment key: the open streams by container instance, and the instances followed already (an ended stream is not opened again). */
  private readonly deployments = new Map<string, { open: Map<string, AbortController>; followed: Set<string> }>();

  constructor(
    private readonly client: KubeClient,
    private readonly maxLines: number,
    private readonly onLine: (key: string, line: LogLine) => void,
  ) {}

  /** Follows the started containers among `containers` of deployment `key` not followed yet; stops those of pods gone. */
  sync(key: string, containers: readonly NodeContainer[]): void {
    const state = this.deployments.get(key) ?? { open: new Map<string, AbortController>(), followed: new Set<string>() };
    this.deployments.set(key, state);
    const { open } = state;
    const present = new Set<string>();
    for (const { replica, pod, container } of containers) {
      const started = startedInstance(pod, container);
      if (started === undefined) continue;
      present.add(started);
      if (state.followed.has(started)) continue;
      state.followed.add(started);
      const controller = new AbortController();
      open.set(started, controller);
      this.client
        .followLog(pod.metadata.namespace ?? '', pod.metadata.name, container, { tailLines: this.maxLines, signal: controller.signal, onLine: (line) => this.keep(key, { replica, line }) })
        .catch(() => {})
        .finally(() => open.delete(started));
    }
    for (const [instance, controller] of open) if (!present.has(instance)) controller.abort();
    state.followed = new Set([...state.followed].filter((instance) => present.has(instance)));
  }

  get(key: string): readonly LogLine[] {
    return this.lines.get(key) ?? [];
  }

  /** Stops the streams of deployment `key` and drops its lines. */
  forget(key: string): void {
    for (const controller of this.deployments.get(key)?.open.values() ?? []) controller.abort();
    this.deployments.delete(key);
    this.lines.delete(key);
  }

  close(): void {
    for (const key of [...this.deployments.keys()]) this.forget(key);
  }

  private keep(key: string, line: LogLine): void {
    if (!this.deployments.has(key)) return;
    const kept = this.lines.get(key) ?? [];
    kept.push(line);
    if (kept.length > this.maxLines) kept.splice(0, kept.length - this.maxLines);
    this.lines.set(key, kept);
    this.onLine(key, line);
  }
}

/** `<pod uid>/<container>/<restart count>` once the container has started (running or ended), else undefined. */
function startedInstance(pod: LiveObject, container: string): string | undefined {
  const status = isRecord(pod.status) ? records(pod.status['containerStatuses']).find((c) => c['name'] === container) : undefined;
  const state = isRecord(status?.['state']) ? status['state'] : {};
  const last = isRecord(status?.['lastState']) ? status['lastState'] : {};
  if (!isRecord(state['running']) && !isRecord(state['terminated']) && !isRecord(last['terminated'])) return undefined;
  const restarts = typeof status?.['restartCount'] === 'number' ? status['restartCount'] : 0;
  return `${pod.metadata.uid ?? pod.metadata.name}/${container}/${restarts}`;
}
