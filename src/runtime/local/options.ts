/**
 * The local runtime's named options: every timeout, window and limit of starting, probing,
 * restarting and stopping replicas, and of their logs, with its default here and nowhere else.
 * `trantor up` compiles them (`--set runtime.<option>=…`); the supervisor takes the values.
 */
import { defineOptions, type OptionValues } from '../../options/index.ts';

export const runtimeOptions = defineOptions('runtime', {
  startupTimeout: {
    kind: 'duration',
    default: 60_000,
    doc: "how long a replica may take to answer its first health check before it is killed (a container's `startupProbe` sets its own; `--startup-timeout` or `TRANTOR_STARTUP_TIMEOUT` wins over this)",
  },
  startupPollInterval: { kind: 'duration', default: 75, doc: 'pause between health checks while a replica starts' },
  startupPingTimeout: { kind: 'duration', default: 1_000, doc: 'how long one health check of a starting replica may take' },
  stopGrace: { kind: 'duration', default: 5_000, doc: 'time between SIGTERM and SIGKILL when a replica is stopped' },
  exitDrain: { kind: 'duration', default: 500, doc: "how long a replica's output is still read after its process ended" },
  restartBackoff: { kind: 'duration', default: 500, doc: 'first restart delay after a crash; it doubles with each crash in a row' },
  restartBackoffMax: { kind: 'duration', default: 30_000, doc: 'longest restart delay' },
  stableAfter: { kind: 'duration', default: 60_000, doc: 'a replica up this long has its restart delay reset' },
  readinessPeriod: { kind: 'duration', default: 1_000, doc: 'time between readiness probes of a ready replica (when its container names none)' },
  readinessTimeout: { kind: 'duration', default: 1_000, doc: 'how long one readiness probe may take' },
  readinessFailureThreshold: { kind: 'count', default: 1, doc: 'failed readiness probes in a row that take a replica out of the balancer' },
  readinessSuccessThreshold: { kind: 'count', default: 1, doc: 'passed readiness probes in a row that bring it back' },
  livenessPeriod: { kind: 'duration', default: 1_000, doc: 'time between liveness probes of a ready replica (when its container names none)' },
  livenessTimeout: { kind: 'duration', default: 1_000, doc: 'how long one liveness probe may take' },
  livenessFailureThreshold: { kind: 'count', default: 5, doc: 'failed liveness probes in a row that have a replica killed and restarted' },
  probeBodyLimit: { kind: 'size', default: 4_096, min: 1, doc: 'bytes of a health answer read (enough for `pong`)' },
  logLines: { kind: 'count', default: 500, doc: 'output lines kept in memory per replica (`trantor logs`), and as many of its run before a restart (`trantor logs -p`)' },
  failureLines: { kind: 'count', default: 20, min: 0, doc: "lines of a failed replica's output quoted in its deployment's description" },
  logLineMax: { kind: 'size', default: 16 * 1024, min: 1, doc: 'longest output line kept; longer lines are cut' },
  logBuffer: { kind: 'size', default: 4 * 2 ** 20, min: 1, doc: "bytes of a replica's log file held in memory while the disk is slow or full; more is dropped" },
  logRetry: { kind: 'duration', default: 5_000, doc: "how long after a failed write a replica's log file is reopened" },
  pythonProbeTimeout: { kind: 'duration', default: 20_000, doc: 'how long asking a Python which modules it has may take' },
  portAttempts: { kind: 'count', default: 50, doc: 'tries to find a free loopback port not already handed out' },
});

/** The runtime's compiled options, in milliseconds, bytes and counts. */
export type RuntimeOptions = OptionValues<(typeof runtimeOptions)['table']>;
