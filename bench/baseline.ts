/**
 * The serving figures against an earlier commit, in the same run: `npm run bench` exports the
 * baseline commit (default `HEAD~1`, or `BENCH_BASELINE=<ref>`; `none` skips it) with `git archive`
 * into a temporary folder, links this checkout's node_modules, builds it, and starts its
 * `trantor up` beside this one's. Each contender is then driven through both gateways in turn,
 * alternating which goes first, so drift on a shared machine falls on both sides alike; the ratio is
 * of the medians of the rounds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { load } from './wrk.ts';
import { median } from './median.ts';

/** The serving target of the durability work: nothing slower than the baseline by more than 5%. */
export const BASELINE_TARGET = { minRatio: 0.95 } as const;

function exec(command: string, args: string[], cwd: string, stdin?: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
    if (stdin !== undefined && child.stdin !== null) stdin.pipe(child.stdin);
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(chunks).toString('utf8').trim());
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
    });
  });
}

/** Exports `ref` of the repository at `root` into `into` and builds it; resolves with the commit. */
export async function buildBaseline(root: string, ref: string, into: string): Promise<string> {
  const commit = await exec('git', ['rev-parse', '--verify', `${ref}^{commit}`], root);
  mkdirSync(into, { recursive: true });
  const archive = spawn('git', ['archive', commit], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const archived = new Promise<void>((resolve, reject) => {
    archive.once('error', reject);
    archive.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`git archive ${commit} exited with ${code}`))));
  });
  await exec('tar', ['-x', '-C', into], into, archive.stdout);
  await archived;
  symlinkSync(realpathSync(join(root, 'node_modules')), join(into, 'node_modules'));
  await exec(process.execPath, [join(into, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], into);
  // The build's second step, as `npm run build` takes it: the .proto schemas the gRPC code reads beside its modules.
  if (existsSync(join(into, 'scripts', 'copy-assets.mjs'))) await exec(process.execPath, [join(into, 'scripts', 'copy-assets.mjs')], into);
  return commit;
}

export interface ServingPair {
  name: string;
  url: string;
  baselineUrl: string;
}

export interface ComparisonRow {
  name: string;
  /** Requests per second of each round. */
  current: number[];
  baseline: number[];
  currentP99: number[];
  baselineP99: number[];
}

async function measure(url: string, body: string, connections: number, seconds: number): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await load({ url, body, connections, seconds });
  return { rps: result.requestsPerSecond, p99: result.p99, errors: result.errors };
}

export async function compareServing(
  pairs: readonly ServingPair[],
  options: { body: string; connections: number; seconds: number; rounds: number },
): Promise<ComparisonRow[]> {
  const { body, connections, seconds, rounds } = options;
  const rows: ComparisonRow[] = [];
  for (const pair of pairs) {
    await measure(pair.url, body, connections, 2);
    await measure(pair.baselineUrl, body, connections, 2);
    const row: ComparisonRow = { name: pair.name, current: [], baseline: [], currentP99: [], baselineP99: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
      for (const side of order) {
        const figures = await measure(side === 'current' ? pair.url : pair.baselineUrl, body, connections, seconds);
        if (figures.errors > 0) throw new Error(`${pair.name} (${side}) answered ${figures.errors} errors`);
        (side === 'current' ? row.current : row.baseline).push(figures.rps);
        (side === 'current' ? row.currentP99 : row.baselineP99).push(figures.p99);
      }
    }
    rows.push(row);
  }
  return rows;
}

export function formatComparison(rows: readonly ComparisonRow[], info: { ref: string; commit: string; connections: number; seconds: number; rounds: number }): string {
  const lines: string[] = [];
  lines.push(
    `Against the baseline ${info.ref} (${info.commit.slice(0, 12)}), built and started beside this one: ${info.rounds} alternating rounds of ${info.seconds} s at ${info.connections} connections after a 2 s warm-up each; medians`,
  );
  lines.push('');
  lines.push('| contender | requests/s now | requests/s baseline | now / baseline | p99 ms now | p99 ms baseline | rounds now | rounds baseline |');
  lines.push('|---|---:|---:|---:|---:|---:|---|---|');
  const verdicts: string[] = [];
  for (const r of rows) {
    const ratio = median(r.current) / median(r.baseline);
    const rounds = (values: number[]): string => values.map((v) => Math.round(v)).join(', ');
    lines.push(
      `| ${r.name} | ${Math.round(median(r.current))} | ${Math.round(median(r.baseline))} | ${ratio.toFixed(3)} | ${median(r.currentP99).toFixed(2)} | ${median(r.baselineP99).toFixed(2)} | ${rounds(r.current)} | ${rounds(r.baseline)} |`,
    );
    verdicts.push(`- ${r.name}: ${(100 * ratio).toFixed(1)}% of the baseline (target ≥ ${100 * BASELINE_TARGET.minRatio}%): ${ratio >= BASELINE_TARGET.minRatio ? '**met**' : '**not met**'}`);
  }
  lines.push('', 'Targets:', '', ...verdicts);
  return lines.join('\n');
}
