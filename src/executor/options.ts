/**
 * The executor's named options (docs/configuration.md): every timeout, window, pool size and queue
 * of the HTTP transport, its outlier ejection, batching and the request logger, with its default
 * here and nowhere else. `trantor up` compiles them once; the parts take the values in their
 * constructors.
 */
import { defineOptions, type OptionValues } from '../options/index.ts';

export const executorOptions = defineOptions('executor', {
  retryWindow: { kind: 'duration', default: 2000, doc: 'how long a call keeps looking for a replica that answers when none does (none ready, connections refused)' },
  retryBackoff: { kind: 'duration', default: 10, doc: 'the first wait before looking for a replica again; it doubles each time' },
  retryBackoffMax: { kind: 'duration', default: 200, doc: 'the longest wait before looking for a replica again' },
  connectTimeout: { kind: 'duration', default: 2000, doc: 'how long opening a connection to a replica may take' },
  connectionsPerReplica: { kind: 'count', default: 64, doc: 'keep-alive connections (calls at once) per replica' },
  keepAlive: { kind: 'duration', default: 30_000, doc: 'how long an idle connection to a replica is kept open' },
  keepAliveMax: { kind: 'duration', default: 600_000, doc: 'the longest keep-alive a replica\'s own `Keep-Alive` header may ask for' },
  poolSweepInterval: { kind: 'duration', default: 10_000, doc: 'how often connections to replicas that are gone are closed when no call comes' },
  ejectAfterFailures: { kind: 'count', default: 3, doc: 'calls in a row that fail to connect, lose their connection or time out before a replica is ejected' },
  stallPercent: { kind: 'count', default: 10, max: 100, doc: 'a replica that answers nothing for this share (%) of a waiting call\'s timeout has stalled, and is ejected' },
  minStall: { kind: 'duration', default: 1000, doc: 'the stall limit is never shorter than this' },
  stallCheckInterval: { kind: 'duration', default: 200, doc: 'how often calls in flight are checked for stalled replicas' },
  baseEjection: { kind: 'duration', default: 5000, doc: 'how long an ejection lasts; the n-th in a row lasts n times as long' },
  maxEjection: { kind: 'duration', default: 60_000, doc: 'the longest an ejection lasts' },
  batchMaxWait: { kind: 'duration', default: 2, min: 0, doc: 'how long a batched prediction may wait for others when its node sets `batch_max_size` but not `batch_max_wait_ms`' },
  loggerQueue: { kind: 'count', default: 10_000, doc: 'request-logger events waiting per logger URL; more are dropped and counted' },
  loggerConnections: { kind: 'count', default: 4, doc: 'connections (sends at once) per logger URL' },
  loggerTimeout: { kind: 'duration', default: 10_000, doc: 'how long sending one event to a logger may take' },
  loggerPause: { kind: 'duration', default: 500, doc: 'how long a logger URL\'s senders wait after a failed send' },
  loggerKeepAlive: { kind: 'duration', default: 30_000, doc: 'how long an idle connection to a logger is kept open' },
});

export type ExecutorOptions = OptionValues<typeof executorOptions.table>;

/** The defaults, for parts built without compiled options (tests, tools). */
export const EXECUTOR_DEFAULTS: ExecutorOptions = executorOptions.defaults;
