/**
 * The version of the installed Trantor package, from its package.json (two folders up from this
 * file in src/ and in dist/ alike): what `trantor version` prints for the client and the control
 * plane answers on GET /v1/version.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    try {
      const parsed = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      cached = typeof parsed.version === 'string' ? parsed.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
