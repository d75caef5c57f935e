/**
 * What an open dashboard costs the gateway (`BENCH_ONLY=dashboard`): prediction throughput of the
 * TypeScript no-op model served in process (the most sensitive: the gateway's own work is most of
 * each request) and of the iris SKLEARN_SERVER, with no dashboard and with the dashboard's live
 * feed open, in one run of one `trantor up`. The feed is read by a client in this process as the
 * page reads it (`GET /dashboard/api/stream` with a session from `trantor dashboard`): every
 * `traffic` sample and every `request` event, whole. Rounds alternate without/with (and which
 * goes first) so a drift of the machine falls on both; the medians are compared. Besides
 * requests/s, the control plane's CPU time per request (from /proc, Linux) is compared: on a
 * shared machine throughput swings by tens of percent from run to run, while the CPU a request
 * costs the gateway barely moves, and it is what an open dashboard adds to. Target: the open feed
 * costs < 3%, judged on CPU per request where /proc has it, else on requests/s.
 *
 * Part of `npm run bench` (BENCH_DASHBOARD_SECONDS a window, 5 s by default); alone: `BENCH_ONLY=dashboard npm run bench`, or
 * `node --import tsx bench/dashboard.ts` after `npm run build` (BENCH_SECONDS=2 for a short check;
 * BENCH_DASHBOARD_ROUNDS sets the rounds, 5 by default).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { CHROMIUM, launchBrowser } from '../test/e2e/dashboard/browser.ts';
import { startUp } from './grpc-v2.ts';
import { load, loadGenerator, type LoadFigures } from './wrk.ts';
import { median } from './median.ts';

const ROOT = join(import.meta.dirname, '..');
const TRANTOR = join(ROOT, 'bin', 'trantor.js');
const IRIS_BODY = '{"data":{"ndarray":[[1,2,3,4]]}}';
const WARM_UP_SECONDS = 2;
/** The target: the open dashboard costs the gateway less than this share of its throughput. */
const TARGET = 0.03;

const CONTENDERS = [
  { name: 'TypeScript no-op model (in process)', manifest: 'examples/noop-ts/noop-in-process.yaml', path: '/seldon/default/noop-in-process/api/v1.0/predictions', page: '#/deployments/default/noop-in-process/traffic' },
  { name: 'iris SKLEARN_SERVER', manifest: 'examples/iris/iris.yaml', path: '/seldon/seldon/iris-model/api/v1.0/predictions', page: '#/deployments/seldon/iris-model/traffic' },
] as const;

export interface DashboardBenchOptions {
  seconds: number;
  connections: number;
  rounds: number;
}

/** One measured window: the load's figures and the control plane's CPU µs per request answered (undefined without /proc). */
export interface Window extends LoadFigures {
  cpuPerRequestUs: number | undefined;
}

export interface DashboardRow {
  name: string;
  without: Window[];
  with: Window[];
  /** With the page itself open in headless Chromium on the model's traffic tab; empty without Chromium. */
  browser: Window[];
  /** With the same browser open on a blank page: what having a browser at all costs, apart from the dashboard. */
  blank: Window[];
  /** Events the feed's reader got during the measured windows, by name. */
  events: Record<string, number>;
}

export interface DashboardReport {
  options: DashboardBenchOptions;
  rows: DashboardRow[];
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRANTOR, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`trantor ${args.join(' ')} exited with ${code}: ${err.trim()}`))));
  });
}

/** A session for the dashboard's data, as the page gets one: a login code from `trantor dashboard`, redeemed. */
async function login(gateway: string, env: NodeJS.ProcessEnv): Promise<string> {
  const link = await cli(['dashboard', '--no-open'], env);
  const code = /#login=(\S+)/.exec(link)?.[1];
  if (code === undefined) throw new Error(`trantor dashboard --no-open printed no login link: ${link}`);
  const res = await fetch(`${gateway}/dashboard/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  if (res.status !== 200) throw new Error(`redeeming the login code answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { session: string }).session;
}

interface OpenFeed {
  events: Record<string, number>;
  close(): void;
}

/**
 * Opens the live feed and reads it as the page does: each event's data parsed as JSON. Resolves
 * once the first overview came (the feed is fully set up).
 */
function openFeed(gateway: string, session: string): Promise<OpenFeed> {
  return new Promise((resolve, reject) => {
    const events: Record<string, number> = {};
    const req = httpRequest(`${gateway}/dashboard/api/stream`, { headers: { authorization: `Bearer ${session}` } }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`the feed answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buffered = '';
      let opened = false;
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n\n')) !== -1) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (!block.startsWith('event: ')) continue;
          const newline = block.indexOf('\n');
          const name = block.slice(7, newline);
          JSON.parse(block.slice(newline + 7));
          events[name] = (events[name] ?? 0) + 1;
          if (!opened && name === 'overview') {
            opened = true;
            resolve({ events, close: () => req.destroy() });
          }
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => reject(err));
    req.end();
  });
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim() || 100);

/** A process's CPU time so far (user + system), µs; undefined where /proc does not say. */
function cpuTimeUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is 3rd, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  } catch {
    return undefined;
  }
}

/** Runs `measure` and the control plane's CPU time over it. */
async function windowOf(pid: number | undefined, measure: () => Promise<LoadFigures>): Promise<Window> {
  const before = pid === undefined ? undefined : cpuTimeUs(pid);
  const figures = await measure();
  const after = pid === undefined ? undefined : cpuTimeUs(pid);
  const cpuPerRequestUs = before === undefined || after === undefined || figures.requests === 0 ? undefined : (after - before) / figures.requests;
  return { ...figures, cpuPerRequestUs };
}

export async function benchDashboard(options: DashboardBenchOptions): Promise<DashboardReport> {
  const scratch = mkdtempSync(join(tmpdir(), 'trantor-bench-dashboard-'));
  const home = join(scratch, 'home');
  const env = { ...process.env, TRANTOR_HOME: home };
  const up = await startUp(home);
  try {
    for (const contender of CONTENDERS) await cli(['apply', '-f', join(ROOT, contender.manifest), '--wait'], env);
    const session = await login(up.gateway, env);
    // The page itself, in a real browser, when there is one: one context logged in once, a page per window.
    let browser: Browser | undefined;
    let context: BrowserContext | undefined;
    if (existsSync(CHROMIUM)) {
      browser = await launchBrowser();
      context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const first = await context.newPage();
      await first.goto((await cli(['dashboard', '--no-open'], env)).trim());
      await first.waitForSelector('[data-testid=live]:text("live")');
      await first.close();
    }
    const pid = (JSON.parse(readFileSync(join(home, 'control-plane.json'), 'utf8')) as { pid?: number }).pid;
    const rows: DashboardRow[] = [];
    for (const contender of CONTENDERS) {
      const url = `${up.gateway}${contender.path}`;
      const run = (seconds: number): Promise<LoadFigures> => load({ url, body: IRIS_BODY, connections: options.connections, seconds });
      await run(WARM_UP_SECONDS);
      const row: DashboardRow = { name: contender.name, without: [], with: [], browser: [], blank: [], events: {} };
      const without = async (): Promise<void> => {
        row.without.push(await windowOf(pid, () => run(options.seconds)));
      };
      const withFeed = async (): Promise<void> => {
        const feed = await openFeed(up.gateway, session);
        const before = { ...feed.events };
        try {
          row.with.push(await windowOf(pid, () => run(options.seconds)));
        } finally {
          feed.close();
        }
        for (const [name, count] of Object.entries(feed.events)) row.events[name] = (row.events[name] ?? 0) + count - (before[name] ?? 0);
      };
      const withBrowser = async (): Promise<void> => {
        if (context === undefined) return;
        const page = await context.newPage();
        try {
          await page.goto(`${up.gateway}/${contender.page}`);
          await page.waitForSelector('[data-testid=live]:text("live")');
          row.browser.push(await windowOf(pid, () => run(options.seconds)));
        } finally {
          await page.close();
        }
      };
      const withBlank = async (): Promise<void> => {
        if (context === undefined) return;
        const page = await context.newPage();
        try {
          await page.goto('about:blank');
          row.blank.push(await windowOf(pid, () => run(options.seconds)));
        } finally {
          await page.close();
        }
      };
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? [without, withFeed, withBlank, withBrowser] : [withBrowser, withBlank, withFeed, without];
        for (const step of order) await step();
        const [a, b, c] = [row.without.at(-1)!, row.with.at(-1)!, row.browser.at(-1)];
        console.log(
          `  ${contender.name}, round ${round + 1}: ${Math.round(a.requestsPerSecond)} req/s without (${cpuText(a.cpuPerRequestUs)}), ${Math.round(b.requestsPerSecond)} with the feed open (${cpuText(b.cpuPerRequestUs)})` +
            (c === undefined ? '' : `, ${Math.round(c.requestsPerSecond)} with the page open in Chromium (${cpuText(c.cpuPerRequestUs)})`),
        );
      }
      rows.push(row);
    }
    await browser?.close();
    return { options, rows };
  } finally {
    await up.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function cpuText(us: number | undefined): string {
  return us === undefined ? 'CPU unknown' : `${us.toFixed(1)} µs CPU/request`;
}

/** The median of the windows' CPU per request; undefined when any window lacks it. */
function medianCpu(windows: readonly Window[]): number | undefined {
  const values = windows.map((w) => w.cpuPerRequestUs);
  return values.some((v) => v === undefined) ? undefined : median(values as number[]);
}

export function formatDashboard(report: DashboardReport): string {
  const { seconds, connections, rounds } = report.options;
  const lines = [
    `An open dashboard's cost to the gateway: ${loadGenerator()}, ${connections} connections, ${rounds} rounds of ${seconds} s each way, medians; CPU is the control plane's per request answered (target: < ${TARGET * 100}% with the feed open, on CPU per request where known)`,
    '',
    '| model | req/s without | req/s with the feed open | throughput cost | CPU µs/request without | with | CPU cost | p99 ms without | with | errors | feed events read (request, traffic) | target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of report.rows) {
    const without = median(row.without.map((f) => f.requestsPerSecond));
    const withFeed = median(row.with.map((f) => f.requestsPerSecond));
    const cost = 1 - withFeed / without;
    const cpuWithout = medianCpu(row.without);
    const cpuWith = medianCpu(row.with);
    const cpuCost = cpuWithout === undefined || cpuWith === undefined ? undefined : cpuWith / cpuWithout - 1;
    const judged = cpuCost ?? cost;
    const errors = [...row.without, ...row.with].reduce((n, f) => n + f.errors, 0);
    const cpu = (us: number | undefined): string => (us === undefined ? '—' : us.toFixed(1));
    lines.push(
      `| ${row.name} | ${Math.round(without)} | ${Math.round(withFeed)} | ${(cost * 100).toFixed(1)}% | ${cpu(cpuWithout)} | ${cpu(cpuWith)} | ${cpuCost === undefined ? '—' : `${(cpuCost * 100).toFixed(1)}%`} | ${median(row.without.map((f) => f.p99)).toFixed(2)} | ${median(row.with.map((f) => f.p99)).toFixed(2)} | ${errors} | ${row.events['request'] ?? 0}, ${row.events['traffic'] ?? 0} | ${judged < TARGET ? 'met' : 'NOT met'} |`,
    );
  }
  if (report.rows.some((row) => row.browser.length > 0)) {
    lines.push(
      '',
      "With the page itself open in headless Chromium on the model's traffic tab (the browser shares the two cores with the load generator and the gateway, so throughput counts its CPU too; the gateway's own cost is its CPU per request):",
      '',
      '| model | req/s without | req/s with the page open | throughput cost | CPU µs/request without | with | CPU cost | target | req/s with a blank page instead | the page against the blank page |',
      '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|',
    );
    for (const row of report.rows) {
      if (row.browser.length === 0) continue;
      const without = median(row.without.map((f) => f.requestsPerSecond));
      const withPage = median(row.browser.map((f) => f.requestsPerSecond));
      const cpuWithout = medianCpu(row.without);
      const cpuWith = medianCpu(row.browser);
      const cpuCost = cpuWithout === undefined || cpuWith === undefined ? undefined : cpuWith / cpuWithout - 1;
      const cost = 1 - withPage / without;
      const cpu = (us: number | undefined): string => (us === undefined ? '—' : us.toFixed(1));
      const blank = row.blank.length === 0 ? undefined : median(row.blank.map((f) => f.requestsPerSecond));
      lines.push(
        `| ${row.name} | ${Math.round(without)} | ${Math.round(withPage)} | ${(cost * 100).toFixed(1)}% | ${cpu(cpuWithout)} | ${cpu(cpuWith)} | ${cpuCost === undefined ? '—' : `${(cpuCost * 100).toFixed(1)}%`} | ${(cpuCost ?? cost) < TARGET ? 'met' : 'NOT met'} | ${blank === undefined ? '—' : Math.round(blank)} | ${blank === undefined ? '—' : `${((1 - withPage / blank) * 100).toFixed(1)}%`} |`,
      );
    }
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
  const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
  const rounds = Number(process.env['BENCH_DASHBOARD_ROUNDS'] ?? 5);
  console.log(`\n${formatDashboard(await benchDashboard({ seconds, connections, rounds }))}`);
}
