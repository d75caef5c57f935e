/**
 * The gateway's limits and timeouts, with their defaults. `trantor up --request-timeout` and
 * `--body-limit` (and their TRANTOR_* variables) set the same values and win over these options.
 */
import { defineOptions, type OptionValues } from '../options/index.ts';

export const gatewayOptions = defineOptions('gateway', {
  requestTimeout: { kind: 'duration', default: 30_000, doc: 'How long a request may take to arrive (408) and to be answered (504); `--request-timeout` wins' },
  bodyLimit: { kind: 'size', default: 10_000_000, min: 1, doc: 'The largest request body taken (413 past it); `--body-limit` wins' },
  keepAliveTimeout: { kind: 'duration', default: 65_000, doc: 'How long an idle client connection is kept open' },
});

export type GatewayLimits = OptionValues<typeof gatewayOptions.table>;
