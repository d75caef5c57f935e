/**
 * Applied manifests on disk, one JSON file per object (`<root>/<plural>/<namespace>/<name>.json`),
 * so a restart of `trantor up` brings every object back. Writes go to a temporary file first and
 * are renamed into place, so a crash never leaves a half-written manifest.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dns1123LabelProblem, dns1123SubdomainProblem, type SeldonDeployment } from '../spec/index.ts';

export interface Stored<T> {
  object: T;
  createdAt: string;
}

export interface StoredDeployment {
  deployment: SeldonDeployment;
  createdAt: string;
}

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

  async listObjects<T>(plural: string): Promise<Stored<T>[]> {
    return this.#list<Stored<T>>(plural);
  }

  async save(entry: StoredDeployment): Promise<void> {
    const { namespace, name } = entry.deployment.metadata;
    await this.#write(this.fileOf('seldondeployments', namespace, name), entry);
  }

  async remove(namespace: string, name: string): Promise<void> {
    await this.removeObject('seldondeployments', namespace, name);
  }

  async list(): Promise<StoredDeployment[]> {
    return this.#list<StoredDeployment>('seldondeployments');
  }

  async #write(file: string, value: unknown): Promise<void> {
    await mkdir(join(file, '..'), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(value, null, 2));
    await rename(temp, file);
  }

  async #list<T>(plural: string): Promise<T[]> {
    const base = join(this.root, plural);
    const out: T[] = [];
    let namespaces: string[];
    try {
      namespaces = await readdir(base);
    } catch {
      return out;
    }
    for (const namespace of namespaces.sort()) {
      for (const file of (await readdir(join(base, namespace))).sort()) {
        if (!file.endsWith('.json')) continue;
        out.push(JSON.parse(await readFile(join(base, namespace, file), 'utf8')) as T);
      }
    }
    return out;
  }
}
