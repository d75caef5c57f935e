/**
 * The manifest an object was read from, written back from its checked and defaulted form, so that
 * `loadManifests(manifestOf(x))` gives `x` again. The control plane stores the defaulted form;
 * on restore it reads each stored object back through `loadManifests`, the very checks `apply`
 * makes (with today's limits), rather than trusting the file.
 *
 * Only what the readers reshape is undone here: SeldonDeployment componentSpecs (`{containers}` →
 * `{spec: {containers}}`), a Trigger's `attributes` (→ `filter.attributes`), and delivery specs
 * (milliseconds → ISO-8601 durations); everything else is read back as it is. The input is
 * untrusted JSON, so a shape that does not fit is passed through for loadManifests to report.
 */
import { isMapping, type Mapping } from './fields.ts';

export function manifestOf(object: Mapping): Mapping {
  const { baseDir: _baseDir, ...manifest } = object;
  const spec = manifest['spec'];
  if (!isMapping(spec)) return manifest;
  switch (manifest['kind']) {
    case 'SeldonDeployment':
      return { ...manifest, spec: seldonSpecOf(spec) };
    case 'Trigger':
      return { ...manifest, spec: triggerSpecOf(spec) };
    case 'Broker':
      return { ...manifest, spec: withDelivery(spec) };
    default:
      return manifest;
  }
}

function seldonSpecOf(spec: Mapping): Mapping {
  const predictors = spec['predictors'];
  if (!Array.isArray(predictors)) return spec;
  return {
    ...spec,
    predictors: predictors.map((predictor: unknown) => {
      if (!isMapping(predictor) || !Array.isArray(predictor['componentSpecs'])) return predictor;
      const componentSpecs = predictor['componentSpecs'].map((component: unknown) => {
        if (!isMapping(component) || !('containers' in component)) return component;
        const { containers, ...rest } = component;
        return { ...rest, spec: { containers } };
      });
      return { ...predictor, componentSpecs };
    }),
  };
}

function triggerSpecOf(spec: Mapping): Mapping {
  const { attributes, ...rest } = withDelivery(spec);
  return attributes === undefined ? rest : { ...rest, filter: { attributes } };
}

function withDelivery(spec: Mapping): Mapping {
  const delivery = spec['delivery'];
  if (!isMapping(delivery)) return spec;
  const { backoffDelayMs, timeoutMs, ...rest } = delivery;
  const out: Mapping = { ...rest };
  if (typeof backoffDelayMs === 'number') out['backoffDelay'] = isoDuration(backoffDelayMs);
  if (typeof timeoutMs === 'number') out['timeout'] = isoDuration(timeoutMs);
  return { ...spec, delivery: out };
}

/** 200 → `PT0.2S` */
function isoDuration(ms: number): string {
  return `PT${ms / 1000}S`;
}
