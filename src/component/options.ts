/**
 * The Node component host's named options: its server's limits and timeouts and how often it
 * checks that `trantor up` is still there. The host is its own process, so it reads them from its
 * command line and environment (host-config.ts); `trantor up --set component.<option>=…` reaches
 * its replicas through that environment.
 */
import { defineOptions, type OptionValues } from '../options/index.ts';

export const componentOptions = defineOptions('component', {
  requestTimeout: { kind: 'duration', default: 60_000, doc: 'the Node host: a whole request (headers and body) must arrive within this time, or 408' },
  bodyLimit: { kind: 'size', default: 32 * 2 ** 20, doc: 'the Node host: larger request bodies are refused with 413' },
  // Longer than the usual 60 s of a client's pool, so the host never closes a connection a client is about to reuse.
  keepAliveTimeout: { kind: 'duration', default: 65_000, doc: 'the Node host: how long an idle kept-alive connection stays open' },
  parentCheckInterval: { kind: 'duration', default: 1_000, doc: 'the Node host: how often it checks that the `trantor up` that started it is still running' },
});

export type ComponentOptions = OptionValues<typeof componentOptions.table>;
