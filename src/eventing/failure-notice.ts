/**
 * One line per event a trigger dead-lettered or dropped, for the terminal `trantor up` runs in:
 * a failure seen only in a JSON log file is a failure nobody sees. A subscriber that is down
 * fails every event, so the lines are rate-limited: at most `burst` per `windowMs`, then one line
 * saying how many were not shown once the window has passed and the next failure comes.
 */
import type { DeliveryFailure } from './dispatcher.ts';

export interface FailureNoticeOptions {
  /** Lines shown per window (the `eventing.failureNoticeBurst` option). */
  burst: number;
  /** The window, in milliseconds (`eventing.failureNoticeWindow`). */
  windowMs: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** Why the last attempt failed: `503`, `503, <error>`, or the error when no response came. */
export function attemptCause(status: number | undefined, error: string | undefined): string {
  return status !== undefined ? `${status}${error === undefined ? '' : `, ${error}`}` : (error ?? 'no response');
}

/** What became of a failed event, e.g. `event 42 (com.example) dropped after 11 attempts (503)`. */
export function failureSummary(failure: DeliveryFailure): string {
  const attempts = failure.attempts === 1 ? '1 attempt' : `${failure.attempts} attempts`;
  const what = failure.outcome === 'deadLettered' ? 'sent to the dead-letter sink' : 'dropped';
  return `event ${failure.eventId} (${failure.eventType}) ${what} after ${attempts} (${attemptCause(failure.status, failure.error)})`;
}

/** The line for one failure, e.g. `trigger default/t: event 42 (com.example) dropped after 11 attempts (503)`. */
export function failureLine(failure: DeliveryFailure): string {
  return `trigger ${failure.trigger}: ${failureSummary(failure)}`;
}

/** A DeliveryFailure handler writing rate-limited lines through `write`. */
export function failureNotices(write: (line: string) => void, options: FailureNoticeOptions): (failure: DeliveryFailure) => void {
  const { burst, windowMs } = options;
  const now = options.now ?? Date.now;
  let windowStart = -Infinity;
  let shown = 0;
  let hidden = 0;
  return (failure) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      if (hidden > 0) write(`… ${hidden} more failed deliveries not shown (see the log, or trantor get triggers)`);
      windowStart = t;
      shown = 0;
      hidden = 0;
    }
    if (shown < burst) {
      shown += 1;
      write(failureLine(failure));
    } else {
      hidden += 1;
    }
  };
}
