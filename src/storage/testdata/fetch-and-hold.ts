/**
 * For cache-admin.test.ts: a process of its own that fetches URI into HOME's cache (as `trantor up`
 * does for a deployment), prints `fetched <folder>`, and keeps running until its stdin closes.
 */
import { fetchModel } from '../fetch.ts';

const [home, uri] = process.argv.slice(2);
if (home === undefined || uri === undefined) throw new Error('usage: fetch-and-hold.ts HOME URI');
const result = await fetchModel(new URL(uri), { home, env: {} });
process.stdout.write(`fetched ${result.folder}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
