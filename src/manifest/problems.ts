/**
 * How manifest checks report what is wrong: every check adds a problem naming the field path
 * (`spec.predictors[0].graph.name: required`) to one list, so a user sees all of them at once,
 * and loading throws a single ManifestError when the list is not empty.
 */
import { TrantorError } from '../protocol/index.ts';

/** A field path written the way the error messages show it: `spec.predictors[0].graph`. */
export type FieldPath = string;

/** `parent.key`, or `parent["odd.key"]` when the key is not a plain identifier. */
export function field(parent: FieldPath, key: string): FieldPath {
  const part = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === '') return part;
  return part.startsWith('[') ? `${parent}${part}` : `${parent}.${part}`;
}

export function item(parent: FieldPath, index: number): FieldPath {
  return `${parent}[${index}]`;
}

/** Collects the problems of one document. */
export class Problems {
  readonly list: string[] = [];

  add(path: FieldPath, message: string): void {
    this.list.push(path === '' ? message : `${path}: ${message}`);
  }

  get size(): number {
    return this.list.length;
  }
}

/**
 * A manifest that cannot be applied. `problems` holds each problem as one line (already prefixed
 * by its document when the text had several); the message lists them all.
 */
export class ManifestError extends TrantorError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source?: string) {
    super('BAD_MANIFEST', manifestMessage(problems, source));
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

function manifestMessage(problems: readonly string[], source: string | undefined): string {
  if (problems.length === 1) return source === undefined ? (problems[0] ?? '') : `${source}: ${problems[0] ?? ''}`;
  const head = `${source ?? 'the manifest'} has ${problems.length} problems:`;
  return [head, ...problems].join('\n');
}

/** A short description of a value for an error message: `"MODLE"`, `-1`, `a list`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}
