/**
 * Knative Eventing documents — Broker and Trigger — checked the way Knative's admission webhook
 * checks them and defaulted the way its defaulting webhook does, into the shapes of knative.ts.
 */
import { parse as parseYaml } from 'yaml';
import { durationProblemMessage, isoDurationMs } from './duration.ts';
import { Fields, isMapping } from './fields.ts';
import { dns1123, readMetadata } from './metadata.ts';
import { describe, field, item, Problems, type FieldPath } from './problems.ts';
import type { Broker, BrokerClassDefaults, BrokerDefaults, ConfigMap, DeliverySpec, Destination, FilterExpression, KReference, Trigger } from './knative.ts';

export const BROKER_API_VERSIONS = ['eventing.knative.dev/v1'] as const satisfies readonly Broker['apiVersion'][];

export const TRIGGER_API_VERSIONS = [
  'eventing.knative.dev/v1',
  'eventing.knative.dev/v1beta1',
  'eventing.knative.dev/v1alpha1',
] as const satisfies readonly Trigger['apiVersion'][];

/** The broker a Trigger names when it names none. */
export const DEFAULT_BROKER = 'default';

/** Knative's default `backoffDelay` (PT0.2S). */
export const DEFAULT_BACKOFF_DELAY_MS = 200;

/**
 * The delivery a trigger gets when neither it nor its broker sets one, and no `config-br-defaults`
 * ConfigMap is applied: Knative's shipped `config-br-defaults` (retry 10, exponential, PT0.2S).
 */
export const BUILT_IN_DELIVERY: Readonly<DeliverySpec> = Object.freeze({
  retry: 10,
  backoffPolicy: 'exponential',
  backoffDelayMs: DEFAULT_BACKOFF_DELAY_MS,
  format: 'binary',
});

const BACKOFF_POLICIES = ['exponential', 'linear'] as const satisfies readonly DeliverySpec['backoffPolicy'][];
const DELIVERY_FORMATS = ['binary', 'json'] as const satisfies readonly DeliverySpec['format'][];
const FILTER_DIALECTS = ['exact', 'prefix', 'suffix', 'all', 'any', 'not'] as const;

/** Knative's rule for attribute names in filters: a lower-case letter, then lower-case letters and digits. */
const FILTER_ATTRIBUTE_NAME = /^[a-z][a-z0-9]*$/;

/** Knative's broker defaults: this ConfigMap, in this namespace, under this data key. */
export const BROKER_DEFAULTS_CONFIG_MAP = { namespace: 'knative-eventing', name: 'config-br-defaults', key: 'default-br-config' } as const;

/**
 * Checks one ConfigMap document. Only Knative's `knative-eventing/config-br-defaults` is taken
 * (its `default-br-config` checked as Knative reads it); any other ConfigMap is refused with the
 * reason, rather than stored and silently ignored.
 */
export function readConfigMap(raw: Record<string, unknown>, problems: Problems): ConfigMap | undefined {
  const before = problems.size;
  const doc = new Fields(raw, '', problems);
  const metadata = readMetadata(doc);
  if (metadata === undefined) return undefined;
  const { namespace, name, key } = BROKER_DEFAULTS_CONFIG_MAP;
  if (metadata.name !== name || metadata.namespace !== namespace) {
    problems.add(
      'metadata',
      `ConfigMap ${metadata.namespace}/${metadata.name} is not read here: the only ConfigMap taken is Knative's broker defaults, ${name} in namespace ${namespace}`,
    );
    return undefined;
  }
  const data = doc.stringMap('data');
  const text = data[key];
  if (text === undefined) problems.add(field(doc.at('data'), key), "required: YAML with clusterDefault (and optionally namespaceDefaults)");
  else readBrokerDefaults(text, field(doc.at('data'), key), problems);
  if (problems.size > before) return undefined;
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata, data };
}

/** The broker defaults a `config-br-defaults` ConfigMap holds (it was checked when loaded). */
export function brokerDefaultsOf(configMap: ConfigMap): BrokerDefaults {
  const problems = new Problems();
  return readBrokerDefaults(configMap.data[BROKER_DEFAULTS_CONFIG_MAP.key] ?? '', BROKER_DEFAULTS_CONFIG_MAP.key, problems);
}

/** The delivery defaults for brokers in `namespace`: its `namespaceDefaults` entry, else `clusterDefault`. */
export function defaultDeliveryFor(defaults: BrokerDefaults, namespace: string): DeliverySpec | undefined {
  const level = Object.hasOwn(defaults.namespaceDefaults, namespace) ? defaults.namespaceDefaults[namespace] : defaults.clusterDefault;
  return level?.delivery;
}

/** `default-br-config`: `clusterDefault` and `namespaceDefaults.<ns>`, each with `brokerClass` and `delivery`. */
function readBrokerDefaults(text: string, path: FieldPath, problems: Problems): BrokerDefaults {
  const defaults: BrokerDefaults = { namespaceDefaults: {} };
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    problems.add(path, `not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return defaults;
  }
  if (value === null || value === undefined) return defaults;
  if (!isMapping(value)) {
    problems.add(path, `expected a mapping with clusterDefault and namespaceDefaults, got ${describe(value)}`);
    return defaults;
  }
  const config = new Fields(value, path, problems);
  const cluster = config.mapping('clusterDefault');
  // A Destination without a namespace is taken in the broker's namespace: left empty here.
  if (cluster !== undefined) defaults.clusterDefault = readClassDefaults(cluster);
  const namespaces = config.mapping('namespaceDefaults');
  for (const ns of Object.keys(namespaces?.raw ?? {})) {
    const level = namespaces?.mapping(ns);
    if (level !== undefined) defaults.namespaceDefaults[ns] = readClassDefaults(level);
  }
  return defaults;
}

function readClassDefaults(level: Fields): BrokerClassDefaults {
  const out: BrokerClassDefaults = {};
  const brokerClass = level.string('brokerClass');
  if (brokerClass !== undefined) out.brokerClass = brokerClass;
  const delivery = level.mapping('delivery');
  if (delivery !== undefined) out.delivery = readDelivery(delivery, '');
  return out;
}

/** Checks and defaults one Broker document; undefined when it added problems. */
export function readBroker(raw: Record<string, unknown>, apiVersion: Broker['apiVersion'], problems: Problems): Broker | undefined {
  const before = problems.size;
  const doc = new Fields(raw, '', problems);
  const metadata = readMetadata(doc);
  const spec = doc.mapping('spec');
  // spec.config points at a ConfigMap choosing the broker class; locally there is one class.
  const delivery = spec?.mapping('delivery');
  const broker: Broker = { apiVersion, kind: 'Broker', metadata: metadata ?? emptyMeta(), spec: {} };
  if (delivery !== undefined) broker.spec.delivery = readDelivery(delivery, broker.metadata.namespace);
  if (problems.size > before || metadata === undefined) return undefined;
  return broker;
}

/** Checks and defaults one Trigger document (v1, v1beta1 or v1alpha1); undefined when it added problems. */
export function readTrigger(raw: Record<string, unknown>, apiVersion: Trigger['apiVersion'], problems: Problems): Trigger | undefined {
  const before = problems.size;
  const doc = new Fields(raw, '', problems);
  const metadata = readMetadata(doc);
  const namespace = metadata?.namespace ?? 'default';
  const s = doc.required('spec') ? doc.mapping('spec') : undefined;
  if (s === undefined) return undefined;

  const brokerName = s.string('broker');
  const broker = brokerName === undefined || brokerName === '' ? DEFAULT_BROKER : brokerName;
  if (brokerName !== undefined && brokerName !== '') dns1123(s, 'broker', brokerName);

  const attributes: Record<string, string> = {};
  const filter = s.mapping('filter');
  if (filter !== undefined) {
    Object.assign(attributes, readAttributes(filter));
    if (apiVersion === 'eventing.knative.dev/v1alpha1') Object.assign(attributes, readSourceAndType(filter));
  }
  const filters: FilterExpression[] = [];
  (s.list('filters') ?? []).forEach((value, i) => {
    const expression = readFilter(value, item(s.at('filters'), i), problems);
    if (expression !== undefined) filters.push(expression);
  });

  let subscriber: Destination | undefined;
  if (s.has('subscriber')) {
    const sub = s.mapping('subscriber');
    if (sub !== undefined) subscriber = readDestination(sub, namespace);
  } else {
    const misplaced = ['ref', 'uri'].filter((key) => s.has(key));
    const hint = misplaced.length > 0 ? ` (found ${misplaced.map((k) => s.at(k)).join(' and ')}: indent ${misplaced.length > 1 ? 'them' : 'it'} under subscriber)` : '';
    problems.add(s.at('subscriber'), `required: a ref to an object or a uri${hint}`);
  }

  const deliveryFields = s.mapping('delivery');
  const delivery = deliveryFields === undefined ? undefined : readDelivery(deliveryFields, namespace);
  if (problems.size > before || metadata === undefined || subscriber === undefined) return undefined;
  const trigger: Trigger = { apiVersion, kind: 'Trigger', metadata, spec: { broker, attributes, filters, subscriber } };
  if (delivery !== undefined) trigger.spec.delivery = delivery;
  return trigger;
}

function emptyMeta(): Broker['metadata'] {
  return { name: '', namespace: 'default', labels: {}, annotations: {} };
}

/** `filter.attributes`: exact matches; an empty (or null) value asks only that the attribute be present. */
function readAttributes(filter: Fields): Record<string, string> {
  const out: Record<string, string> = {};
  const attrs = filter.mapping('attributes');
  if (attrs === undefined) return out;
  for (const [name, value] of Object.entries(attrs.raw)) {
    checkAttributeName(attrs, name);
    if (value === null || value === undefined) out[name] = '';
    else if (typeof value === 'string') out[name] = value;
    else attrs.problems.add(attrs.at(name), `expected a string, got ${describe(value)}${typeof value === 'number' || typeof value === 'boolean' ? ` (quote it: "${String(value)}")` : ''}`);
  }
  return out;
}

/** v1alpha1's `filter.sourceAndType`: `Any` (or empty) matches every value. */
function readSourceAndType(filter: Fields): Record<string, string> {
  const out: Record<string, string> = {};
  const st = filter.mapping('sourceAndType');
  if (st === undefined) return out;
  for (const key of ['type', 'source'] as const) {
    const value = st.string(key);
    if (value !== undefined && value !== '' && value !== 'Any') out[key] = value;
  }
  return out;
}

function checkAttributeName(fields: Fields, name: string): boolean {
  if (FILTER_ATTRIBUTE_NAME.test(name)) return true;
  fields.problems.add(fields.at(name), `${JSON.stringify(name)} is not a valid attribute name: start with a lower-case letter, then only lower-case letters and digits`);
  return false;
}

/** One expression of the `filters` dialect: exactly one of exact, prefix, suffix, all, any, not. */
function readFilter(value: unknown, path: FieldPath, problems: Problems): FilterExpression | undefined {
  if (!isMapping(value)) {
    problems.add(path, `expected a mapping with one of ${FILTER_DIALECTS.join(', ')}, got ${describe(value)}`);
    return undefined;
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (keys.length !== 1) {
    const got = keys.length === 0 ? 'none' : keys.join(' and ');
    problems.add(path, `expected exactly one of ${FILTER_DIALECTS.join(', ')}, got ${got}`);
    return undefined;
  }
  const key = keys[0] ?? '';
  const f = new Fields(value, path, problems);
  if (value[key] === null) {
    problems.add(f.at(key), 'expected a value, got null');
    return undefined;
  }
  switch (key) {
    case 'exact':
    case 'prefix':
    case 'suffix': {
      const single = readSingleAttribute(f, key);
      if (single === undefined) return undefined;
      if (key === 'exact') return { exact: single };
      return key === 'prefix' ? { prefix: single } : { suffix: single };
    }
    case 'all':
    case 'any': {
      const list = f.list(key);
      if (list === undefined) return undefined;
      const before = problems.size;
      const expressions: FilterExpression[] = [];
      list.forEach((v, i) => {
        const e = readFilter(v, item(f.at(key), i), problems);
        if (e !== undefined) expressions.push(e);
      });
      if (problems.size > before) return undefined;
      return key === 'all' ? { all: expressions } : { any: expressions };
    }
    case 'not': {
      const inner = readFilter(value['not'], f.at('not'), problems);
      return inner === undefined ? undefined : { not: inner };
    }
    case 'cesql':
      problems.add(f.at('cesql'), `CloudEvents SQL expressions are not supported yet; use ${FILTER_DIALECTS.join(', ')}`);
      return undefined;
    default:
      problems.add(field(path, key), `unknown filter dialect; use one of ${FILTER_DIALECTS.join(', ')}`);
      return undefined;
  }
}

/** exact, prefix and suffix each name one attribute (Knative rejects more than one). */
function readSingleAttribute(f: Fields, key: string): Record<string, string> | undefined {
  const m = f.mapping(key);
  if (m === undefined) return undefined;
  const entries = Object.entries(m.raw);
  if (entries.length !== 1) {
    f.problems.add(m.path, `expected exactly one attribute, got ${entries.length}${entries.length > 1 ? '; combine several with all' : ''}`);
    return undefined;
  }
  const [name, value] = entries[0] ?? ['', ''];
  if (!checkAttributeName(m, name)) return undefined;
  if (value === null) return { [name]: '' };
  if (typeof value !== 'string') {
    m.problems.add(m.at(name), `expected a string, got ${describe(value)}`);
    return undefined;
  }
  return { [name]: value };
}

/**
 * A Destination: `ref` to an addressable object, an absolute `uri`, or both (then the uri is
 * relative to the object's address). `ref.namespace` defaults to `namespace`.
 */
function readDestination(d: Fields, namespace: string): Destination | undefined {
  const before = d.problems.size;
  const destination: Destination = {};
  const r = d.mapping('ref');
  if (r !== undefined) {
    const apiVersion = r.name('apiVersion');
    const kind = r.name('kind');
    const name = r.name('name');
    const ns = r.string('namespace');
    if (apiVersion !== undefined && kind !== undefined && name !== undefined) {
      const ref: KReference = { apiVersion, kind, name, namespace: ns === undefined || ns === '' ? namespace : ns };
      destination.ref = ref;
    }
  }
  const uri = d.string('uri');
  if (uri !== undefined && uri !== '') {
    const absolute = isAbsoluteUri(uri);
    if (d.has('ref') && absolute) {
      d.problems.add(d.at('uri'), `${JSON.stringify(uri)} is absolute; with a ref, the uri is a path relative to the object's address (e.g. /api/v1.0/predictions)`);
    } else if (!d.has('ref') && !absolute) {
      d.problems.add(d.at('uri'), `${JSON.stringify(uri)} is not an absolute http or https URL; give a full URL, or a ref with this as a relative path`);
    }
    destination.uri = uri;
  }
  if (!d.has('ref') && (uri === undefined || uri === '')) d.problems.add(d.path, 'expected a ref (apiVersion, kind, name) or a uri');
  return d.problems.size > before ? undefined : destination;
}

function isAbsoluteUri(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** A DeliverySpec with Knative's defaults: no retry, exponential backoff from PT0.2S, binary format. */
function readDelivery(d: Fields, namespace: string): DeliverySpec {
  const delivery: DeliverySpec = {
    retry: d.integer('retry', 0) ?? 0,
    backoffPolicy: d.oneOf('backoffPolicy', BACKOFF_POLICIES) ?? 'exponential',
    backoffDelayMs: readDuration(d, 'backoffDelay', false) ?? DEFAULT_BACKOFF_DELAY_MS,
    format: d.oneOf('format', DELIVERY_FORMATS) ?? 'binary',
  };
  const timeoutMs = readDuration(d, 'timeout', true);
  if (timeoutMs !== undefined) delivery.timeoutMs = timeoutMs;
  const sink = d.mapping('deadLetterSink');
  if (sink !== undefined) {
    const destination = readDestination(sink, namespace);
    if (destination !== undefined) delivery.deadLetterSink = destination;
  }
  return delivery;
}

/** An ISO-8601 duration field in milliseconds; `positive` refuses zero. */
function readDuration(d: Fields, key: string, positive: boolean): number | undefined {
  const text = d.string(key);
  if (text === undefined || text === '') return undefined;
  const ms = isoDurationMs(text);
  if (typeof ms !== 'number') {
    d.problems.add(d.at(key), durationProblemMessage(text, ms));
    return undefined;
  }
  if (positive && ms <= 0) {
    d.problems.add(d.at(key), `${JSON.stringify(text)} must be longer than zero`);
    return undefined;
  }
  return ms;
}
