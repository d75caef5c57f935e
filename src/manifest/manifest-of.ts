/**
 * The manifest an object was read from, written back from its checked and defaulted form, so that
 * `loadManifests(manifestOf(x))` gives `x` again. It is both what `trantor get -o yaml` shows (each
 * object in its own API's shape, so `get -o yaml | apply -f -` changes nothing) and how the control
 * plane restores what it stored: on restore it reads each stored object back through
 * `loadManifests`, the very checks `apply` makes (with today's limits), rather than trusting the file.
 *
 * Only what the readers reshape is undone here: SeldonDeployment componentSpecs (the PodSpec as
 * written, else `{containers}` → `{spec: {containers}}`), a Trigger's `attributes` (→ `filter.attributes`), delivery specs
 * (milliseconds → ISO-8601 durations), and the folder relative paths resolve against (→ the
 * `trantor.io/base-dir` annotation); everything else is read back as it is. The input of the untyped
 * form is untrusted JSON, so a shape that does not fit is passed through for loadManifests to report.
 */
import { isAbsolute } from 'node:path';
import { isMapping, type Mapping } from './fields.ts';
import type { Broker, Deployment, Destination, FilterExpression, Service, Trigger } from './knative.ts';
import type { ComponentSpec, Container, Predictor, SeldonDeployment } from './types.ts';

/**
 * Annotation carrying the folder a manifest's relative paths (modelUri, workingDir) resolve
 * against. `get -o yaml` writes it; `apply` takes it off and uses it instead of the applying file's
 * folder, so the output applied from anywhere resolves the same paths.
 */
export const BASE_DIR_ANNOTATION = 'trantor.io/base-dir';

/** A DeliverySpec as Knative's API writes it: durations in ISO-8601. */
export interface DeliveryManifest {
  retry: number;
  backoffPolicy: 'exponential' | 'linear';
  backoffDelay: string;
  timeout?: string;
  deadLetterSink?: Destination;
  format: 'binary' | 'json';
}

export interface BrokerManifest extends Omit<Broker, 'spec'> {
  spec: { delivery?: DeliveryManifest };
}

/** A Trigger as Knative's API writes it: `filter.attributes` (`filter: {}` matches every event). */
export interface TriggerManifest extends Omit<Trigger, 'spec'> {
  spec: {
    broker: string;
    filter: { attributes?: Record<string, string> };
    filters?: FilterExpression[];
    subscriber: Destination;
    delivery?: DeliveryManifest;
  };
}

export interface ComponentSpecManifest extends Omit<ComponentSpec, 'containers'> {
  spec: { containers: Container[] };
}

export interface PredictorManifest extends Omit<Predictor, 'componentSpecs'> {
  componentSpecs: ComponentSpecManifest[];
}

export interface SeldonDeploymentManifest extends Omit<SeldonDeployment, 'spec' | 'baseDir'> {
  spec: Omit<SeldonDeployment['spec'], 'predictors'> & { predictors: PredictorManifest[] };
}

export type DeploymentManifest = Omit<Deployment, 'baseDir'>;

export function manifestOf(object: SeldonDeployment): SeldonDeploymentManifest;
export function manifestOf(object: Trigger): TriggerManifest;
export function manifestOf(object: Broker): BrokerManifest;
export function manifestOf(object: Service): Service;
export function manifestOf(object: Deployment): DeploymentManifest;
export function manifestOf(object: Mapping): Mapping;
export function manifestOf(object: Mapping | SeldonDeployment | Trigger | Broker | Service | Deployment): unknown {
  // The typed objects are the untyped case's well-formed inputs: one conversion serves both.
  const { baseDir, ...manifest } = object as Mapping;
  // Only an absolute folder pins anything (an API caller may have sent a relative one: restore passes that on as before).
  if (typeof baseDir === 'string' && isAbsolute(baseDir) && isMapping(manifest['metadata'])) {
    const metadata = manifest['metadata'];
    const annotations = isMapping(metadata['annotations']) ? metadata['annotations'] : {};
    manifest['metadata'] = { ...metadata, annotations: { ...annotations, [BASE_DIR_ANNOTATION]: baseDir } };
  }
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

/**
 * A document's `trantor.io/base-dir` annotation, taken off it: the document without it, and the
 * folder it names (undefined when there is none). A value that is not an absolute path is a problem.
 */
export function takeBaseDir(raw: Mapping): { raw: Mapping; baseDir?: string; problem?: string } {
  const metadata = raw['metadata'];
  const annotations = isMapping(metadata) ? metadata['annotations'] : undefined;
  if (!isMapping(metadata) || !isMapping(annotations) || !(BASE_DIR_ANNOTATION in annotations)) return { raw };
  const { [BASE_DIR_ANNOTATION]: baseDir, ...rest } = annotations;
  const without = { ...raw, metadata: { ...metadata, annotations: rest } };
  if (typeof baseDir !== 'string' || !isAbsolute(baseDir)) {
    return { raw: without, problem: `metadata.annotations.${BASE_DIR_ANNOTATION}: expected an absolute path (the folder relative paths resolve against), got ${JSON.stringify(baseDir)}` };
  }
  return { raw: without, baseDir };
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
        // The PodSpec as written when kept (containers is its typed view), else rebuilt from that view.
        const { containers, spec, ...rest } = component;
        return { ...rest, spec: isMapping(spec) ? spec : { containers } };
      });
      return { ...predictor, componentSpecs };
    }),
  };
}

/** Knative's order (broker, filter, filters, subscriber, delivery); an empty `filters` is left out, as Knative omits it. */
function triggerSpecOf(spec: Mapping): Mapping {
  const { broker, attributes, filters, subscriber, ...rest } = withDelivery(spec);
  const out: Mapping = {};
  if (broker !== undefined) out['broker'] = broker;
  if (attributes !== undefined) out['filter'] = isMapping(attributes) && Object.keys(attributes).length === 0 ? {} : { attributes };
  if (filters !== undefined && !(Array.isArray(filters) && filters.length === 0)) out['filters'] = filters;
  if (subscriber !== undefined) out['subscriber'] = subscriber;
  return { ...out, ...rest };
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

/** 200 → `PT0.2S`, 120000 → `PT2M`, 90000000 → `P1DT1H`: the largest units, as a person writes it. */
export function isoDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) return `PT${ms / 1000}S`;
  const days = Math.floor(ms / 86_400_000);
  const hours = Math.floor((ms % 86_400_000) / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const time = `${hours > 0 ? `${hours}H` : ''}${minutes > 0 ? `${minutes}M` : ''}${seconds > 0 ? `${seconds}S` : ''}`;
  if (days === 0) return `PT${time === '' ? '0S' : time}`;
  return `P${days}D${time === '' ? '' : `T${time}`}`;
}
