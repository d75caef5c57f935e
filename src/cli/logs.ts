/**
 * `trantor logs NAME [NODE]`, with kubectl's flags: `-c/--container`, `--tail` (per replica),
 * `--since`/`--since-time`, `--timestamps`, `-p/--previous`, `--prefix`, `-f/--follow`. The
 * control plane selects the lines (GET …/logs with Kubernetes' query names, docs/api.md); this
 * file turns flags into that query and prints what comes back.
 */
import { Command, Option } from 'commander';
import type { ControlPlaneClient } from '../client/index.ts';
import type { DeploymentView } from '../manifest/index.ts';
import { CliError, streamApi } from './control-plane.ts';
import { connect, type Io } from './io.ts';

export type FindDeployment = (info: ControlPlaneClient, name: string, namespace: string | undefined) => Promise<DeploymentView>;

interface LogsFlags {
  namespace?: string;
  container?: string;
  follow?: boolean;
  tail: string;
  since?: string;
  sinceTime?: string;
  timestamps?: boolean;
  previous?: boolean;
  prefix: boolean;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Milliseconds in a Go duration as kubectl's `--since` takes it: `5s`, `2m`, `1h30m`, `1.5h`,
 * `300ms`; a unit is required and the whole must be more than zero. Undefined when it is not one.
 */
export function goDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, value, , unit] of text.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(value) * UNIT_MS[unit!]!;
  return total > 0 ? total : undefined;
}

/** The query string of GET /v1/deployments/<ns>/<name>/logs for the flags; every bad flag is named. */
export function logsQuery(flags: LogsFlags, node: string | undefined): URLSearchParams {
  const query = new URLSearchParams();
  if (node !== undefined && flags.container !== undefined && node !== flags.container) {
    throw new CliError(`node ${node} and --container ${flags.container} disagree; give one`);
  }
  const container = flags.container ?? node;
  if (container !== undefined) query.set('container', container);
  if (!/^-?\d+$/.test(flags.tail) || Number(flags.tail) < -1) throw new CliError(`--tail ${flags.tail}: expected a number of lines (-1 for all)`);
  query.set('tailLines', String(Number(flags.tail)));
  if (flags.since !== undefined && flags.sinceTime !== undefined) throw new CliError('--since and --since-time: give at most one');
  if (flags.since !== undefined) {
    const ms = goDuration(flags.since);
    if (ms === undefined) throw new CliError(`--since ${flags.since}: expected a duration such as 30s, 5m, 1h or 1h30m`);
    query.set('sinceSeconds', String(Math.ceil(ms / 1000)));
  }
  if (flags.sinceTime !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}T/i.test(flags.sinceTime) || Number.isNaN(Date.parse(flags.sinceTime))) {
      throw new CliError(`--since-time ${flags.sinceTime}: expected an RFC 3339 time such as 2024-05-01T12:00:00Z`);
    }
    query.set('sinceTime', flags.sinceTime);
  }
  if (flags.timestamps === true) query.set('timestamps', 'true');
  if (flags.previous === true) query.set('previous', 'true');
  if (flags.follow === true) {
    if (flags.previous === true) throw new CliError('--follow and --previous: a previous run has ended, there is nothing to follow');
    query.set('follow', 'true');
  }
  return query;
}

/** `[default/classifier/0] text` → `text`: the control plane always names the replica; `--prefix=false` drops it. */
export function withoutPrefix(line: string): string {
  return line.replace(/^\[[^\]\s]*\] /, '');
}

/** The boolean flags of `logs` that kubectl spells `--name=false` (Go's flag syntax). */
const GO_BOOLEANS = ['prefix', 'timestamps', 'previous', 'follow'];

/** `--prefix=false` → `--no-prefix`, `--timestamps=true` → `--timestamps`, for the flags above only. */
export function goBooleanFlags(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const match = /^--([a-z-]+)=(true|false)$/.exec(arg);
    if (match === null || !GO_BOOLEANS.includes(match[1]!)) return arg;
    return match[2] === 'true' ? `--${match[1]}` : `--no-${match[1]}`;
  });
}

export function addLogsCommand(program: Command, io: Io, findDeployment: FindDeployment): void {
  program
    .command('logs')
    .description("print a deployment's component logs, each line prefixed with its replica ([<predictor>/<node>/<index>])")
    .argument('<name>', 'the deployment name')
    .argument('[node]', "a graph node: only its replicas' lines (as -c)")
    .option('-n, --namespace <ns>', 'namespace')
    .option('-c, --container <node>', "a graph node: only its replicas' lines")
    .option('-f, --follow', 'keep printing new lines; ends when the deployment is deleted')
    .option('--no-follow', 'print the kept lines and return (the default)')
    .option('--tail <lines>', 'lines to show from the end of each replica (-1: every line kept)', '100')
    .option('--since <duration>', 'only lines newer than this: 30s, 5m, 1h, 1h30m')
    .option('--since-time <time>', 'only lines read at or after this RFC 3339 time, e.g. 2024-05-01T12:00:00Z')
    .option('--timestamps', 'put the time each line was read (RFC 3339, nine fraction digits) after the prefix, before the line')
    .option('--no-timestamps', 'no times (the default)')
    .option('-p, --previous', "each restarted replica's lines from its run before the current one")
    .option('--no-previous', 'the current runs (the default)')
    .addOption(new Option('--prefix', 'prefix each line with its replica (the default; --prefix=false drops it)').default(true))
    .option('--no-prefix', 'lines without the replica prefix')
    .action(async (name: string, node: string | undefined, flags: LogsFlags, command: Command) => {
      const query = logsQuery(flags, node);
      const info = connect(command, io);
      const view = await findDeployment(info, name, flags.namespace);
      const path = `/v1/deployments/${encodeURIComponent(view.metadata.namespace)}/${encodeURIComponent(view.metadata.name)}/logs?${query.toString()}`;
      const print = (line: string): void => io.out(flags.prefix ? line : withoutPrefix(line));
      const body = await streamApi(info, path);
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of body) {
        // A character split across chunks is held by the decoder until its last byte arrives.
        const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) print(line);
      }
      if (rest !== '') print(rest);
    });
}
