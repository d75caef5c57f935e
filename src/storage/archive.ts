/**
 * Unpacking a downloaded model archive (`.tar.gz`, `.tgz`, `.tar`, `.zip`) into its folder, as
 * Seldon's and KServe's storage initializers do. Every entry is checked before anything is
 * written: an absolute path, a `..` step, or a link that points outside the folder refuses the
 * whole archive, naming the entry.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { TrantorError } from '../protocol/index.ts';

/** The archive kind a file name says, or undefined for a plain file. */
export function archiveKind(name: string): 'tar' | 'zip' | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz') || lower.endsWith('.tar')) return 'tar';
  if (lower.endsWith('.zip')) return 'zip';
  return undefined;
}

/** Unpacks `file` into `folder` (which must exist); `label` names the archive in errors. */
export async function unpack(file: string, folder: string, kind: 'tar' | 'zip', label: string): Promise<void> {
  if (kind === 'tar') await unpackTar(file, folder, label);
  else await unpackZip(file, folder, label);
}

/** Why an entry would land outside the folder, or undefined when it stays inside. */
export function escapes(path: string, link?: string): string | undefined {
  const name = path.replace(/\\/g, '/');
  if (isAbsolute(name) || /^[a-z]:/i.test(name)) return 'has an absolute path';
  const inside = posix.normalize(name);
  if (inside === '..' || inside.startsWith('../')) return "climbs out with '..'";
  if (link !== undefined) {
    const target = link.replace(/\\/g, '/');
    if (isAbsolute(target)) return `links to the absolute path ${link}`;
    const resolved = posix.normalize(posix.join(posix.dirname(inside), target));
    if (resolved === '..' || resolved.startsWith('../')) return `links outside the folder (${link})`;
  }
  return undefined;
}

async function unpackTar(file: string, folder: string, label: string): Promise<void> {
  const problems: string[] = [];
  try {
    await tar.t({
      file,
      onReadEntry: (entry) => {
        const link = entry.type === 'SymbolicLink' || entry.type === 'Link' ? entry.linkpath : undefined;
        const why = escapes(entry.path, link);
        if (why !== undefined) problems.push(`${entry.path} ${why}`);
      },
    });
  } catch (err) {
    throw new TrantorError('BAD_MANIFEST', `${label}: not a readable tar archive (${(err as Error).message})`, { cause: err });
  }
  if (problems.length > 0) throw refused(label, problems);
  await tar.x({ file, cwd: folder, strict: true, preserveOwner: false });
}

async function unpackZip(file: string, folder: string, label: string): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((ok, fail) => yauzl.open(file, { lazyEntries: true, decodeStrings: true }, (err, z) => (err ? fail(err) : ok(z))));
  } catch (err) {
    const message = (err as Error).message;
    if (/relative path|absolute path/i.test(message)) throw refused(label, [message]);
    throw new TrantorError('BAD_MANIFEST', `${label}: not a readable zip archive (${message})`, { cause: err });
  }
  try {
    await new Promise<void>((ok, fail) => {
      zip.on('error', fail);
      zip.on('end', () => ok());
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const name = entry.fileName;
          const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
          if (mode === 0o120000) throw refused(label, [`${name} is a symbolic link`]);
          const why = escapes(name);
          if (why !== undefined) throw refused(label, [`${name} ${why}`]);
          const target = join(folder, ...name.split('/'));
          if (name.endsWith('/')) {
            await mkdir(target, { recursive: true });
          } else {
            await mkdir(dirname(target), { recursive: true });
            const stream = await new Promise<NodeJS.ReadableStream>((res, rej) => zip.openReadStream(entry, (err, s) => (err ? rej(err) : res(s))));
            await pipeline(stream, createWriteStream(target));
          }
          zip.readEntry();
        })().catch(fail);
      });
      zip.readEntry();
    });
  } catch (err) {
    if (err instanceof TrantorError) throw err;
    const message = (err as Error).message;
    if (/relative path|absolute path/i.test(message)) throw refused(label, [message]);
    throw new TrantorError('BAD_MANIFEST', `${label}: cannot unpack the zip archive (${message})`, { cause: err });
  } finally {
    zip.close();
  }
}

function refused(label: string, problems: readonly string[]): TrantorError {
  return new TrantorError('BAD_MANIFEST', `${label}: the archive is refused: ${problems.join('; ')}; repack it with paths inside one folder`);
}
