/**
 * How each long-running command (`up`, `executor`, `operator`) ends: on the first of `signals` it
 * says so, runs `shutdown` once, and exits 0 when it is done (1 when it fails); a shutdown that
 * hangs is cut after `forceAfterMs` with exit 1, so a stuck close never keeps a pod or a
 * terminal waiting.
 */
export interface StopOptions {
  readonly signals: readonly NodeJS.Signals[];
  /** Where "SIGTERM: stopping" is said. */
  readonly say: (line: string) => void;
  readonly shutdown: () => Promise<void>;
  readonly forceAfterMs?: number;
}

export function stopOnSignals(options: StopOptions): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    options.say(`${signal}: stopping`);
    setTimeout(() => process.exit(1), options.forceAfterMs ?? 15_000).unref();
    options.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        options.say(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of options.signals) process.on(signal, () => stop(signal));
}
