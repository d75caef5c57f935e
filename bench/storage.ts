/**
 * Model downloads: a 200 MB model (random bytes, so nothing compresses) on versitygw, a real S3
 * server on loopback, downloaded by Trantor's fetcher (`fetchModel` into an empty cache, as
 * `trantor up` does before replicas start, and `trantor storage-init --no-cache` as a process) beside
 * curl (one GET, signed with --aws-sigv4) and, when installed, `aws s3 cp` (parallel ranged GETs).
 * Each contender downloads the same object `BENCH_STORAGE_ROUNDS` times (3) into a fresh folder;
 * the table shows the median MB/s and the ratio to curl. Target: ≥ 100 MB/s.
 *
 * `BENCH_ONLY=storage npm run bench`, or `node --import tsx bench/storage.ts` alone.
 * `BENCH_STORAGE_MB` sets the size (200).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AwsClient } from 'aws4fetch';
import { fetchModel } from '../src/storage/index.ts';
import { emulator, freePort, start, type Running } from '../src/storage/testing.ts';
import { median } from './median.ts';

const ROOT = join(import.meta.dirname, '..');
const TRANTOR = join(ROOT, 'bin', 'trantor.js');
const KEY = 'AKIABENCHSTORAGE';
const SECRET = 'bench-storage-secret';
const TARGET_MB_S = 100;

export interface StorageRow {
  readonly name: string;
  /** MB/s (10^6 bytes) of each round. */
  readonly rounds: readonly number[];
}

export interface StorageReport {
  readonly bytes: number;
  readonly rows: readonly StorageRow[];
  /** Why a contender is missing (e.g. no aws CLI). */
  readonly skipped: readonly string[];
}

export interface StorageOptions {
  readonly megabytes: number;
  readonly rounds: number;
}

/** Runs a command to completion; rejects with its stderr when it fails. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`))));
  });
}

/** A file of `bytes` random bytes, written in 8 MB pieces. */
async function randomFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      const piece = randomBytes(Math.min(8 << 20, bytes - written));
      await file.write(piece);
      written += piece.length;
    }
  } finally {
    await file.close();
  }
}

/** `BENCH_STORAGE_MB` (200) and `BENCH_STORAGE_ROUNDS` (3). */
export function storageOptions(env: NodeJS.ProcessEnv): StorageOptions {
  return { megabytes: Number(env['BENCH_STORAGE_MB'] ?? 200), rounds: Number(env['BENCH_STORAGE_ROUNDS'] ?? 3) };
}

export async function benchStorage(options: StorageOptions): Promise<StorageReport> {
  const versitygw = emulator('versitygw', 'TRANTOR_VERSITYGW', 'GOBIN=~/.cache/trantor-ci/go-bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0');
  if (versitygw.skip !== false) return { bytes: 0, rows: [], skipped: [versitygw.skip] };
  const scratch = mkdtempSync(join(tmpdir(), 'trantor-bench-storage-'));
  let server: Running | undefined;
  try {
    const bytes = options.megabytes * 1e6;
    const source = join(scratch, 'model.bin');
    await randomFile(source, bytes);
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const data = join(scratch, 's3');
    mkdirSync(data);
    server = await start(versitygw.path, ['--access', KEY, '--secret', SECRET, '--port', `127.0.0.1:${port}`, 'posix', data], /listening on/);
    const client = new AwsClient({ accessKeyId: KEY, secretAccessKey: SECRET, service: 's3', region: 'us-east-1' });
    const made = await client.fetch(`${endpoint}/models`, { method: 'PUT' });
    if (!made.ok) throw new Error(`creating the bucket: ${made.status} ${await made.text()}`);
    const put = await client.fetch(`${endpoint}/models/big/model.bin`, {
      method: 'PUT',
      body: Readable.toWeb(createReadStream(source)) as ReadableStream<Uint8Array>,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(bytes) },
      duplex: 'half',
    });
    if (!put.ok) throw new Error(`uploading the model: ${put.status} ${await put.text()}`);

    const s3Env = { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, S3_ENDPOINT: endpoint, AWS_DEFAULT_REGION: 'us-east-1' };
    const url = new URL('s3://models/big/model.bin');
    const skipped: string[] = [];
    /** Each contender: where its download leaves the file, given a fresh folder. */
    const contenders: { name: string; download: (folder: string) => Promise<string> }[] = [
      {
        name: 'curl, one signed GET (--aws-sigv4)',
        download: async (folder) => {
          const file = join(folder, 'model.bin');
          await run('curl', ['-sS', '--fail', '-o', file, '--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${KEY}:${SECRET}`, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', `${endpoint}/models/big/model.bin`], process.env);
          return file;
        },
      },
    ];
    if (spawnSync('aws', ['--version']).status === 0) {
      contenders.push({
        name: 'aws s3 cp (parallel ranged GETs)',
        download: async (folder) => {
          const file = join(folder, 'model.bin');
          await run('aws', ['s3', 'cp', '--only-show-errors', '--endpoint-url', endpoint, 's3://models/big/model.bin', file], { ...process.env, ...s3Env, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' });
          return file;
        },
      });
    } else skipped.push('aws s3 cp: the aws CLI is not installed');
    contenders.push(
      {
        name: 'Trantor fetchModel (into the cache, as trantor up)',
        download: async (folder) => join((await fetchModel(url, { home: folder, env: s3Env })).folder, 'model.bin'),
      },
      {
        name: 'trantor storage-init --no-cache (the process, start-up included)',
        download: async (folder) => {
          await run(process.execPath, [TRANTOR, 'storage-init', '--no-cache', url.href, join(folder, 'dest')], { ...process.env, ...s3Env, TRANTOR_HOME: join(folder, 'home') });
          return join(folder, 'dest', 'model.bin');
        },
      },
    );
    // Round by round, every contender in turn: the disk's writeback of one round's 200 MB falls on
    // each contender alike rather than on whichever runs after the previous one's rounds.
    const rounds = contenders.map(() => [] as number[]);
    for (let round = 0; round < options.rounds; round++) {
      for (const [i, contender] of contenders.entries()) {
        const folder = mkdtempSync(join(scratch, 'round-'));
        const started = process.hrtime.bigint();
        const file = await contender.download(folder);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const size = statSync(file).size;
        if (size !== bytes) throw new Error(`${contender.name}: got ${size} bytes, expected ${bytes}`);
        rmSync(folder, { recursive: true, force: true });
        rounds[i]!.push(bytes / 1e6 / seconds);
      }
    }
    const rows = contenders.map((c, i) => ({ name: c.name, rounds: rounds[i]! }));
    return { bytes, rows, skipped };
  } finally {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function formatStorage(report: StorageReport): string {
  if (report.rows.length === 0) return `Model downloads: skipped (${report.skipped.join('; ')})`;
  const curl = median(report.rows[0]!.rounds);
  const rounds = report.rows[0]!.rounds.length;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const lines = [
    `Model downloads: a ${Math.round(report.bytes / 1e6)} MB object from versitygw on loopback, median of ${rounds} rounds; ${machine}; ${new Date().toISOString().slice(0, 10)}`,
    '',
    '| contender | MB/s | each round | vs curl |',
    '|---|---:|---|---:|',
    ...report.rows.map((r) => `| ${r.name} | ${median(r.rounds).toFixed(0)} | ${r.rounds.map((v) => v.toFixed(0)).join(', ')} | ${(median(r.rounds) / curl).toFixed(2)}× |`),
  ];
  const trantor = report.rows.find((r) => r.name.startsWith('Trantor fetchModel'));
  if (trantor !== undefined) {
    const got = median(trantor.rounds);
    lines.push('', `target ≥ ${TARGET_MB_S} MB/s for fetchModel: ${got >= TARGET_MB_S ? 'met' : 'NOT met'} (${got.toFixed(0)} MB/s)`);
  }
  for (const why of report.skipped) lines.push(`skipped: ${why}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await benchStorage(storageOptions(process.env));
  writeFileSync(1, `${formatStorage(report)}\n`);
}
