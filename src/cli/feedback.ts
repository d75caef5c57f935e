/**
 * `trantor feedback`: Seldon's Feedback message (request, response, reward, truth) posted to a
 * deployment's `/api/v1.0/feedback`, from flags (JSON or curl's `@file`) or from the last
 * prediction this CLI made. `trantor predict` keeps that last prediction in
 * `<home>/cli/last-prediction.json` (the folder 0700, the file 0600: a request may hold private data).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { request } from 'undici';
import { CliError, failureOf } from './control-plane.ts';
import { textOrFile, unreadable } from './files.ts';
import { connect, homeOf, type Io } from './io.ts';
import type { FindDeployment } from './logs.ts';

/** What `trantor predict` last sent and got back (Seldon's protocol), as JSON texts with every digit kept. */
export interface LastPrediction {
  namespace: string;
  name: string;
  request: string;
  response: string;
  puid?: string;
  /** When it was made, RFC 3339. */
  time: string;
}

export function lastPredictionFile(home: string): string {
  return join(home, 'cli', 'last-prediction.json');
}

/** Keeps `prediction` as the last one, readable by its user alone. */
export function saveLastPrediction(home: string, prediction: Omit<LastPrediction, 'puid' | 'time'>): void {
  let puid: string | undefined;
  try {
    const meta = (JSON.parse(prediction.response) as { meta?: { puid?: unknown } }).meta;
    if (typeof meta?.puid === 'string') puid = meta.puid;
  } catch {
    // an answer that is not JSON is kept as it is
  }
  const record: LastPrediction = { ...prediction, ...(puid === undefined ? {} : { puid }), time: new Date().toISOString() };
  const file = lastPredictionFile(home);
  mkdirSync(join(home, 'cli'), { recursive: true, mode: 0o700 });
  chmodSync(join(home, 'cli'), 0o700);
  // Written whole or not at all: a reader never sees half a file.
  const next = `${file}.${process.pid}.tmp`;
  writeFileSync(next, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  chmodSync(next, 0o600);
  renameSync(next, file);
}

/** Keeps a prediction for `feedback --last`; one that worked is not failed by a home that cannot be written. */
export function keepLastPrediction(home: string, io: Io, prediction: Omit<LastPrediction, 'puid' | 'time'>): void {
  try {
    saveLastPrediction(home, prediction);
  } catch (err) {
    io.err(`warning: could not keep this prediction for feedback --last: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function readLastPrediction(home: string): LastPrediction {
  const file = lastPredictionFile(home);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') {
      throw new CliError(`--last: this CLI has made no prediction with home ${home} yet (${file}); run trantor predict first, or give --request and --response`);
    }
    throw unreadable('--last', file, err);
  }
  try {
    const record = JSON.parse(text) as Partial<LastPrediction>;
    if (typeof record.namespace === 'string' && typeof record.name === 'string' && typeof record.request === 'string' && typeof record.response === 'string') {
      return record as LastPrediction;
    }
  } catch {
    // named below
  }
  throw new CliError(`--last: ${file} is not a prediction this CLI wrote; run trantor predict again`);
}

/** A Seldon message given to `flag` as JSON (or a bare array of rows, sent as data.ndarray); its JSON text, digits as given. */
export function seldonMessageText(text: string, flag: string): string {
  const trimmed = text.trim();
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (err) {
    throw new CliError(`${flag}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (Array.isArray(value)) return `{"data":{"ndarray":${trimmed}}}`;
  if (typeof value !== 'object' || value === null) throw new CliError(`${flag}: expected a Seldon message (a JSON object) or an array of rows`);
  return trimmed;
}

/** Seldon's Feedback message as JSON text. */
export function feedbackBody(parts: { request: string; response: string; reward: number; truth?: string }): string {
  const truth = parts.truth === undefined ? '' : `,"truth":${parts.truth}`;
  return `{"request":${parts.request},"response":${parts.response},"reward":${parts.reward}${truth}}`;
}

interface FeedbackFlags {
  namespace?: string;
  request?: string;
  response?: string;
  reward?: string;
  truth?: string;
  last?: boolean;
  api: string;
}

export function addFeedbackCommand(program: Command, io: Io, findDeployment: FindDeployment): void {
  program
    .command('feedback')
    .description("send Seldon feedback (request, response, reward, truth) on a prediction to a deployment's /api/v1.0/feedback")
    .argument('<name>', 'the deployment name')
    .option('-n, --namespace <ns>', 'namespace')
    .option('--request <json|@file>', 'the request the prediction answered: a Seldon message, rows, @FILE or @- for stdin')
    .option('--response <json|@file>', 'the prediction (with its meta.puid): a Seldon message, @FILE or @-')
    .option('--reward <number>', 'the reward for the prediction, e.g. 1 or 0.5')
    .option('--truth <json|@file>', 'what the answer should have been: a Seldon message, rows, @FILE or @-')
    .option('--last', `use the request and response of the last trantor predict (kept in <home>/cli/last-prediction.json)`)
    .option('--api <version>', 'v1.0 or v0.1', 'v1.0')
    .action(async (name: string, flags: FeedbackFlags, command: Command) => {
      if (flags.reward === undefined) throw new CliError('--reward is required, e.g. --reward 1');
      const reward = Number(flags.reward);
      if (flags.reward.trim() === '' || !Number.isFinite(reward)) throw new CliError(`--reward ${flags.reward}: expected a number`);
      if (flags.api !== 'v1.0' && flags.api !== 'v0.1') throw new CliError(`--api ${flags.api}: expected v1.0 or v0.1`);
      if (flags.last === true && (flags.request !== undefined || flags.response !== undefined)) {
        throw new CliError('--last and --request/--response: give one or the other');
      }
      if (flags.last !== true && (flags.request === undefined || flags.response === undefined)) {
        throw new CliError('say what the feedback is on: --request and --response, or --last for the last trantor predict');
      }
      const stdinUsers = [flags.request, flags.response, flags.truth].filter((v) => v === '@-').length;
      if (stdinUsers > 1) throw new CliError('only one of --request, --response and --truth can be @- (stdin)');
      const truth = flags.truth === undefined ? undefined : seldonMessageText(textOrFile(flags.truth, '--truth', io), '--truth');
      // Read before any call: a missing last prediction is said without a control plane.
      const last = flags.last === true ? readLastPrediction(homeOf(command, io)) : undefined;
      const info = connect(command, io);
      const view = await findDeployment(info, name, flags.namespace);
      const { namespace } = view.metadata;
      let parts: { request: string; response: string };
      if (last !== undefined) {
        if (last.namespace !== namespace || last.name !== view.metadata.name) {
          throw new CliError(`--last: the last prediction was made on ${last.namespace}/${last.name}, not ${namespace}/${view.metadata.name}`);
        }
        parts = last;
      } else {
        parts = {
          request: seldonMessageText(textOrFile(flags.request!, '--request', io), '--request'),
          response: seldonMessageText(textOrFile(flags.response!, '--response', io), '--response'),
        };
      }
      const body = feedbackBody({ ...parts, reward, ...(truth === undefined ? {} : { truth }) });
      const url = `${info.gatewayUrl}/seldon/${encodeURIComponent(namespace)}/${encodeURIComponent(view.metadata.name)}/api/${flags.api}/feedback`;
      const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new CliError(`HTTP ${res.statusCode}: ${failureOf({ status: res.statusCode, body: text })}`);
      io.out(text);
    });
}
