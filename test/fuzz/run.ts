/**
 * Sends the fuzz inputs a few at a time and judges every answer: a status below 500, an answer
 * before the deadline for every complete request, and a server still there to connect to. It keeps
 * the counts the summary prints and, per kind of failure, the shortest input that showed it.
 */
import { Agent } from 'undici';
import { describeInput, type FuzzCase, type FuzzContext, type Target } from './cases.ts';
import { sendHttp, sendRaw, type Outcome } from './wire.ts';

export interface FuzzLimits {
  /** How long a complete request may wait for its answer. */
  readonly answerMs: number;
  /** How long an incomplete one (cut short, reset, stopped) is watched after it is sent. */
  readonly lingerMs: number;
  readonly concurrency: number;
}

export interface Failure {
  readonly target: Target;
  readonly family: string;
  /** `HTTP 500`, `no answer in 15000 ms`, `closed without an answer`, `connection refused`. */
  readonly problem: string;
  readonly input: string;
  readonly answer: string;
}

export interface FuzzReport {
  readonly sent: Record<Target, number>;
  /** Per target, how many answers had each status (or `closed`, `timeout` for none). */
  readonly statuses: Record<Target, Record<string, number>>;
  /** One failure per (target, family, problem): the one with the shortest input. */
  readonly failures: Failure[];
  /** All failing inputs, counted. */
  failed: number;
}

/** Families whose requests may be cut off by a server that refuses them before reading them whole. */
const ANSWER_OPTIONAL = new Set(['huge and empty bodies']);

function required(c: FuzzCase): boolean {
  if (c.input.via === 'raw') return c.input.ending === 'answer';
  return !ANSWER_OPTIONAL.has(c.family);
}

function problemOf(c: FuzzCase, outcome: Outcome, limits: FuzzLimits): string | undefined {
  if (outcome.kind === 'refused') return 'connection refused: the server is gone';
  if (outcome.status !== undefined && outcome.status >= 500) return `HTTP ${outcome.status}`;
  if (!required(c)) return undefined;
  if (outcome.kind === 'timeout') return `no answer within ${limits.answerMs} ms`;
  if (outcome.kind === 'closed') return 'closed without an answer';
  return undefined;
}

export async function runCases(cases: readonly FuzzCase[], ctx: FuzzContext, limits: FuzzLimits): Promise<FuzzReport> {
  const report: FuzzReport = {
    sent: { gateway: 0, broker: 0, api: 0 },
    statuses: { gateway: {}, broker: {}, api: {} },
    failures: [],
    failed: 0,
  };
  const worst = new Map<string, Failure>();
  const agent = new Agent({ connections: limits.concurrency, keepAliveTimeout: 1000 });
  const origins: Record<Target, string> = {
    gateway: `http://127.0.0.1:${ctx.gatewayPort}`,
    broker: `http://127.0.0.1:${ctx.gatewayPort}`,
    api: `http://127.0.0.1:${ctx.apiPort}`,
  };
  let next = 0;
  /** The inputs most recently started: when the server dies, one of them is why. */
  const recent: FuzzCase[] = [];
  let gone = false;
  const worker = async (): Promise<void> => {
    while (next < cases.length && !gone) {
      const c = cases[next++]!;
      recent.push(c);
      if (recent.length > limits.concurrency * 2) recent.shift();
      const port = c.target === 'api' ? ctx.apiPort : ctx.gatewayPort;
      const outcome = c.input.via === 'raw'
        ? await sendRaw(port, c.input, required(c) ? limits.answerMs : (c.input.holdMs ?? 0) + limits.lingerMs)
        : await sendHttp(agent, origins[c.target], c.input, limits.answerMs);
      report.sent[c.target]++;
      const seen = outcome.status === undefined ? outcome.kind : String(outcome.status);
      report.statuses[c.target][seen] = (report.statuses[c.target][seen] ?? 0) + 1;
      const problem = problemOf(c, outcome, limits);
      if (problem === undefined) continue;
      if (outcome.kind === 'refused') {
        // Nothing after this tells anything new: stop, and name the inputs that were in flight.
        if (!gone) {
          gone = true;
          const suspects = recent.map((r) => `[${r.target}] ${r.family}: ${describeInput(r.input, 200)}`).join('\n      ');
          report.failures.push({ target: c.target, family: c.family, problem: 'the server died', input: describeInput(c.input), answer: `inputs sent just before:\n      ${suspects}` });
          report.failed++;
        }
        continue;
      }
      report.failed++;
      const failure: Failure = { target: c.target, family: c.family, problem, input: describeInput(c.input), answer: (outcome.excerpt ?? '').slice(0, 400) };
      const key = `${c.target} ${c.family} ${problem}`;
      const known = worst.get(key);
      if (known === undefined || failure.input.length < known.input.length) worst.set(key, failure);
    }
  };
  try {
    await Promise.all(Array.from({ length: limits.concurrency }, worker));
  } finally {
    await agent.close();
  }
  // Once the server is gone, connections it dropped as it died say nothing more: they are counted, not listed.
  const listed = [...worst.values()].filter((f) => !gone || f.problem !== 'closed without an answer');
  report.failures.push(...listed.sort((a, b) => `${a.target}${a.family}`.localeCompare(`${b.target}${b.family}`)));
  return report;
}

/** The summary the test prints: inputs per target and the statuses they got. */
export function summarise(report: FuzzReport): string[] {
  const lines: string[] = [];
  for (const target of ['gateway', 'broker', 'api'] as const) {
    const statuses = Object.entries(report.statuses[target]).sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`).join(' ');
    lines.push(`${target}: ${report.sent[target]} inputs; ${statuses}`);
  }
  const total = report.sent.gateway + report.sent.broker + report.sent.api;
  lines.push(`total: ${total} inputs, ${report.failed} failed (${report.failures.length} distinct)`);
  return lines;
}

export function formatFailures(failures: readonly Failure[]): string {
  return failures.map((f) => `- [${f.target}] ${f.family}: ${f.problem}\n    input: ${f.input}${f.answer === '' ? '' : `\n    answer: ${JSON.stringify(f.answer)}`}`).join('\n');
}
