/**
 * The control plane's logger: pino into `<home>/logs/trantor.log`, through an `AppendLog`, so that
 * logging can never stop the serving. A full disk (ENOSPC) or a failing file makes it drop lines
 * (counted), say so once on stderr, and reopen the file a few seconds later; a slow disk cannot back
 * up memory past a bounded buffer. (pino's own destination emits an `error` event there, which,
 * unhandled, ends the process.)
 */
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { AppendLog, type AppendLogOptions } from '../runtime/local/index.ts';
import { homeLayout } from '../manifest/index.ts';

export interface ControlPlaneLog {
  logger: Logger;
  /** The log file: its path, and how many lines it dropped. */
  file: AppendLog;
}

/** Writes a notice to stderr; never throws (stderr may itself be a file on the full disk). */
function warnOnStderr(message: string): void {
  try {
    process.stderr.write(`trantor: ${message}\n`);
  } catch {
    // nowhere left to say it
  }
}

export function controlPlaneLogger(home: string, level: string, options: AppendLogOptions = {}): ControlPlaneLog {
  const file = new AppendLog(join(homeLayout.logs(home), 'trantor.log'), { onTrouble: warnOnStderr, ...options });
  return { logger: pino({ level }, file), file };
}
