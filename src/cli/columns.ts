/**
 * `-o custom-columns=NAME:.metadata.name,STATE:.status.state` (and the `custom-columns-file=`
 * form: a line of headers over a line of paths), and `--sort-by=<jsonpath>`, as kubectl has them.
 */
import { CliError } from './control-plane.ts';
import { evaluatePath, parseRelaxedPath, printedValue, type Path } from './jsonpath.ts';

export interface Column {
  header: string;
  path: Path;
}

/** Splits at `separator` outside brackets, braces and quotes (a filter may hold one). */
function splitOutside(text: string, separator: RegExp): { part: string; at: number }[] {
  const parts: { part: string; at: number }[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (depth === 0 && separator.test(c)) {
      parts.push({ part: text.slice(start, i), at: start });
      start = i + 1;
    }
  }
  parts.push({ part: text.slice(start), at: start });
  return parts;
}

export function parseCustomColumns(spec: string): Column[] {
  if (spec.trim() === '') throw new CliError('custom-columns: expected HEADER:PATH[,HEADER:PATH…], as custom-columns=NAME:.metadata.name');
  return splitOutside(spec, /,/).map(({ part, at }) => {
    const colon = part.indexOf(':');
    if (colon <= 0 || colon === part.length - 1) {
      throw new CliError(`custom-columns "${spec}": "${part}" at position ${at + 1} is not HEADER:PATH (as NAME:.metadata.name)`);
    }
    return { header: part.slice(0, colon), path: parseRelaxedPath(part.slice(colon + 1)) };
  });
}

/** The file form: headers on the first line, their paths under them, separated by spaces. */
export function parseCustomColumnsFile(text: string, file: string): Column[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const headers = lines[0]?.trim().split(/\s+/) ?? [];
  const paths = lines[1]?.trim().split(/\s+/) ?? [];
  if (lines.length !== 2 || headers.length !== paths.length) {
    throw new CliError(`custom-columns-file ${file}: expected two lines, headers then as many paths (found ${lines.length} lines, ${headers.length} headers, ${paths.length} paths)`);
  }
  return headers.map((header, i) => ({ header, path: parseRelaxedPath(paths[i]!) }));
}

/** A cell: the values the path reaches, comma separated, or kubectl's `<none>`. */
export function cellOf(column: Column, item: unknown): string {
  const values = evaluatePath(column.path, item);
  return values.length === 0 ? '<none>' : values.map(printedValue).join(',');
}

export function customColumnRows(columns: readonly Column[], items: readonly unknown[]): string[][] {
  return items.map((item) => columns.map((c) => cellOf(c, item)));
}

function sortKey(path: Path, item: unknown): unknown {
  const values = evaluatePath(path, item);
  return values[0];
}

function rank(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'boolean') return 1;
  if (typeof value === 'number') return 2;
  if (typeof value === 'string') return 3;
  return 4;
}

function compareKeys(a: unknown, b: unknown): number {
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const left = typeof a === 'string' ? a : JSON.stringify(a);
  const right = typeof b === 'string' ? b : JSON.stringify(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * Items ordered by the value `sortBy` reaches in each (numbers by value, strings as written, so
 * RFC 3339 timestamps by time); items without it first, and ties in their listed order.
 */
export function sortItems<T>(items: readonly T[], sortBy: string): T[] {
  const path = parseRelaxedPath(sortBy);
  return items
    .map((item, i) => ({ item, i, key: sortKey(path, item) }))
    .sort((x, y) => compareKeys(x.key, y.key) || x.i - y.i)
    .map((x) => x.item);
}
