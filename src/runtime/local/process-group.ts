/**
 * Replicas run in their own process group, and the whole group is signalled, so a shell
 * wrapper's children stop with it. Groups running now are remembered, so that should the control
 * plane exit without `close()` (process.exit, an uncaught error) they are killed on the way out
 * and no replica outlives it.
 */

/** Pause between checks whether a stopping group is gone. */
const REAP_POLL_MS = 25;

/** Process groups of replicas running now, in every supervisor of this process. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remembers a started group, to be killed if this process exits with it still running. */
export function holdGroup(pid: number | undefined): void {
  if (pid !== undefined) liveGroups.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const group of liveGroups) signalGroup(group, 'SIGKILL');
  });
}

/** Forgets a group whose main process has ended. */
export function releaseGroup(pid: number | undefined): void {
  if (pid !== undefined) liveGroups.delete(pid);
}

/** After a stopping replica's main process exits, gives the rest of its group until `deadline`, then kills it. */
export async function reapGroup(pid: number | undefined, deadline: number): Promise<void> {
  if (pid === undefined) return;
  while (groupAlive(pid) && Date.now() < deadline) await delay(REAP_POLL_MS);
  signalGroup(pid, 'SIGKILL');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
