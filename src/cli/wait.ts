/**
 * `trantor apply --wait`: what each deployment is doing while the command waits for it (a model's
 * download with bytes, total and speed, replicas coming up), and on a timeout the last state and
 * the commands that show why.
 *
 * The control-plane API has no status stream for deployments, so this polls each deployment's
 * view as the command always has (every 200 ms). What it prints depends on where stderr goes:
 * on a terminal one line per deployment, rewritten in place; elsewhere (CI logs, tests) a line per
 * change, at most one a second per deployment, and always the last one.
 */
import type { DeploymentView } from '../manifest/index.ts';
import { CliError } from './control-plane.ts';

export interface WaitTarget {
  readonly namespace: string;
  readonly name: string;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Where the lines go (stderr); each call is one line. */
  readonly write: (line: string) => void;
  /** The terminal's width when stderr is one (lines are rewritten in place), else undefined. */
  readonly terminalColumns: number | undefined;
  /** Time between two polls of a deployment (default 200 ms, as before progress was shown). */
  readonly pollMs?: number;
  /** Least time between two lines of one deployment off a terminal (default 1 s). */
  readonly lineIntervalMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The line that says what a deployment is doing (no replica count before its replicas exist, e.g. while its model downloads). */
export function statusLine(key: string, view: DeploymentView): string {
  const { replicas } = view.status;
  const ready = replicas.length === 0 ? '' : ` (${replicas.filter((r) => r.state === 'Ready').length}/${replicas.length} replicas ready)`;
  const description = view.status.description === undefined || view.status.description === '' ? '' : ` — ${view.status.description}`;
  // While replicas load, what one last printed (a model loading, a download) says more than "waiting".
  const loading = view.status.state === 'Available' ? undefined : replicas.find((r) => r.state !== 'Ready' && r.lastLine !== undefined);
  const printed = loading === undefined ? '' : ` — ${loading.name ?? loading.id} printed: ${loading.lastLine ?? ''}`;
  return `${key}: ${view.status.state}${ready}${description}${printed}`;
}

/**
 * The lines shown while waiting. Off a terminal: a changed line is printed when its deployment's
 * last line is at least `lineIntervalMs` old, or when it is the final one. On a terminal: the
 * block of one line per deployment is redrawn (cursor up, clear line) on every change.
 */
export class WaitDisplay {
  readonly #keys: readonly string[];
  readonly #options: Required<Pick<WaitOptions, 'write' | 'lineIntervalMs'>> & Pick<WaitOptions, 'terminalColumns'>;
  readonly #current = new Map<string, string>();
  readonly #printed = new Map<string, { line: string; at: number }>();
  #drawn = 0;

  constructor(keys: readonly string[], options: Pick<WaitOptions, 'write' | 'terminalColumns' | 'lineIntervalMs'>) {
    this.#keys = keys;
    this.#options = { write: options.write, terminalColumns: options.terminalColumns, lineIntervalMs: options.lineIntervalMs ?? 1000 };
  }

  /** The last line seen for `key`, printed or not. */
  last(key: string): string | undefined {
    return this.#current.get(key);
  }

  update(key: string, line: string, now: number, final: boolean): void {
    const changed = this.#current.get(key) !== line;
    this.#current.set(key, line);
    if (this.#options.terminalColumns !== undefined) {
      if (changed || this.#drawn === 0) this.#redraw(this.#options.terminalColumns);
      return;
    }
    const printed = this.#printed.get(key);
    if (printed?.line === line) return;
    if (!final && printed !== undefined && now - printed.at < this.#options.lineIntervalMs) return;
    this.#options.write(line);
    this.#printed.set(key, { line, at: now });
  }

  #redraw(columns: number): void {
    const lines = this.#keys.map((key) => this.#current.get(key)).filter((line): line is string => line !== undefined);
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    lines.forEach((line, i) => {
      // A line wider than the terminal would wrap, and the next redraw would climb too few lines.
      const fitted = line.length > columns - 1 ? `${line.slice(0, Math.max(columns - 2, 1))}…` : line;
      this.#options.write(`${i === 0 ? up : ''}\r\x1b[2K${fitted}`);
    });
    this.#drawn = lines.length;
  }
}

/**
 * Polls `view` for every target until each is Available (resolves) or one is Failed (throws its
 * description once all are settled), or until `timeoutMs` has passed (throws the last state of
 * each one still pending and the commands that show why).
 */
export async function waitForDeployments(view: (target: WaitTarget) => Promise<DeploymentView>, targets: readonly WaitTarget[], options: WaitOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const keyOf = (t: WaitTarget): string => `${t.namespace}/${t.name}`;
  const display = new WaitDisplay(targets.map(keyOf), options);
  const deadline = now() + options.timeoutMs;
  const pending = new Map(targets.map((t) => [keyOf(t), t]));
  const failures: string[] = [];
  while (pending.size > 0) {
    for (const [key, target] of [...pending]) {
      const current = await view(target);
      const state = current.status.state;
      const settled = state === 'Available' || state === 'Failed';
      display.update(key, statusLine(key, current), now(), settled);
      if (!settled) continue;
      pending.delete(key);
      if (state === 'Failed') failures.push(`${key} failed: ${current.status.description ?? 'no description'}`);
    }
    if (pending.size === 0) break;
    if (now() > deadline) throw new CliError(timeoutMessage(options.timeoutMs, [...pending.values()], (t) => display.last(keyOf(t))));
    await sleep(options.pollMs ?? 200);
  }
  if (failures.length > 0) throw new CliError(failures.join('\n'));
}

function timeoutMessage(timeoutMs: number, pending: readonly WaitTarget[], last: (t: WaitTarget) => string | undefined): string {
  const lines = [`timed out after ${timeoutMs / 1000}s waiting for ${pending.map((t) => `${t.namespace}/${t.name}`).join(', ')} to become Available`];
  for (const target of pending) {
    lines.push(`  last state: ${last(target) ?? `${target.namespace}/${target.name}: no status yet`}`);
    lines.push(`  see why: trantor describe sdep ${target.name} -n ${target.namespace}; trantor logs ${target.name} -n ${target.namespace}`);
  }
  return lines.join('\n');
}
