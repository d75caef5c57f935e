/**
 * The limits and timeouts of the servers that are not the gateway's (its own are the `gateway.*`
 * options, src/gateway/options.ts); docs/api.md#limits lists them all.
 */
const MiB = 1024 * 1024;

/** The broker ingress's own event size limit (it shares the gateway's server and timeout). */
export const BROKER_DEFAULTS = Object.freeze({ bodyLimitBytes: 1 * MiB });

/** The control-plane API: manifests are read from loopback, but 8 MiB may take a while. */
export const API_DEFAULTS = Object.freeze({ requestTimeoutMs: 60_000, bodyLimitBytes: 8 * MiB, keepAliveTimeoutMs: 5_000 });

/**
 * A component host: keep-alive longer than the usual 60 s of a client's pool, so the server is
 * never the one to close a connection a client is about to reuse.
 */
export const COMPONENT_DEFAULTS = Object.freeze({ requestTimeoutMs: 60_000, bodyLimitBytes: 32 * MiB, keepAliveTimeoutMs: 65_000 });

/** `trantor event-display`. */
export const EVENT_DISPLAY_DEFAULTS = Object.freeze({ requestTimeoutMs: 30_000, bodyLimitBytes: 10 * MiB, keepAliveTimeoutMs: 5_000 });
