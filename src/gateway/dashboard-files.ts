/**
 * The dashboard's files at the gateway's root: `/` (its page), `/dashboard/static/…` (the compiled
 * `src/web`), `/dashboard/vendor/<package>/…` (the front-end libraries, from this install's
 * node_modules). Nothing is fetched from anywhere else: the Content-Security-Policy allows this
 * origin only, so the page works offline and makes no third-party request. The data is not here:
 * `/dashboard/api/…` is passed to the dashboard's API (server's), which wants a session.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TrantorError } from '../protocol/index.ts';

/** The packages the page imports, by the name its import map gives them. */
const VENDOR_PACKAGES = ['preact', 'htm', 'uplot'] as const;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

interface File {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export interface DashboardFilesOptions {
  /** The compiled front end: `index.html`, `style.css`, the modules. */
  readonly webRoot: string;
}

export interface DashboardFiles {
  /** Serves `path` when it is one of the dashboard's files (GET and HEAD); false when it is not the dashboard's. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

/** Headers on every dashboard answer: this origin only, never framed, nothing sniffed or leaked. */
function securityHeaders(scriptHashes: readonly string[]): Record<string, string> {
  const scripts = ["'self'", ...scriptHashes.map((h) => `'sha256-${h}'`)].join(' ');
  return {
    'content-security-policy': `default-src 'none'; script-src ${scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-frame-options': 'DENY',
  };
}

/** The hashes of the page's inline scripts (its import map), which the policy names one by one. */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].filter((m) => m[1]!.trim() !== '').map((m) => createHash('sha256').update(m[1]!).digest('base64'));
}

/** `rest` inside `root`, or undefined when it would step outside (`..`, an absolute part). */
function inside(root: string, rest: string): string | undefined {
  if (rest === '' || rest.includes('\0') || rest.includes('\\')) return undefined;
  const path = join(root, rest);
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..')) return undefined;
  return path;
}

/** The folder a package is installed in (not every package exports its package.json). */
function packageDir(name: string): string {
  let dir = dirname(createRequire(import.meta.url).resolve(name));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === name) return dir;
    } catch {
      // no package.json here: keep climbing
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`the dashboard's library ${name} is not installed (npm install)`);
    dir = up;
  }
}

export function dashboardFiles(options: DashboardFilesOptions): DashboardFiles {
  const vendorRoots = new Map<string, string>(VENDOR_PACKAGES.map((name) => [name, packageDir(name)]));
  const cache = new Map<string, File | null>();
  let headers: Record<string, string> | undefined;

  const load = (path: string): File | null => {
    let file = cache.get(path);
    if (file !== undefined) return file;
    try {
      if (!statSync(path).isFile()) throw new Error('not a file');
      const body = readFileSync(path);
      file = { body, type: TYPES[extname(path)] ?? 'application/octet-stream', etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    } catch {
      file = null;
    }
    cache.set(path, file);
    return file;
  };

  const pageHeaders = (): Record<string, string> => {
    if (headers === undefined) {
      const page = load(join(options.webRoot, 'index.html'));
      headers = securityHeaders(page === null ? [] : inlineScriptHashes(page.body.toString('utf8')));
    }
    return headers;
  };

  const fileFor = (path: string): string | undefined => {
    if (path === '/' || path === '/index.html' || path === '/dashboard' || path === '/dashboard/') return join(options.webRoot, 'index.html');
    if (path.startsWith('/dashboard/static/')) return inside(options.webRoot, decodeURIComponent(path.slice('/dashboard/static/'.length)));
    if (path.startsWith('/dashboard/vendor/')) {
      const rest = path.slice('/dashboard/vendor/'.length);
      const slash = rest.indexOf('/');
      const root = slash === -1 ? undefined : vendorRoots.get(rest.slice(0, slash));
      // Only what a package ships to run: its dist folder (htm's preact binding is at htm/preact).
      if (root === undefined) return undefined;
      const within = rest.slice(slash + 1);
      if (!within.startsWith('dist/') && !within.startsWith('preact/') && !within.startsWith('hooks/')) return undefined;
      return inside(root, decodeURIComponent(within));
    }
    return undefined;
  };

  return {
    serve(req, res, path) {
      if (!(path === '/' || path === '/index.html' || path === '/dashboard' || path.startsWith('/dashboard/'))) return false;
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') throw new TrantorError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; the dashboard's files answer GET`);
      let target: string | undefined;
      try {
        target = fileFor(path);
      } catch {
        target = undefined; // a malformed %-escape
      }
      const file = target === undefined ? null : load(target);
      if (file === null) {
        if (path === '/' || path === '/index.html') {
          throw new TrantorError('NOT_FOUND', `the dashboard's files are not built (${join(options.webRoot, 'index.html')} is missing): run npm run build`);
        }
        throw new TrantorError('NOT_FOUND', `no dashboard file ${path}`);
      }
      const head: Record<string, string> = { ...pageHeaders(), 'content-type': file.type, etag: file.etag, 'cache-control': 'no-cache' };
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, head);
        res.end();
        return true;
      }
      head['content-length'] = String(file.body.length);
      res.writeHead(200, head);
      res.end(method === 'HEAD' ? undefined : file.body);
      return true;
    },
  };
}
