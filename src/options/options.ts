/**
 * Named options, compiled once: each module declares its timeouts, windows, queue sizes and limits
 * in one table (name, kind, default, what it does); `trantor up` compiles the values a user gave
 * (`--config FILE`, `--set section.name=value`) against the tables at start, and each part is
 * handed frozen numbers. Nothing reads an option's text after start.
 */

/** `duration` values are milliseconds (`30s`, `500ms`, `2m`), `size` bytes (`10mb`, `512kib`), `count` whole numbers. */
export type OptionKind = 'duration' | 'size' | 'count';

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly default: number;
  /** One line for docs/configuration.md and error messages. */
  readonly doc: string;
  /** Smallest value allowed (default 1 for counts and durations, 0 for sizes). */
  readonly min?: number;
  readonly max?: number;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A table's compiled values: one number per option. */
export type OptionValues<T extends OptionTable> = { readonly [K in keyof T]: number };

export interface OptionSection<T extends OptionTable = OptionTable> {
  /** The section's name in the configuration (`gateway`, `executor`, …). */
  readonly name: string;
  readonly table: T;
  readonly defaults: OptionValues<T>;
  /**
   * The values with `given` (option name → text or number) applied over the defaults; throws an
   * OptionError naming `<section>.<option>` for an unknown name or a bad value.
   */
  compile(given?: Readonly<Record<string, string | number>>): OptionValues<T>;
}

export class OptionError extends Error {
  override name = 'OptionError';
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1, kb: 1e3, k: 1e3, kib: 1024, ki: 1024, mb: 1e6, m: 1e6, mib: 2 ** 20, mi: 2 ** 20, gb: 1e9, g: 1e9, gib: 2 ** 30, gi: 2 ** 30,
};
const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `10mb`, `1MiB`, `512kb` or a number of bytes. */
export function parseSize(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw new OptionError(`${what} ${text}: expected a size such as 10mb, 512kb or 1048576`);
  return Math.round(Number(match[1]) * unit);
}

/** `30s`, `2m`, `500ms`, `1h`; a bare number is seconds. */
export function parseDurationMs(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new OptionError(`${what} ${text}: expected a duration such as 30s, 2m, 500ms or 365d`);
  return Number(match[1]) * DURATION_UNITS[match[2] ?? 's']!;
}

function parseCount(text: string, what: string): number {
  const value = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new OptionError(`${what} ${text}: expected a whole number`);
  return value;
}

const PARSERS: Readonly<Record<OptionKind, (text: string, what: string) => number>> = { duration: parseDurationMs, size: parseSize, count: parseCount };

/** The value of one option from a user's text or number, checked against its bounds. */
export function compileOption(spec: OptionSpec, given: string | number, what: string): number {
  const value = typeof given === 'number' ? given : PARSERS[spec.kind](given, what);
  if (typeof given === 'number' && (!Number.isFinite(given) || (spec.kind !== 'duration' && !Number.isInteger(given)))) {
    throw new OptionError(`${what} ${given}: expected ${spec.kind === 'count' ? 'a whole number' : spec.kind === 'size' ? 'a size in bytes' : 'a duration'}`);
  }
  const min = spec.min ?? (spec.kind === 'size' ? 0 : 1);
  if (value < min) throw new OptionError(`${what} ${String(given)}: must be at least ${describe(spec, min)}`);
  if (spec.max !== undefined && value > spec.max) throw new OptionError(`${what} ${String(given)}: must be at most ${describe(spec, spec.max)}`);
  return value;
}

/** A value as a user would write it, for messages and docs. */
export function describe(spec: Pick<OptionSpec, 'kind'>, value: number): string {
  if (spec.kind === 'duration') {
    // Whole days as days; otherwise minutes, seconds or milliseconds (`90m` stays `90m`).
    if (value > 0 && value % 86_400_000 === 0) return `${value / 86_400_000}d`;
    if (value > 0 && value % 60_000 === 0) return `${value / 60_000}m`;
    return value % 1000 === 0 && value > 0 ? `${value / 1000}s` : `${value}ms`;
  }
  if (spec.kind === 'size') {
    if (value > 0 && value % 2 ** 20 === 0) return `${value / 2 ** 20}mib`;
    if (value > 0 && value % 1024 === 0) return `${value / 1024}kib`;
    return String(value);
  }
  return String(value);
}

/** The closest of `names` to `name`, when one is close enough to be a likely misspelling. */
export function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of names) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** Declares a module's options; the table is the one place their defaults live. */
export function defineOptions<T extends OptionTable>(name: string, table: T): OptionSection<T> {
  const names = Object.keys(table);
  const defaults = Object.freeze(Object.fromEntries(names.map((key) => [key, table[key]!.default]))) as OptionValues<T>;
  return Object.freeze({
    name,
    table,
    defaults,
    compile(given: Readonly<Record<string, string | number>> = {}): OptionValues<T> {
      const values: Record<string, number> = { ...defaults };
      for (const [key, value] of Object.entries(given)) {
        const spec = Object.hasOwn(table, key) ? table[key] : undefined;
        if (spec === undefined) {
          const near = closest(key, names);
          throw new OptionError(`${name}.${key}: no such option${near === undefined ? '' : `; did you mean ${name}.${near}?`} (options of ${name}: ${names.join(', ')})`);
        }
        values[key] = compileOption(spec, value, `${name}.${key}`);
      }
      return Object.freeze(values) as OptionValues<T>;
    },
  });
}
