/**
 * The http layer's own timeouts: how a stopping server waits, how a refused upload is let go, how
 * long headers may take, how often late requests are looked for. `trantor up` hands them to the
 * gateway's server (and the broker ingress on it); other servers take the defaults. A server's
 * request timeout, body limit and keep-alive are its module's options (`gateway.*`).
 */
import { defineOptions, type OptionValues } from '../options/index.ts';

export const httpOptions = defineOptions('http', {
  closeGrace: { kind: 'duration', default: 3_000, doc: 'How long a stopping server lets requests in flight finish before it cuts their connections' },
  linger: { kind: 'duration', default: 2_000, doc: 'How long a refused upload may go on arriving, discarded, after its answer before the connection closes' },
  headersTimeout: { kind: 'duration', default: 60_000, doc: 'How long a request\'s headers may take to arrive (408), never more than the request timeout' },
  checkInterval: { kind: 'duration', default: 1_000, min: 50, doc: 'How often, at most, a server looks for requests past their time (a twentieth of the request timeout, at least 50ms)' },
});

export type HttpOptions = OptionValues<typeof httpOptions.table>;
