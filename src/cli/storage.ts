/**
 * `trantor storage ls` and `trantor storage prune`: the model cache in the home (`<home>/models`),
 * listed and trimmed. An entry a running `trantor up` uses, or one being downloaded, is never
 * removed (src/storage/cache-admin.ts says how that is known).
 */
import type { Command } from 'commander';
import { formatBytes, listCache, parseAge, parseSize, pruneCache, type CachedModel } from '../storage/index.ts';
import { CliError } from './control-plane.ts';
import { age, serialise, table } from './format.ts';
import { homeOf, type Io } from './io.ts';

const DEFAULT_AGE = '30d';

function uriOf(model: CachedModel): string {
  const uri = model.uri ?? `(unknown: ${model.id})`;
  return model.kind === 'cached' ? uri : `${uri} [${model.kind}]`;
}

function inUse(model: CachedModel): string {
  if (model.lockedBy !== undefined) return `downloading (pid ${model.lockedBy})`;
  return model.users.length === 0 ? '-' : `pid ${model.users.join(', ')}`;
}

function rows(models: readonly CachedModel[], now: number): string[][] {
  return models.map((m) => [uriOf(m), m.version ?? '-', formatBytes(m.bytes), `${age(m.lastUsed.toISOString(), now)} ago`, inUse(m)]);
}

export function addStorageCommands(program: Command, io: Io): void {
  const storage = program.command('storage').description('the model cache in the home (<home>/models): list it, prune it');

  storage
    .command('ls')
    .description('list the cached models: URI, version, size, last used, and the processes using each')
    .option('-o, --output <format>', 'json for the entries as JSON')
    .action(async (opts: { output?: string }, command: Command) => {
      if (opts.output !== undefined && opts.output !== 'json') throw new CliError(`-o ${opts.output}: unknown output format; use json`);
      const models = await listCache(homeOf(command, io));
      if (opts.output === 'json') {
        io.out(serialise(models.map((m) => ({ ...m, lastUsed: m.lastUsed.toISOString() })), 'json'));
        return;
      }
      if (models.length === 0) {
        io.out('the model cache is empty');
        return;
      }
      io.out(table(['URI', 'VERSION', 'SIZE', 'LAST USED', 'IN USE'], rows(models, Date.now())));
      io.out(`${models.length} ${models.length === 1 ? 'entry' : 'entries'}, ${formatBytes(models.reduce((sum, m) => sum + m.bytes, 0))}`);
    });

  storage
    .command('prune')
    .description(`remove cached models last used longer ago than --older-than (${DEFAULT_AGE} when neither flag is given), then the least recently used until the cache fits --max-size; models in use are kept`)
    .option('--older-than <age>', 'remove entries last used longer ago than this: 30d, 12h, 90m, 2w')
    .option('--max-size <size>', 'then remove the least recently used until the cache holds at most this: 10GB, 500MB, 1.5GiB')
    .option('--dry-run', 'print what would be removed, remove nothing')
    .action(async (opts: { olderThan?: string; maxSize?: string; dryRun?: boolean }, command: Command) => {
      const olderThan = opts.olderThan ?? (opts.maxSize === undefined ? DEFAULT_AGE : undefined);
      const result = await pruneCache(homeOf(command, io), {
        ...(olderThan === undefined ? {} : { olderThanMs: parseAge(olderThan, '--older-than') }),
        ...(opts.maxSize === undefined ? {} : { maxBytes: parseSize(opts.maxSize, '--max-size') }),
        dryRun: opts.dryRun === true,
      });
      const now = Date.now();
      const verb = opts.dryRun === true ? 'would remove' : 'removed';
      for (const m of result.removed) io.out(`${verb} ${uriOf(m)} (${formatBytes(m.bytes)}, last used ${age(m.lastUsed.toISOString(), now)} ago)`);
      for (const { model, reason } of result.kept) io.out(`kept ${uriOf(model)} (${formatBytes(model.bytes)}): ${reason}`);
      io.out(`${verb} ${result.removed.length} ${result.removed.length === 1 ? 'entry' : 'entries'}, ${formatBytes(result.freedBytes)}; the cache ${opts.dryRun === true ? 'would hold' : 'holds'} ${formatBytes(result.remainingBytes)}`);
    });
}
