/**
 * The dashboard's browser tests drive a real headless Chromium (Debian's `chromium`, through
 * playwright-core) against a real `trantor up`, logged in as a user is: `trantor dashboard
 * --no-open` prints the one-time link and the page opens it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Trantor } from '../harness.ts';

/**
 * The page's globals that the tests' in-page functions (`page.waitForFunction`, `page.evaluate`) read.
 * The tests are compiled without the DOM library, so such a function names them through
 * `(globalThis as unknown as InPage)`; the cast is erased and the function runs in the page.
 */
export interface InPage {
  document: { body: { innerText: string }; querySelectorAll(selector: string): { length: number } };
  localStorage: { getItem(key: string): string | null };
  performance: { now(): number };
}

export const CHROMIUM = process.env['TRANTOR_CHROMIUM'] ?? '/usr/bin/chromium';
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';

/**
 * Why the browser tests cannot run here, for `test(…, { skip })`; undefined when they can. Under CI
 * a missing browser fails instead (.ci/run installs it).
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (CI) throw new Error(`${CHROMIUM} is missing under CI (.ci/run installs Debian's chromium)`);
  return `no Chromium at ${CHROMIUM} (apt-get install chromium, or set TRANTOR_CHROMIUM)`;
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

export interface Dashboard {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** What the page reported: console errors, uncaught exceptions, failed requests. */
  problems: string[];
  /** A new login link from `trantor dashboard --no-open`. */
  loginLink(): string;
  close(): Promise<void>;
}

/** Opens the dashboard of a running `trantor up` logged in, and waits for its live feed. */
export async function openDashboard(trantor: Trantor, options: { viewport?: { width: number; height: number } } = {}): Promise<Dashboard> {
  const loginLink = (): string => {
    const result = trantor.cli(['dashboard', '--no-open']);
    if (result.code !== 0) throw new Error(`trantor dashboard --no-open failed (exit ${result.code}): ${result.stderr}`);
    return result.stdout.trim();
  };
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(loginLink());
  await page.waitForSelector('[data-testid=live]:text("live")', { timeout: 15_000 });
  return {
    browser,
    context,
    page,
    problems,
    loginLink,
    close: () => browser.close(),
  };
}

/**
 * A test file's setup: `trantor up` in a fresh home, `prepare` (the manifests the file needs), then
 * the dashboard opened logged in. `closeAll` in the file's `after` stops both, whatever was reached.
 */
export async function upWithDashboard(prepare: (trantor: Trantor) => void | Promise<void>, options: { viewport?: { width: number; height: number } } = {}): Promise<{ trantor: Trantor; dashboard: Dashboard }> {
  const trantor = new Trantor();
  await trantor.up();
  await prepare(trantor);
  return { trantor, dashboard: await openDashboard(trantor, options) };
}

export async function closeAll(trantor: Trantor | undefined, dashboard: Dashboard | undefined): Promise<void> {
  await dashboard?.close();
  await trantor?.close();
}
