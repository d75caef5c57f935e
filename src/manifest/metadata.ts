/**
 * `metadata` as every kind has it: a name, a namespace (`default` when not set), labels and
 * annotations.
 */
import type { Fields } from './fields.ts';
import { dns1123LabelProblem } from './names.ts';
import type { ObjectMeta } from './types.ts';

/** The metadata fields Trantor reads or Kubernetes sets; any other key is a likely typo. */
const KNOWN_METADATA = new Set([
  'name',
  'namespace',
  'labels',
  'annotations',
  'generation',
  'generateName',
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'finalizers',
  'ownerReferences',
  'managedFields',
  'selfLink',
]);

/** Reads `metadata`; undefined (with the problems added) when it has no usable name. */
export function readMetadata(doc: Fields): ObjectMeta | undefined {
  if (!doc.required('metadata')) return undefined;
  const m = doc.mapping('metadata');
  if (m === undefined) return undefined;
  const unknown = m.has('name') ? [] : Object.keys(m.raw).filter((key) => !KNOWN_METADATA.has(key));
  let name: string | undefined;
  if (unknown.length > 0) {
    m.problems.add(m.at('name'), `required (found ${unknown.map((k) => JSON.stringify(k)).join(', ')} instead: is the key "name" misspelt or split?)`);
  } else {
    name = m.name('name');
    if (name !== undefined) dns1123(m, 'name', name);
  }
  const namespace = m.string('namespace');
  if (namespace !== undefined && namespace !== '') dns1123(m, 'namespace', namespace);
  const meta: ObjectMeta = {
    name: name ?? '',
    namespace: namespace === undefined || namespace === '' ? 'default' : namespace,
    labels: m.stringMap('labels'),
    annotations: m.stringMap('annotations'),
  };
  const generation = m.integer('generation', 0);
  if (generation !== undefined) meta.generation = generation;
  return name === undefined ? undefined : meta;
}

/** Adds a problem at `fields.key` when `value` is not a DNS-1123 label. */
export function dns1123(fields: Fields, key: string, value: string): void {
  const problem = dns1123LabelProblem(value);
  if (problem !== undefined) fields.problems.add(fields.at(key), problem);
}
