/**
 * Applied manifests on disk, one JSON file per object, so a restart of `trantor up` brings
 * every deployment back. Writes go to a temporary file first and are renamed into place, so
 * a crash never leaves a half-written manifest.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SeldonDeployment } from '../spec/index.ts';

export interface StoredDeployment {
  deployment: SeldonDeployment;
  createdAt: string;
}

export class ManifestStore {
  constructor(private readonly root: string) {}

  private fileOf(namespace: string, name: string): string {
    return join(this.root, 'seldondeployments', namespace, `${name}.json`);
  }

  async save(entry: StoredDeployment): Promise<void> {
    const { namespace, name } = entry.deployment.metadata;
    const file = this.fileOf(namespace, name);
    await mkdir(join(file, '..'), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(entry, null, 2));
    await rename(temp, file);
  }

  async remove(namespace: string, name: string): Promise<void> {
    await rm(this.fileOf(namespace, name), { force: true });
  }

  async list(): Promise<StoredDeployment[]> {
    const base = join(this.root, 'seldondeployments');
    const out: StoredDeployment[] = [];
    let namespaces: string[];
    try {
      namespaces = await readdir(base);
    } catch {
      return out;
    }
    for (const namespace of namespaces.sort()) {
      for (const file of (await readdir(join(base, namespace))).sort()) {
        if (!file.endsWith('.json')) continue;
        out.push(JSON.parse(await readFile(join(base, namespace, file), 'utf8')) as StoredDeployment);
      }
    }
    return out;
  }
}
