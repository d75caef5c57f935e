/**
 * What the commands that run in a Kubernetes pod (`trantor executor`, `trantor gateway`) share:
 * their flags' checks, Seldon's spelling, and their life — JSON logs on stdout, what is not
 * served named on stderr, the address printed once serving, SIGTERM (the pod's end) or SIGINT
 * stopping it after requests in flight finish.
 */
import { pino, type Logger } from 'pino';
import { stopOnSignals } from './stop-signals.ts';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

/** A flag the operator always passes. */
export function requiredFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new Error(`--${flag} is required (the operator passes it)`);
  return value;
}

export function portFlag(text: string, flag: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--${flag} ${text}: expected a port number 0-65535`);
  return port;
}

/** `--log_level`, as Seldon's executor takes it (any case); `info` when absent. `flag` names where the text came from. */
export function logLevelFlag(text: string | undefined, flag = '--log_level'): string {
  const level = (text ?? 'info').toLowerCase();
  if (!LEVELS.includes(level)) throw new Error(`${flag} ${text}: expected one of ${LEVELS.join(', ')}`);
  return level;
}

export interface PodProcess<T extends { close(): Promise<void> }> {
  /** `executor`, `gateway`: how its lines on stderr and stdout begin. */
  readonly command: string;
  readonly logLevel: string;
  /** What was given and is not served. */
  readonly ignored: readonly string[];
  start(logger: Logger): Promise<T>;
  /** The start-up line on stderr: what it serves. */
  describe(running: T): string;
  /** The address printed on stdout once serving. */
  url(running: T): string;
}

/** Starts the command's server and keeps it running until SIGTERM or SIGINT. */
export async function runPodProcess<T extends { close(): Promise<void> }>(pod: PodProcess<T>): Promise<void> {
  // A pod's log is its standard output.
  const logger = pino({ level: pod.logLevel });
  if (pod.ignored.length > 0) process.stderr.write(`trantor ${pod.command}: ignoring ${pod.ignored.join(', ')}\n`);
  const running = await pod.start(logger);
  stopOnSignals({
    signals: ['SIGTERM', 'SIGINT'],
    say: (line) => void process.stderr.write(`${line}\n`),
    shutdown: async () => {
      await running.close();
      logger.flush();
    },
  });
  process.stderr.write(`trantor ${pod.command}: ${pod.describe(running)}\n`);
  process.stdout.write(`${pod.command}: ${pod.url(running)}\n`);
}
