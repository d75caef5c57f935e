/**
 * Typed reads of parsed YAML values. Each read either returns the value in the type asked for,
 * or adds a problem at the field's path and returns undefined, so a check goes on to the next
 * field and the user sees every problem of a manifest at once.
 */
import { describe, field, item, type FieldPath, type Problems } from './problems.ts';

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the fields of one YAML mapping, reporting problems under its path. */
export class Fields {
  constructor(
    readonly raw: Mapping,
    readonly path: FieldPath,
    readonly problems: Problems,
  ) {}

  at(key: string): FieldPath {
    return field(this.path, key);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  private value(key: string): unknown {
    const value = this.raw[key];
    return value === null ? undefined : value;
  }

  required(key: string): boolean {
    if (this.has(key)) return true;
    this.problems.add(this.at(key), 'required');
    return false;
  }

  string(key: string): string | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    this.problems.add(this.at(key), `expected a string, got ${describe(value)}${quoteHint(value)}`);
    return undefined;
  }

  /** A required string that is not empty. */
  name(key: string): string | undefined {
    if (!this.required(key)) return undefined;
    const value = this.string(key);
    if (value === '') {
      this.problems.add(this.at(key), 'required');
      return undefined;
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    this.problems.add(this.at(key), `expected true or false, got ${describe(value)}`);
    return undefined;
  }

  integer(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    const wanted =
      max === Number.MAX_SAFE_INTEGER
        ? min === 0
          ? 'a non-negative integer'
          : `an integer of at least ${min}`
        : `an integer from ${min} to ${max}`;
    this.problems.add(this.at(key), `expected ${wanted}, got ${describe(value)}`);
    return undefined;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.problems.add(this.at(key), `must be one of ${allowed.join(', ')}, got ${describe(value)}`);
    return undefined;
  }

  mapping(key: string): Fields | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (isMapping(value)) return new Fields(value, this.at(key), this.problems);
    this.problems.add(this.at(key), `expected a mapping, got ${describe(value)}`);
    return undefined;
  }

  list(key: string): unknown[] | undefined {
    const value = this.value(key);
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value as unknown[];
    this.problems.add(this.at(key), `expected a list, got ${describe(value)}`);
    return undefined;
  }

  /** The mappings of a list, each with its own Fields; items that are not mappings are reported. */
  mappings(key: string): Fields[] {
    const list = this.list(key) ?? [];
    const out: Fields[] = [];
    list.forEach((value, i) => {
      const path = item(this.at(key), i);
      if (isMapping(value)) out.push(new Fields(value, path, this.problems));
      else this.problems.add(path, `expected a mapping, got ${describe(value)}`);
    });
    return out;
  }

  strings(key: string): string[] | undefined {
    const list = this.list(key);
    if (list === undefined) return undefined;
    const out: string[] = [];
    list.forEach((value, i) => {
      if (typeof value === 'string') out.push(value);
      else this.problems.add(item(this.at(key), i), `expected a string, got ${describe(value)}${quoteHint(value)}`);
    });
    return out;
  }

  /** A string-to-string mapping such as labels or annotations; `{}` when absent. */
  stringMap(key: string): Record<string, string> {
    const fields = this.mapping(key);
    const out: Record<string, string> = {};
    if (fields === undefined) return out;
    for (const [name, value] of Object.entries(fields.raw)) {
      if (typeof value === 'string') out[name] = value;
      else fields.problems.add(fields.at(name), `expected a string, got ${describe(value)}${quoteHint(value)}`);
    }
    return out;
  }
}

/** Kubernetes wants strings where YAML reads a number or a boolean; say how to write one. */
function quoteHint(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? ` (quote it: "${String(value)}")` : '';
}
