/**
 * A real full disk for tests: a small tmpfs of its own (we run as root), filled with a file.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs of its own, to fill up for real; `unmount` removes it. */
export interface SmallDisk {
  dir: string;
  unmount(): void;
}

/**
 * Mounts a tmpfs of `size` (e.g. `4m`) on a new folder; a string saying why when the system refuses
 * (not root, no mount permission in a container), for `test(..., { skip })`.
 */
export function mountSmallDisk(size: string): SmallDisk | string {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-small-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmdirSync(dir);
    return `cannot mount a tmpfs to fill (mount exited ${mounted.status ?? mounted.signal}: ${(mounted.stderr || String(mounted.error)).trim()})`;
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `path` until the disk refuses with ENOSPC; returns the bytes written. */
export function fillDisk(path: string): number {
  const fd = openSync(path, 'a');
  let total = 0;
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x78);
      for (;;) {
        try {
          const n = writeSync(fd, chunk);
          total += n;
          if (n < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}
