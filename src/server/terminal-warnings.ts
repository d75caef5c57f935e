/**
 * The warnings a user must see in the terminal `trantor up` runs in, in plain words: a replica
 * that crashed (and is restarting in a loop), one that died before it was ever ready (a model that
 * fails to load), a model download that failed, a failing probe. Each line names the deployment
 * and node and says where the whole story is (`trantor describe`, `trantor logs -p`, the log file).
 * Failed deliveries have lines of their own (eventing/failure-notice.ts).
 *
 * A crash loop repeats: per replica and reason, a line at most once per `windowMs`, the next one
 * saying how many times it happened since.
 */
import type { ObjectEventRecord, ObjectEventRecorder } from '../manifest/index.ts';

/** The reasons shown here: what the local runtime records as a Warning about a replica or a model. */
const SHOWN = new Set(['Crashed', 'Failed', 'Unhealthy']);

export interface TerminalWarningOptions {
  /** Where the control plane's own log is (`<home>/logs/trantor.log`). */
  readonly logFile: string;
  /** The least time between two lines about the same replica and reason. */
  readonly windowMs: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** A message on one line: its first line and, when the output a crash printed follows, the last line of it. */
function oneLine(message: string): string {
  const lines = message.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0] ?? '';
  return lines.length <= 1 ? first : `${first} … ${lines[lines.length - 1] ?? ''}`;
}

/** A recorder writing the warnings through `write`; give it the events every part records. */
export function terminalWarnings(write: (line: string) => void, options: TerminalWarningOptions): ObjectEventRecorder {
  const now = options.now ?? Date.now;
  const last = new Map<string, { at: number; since: number }>();
  return {
    record(event: ObjectEventRecord): void {
      if (event.type !== 'Warning' || !SHOWN.has(event.reason) || event.involvedObject.kind !== 'SeldonDeployment') return;
      const { namespace, name, replica, fieldPath } = event.involvedObject;
      const key = `${namespace}/${name}/${replica ?? fieldPath ?? ''}/${event.reason}`;
      const t = now();
      const seen = last.get(key);
      if (seen !== undefined && t - seen.at < options.windowMs) {
        seen.since += 1;
        return;
      }
      last.set(key, { at: t, since: 0 });
      const where = replica ?? fieldPath ?? '';
      const again = seen !== undefined && seen.since > 0 ? ` (${seen.since + 1} times since the last line)` : '';
      const hint =
        event.reason === 'Crashed'
          ? `it is restarted with a growing back-off; what it printed: trantor logs ${name} -n ${namespace} -p`
          : `the whole story: trantor describe sdep ${name} -n ${namespace}`;
      write(`warning: SeldonDeployment ${namespace}/${name}${where === '' ? '' : ` ${where}`}: ${oneLine(event.message)}${again}; ${hint} (log: ${options.logFile})`);
    },
  };
}

/** One recorder that hands each event to every one of `recorders`. */
export function allOf(...recorders: readonly ObjectEventRecorder[]): ObjectEventRecorder {
  return { record: (event) => recorders.forEach((r) => r.record(event)) };
}
