/**
 * The home is its user's alone: manifests carry env values, the event db carries payloads, and
 * the API token opens the control plane. `trantor up` sets its umask to 077 before it writes
 * anything, so every file it (and every process it starts) creates is 0600 and every folder 0700;
 * a home made by an older version (0755/0644) is brought to those modes at start.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_UMASK = 0o077;

/** Sets the process umask to 077, then makes `home` (0700) if need be: call before writing anything. */
export function usePrivateHome(home: string): void {
  process.umask(PRIVATE_UMASK);
  mkdirSync(home, { recursive: true, mode: 0o700 });
}

/** Takes group and other bits off `home` and everything in it (symlinks are left alone). */
export function tightenHome(home: string, warn: (text: string) => void): void {
  tighten(home, warn);
}

function tighten(path: string, warn: (text: string) => void): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return; // gone meanwhile
  }
  // A symlink's own mode means nothing, and its target may be anywhere: leave both alone.
  if (stat.isSymbolicLink()) return;
  if ((stat.mode & 0o077) !== 0) {
    try {
      chmodSync(path, stat.mode & 0o700);
    } catch (err) {
      warn(`cannot make ${path} private: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!stat.isDirectory()) return;
  for (const entry of readdirSync(path)) tighten(join(path, entry), warn);
}
