/**
 * `trantor dashboard`: opens the dashboard logged in. It asks the running control plane (with the
 * API token) for a one-time login link — `http://127.0.0.1:8000/#login=<code>`, good once, for a
 * minute — and opens it in the browser, or prints it with `--no-open`. The code sits in the URL's
 * fragment, which browsers never send to a server or put in a Referer.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { callApiJson } from './control-plane.ts';
import { connect, type Io } from './io.ts';

export interface DashboardLogin {
  code: string;
  url: string;
  expiresAt: string;
}

/** The platform's "open this URL" command. */
export function openerFor(platform: NodeJS.Platform): { command: string; args: (url: string) => string[] } {
  if (platform === 'darwin') return { command: 'open', args: (url) => [url] };
  if (platform === 'win32') return { command: 'cmd', args: (url) => ['/c', 'start', '""', url.replaceAll('&', '^&')] };
  return { command: 'xdg-open', args: (url) => [url] };
}

/** Opens `url` in the user's browser; resolves false when no opener could be started. */
function openInBrowser(url: string): Promise<boolean> {
  const opener = openerFor(process.platform);
  return new Promise((resolve) => {
    const child = spawn(opener.command, opener.args(url), { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

export function addDashboardCommand(program: Command, io: Io): void {
  program
    .command('dashboard')
    .description('open the dashboard (served at the gateway\'s root) in the browser, logged in with a one-time link')
    .option('--no-open', 'print the login link instead of opening a browser')
    .action(async (flags: { open: boolean }, command: Command) => {
      const login = await callApiJson<DashboardLogin>(connect(command, io), 'POST', '/v1/dashboard/login');
      if (flags.open && (await openInBrowser(login.url))) {
        io.out(`Opening ${login.url.replace(/#.*$/, '')} in your browser.`);
        io.err(`If it does not open, use this link within a minute (it works once): ${login.url}`);
        return;
      }
      if (flags.open) io.err('no browser could be started (xdg-open / open / start); open this link yourself:');
      io.out(login.url);
    });
}
