/**
 * Manifests in: YAML (one or many `---` documents) or JSON text becomes checked, defaulted
 * objects. Every problem of every document is collected first and reported in one error, so a
 * file is applied whole or not at all.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { BROKER_API_VERSIONS, TRIGGER_API_VERSIONS, readBroker, readConfigMap, readTrigger } from './eventing.ts';
import { isMapping, type Mapping } from './fields.ts';
import type { Broker, ConfigMap, Deployment, Service, Trigger } from './knative.ts';
import { DEPLOYMENT_API_VERSIONS, SERVICE_API_VERSIONS, readDeployment, readService } from './kubernetes.ts';
import { takeBaseDir } from './manifest-of.ts';
import { ManifestError, Problems, describe, field, item } from './problems.ts';
import { DEFAULT_MAX_REPLICAS, SELDON_API_VERSIONS, readSeldonDeployment } from './seldon-deployment.ts';
import type { ObjectMeta, SeldonDeployment } from './types.ts';

/** The objects a manifest text holds, one list per kind, each in the order of the text. */
export interface LoadedManifests {
  /** SeldonDeployments (machinelearning.seldon.io). */
  deployments: SeldonDeployment[];
  brokers: Broker[];
  triggers: Trigger[];
  services: Service[];
  /** apps/v1 Deployments (plain Kubernetes ones, not SeldonDeployments). */
  kubeDeployments: Deployment[];
  /** Knative's broker defaults (`knative-eventing/config-br-defaults`), the only ConfigMap taken. */
  configMaps: ConfigMap[];
}

export interface LoadOptions {
  /** Where the text came from (a file name), to start error messages with. */
  source?: string;
  /** The manifest's folder; relative paths in it (modelUri, workingDir) resolve against it. */
  baseDir?: string;
  /** The most `replicas` a predictor or componentSpec may ask for; default DEFAULT_MAX_REPLICAS (64). */
  maxReplicas?: number;
}

/**
 * How large a manifest may grow once its YAML aliases are expanded: 8 × its text, at least 1 MiB,
 * at most 16 MiB. YAML lets a 1 MB text name a 1 MiB anchor 300 times; read naively that is
 * 300 MiB in memory and on disk, so the expansion is measured (cheaply, each anchor once) and
 * refused before anything is built from it.
 */
export const EXPANSION_FACTOR = 8;
export const MIN_EXPANDED_BYTES = 2 ** 20;
export const MAX_EXPANDED_BYTES = 16 * 2 ** 20;
/** How many aliases one document may use (the `yaml` library's check, kept beside the size bound). */
export const MAX_ALIASES = 1000;

export function expansionLimit(textLength: number): number {
  return Math.min(MAX_EXPANDED_BYTES, Math.max(EXPANSION_FACTOR * textLength, MIN_EXPANDED_BYTES));
}

/** The kinds a manifest may hold. */
export type ManifestKind = 'SeldonDeployment' | 'Broker' | 'Trigger' | 'Service' | 'Deployment' | 'ConfigMap';

/** `Trigger/default/event-display`: one key per object, unique across kinds. */
export function objectKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * One supported kind: its API versions, and how a document of it is read into the result.
 * `read` returns the metadata of the object it added, or undefined when it added problems.
 */
interface KindReader {
  apiVersions: readonly string[];
  read(raw: Mapping, apiVersion: string, problems: Problems, options: LoadOptions, into: LoadedManifests): ObjectMeta | undefined;
}

/** Adds `object` to `list` and returns its metadata. */
function added<T extends { metadata: ObjectMeta }>(list: T[], object: T | undefined): ObjectMeta | undefined {
  if (object === undefined) return undefined;
  list.push(object);
  return object.metadata;
}

function versionOf<T extends string>(versions: readonly T[], apiVersion: string): T | undefined {
  return versions.find((v) => v === apiVersion);
}

const KINDS: Record<ManifestKind, KindReader> = {
  SeldonDeployment: {
    apiVersions: SELDON_API_VERSIONS,
    read(raw, apiVersion, problems, options, into) {
      const version = versionOf(SELDON_API_VERSIONS, apiVersion);
      if (version === undefined) return undefined;
      return added(into.deployments, readSeldonDeployment(raw, version, problems, options.baseDir, options.maxReplicas ?? DEFAULT_MAX_REPLICAS));
    },
  },
  Broker: {
    apiVersions: BROKER_API_VERSIONS,
    read(raw, apiVersion, problems, _options, into) {
      const version = versionOf(BROKER_API_VERSIONS, apiVersion);
      if (version === undefined) return undefined;
      return added(into.brokers, readBroker(raw, version, problems));
    },
  },
  Trigger: {
    apiVersions: TRIGGER_API_VERSIONS,
    read(raw, apiVersion, problems, _options, into) {
      const version = versionOf(TRIGGER_API_VERSIONS, apiVersion);
      if (version === undefined) return undefined;
      return added(into.triggers, readTrigger(raw, version, problems));
    },
  },
  Service: {
    apiVersions: SERVICE_API_VERSIONS,
    read(raw, _apiVersion, problems, _options, into) {
      return added(into.services, readService(raw, problems));
    },
  },
  Deployment: {
    apiVersions: DEPLOYMENT_API_VERSIONS,
    read(raw, _apiVersion, problems, options, into) {
      return added(into.kubeDeployments, readDeployment(raw, problems, options.baseDir));
    },
  },
  ConfigMap: {
    apiVersions: ['v1'],
    read(raw, _apiVersion, problems, _options, into) {
      return added(into.configMaps, readConfigMap(raw, problems));
    },
  },
};

function readerOf(kind: string): KindReader | undefined {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind as ManifestKind] : undefined;
}

/** `SeldonDeployment (machinelearning.seldon.io/v1, v1alpha2, v1alpha3)`, for every kind. */
function supportedKinds(): string {
  return Object.entries(KINDS)
    .map(([kind, reader]) => `${kind} (${versionList(reader.apiVersions)})`)
    .join(', ');
}

/** API versions of one group written once: `group/v1, v1alpha2`. */
function versionList(apiVersions: readonly string[]): string {
  let group = '';
  return apiVersions
    .map((apiVersion) => {
      const slash = apiVersion.lastIndexOf('/');
      const thisGroup = apiVersion.slice(0, slash + 1);
      if (thisGroup === group) return apiVersion.slice(slash + 1);
      group = thisGroup;
      return apiVersion;
    })
    .join(', ');
}

/** One object to read: a YAML document, or an item of a `kind: List` document. */
interface Entry {
  /** `document 2` or `document 2 items[0]` */
  where: string;
  raw: unknown;
  /** Syntax problems found while parsing; the entry is not read when there are any. */
  syntax: string[];
}

/**
 * Parses, checks and defaults the manifests in `text`. Throws a ManifestError (code BAD_MANIFEST)
 * listing every problem, each naming its field path, when any document is not valid; returns
 * nothing in that case, so nothing can be half-applied.
 */
export function loadManifests(text: string, options: LoadOptions = {}): LoadedManifests {
  const entries = parseEntries(text, expansionLimit(text.length));
  if (entries.length === 0) {
    throw new ManifestError(['no manifest found: the text is empty or holds only comments'], options.source);
  }
  const many = entries.length > 1;
  const loaded: LoadedManifests = { deployments: [], brokers: [], triggers: [], services: [], kubeDeployments: [], configMaps: [] };
  const allProblems: string[] = [];
  const definedBy = new Map<string, string>();

  for (const entry of entries) {
    const problems = new Problems();
    let label = '';
    if (entry.syntax.length > 0) {
      if (isMapping(entry.raw)) label = labelOf(entry.raw);
      for (const message of entry.syntax) problems.add('', message);
    } else if (!isMapping(entry.raw)) {
      problems.add('', `expected a mapping with apiVersion, kind, metadata and spec, got ${describe(entry.raw)}`);
    } else {
      label = labelOf(entry.raw);
      const kind = String(entry.raw['kind']);
      const metadata = readEntry(entry.raw, problems, options, loaded);
      if (metadata !== undefined) {
        const key = objectKey(kind, metadata.namespace, metadata.name);
        const first = definedBy.get(key);
        if (first !== undefined) {
          problems.add('metadata.name', `${kind} ${metadata.namespace}/${metadata.name} is defined twice (also by ${first})`);
        } else definedBy.set(key, entry.where);
      }
    }
    const prefix = many ? `${entry.where}${label === '' ? '' : ` (${label})`}: ` : '';
    for (const problem of problems.list) allProblems.push(prefix + problem);
  }

  if (allProblems.length > 0) throw new ManifestError(allProblems, options.source);
  return loaded;
}

function readEntry(raw: Mapping, problems: Problems, options: LoadOptions, into: LoadedManifests): ObjectMeta | undefined {
  const kind = raw['kind'];
  const apiVersion = raw['apiVersion'];
  if (kind === undefined || kind === null || kind === '') {
    problems.add('kind', `required; supported: ${supportedKinds()}`);
    return undefined;
  }
  if (typeof kind !== 'string') {
    problems.add('kind', `expected a string, got ${describe(kind)}`);
    return undefined;
  }
  const reader = readerOf(kind);
  if (reader === undefined) {
    problems.add('', `kind ${kind} is not supported yet; supported: ${supportedKinds()}`);
    return undefined;
  }
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    problems.add('apiVersion', `required; for kind ${kind} use ${reader.apiVersions.length > 1 ? 'one of ' : ''}${reader.apiVersions.join(', ')}`);
    return undefined;
  }
  if (typeof apiVersion !== 'string' || !reader.apiVersions.includes(apiVersion)) {
    problems.add('apiVersion', `${describe(apiVersion)} is not supported for kind ${kind}; supported: ${versionList(reader.apiVersions)}`);
    return undefined;
  }
  // A base-dir annotation (written by `get -o yaml`) pins where relative paths resolve.
  const pinned = takeBaseDir(raw);
  if (pinned.problem !== undefined) problems.add('', pinned.problem);
  return reader.read(pinned.raw, apiVersion, problems, pinned.baseDir === undefined ? options : { ...options, baseDir: pinned.baseDir }, into);
}

/** `SeldonDeployment iris-model`, `SeldonDeployment`, or `kind Broker` for a kind not supported. */
function labelOf(raw: Mapping): string {
  const kind = raw['kind'];
  if (typeof kind !== 'string' || kind === '') return '';
  if (readerOf(kind) === undefined) return `kind ${kind}`;
  const metadata = raw['metadata'];
  const name = isMapping(metadata) ? metadata['name'] : undefined;
  return typeof name === 'string' && name !== '' ? `${kind} ${name}` : kind;
}

function parseEntries(text: string, expansionBudget: number): Entry[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const entries: Entry[] = [];
  let budget = expansionBudget;
  documents.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    // Measured before toJS: nothing is built from a document that expands past the bound.
    const size = expandedSize(doc, budget);
    if (size > budget) {
      const limit = expansionLimit(text.length);
      entries.push({
        where,
        raw: undefined,
        syntax: [
          `the manifest expands to more than ${limit} bytes through its YAML aliases (*name references to &name anchors); ` +
            `the limit is ${EXPANSION_FACTOR} × the text's size, at least ${MIN_EXPANDED_BYTES} and at most ${MAX_EXPANDED_BYTES} bytes: write the values out, or use fewer aliases`,
        ],
      });
      budget = 0;
      return;
    }
    budget -= size;
    if (doc.errors.length > 0) {
      const syntax = doc.errors.map((err) => {
        const offset = firstNonBlank(text, err.pos[0]);
        const { line, col } = lineCounter.linePos(offset);
        const path = pathAt(doc, offset);
        return `YAML syntax error at line ${line}, column ${col}${path === '' ? '' : ` (at ${path})`}: ${err.message}`;
      });
      // What could be read of the document still names it (`Deployment event-display`) in the message.
      let partial: unknown;
      try {
        partial = doc.toJS({ maxAliasCount: MAX_ALIASES });
      } catch {
        partial = undefined;
      }
      entries.push({ where, raw: partial, syntax });
      return;
    }
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      entries.push({ where, raw: undefined, syntax: [`cannot read the document: ${err instanceof Error ? err.message : String(err)}`] });
      return;
    }
    if (raw === null || raw === undefined) return;
    if (isMapping(raw) && raw['kind'] === 'List' && Array.isArray(raw['items'])) {
      raw['items'].forEach((value: unknown, j) => entries.push({ where: `${where} items[${j}]`, raw: value, syntax: [] }));
      return;
    }
    entries.push({ where, raw, syntax: [] });
  });
  return entries;
}

/**
 * The size of a document with every alias expanded: the characters of its keys and scalars plus
 * one per node. An anchored node is measured once and its size reused for each alias, so a
 * billion-laughs document costs no more to measure than to parse; counting stops once `limit` is
 * passed (the answer is then only "more than limit").
 */
function expandedSize(doc: Document.Parsed, limit: number): number {
  const measured = new Map<unknown, number>();
  const measure = (node: unknown): number => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target === undefined) return 1;
      const known = measured.get(target);
      if (known !== undefined) return known;
      measured.set(target, 1); // an alias inside its own anchor (a cycle) counts once
      const size = measure(target);
      measured.set(target, size);
      return size;
    }
    if (isScalar(node)) return 1 + (typeof node.value === 'string' ? node.value.length : String(node.value).length);
    let size = 1;
    if (isMap(node)) {
      for (const pair of node.items) {
        size += measure(pair.key) + measure(pair.value);
        if (size > limit) return size;
      }
    } else if (isSeq(node)) {
      for (const value of node.items) {
        size += measure(value);
        if (size > limit) return size;
      }
    }
    return size;
  };
  return measure(doc.contents);
}

/** An error pointing at the indentation of a line is about what follows it on that line. */
function firstNonBlank(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  return i < text.length && text[i] !== '\n' && text[i] !== '\r' ? i : offset;
}

/** The field path (`spec.ref`, `metadata["n ame"]`) of the deepest key or value holding `offset`. */
function pathAt(doc: Document.Parsed, offset: number): string {
  let path = '';
  let node: unknown = doc.contents;
  const holds = (n: unknown): boolean => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    return range !== undefined && offset >= range[0] && offset < Math.max(range[1], range[2]);
  };
  for (let depth = 0; depth < 100; depth++) {
    let next: unknown;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        if (holds(pair.key)) return field(path, key);
        if (holds(pair.value)) {
          path = field(path, key);
          next = pair.value;
          break;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((value, i) => {
        if (next === undefined && holds(value)) {
          path = item(path, i);
          next = value;
        }
      });
    }
    if (next === undefined) return path;
    node = next;
  }
  return path;
}
