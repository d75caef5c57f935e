/**
 * `trantor storage-init SRC DEST`: KServe's storage-initializer contract, the command the
 * Kubernetes init container runs, and a way to fetch a model by hand. Progress goes to stderr.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeProgress, formatBytes, initializeStorage, parseEnvFile } from '../storage/index.ts';
import { CliError } from './control-plane.ts';
import { homeOf, type Io } from './io.ts';

export function addStorageInitCommand(program: Command, io: Io): void {
  program
    .command('storage-init')
    .description("fetch a modelUri (gs://, s3://, https://, Azure, pvc://, file:// or a path) into a folder (KServe's storage initializer)")
    .argument('<src>', 'the modelUri')
    .argument('<dest>', 'the folder to fill (created when missing)')
    .option('--no-cache', 'download straight into DEST instead of through the cache in the home')
    .option('--env-file <file>', 'credentials as KEY=value lines, given to the storage providers only')
    .action(async (src: string, dest: string, opts: { cache: boolean; envFile?: string }, command: Command) => {
      let secretEnv: Record<string, string> = {};
      if (opts.envFile !== undefined) {
        let text: string;
        try {
          text = readFileSync(opts.envFile, 'utf8');
        } catch (err) {
          throw new CliError(`--env-file ${opts.envFile}: ${(err as Error).message}`);
        }
        secretEnv = parseEnvFile(text, opts.envFile);
      }
      const started = Date.now();
      const result = await initializeStorage(src, resolve(dest), {
        home: homeOf(command, io),
        env: io.env,
        secretEnv,
        baseDir: process.cwd(),
        noCache: !opts.cache,
        progressIntervalMs: 1000,
        onProgress: (p) => io.err(describeProgress(src, p)),
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      io.err(`${src} → ${resolve(dest)}: ${formatBytes(result.bytes)}${result.fromCache ? ' from the cache' : ''} in ${seconds}s`);
    });
}
