/**
 * KubernetesRuntime's own named options, with their defaults here and nowhere else; its watches take
 * the operator's watch options (`operator.watchTimeout`, `watchdog`, `relist`, `retry`), which mean
 * the same thing for any informer. Nothing compiles this section from the command line yet: the
 * runtime is built by code (tests, and whatever embeds it), which passes `compile({...})`'s values.
 */
import { defineOptions, type OptionValues } from '../../options/index.ts';

export const kubernetesRuntimeOptions = defineOptions('kubernetesRuntime', {
  removeTimeout: {
    kind: 'duration',
    default: 180_000,
    min: 1000,
    doc: 'how long remove() waits for a SeldonDeployment deleted in the foreground to be gone (its pods stopped, then the object) before it rejects',
  },
  logLines: { kind: 'count', default: 500, min: 1, doc: "output lines of a deployment's graph node containers kept in memory (and read first from each container)" },
});

export type KubernetesRuntimeOptions = OptionValues<typeof kubernetesRuntimeOptions.table>;
