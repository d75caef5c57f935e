/**
 * The parts of a componentSpec and a predictor that only Kubernetes acts on (pod metadata, the
 * whole PodSpec, hpaSpec, kedaSpec, pdbSpec, svcOrchSpec, ssl…): checked where Trantor reads a
 * field, then kept verbatim, so `trantor apply` shows a wrong type at its path and the
 * Kubernetes renderer passes everything else on untouched.
 */
import { isMapping, type Fields } from './fields.ts';
import { dns1123 } from './metadata.ts';
import { describe } from './problems.ts';
import type { ComponentSpec, Predictor, Verbatim } from './types.ts';

/** A copy of what was written, so later changes to the parsed document cannot reach it. */
function verbatim(f: Fields): Verbatim {
  return structuredClone(f.raw);
}

/** Adds `metadata`, `spec`, `hpaSpec`, `kedaSpec` and `pdbSpec` of componentSpec `c`, checked, as written. */
export function readComponentPassthrough(c: Fields, into: ComponentSpec): void {
  const metadata = c.mapping('metadata');
  if (metadata !== undefined) {
    const name = metadata.string('name');
    if (name !== undefined && name !== '') dns1123(metadata, 'name', name);
    metadata.stringMap('labels');
    metadata.stringMap('annotations');
    into.metadata = verbatim(metadata);
  }
  // The reader of containers has checked `spec` already; take it only when it is a mapping.
  const podSpec = c.raw['spec'];
  if (isMapping(podSpec)) into.spec = structuredClone(podSpec);
  const hpa = c.mapping('hpaSpec');
  if (hpa !== undefined) {
    const max = hpa.required('maxReplicas') ? hpa.integer('maxReplicas', 1) : undefined;
    const min = hpa.integer('minReplicas', 1);
    if (min !== undefined && max !== undefined && min > max) hpa.problems.add(hpa.at('minReplicas'), `must not be more than maxReplicas (${max}), got ${min}`);
    hpa.mappings('metrics');
    hpa.mappings('metricsv2');
    into.hpaSpec = verbatim(hpa);
  }
  const keda = c.mapping('kedaSpec');
  if (keda !== undefined) {
    for (const key of ['pollingInterval', 'cooldownPeriod', 'idleReplicaCount', 'minReplicaCount', 'maxReplicaCount']) keda.integer(key, 0);
    if (keda.required('triggers')) {
      const triggers = keda.mappings('triggers');
      if (triggers.length === 0) keda.problems.add(keda.at('triggers'), 'expected at least one trigger');
      for (const trigger of triggers) trigger.name('type');
    }
    keda.mapping('advanced');
    keda.mapping('fallback');
    into.kedaSpec = verbatim(keda);
  }
  const pdb = c.mapping('pdbSpec');
  if (pdb !== undefined) {
    const given = ['minAvailable', 'maxUnavailable'].filter((key) => pdb.has(key));
    if (given.length !== 1) pdb.problems.add(pdb.path, `set exactly one of minAvailable and maxUnavailable, got ${given.length === 0 ? 'neither' : 'both'}`);
    for (const key of given) intOrPercent(pdb, key);
    into.pdbSpec = verbatim(pdb);
  }
}

/** Adds `svcOrchSpec`, `ssl`, `progressDeadlineSeconds` and `explainer` of predictor `p`, checked, as written. */
export function readPredictorPassthrough(p: Fields, into: Predictor): void {
  const svcOrch = p.mapping('svcOrchSpec');
  if (svcOrch !== undefined) {
    svcOrch.mapping('resources');
    for (const env of svcOrch.mappings('env')) {
      env.name('name');
      env.string('value');
    }
    into.svcOrchSpec = verbatim(svcOrch);
  }
  const ssl = p.mapping('ssl');
  if (ssl !== undefined) {
    ssl.string('certSecretName');
    into.ssl = verbatim(ssl);
  }
  const deadline = p.integer('progressDeadlineSeconds', 1);
  if (deadline !== undefined) into.progressDeadlineSeconds = deadline;
  const explainer = p.mapping('explainer');
  if (explainer !== undefined) into.explainer = verbatim(explainer);
}

/** Kubernetes' IntOrString for counts of pods: a non-negative integer or a percentage such as "50%". */
function intOrPercent(f: Fields, key: string): void {
  const value = f.raw[key];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return;
  if (typeof value === 'string' && /^\d+%$/.test(value)) return;
  f.problems.add(f.at(key), `expected a non-negative integer or a percentage such as "50%", got ${describe(value)}`);
}
