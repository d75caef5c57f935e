/**
 * Running schemathesis (`st run`, v4) against an OpenAPI document: checks `not_a_server_error`,
 * a bounded number of examples per operation, a deadline per request and for the whole run. `.ci/run`
 * installs it in a virtualenv outside the repository and exports TRANTOR_SCHEMATHESIS.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The `st` executable: TRANTOR_SCHEMATHESIS, or the venv `.ci/run` makes; undefined when neither exists. */
export function findSchemathesis(env: NodeJS.ProcessEnv): string | undefined {
  const named = env['TRANTOR_SCHEMATHESIS'];
  if (named !== undefined && named !== '') return named;
  const cache = env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  const venv = join(cache, 'trantor-ci', 'venv', 'bin', 'st');
  return existsSync(venv) ? venv : undefined;
}

export interface SchemathesisRun {
  /** The schema's URL. */
  readonly schema: string;
  /** Sent with every request, the schema's included (the API token). */
  readonly headers: Readonly<Record<string, string>>;
  readonly maxExamples: number;
  readonly seed: number;
  readonly requestTimeoutS: number;
  /** The whole run is stopped (and fails) past this. */
  readonly deadlineMs: number;
}

export interface SchemathesisResult {
  readonly code: number | null;
  readonly output: string;
  readonly timedOut: boolean;
}

/**
 * Values seen in responses are not fed back into requests: against the API that would turn a
 * listed deployment's name into a DELETE of it (and a `logs?follow=1` that never ends). A watch
 * (`GET /v1/<plural>?watch=1`) is a stream that never ends either, so every request asks for the
 * list instead; watches are tested in src/server/watch.test.ts and test/e2e/cli-get.test.ts.
 */
const CONFIG = `[parameters]
"query.watch" = "false"
[phases.examples]
extra-data-sources = { responses = false }
[phases.coverage]
extra-data-sources = { responses = false }
[phases.fuzzing]
extra-data-sources = { responses = false }
`;

export async function runSchemathesis(st: string, run: SchemathesisRun): Promise<SchemathesisResult> {
  const dir = mkdtempSync(join(tmpdir(), 'trantor-st-'));
  const config = join(dir, 'schemathesis.toml');
  writeFileSync(config, CONFIG);
  const args = [
    '--config-file', config, 'run', run.schema,
    '--checks', 'not_a_server_error',
    '--phases', 'examples,coverage,fuzzing',
    '--max-examples', String(run.maxExamples),
    '--seed', String(run.seed),
    '--request-timeout', String(run.requestTimeoutS),
    '--generation-database', 'none',
    // One worker: hypothesis is not thread-safe everywhere (it failed once on Python 3.11 with two).
    '--workers', '1',
    '--warnings', 'off',
    '--no-color',
  ];
  for (const [name, value] of Object.entries(run.headers)) args.push('-H', `${name}: ${value}`);
  try {
    return await new Promise<SchemathesisResult>((resolve, reject) => {
      // Its working folder is the temporary one: nothing (reports, caches) lands in the repository.
      const child = spawn(st, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
      let output = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, run.deadlineMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, output, timedOut });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The part of st's output worth failing with: its failures and errors, else its tail. */
export function findings(output: string): string {
  const start = output.search(/^=+ (FAILURES|ERRORS) =+$/m);
  const end = output.search(/^=+ (WARNINGS|SUMMARY) =+$/m);
  const text = start === -1 ? output.slice(-3000) : output.slice(start, end === -1 ? undefined : end);
  return text.length > 8000 ? `${text.slice(0, 8000)}\n… (${text.length} chars)` : text;
}
