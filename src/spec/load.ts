/**
 * Manifests in: YAML (one or many `---` documents) or JSON text becomes checked, defaulted
 * objects. Every problem of every document is collected first and reported in one error, so a
 * file is applied whole or not at all.
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { isMapping, type Mapping } from './fields.ts';
import { ManifestError, Problems, describe } from './problems.ts';
import { SELDON_API_VERSIONS, deploymentKey, readSeldonDeployment } from './seldon-deployment.ts';
import type { SeldonDeployment } from './types.ts';

/** The objects a manifest text holds, one list per kind (eventing kinds join later). */
export interface LoadedManifests {
  deployments: SeldonDeployment[];
}

export interface LoadOptions {
  /** Where the text came from (a file name), to start error messages with. */
  source?: string;
  /** The manifest's folder; relative paths in it (modelUri, workingDir) resolve against it. */
  baseDir?: string;
}

/** One supported kind: its API versions, and how a document of it is read into the result. */
interface KindReader {
  apiVersions: readonly string[];
  read(raw: Mapping, apiVersion: string, problems: Problems, options: LoadOptions, into: LoadedManifests): void;
}

const KINDS: Record<string, KindReader> = {
  SeldonDeployment: {
    apiVersions: SELDON_API_VERSIONS,
    read(raw, apiVersion, problems, options, into) {
      const version = SELDON_API_VERSIONS.find((v) => v === apiVersion);
      if (version === undefined) return;
      const deployment = readSeldonDeployment(raw, version, problems, options.baseDir);
      if (deployment !== undefined) into.deployments.push(deployment);
    },
  },
};

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
  const entries = parseEntries(text);
  if (entries.length === 0) {
    throw new ManifestError(['no manifest found: the text is empty or holds only comments'], options.source);
  }
  const many = entries.length > 1;
  const loaded: LoadedManifests = { deployments: [] };
  const allProblems: string[] = [];
  const definedBy = new Map<string, string>();

  for (const entry of entries) {
    const problems = new Problems();
    let label = '';
    if (entry.syntax.length > 0) {
      for (const message of entry.syntax) problems.add('', message);
    } else if (!isMapping(entry.raw)) {
      problems.add('', `expected a mapping with apiVersion, kind, metadata and spec, got ${describe(entry.raw)}`);
    } else {
      label = labelOf(entry.raw);
      const before = loaded.deployments.length;
      readEntry(entry.raw, problems, options, loaded);
      const added = loaded.deployments[before];
      if (added !== undefined) {
        const key = deploymentKey(added);
        const first = definedBy.get(key);
        if (first !== undefined) {
          problems.add('metadata.name', `SeldonDeployment ${key} is defined twice (also by ${first})`);
        } else definedBy.set(key, entry.where);
      }
    }
    const prefix = many ? `${entry.where}${label === '' ? '' : ` (${label})`}: ` : '';
    for (const problem of problems.list) allProblems.push(prefix + problem);
  }

  if (allProblems.length > 0) throw new ManifestError(allProblems, options.source);
  return loaded;
}

function readEntry(raw: Mapping, problems: Problems, options: LoadOptions, into: LoadedManifests): void {
  const kind = raw['kind'];
  const apiVersion = raw['apiVersion'];
  if (kind === undefined || kind === null || kind === '') {
    problems.add('kind', `required; supported: ${supportedKinds()}`);
    return;
  }
  if (typeof kind !== 'string') {
    problems.add('kind', `expected a string, got ${describe(kind)}`);
    return;
  }
  const reader = KINDS[kind];
  if (reader === undefined) {
    problems.add('', `kind ${kind} is not supported yet; supported: ${supportedKinds()}`);
    return;
  }
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    problems.add('apiVersion', `required; for kind ${kind} use one of ${reader.apiVersions.join(', ')}`);
    return;
  }
  if (typeof apiVersion !== 'string' || !reader.apiVersions.includes(apiVersion)) {
    problems.add('apiVersion', `${describe(apiVersion)} is not supported for kind ${kind}; supported: ${versionList(reader.apiVersions)}`);
    return;
  }
  reader.read(raw, apiVersion, problems, options, into);
}

/** `SeldonDeployment iris-model`, `SeldonDeployment`, or `kind Broker` for a kind not supported. */
function labelOf(raw: Mapping): string {
  const kind = raw['kind'];
  if (typeof kind !== 'string' || kind === '') return '';
  if (KINDS[kind] === undefined) return `kind ${kind}`;
  const metadata = raw['metadata'];
  const name = isMapping(metadata) ? metadata['name'] : undefined;
  return typeof name === 'string' && name !== '' ? `${kind} ${name}` : kind;
}

function parseEntries(text: string): Entry[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const entries: Entry[] = [];
  documents.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    if (doc.errors.length > 0) {
      const syntax = doc.errors.map((err) => {
        const { line, col } = lineCounter.linePos(err.pos[0]);
        return `YAML syntax error at line ${line}, column ${col}: ${err.message}`;
      });
      entries.push({ where, raw: undefined, syntax });
      return;
    }
    let raw: unknown;
    try {
      raw = doc.toJS({ maxAliasCount: 1000 });
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
