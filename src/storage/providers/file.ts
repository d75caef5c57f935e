/**
 * A folder or file on this machine (`file://`; plain paths and `pvc://` reach here as `file://`
 * once `locateModel` has resolved them). Used by `trantor storage-init` to copy a local model into
 * its destination; `trantor up` serves local folders in place without copying.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrantorError } from '../../protocol/index.ts';
import type { ProviderFactory, ReadOptions, StorageProvider, StoredObject } from '../provider.ts';

export const fileProvider: ProviderFactory = (): StorageProvider => ({
  name: 'file',
  matches: (uri) => uri.protocol === 'file:',
  async list(uri) {
    const root = fileURLToPath(uri);
    const info = await stat(root).catch((err: NodeJS.ErrnoException) => {
      throw new TrantorError('NOT_FOUND', `${uri.href}: ${root} cannot be read (${err.code ?? err.message}); check the path`);
    });
    if (info.isFile()) return [{ key: '', size: info.size, version: versionOf(info) }];
    const out: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        // A symlink is followed only to a file; a link to a folder could loop.
        const target = entry.isSymbolicLink() ? await stat(path) : await lstat(path);
        if (target.isDirectory() && !entry.isSymbolicLink()) await walk(path);
        else if (target.isFile()) out.push({ key: relative(root, path).split(sep).join('/'), size: target.size, version: versionOf(target) });
      }
    };
    await walk(root);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  },
  read(uri, object, options: ReadOptions) {
    const path = object.key === '' ? fileURLToPath(uri) : join(fileURLToPath(uri), ...object.key.split('/'));
    return Promise.resolve(createReadStream(path, { start: options.offset, signal: options.signal }));
  },
});

function versionOf(info: { mtimeMs: number; size: number }): string {
  return `${Math.trunc(info.mtimeMs)}-${info.size}`;
}
