/**
 * Applied manifests on disk, one JSON file per object (`<root>/<plural>/<namespace>/<name>.json`),
 * so a restart of `trantor up` brings every object back. Writes go to a temporary file first and
 * are renamed into place, so a crash never leaves a half-written manifest.
 *
 * Reading back trusts nothing: a file may have been edited by hand, written by an older version,
 * or stored before a limit existed. `files()` hands out each file's text with where it lies, and
 * whoever restores it checks it as `apply` would, so one bad file is reported by its path and
 * skipped while the others come back.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_EXPANDED_BYTES, dns1123LabelProblem, dns1123SubdomainProblem, type SeldonDeployment } from '../manifest/index.ts';

/**
 * A stored file larger than this is not read: no manifest `apply` accepts is (its expanded size is
 * bounded, and pretty-printed JSON adds at most a few times that). Reading one that an older
 * version stored anyway would cost the memory the bound is there to save.
 */
const MAX_STORED_FILE_BYTES = 4 * MAX_EXPANDED_BYTES;

export interface Stored<T> {
  object: T;
  createdAt: string;
}

export interface StoredDeployment {
  deployment: SeldonDeployment;
  createdAt: string;
}

/** One stored file as read from disk, not yet checked. */
export interface StoredFile {
  file: string;
  /** The namespace and name its path says it holds. */
  namespace: string;
  name: string;
  text: string;
}

/** A stored file that could not be restored, and why. */
export interface SkippedFile {
  file: string;
  reason: string;
}

/** What a restore brought back, and the stored files it could not use. */
export interface RestoreReport {
  restored: number;
  skipped: SkippedFile[];
}

/**
 * The envelope every stored file has, `{"<field>": {…}, "createdAt": "…"}`: the object (still to
 * be checked) and when it was first applied. Throws an Error saying what is wrong otherwise.
 */
export function readEnvelope(text: string, field: 'deployment' | 'object'): { value: Record<string, unknown>; createdAt: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const envelope = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  const value = envelope?.[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`expected {"${field}": {…}, "createdAt": "…"}`);
  const createdAt = envelope?.['createdAt'];
  return { value: value as Record<string, unknown>, createdAt: typeof createdAt === 'string' ? createdAt : new Date().toISOString() };
}

let writeCount = 0;

export class ManifestStore {
  constructor(private readonly root: string) {}

  /** Refuses any name that could leave the store's root (`..`, `/`): callers validate first, this is the backstop. */
  private fileOf(plural: string, namespace: string, name: string): string {
    const problem = dns1123LabelProblem(plural) ?? dns1123LabelProblem(namespace) ?? dns1123SubdomainProblem(name);
    if (problem !== undefined) throw new Error(`manifest store: refusing ${plural}/${namespace}/${name}: ${problem}`);
    return join(this.root, plural, namespace, `${name}.json`);
  }

  async saveObject<T>(plural: string, namespace: string, name: string, entry: Stored<T>): Promise<void> {
    await this.#write(this.fileOf(plural, namespace, name), entry);
  }

  async removeObject(plural: string, namespace: string, name: string): Promise<void> {
    await rm(this.fileOf(plural, namespace, name), { force: true });
  }

  /** Every stored file of a kind, unchecked; what cannot even be read is in `skipped`. */
  async files(plural: string): Promise<{ files: StoredFile[]; skipped: SkippedFile[] }> {
    const base = join(this.root, plural);
    const files: StoredFile[] = [];
    const skipped: SkippedFile[] = [];
    let namespaces: string[];
    try {
      namespaces = await readdir(base);
    } catch {
      return { files, skipped };
    }
    for (const namespace of namespaces.sort()) {
      let names: string[];
      try {
        names = await readdir(join(base, namespace));
      } catch (err) {
        skipped.push({ file: join(base, namespace), reason: reasonOf(err) });
        continue;
      }
      for (const entry of names.sort()) {
        if (!entry.endsWith('.json')) continue;
        const file = join(base, namespace, entry);
        try {
          const { size } = await stat(file);
          if (size > MAX_STORED_FILE_BYTES) throw new Error(`${size} bytes is larger than any manifest apply accepts (${MAX_STORED_FILE_BYTES})`);
          files.push({ file, namespace, name: entry.slice(0, -'.json'.length), text: await readFile(file, 'utf8') });
        } catch (err) {
          skipped.push({ file, reason: reasonOf(err) });
        }
      }
    }
    return { files, skipped };
  }

  async save(entry: StoredDeployment): Promise<void> {
    const { namespace, name } = entry.deployment.metadata;
    await this.#write(this.fileOf('seldondeployments', namespace, name), entry);
  }

  async remove(namespace: string, name: string): Promise<void> {
    await this.removeObject('seldondeployments', namespace, name);
  }

  async #write(file: string, value: unknown): Promise<void> {
    await mkdir(join(file, '..'), { recursive: true });
    // Unique per write: two concurrent writes of one object must not share (and rename away) one temp file.
    const temp = `${file}.${process.pid}.${++writeCount}.tmp`;
    await writeFile(temp, JSON.stringify(value, null, 2));
    await rename(temp, file);
  }
}

export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
