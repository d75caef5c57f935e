import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadFigures, LoadOptions } from './wrk.ts';
import { median } from './median.ts';
import { formatServing, measureServing } from './serving-table.ts';

const figures = (requestsPerSecond: number, errors = 0): LoadFigures => ({ requestsPerSecond, requests: requestsPerSecond * 5, p50: 0.3, p99: 1.2, errors });

test('each round measures the ceiling first; each ratio is taken within its own round', async () => {
  // The machine slows down round after round: the ceiling and the contender alike.
  const answers = new Map<string, number[]>([
    ['http://ceiling/', [1, 100, 50, 25]],
    ['http://model/', [1, 60, 30, 15]],
  ]);
  const calls: string[] = [];
  const generate = (options: LoadOptions): Promise<LoadFigures> => {
    calls.push(`${options.url} ${options.seconds}`);
    return Promise.resolve(figures(answers.get(options.url)!.shift()!));
  };
  const rows = await measureServing({ name: 'ceiling', url: 'http://ceiling/' }, [{ name: 'model', url: 'http://model/', target: 'in-process' }], { body: '{}', connections: 16, seconds: 5, rounds: 3, warmUpSeconds: 2 }, generate);
  assert.deepEqual(calls, ['http://ceiling/ 2', 'http://model/ 2', 'http://ceiling/ 5', 'http://model/ 5', 'http://ceiling/ 5', 'http://model/ 5', 'http://ceiling/ 5', 'http://model/ 5']);
  assert.deepEqual(rows[0]!.ratios, [1, 1, 1]);
  assert.deepEqual(rows[1]!.ratios, [0.6, 0.6, 0.6]);
  const table = formatServing(rows);
  assert.match(table, /\| model \| 30 \| 0\.3 \| 1\.2 \| 60% \| 60%, 60%, 60% \| 0 \|/);
  assert.match(table, /- model: 60% of the ceiling, the median of each round's ratio \(target ≥ 60%\): \*\*met\*\*/);
});

test('the verdicts: a ratio under its target, iris by rate and p99, and any error fail', () => {
  const rows = [
    { name: 'ceiling', target: undefined, rounds: [figures(100)], ratios: [1] },
    { name: 'own', target: 'own-process' as const, rounds: [figures(30)], ratios: [0.3] },
    { name: 'iris', target: 'iris' as const, rounds: [figures(2000)], ratios: [20] },
    { name: 'in', target: 'in-process' as const, rounds: [figures(70, 3)], ratios: [0.7] },
  ];
  const table = formatServing(rows);
  assert.match(table, /- own: 30% of the ceiling.*\(target ≥ 35%\): \*\*not met\*\*/);
  assert.match(table, /- iris: 2000 requests\/s with p99 1\.2 ms \(target ≥ 1900\/s, p99 ≤ 10 ms\): \*\*met\*\*/);
  assert.match(table, /- in: 70% of the ceiling.*: \*\*not met\*\* \(errors\)/);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
