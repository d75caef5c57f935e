/**
 * The serving table: the bare node:http ceiling and Trantor's contenders, measured in rounds. Each
 * round measures the ceiling and then each contender, so each contender's ratio to the ceiling is
 * taken within its own round, a few seconds apart. On a shared two-core machine the ceiling alone
 * moves by 20% between windows a minute apart, and a ratio of windows measured at different
 * moments says as much about the machine as about Trantor. The table gives medians over the
 * rounds and each round's ratio.
 */
import type { LoadFigures, LoadOptions } from './wrk.ts';
import { median } from './median.ts';

/** What issue 9 and the serving issue before it ask of these contenders. */
export const SERVING_TARGETS = {
  /** iris through the gateway: at least this many requests a second, with p99 at most `irisP99Ms`. */
  irisRps: 1900,
  irisP99Ms: 10,
  /** The TypeScript no-op model's share of the ceiling, in process and in its own process. */
  inProcessRatio: 0.6,
  ownProcessRatio: 0.35,
} as const;

export interface ServingContender {
  name: string;
  url: string;
  /** Which target it is held to, if any. */
  target?: 'iris' | 'in-process' | 'own-process';
}

export interface ServingRow {
  name: string;
  target: ServingContender['target'];
  /** One LoadFigures per round. */
  rounds: LoadFigures[];
  /** The contender's requests/s over the ceiling's, per round (1 for the ceiling itself). */
  ratios: number[];
}

export interface ServingOptions {
  body: string;
  connections: number;
  seconds: number;
  rounds: number;
  /** A warm-up before the first round, so JIT and connection set-up do not count. */
  warmUpSeconds: number;
}

export type Generate = (options: LoadOptions) => Promise<LoadFigures>;

/** Measures `ceiling` and then each contender, round after round. */
export async function measureServing(ceiling: ServingContender, contenders: readonly ServingContender[], options: ServingOptions, generate: Generate): Promise<ServingRow[]> {
  const all = [ceiling, ...contenders];
  const { body, connections } = options;
  for (const c of all) await generate({ url: c.url, body, connections, seconds: options.warmUpSeconds });
  const rows: ServingRow[] = all.map((c) => ({ name: c.name, target: c.target, rounds: [], ratios: [] }));
  for (let round = 0; round < options.rounds; round++) {
    let ceilingRps = 0;
    for (let i = 0; i < all.length; i++) {
      const figures = await generate({ url: all[i]!.url, body, connections, seconds: options.seconds });
      if (i === 0) ceilingRps = figures.requestsPerSecond;
      rows[i]!.rounds.push(figures);
      rows[i]!.ratios.push(ceilingRps > 0 ? figures.requestsPerSecond / ceilingRps : 0);
    }
  }
  return rows;
}

const percent = (ratio: number): string => `${(100 * ratio).toFixed(0)}%`;

/** The table (medians over the rounds, each round's ratio), then each target with its verdict. */
export function formatServing(rows: readonly ServingRow[]): string {
  const lines = [
    '| contender | requests/s | p50 ms | p99 ms | vs ceiling | by round | errors |',
    '|---|---:|---:|---:|---:|---|---:|',
  ];
  const verdicts: string[] = [];
  for (const r of rows) {
    const rps = median(r.rounds.map((f) => f.requestsPerSecond));
    const p99 = median(r.rounds.map((f) => f.p99));
    const ratio = median(r.ratios);
    const errors = r.rounds.reduce((sum, f) => sum + f.errors, 0);
    lines.push(`| ${r.name} | ${Math.round(rps)} | ${median(r.rounds.map((f) => f.p50))} | ${p99} | ${percent(ratio)} | ${r.ratios.map(percent).join(', ')} | ${errors} |`);
    const verdict = (met: boolean): string => (errors > 0 ? '**not met** (errors)' : met ? '**met**' : '**not met**');
    if (r.target === 'iris') {
      verdicts.push(`- ${r.name}: ${Math.round(rps)} requests/s with p99 ${p99} ms (target ≥ ${SERVING_TARGETS.irisRps}/s, p99 ≤ ${SERVING_TARGETS.irisP99Ms} ms): ${verdict(rps >= SERVING_TARGETS.irisRps && p99 <= SERVING_TARGETS.irisP99Ms)}`);
    } else if (r.target === 'in-process' || r.target === 'own-process') {
      const wanted = r.target === 'in-process' ? SERVING_TARGETS.inProcessRatio : SERVING_TARGETS.ownProcessRatio;
      verdicts.push(`- ${r.name}: ${percent(ratio)} of the ceiling, the median of each round's ratio (target ≥ ${percent(wanted)}): ${verdict(ratio >= wanted)}`);
    }
  }
  if (verdicts.length > 0) lines.push('', 'Targets:', '', ...verdicts);
  return lines.join('\n');
}
