/** The control-plane API's named options: its server's limits and timeouts (`--set api.<option>=…`). */
import { defineOptions, type OptionValues } from '../options/index.ts';

export const apiOptions = defineOptions('api', {
  // Manifests come from loopback, but 8 MiB of them may take a while.
  requestTimeout: { kind: 'duration', default: 60_000, doc: 'the control-plane API: a whole request must arrive within this time, or 408' },
  bodyLimit: { kind: 'size', default: 8 * 2 ** 20, doc: 'the control-plane API: the largest manifest (or other body) it takes; 413 beyond it' },
  eventsKept: { kind: 'count', default: 1_000, min: 1, doc: 'the most Kubernetes-style Events (`trantor get events`) the control plane keeps; the least recently seen go first' },
  eventsMaxAge: { kind: 'duration', default: 3_600_000, doc: 'how long an Event not seen again is kept (Kubernetes keeps them an hour)' },
  keepAliveTimeout: { kind: 'duration', default: 5_000, doc: 'the control-plane API: how long an idle kept-alive connection stays open' },
});

export type ApiOptions = OptionValues<typeof apiOptions.table>;
